# ruff: noqa: E501  (a translation table: one label per line reads best)
"""Chinese labels of the Results and Compare views and of the KPI units.

Merged into :data:`gui.i18n.ZH` (one table for :func:`gui.i18n.tr`); kept apart so the main
table stays a readable size.
"""

from __future__ import annotations

ZH_VIEWS: dict[str, str] = {
    # year and peak-time sliders (gui/stepper.py, gui/results.py)
    "Peak time:": "高峰时段：",
    "Play": "播放",
    "Pause": "暂停",
    "Step through the values one by one": "逐个播放各取值",
    "peak hour (V/C)": "高峰小时（饱和度 V/C）",
    "queue (veh) at {time}": "{time} 排队长度（辆）",
    "pupils": "学生数",
    # the per-school table
    "School": "学校",
    "Name": "名称",
    "Level": "学段",
    "Places": "学位",
    "Pupils p10": "学生数 p10",
    "Pupils (median)": "学生数（中位数）",
    "Pupils p90": "学生数 p90",
    "Utilisation": "学位使用率",
    "Seats short": "学位缺口",
    "Overflow (outside catchment)": "学区外入学",
    "Unplaced": "无学位",
    # zone indicators of a run
    "Population, start of run": "人口（起始年）",
    "Population, end of run": "人口（末年）",
    "Population growth (%)": "人口增长（%）",
    "Pupils, end of run": "学生数（末年）",
    "Households, end of run": "户数（末年）",
    "Dwellings, end of run": "住房套数（末年）",
    # KPI units (sim/kpis.py)
    "persons": "人",
    "persons/year": "人/年",
    "places": "个学位",
    "demand/capacity": "需求/学位",
    "km": "公里",
    "trips": "次出行",
    "h": "时",
    "money": "货币",
    "money/trip": "货币/次",
    "veh·km": "车·公里",
    "veh·h": "车·小时",
    "min": "分钟",
    "iterations": "次迭代",
    # the comparison (gui/compare.py, gui/compare_tables.py)
    "Solver diagnostics (describe the solver, not the city; never better or worse)": "求解诊断（描述求解器而非城市；不分好坏）",
    "Maps:": "地图：",
    "Difference to the baseline": "与基准情景之差",
    "Runs side by side": "各次运行并排",
    "better": "更好",
    "worse": "更差",
    "more": "增加",
    "less": "减少",
    "no change": "无变化",
    "Indicator": "指标",
    "Unit": "单位",
    "{run} (baseline)": "{run}（基准）",
    "Δ {run}": "Δ {run}",
    "Δ % {run}": "Δ % {run}",
    "{run} vs baseline": "{run} 相比基准",
    "Utilisation {run}": "学位使用率 {run}",
    "Baseline {base}; compared: {others}. Green = better, red = worse; counts such as population are neither (more/less).": "基准 {base}；对比：{others}。绿色 = 更好，红色 = 更差；人口等数量不分好坏（增加/减少）。",
}
