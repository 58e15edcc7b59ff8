# ruff: noqa: E501  (a translation table: one label per line reads best)
"""English and Chinese labels, switchable at runtime.

Labels are written in English in the code and looked up here with :func:`tr`; a label
without a Chinese entry stays English. Policy and KPI labels are not listed here: each
policy class (:mod:`sim.policies`) and each KPI (:mod:`sim.kpis`) carries its English and
Chinese label, read by :func:`policy_label` and :func:`kpi_label` (and by :func:`tr`). Chinese is only offered when a CJK font was found
(see :mod:`gui.fonts`): without one Chinese would render as empty boxes, so the app
falls back to English.
"""

from __future__ import annotations

from gui.i18n_views import ZH_VIEWS
from sim.errors import ScenarioError
from sim.kpis import KPI_BY_NAME, KPIS
from sim.policies import POLICY_CLASSES, policy_class

LANGUAGES: tuple[str, ...] = ("en", "zh")
_state = {"lang": "en"}

ZH: dict[str, str] = {
    # main window, menus, tabs
    "CitySandbox": "城市沙盘",
    "&File": "文件(&F)",
    "&Edit": "编辑(&E)",
    "&Run": "运行(&R)",
    "E&xport": "导出(&X)",
    "&View": "视图(&V)",
    "New": "新建",
    "Open…": "打开…",
    "Open Recent": "最近打开",
    "Save": "保存",
    "Save As…": "另存为…",
    "Quit": "退出",
    "Undo": "撤销",
    "Redo": "重做",
    "Run scenario": "运行情景",
    "Cancel run": "取消运行",
    "Stop picking on the map": "停止地图选取",
    "Comparison report (HTML)…": "对比报告 (HTML)…",
    "Current figure (PNG/SVG)…": "当前图表 (PNG/SVG)…",
    "Tables (CSV)…": "表格 (CSV)…",
    "Layers (GeoPackage)…": "图层 (GeoPackage)…",
    # File → Import city… (gui/importer.py)
    "Import city…": "导入城市…",
    "Import city": "导入城市",
    "Load config…": "载入配置…",
    "Import": "导入",
    "Open the city": "打开城市",
    "Browse…": "浏览…",
    "General": "基本设置",
    "Write the city to": "城市文件写入",
    "Car parks from OpenStreetMap": "停车场取自 OpenStreetMap",
    "Config": "配置",
    "Report": "报告",
    "Preview": "预览",
    "Importing…": "正在导入…",
    "Import stopped: see the report.": "导入已停止：请查看报告。",
    "Imported.": "已导入。",
    "Language": "语言",
    "English": "English",
    "Map": "地图",
    "Results": "结果",
    "Compare": "对比",
    "Scenario editor": "情景编辑",
    "Run": "运行",
    "Enrollment query": "入学查询",
    "Feature properties (click the map)": "要素属性（点击地图）",
    "property": "属性",
    "value": "值",
    "kind": "类型",
    "school": "学校",
    "road": "道路",
    "zone": "小区",
    "No CJK font found: Chinese is not available": "未找到中文字体：无法使用中文",
    "No CJK font found: Chinese is not available, staying in English.": "未找到中文字体：保持英文界面。",
    "Unsaved changes": "未保存的修改",
    "Save the changes to {name}?": "是否保存对 {name} 的修改？",
    "Open scenario": "打开情景",
    "Save scenario as": "情景另存为",
    "Cannot open the scenario.": "无法打开情景。",
    "Cannot save the scenario.": "无法保存情景。",
    "Cannot load the city.": "无法加载城市数据。",
    "Cannot read the run.": "无法读取运行结果。",
    "Cannot compare.": "无法对比。",
    "Saved {path}": "已保存 {path}",
    "Run finished: {run}": "运行完成：{run}",
    "Nothing to export.": "没有可导出的内容。",
    "Compare two runs first (Compare tab).": "请先对比两次运行（对比页）。",
    "Export tables to folder": "导出表格到文件夹",
    "Export": "导出",
    "Export failed.": "导出失败。",
    "Exported {path}": "已导出 {path}",
    "Cancel export": "取消导出",
    "no road picked yet: with Pick roads on, click a street on the map": "尚未选取道路：打开“选取道路”后在地图上点击街道",
    "no road or zone picked yet: use Pick roads or Pick zones, then click the map": "尚未选取道路或小区：使用“选取道路”或“选取小区”，然后点击地图",
    "Writing the report {name}…": "正在写入报告 {name}…",
    "Export cancelled: nothing was written.": "导出已取消：未写入任何文件。",
    "A report is being written: wait for it or cancel it.": "报告正在写入：请等待或取消。",
    "Click roads to add or remove them in the selected policy (Esc: stop).": "点击道路，将其加入或移出所选政策（Esc 停止）。",
    "Click the home location on the map (Esc: stop).": "在地图上点击家庭住址（Esc 停止）。",
    "Click on the map to place: {policy} (Esc: cancel).": "在地图上点击放置：{policy}（Esc 取消）。",
    "No road here: zoom in and click on a road.": "此处没有道路：请放大后点击道路。",
    "Select a road policy first.": "请先选择一项道路政策。",
    "untitled": "未命名",
    # map
    "Zones by:": "小区指标：",
    "Zones": "小区",
    "Roads": "道路",
    "Schools": "学校",
    "Policies": "政策",
    "Primary school": "小学",
    "Junior school": "初中",
    "Over capacity": "超出学位",
    "New school / housing (policy)": "新建学校 / 住宅（政策）",
    "Road policy": "道路政策",
    "population": "人口",
    "density (persons/km²)": "人口密度（人/平方公里）",
    "households": "户数",
    "dwellings": "住房套数",
    "jobs": "就业岗位",
    "population_start": "期初人口",
    "population_end": "期末人口",
    "pupils_end": "期末学生数",
    "households_end": "期末户数",
    "dwellings_end": "期末住房套数",
    "growth_pct": "人口增长 %",
    "population change": "人口变化",
    "V/C": "饱和度 V/C",
    "Peak-hour traffic (V/C) and school utilisation": "高峰小时交通（V/C）与学校学位使用率",
    "Peak-hour flow difference (run − baseline)": "高峰小时流量差（方案 − 基准）",
    "flow change, veh/h ({run} − {base})": "流量变化，辆/小时（{run} − {base}）",
    # editor
    "Scenario": "情景",
    "Add": "添加",
    "Remove": "删除",
    "Pick roads": "选取道路",
    "Selected policy": "所选政策",
    "Scenario is valid.": "情景有效。",
    "policy": "政策",
    "comma-separated": "用逗号分隔",
    "Point policies: click on the map to place them": "点状政策：在地图上点击放置",
    "Click roads on the map to add/remove them": "在地图上点击道路以添加或移除",
    "Edit {field}": "编辑 {field}",
    "Add {policy}": "添加 {policy}",
    "Edit {policy}": "编辑 {policy}",
    "Remove {policy}": "删除 {policy}",
    "Move policy": "移动政策",
    "{n} links": "{n} 条路段",
    "name": "名称",
    "description": "说明",
    "start year": "起始年份",
    "id": "编号",
    "level": "学段",
    "classes per grade": "每年级班数",
    "class size": "班额",
    "quality": "办学质量",
    "year": "年份",
    "zones": "小区",
    "xy": "坐标 xy（米）",
    "lonlat": "经纬度",
    "dwellings per year": "每年交付住房",
    "n years": "交付年数",
    "occupancy": "入住率",
    "household size": "户均人口",
    "links": "路段",
    "from node": "起点节点",
    "to node": "终点节点",
    "lanes": "车道数",
    "speed kmh": "速度（公里/小时）",
    "capacity per lane": "单车道通行能力",
    "both directions": "双向",
    "toll": "收费",
    "cordon zones": "收费区小区",
    "signals": "信号灯",
    "method": "方法",
    "cycle s": "周期（秒）",
    "share": "比例",
    "share shifted": "错峰比例",
    "classes by grade": "各年级班数",
    "dwelling type": "住房类型",
    "occupancy ramp": "逐年入住比例",
    "inside share": "市内迁入比例",
    "yield scale": "学生产出系数",
    "parameter uncertainty": "参数不确定性",
    "schools": "学校",
    "shift min": "错峰时间（分钟）",
    "start": "开始时间",
    "end": "结束时间",
    "bus fare": "公交票价",
    "car cost per km": "小汽车每公里费用",
    "parking cost": "停车费用",
    "demand gap": "需求收敛间隙",
    "demand iterations": "需求迭代次数",
    "through trips peak": "高峰过境交通量",
    "Model parameters": "模型参数",
    "fertility multiplier": "生育率系数",
    "tfr": "总和生育率",
    "mortality multiplier": "死亡率系数",
    "in migration rate": "迁入率",
    "out migration rate": "迁出率",
    "residential mobility rate": "市内搬迁率",
    "enrollment policy": "入学政策",
    "choice distance km weight": "择校距离权重（每公里）",
    "choice quality weight": "择校质量权重",
    "employment rate": "就业率",
    "car share": "小汽车分担率",
    "escort share": "接送比例",
    "peak hour factor": "高峰小时系数",
    "mean trip km": "平均出行距离（公里）",
    "mode constants": "方式常数调整",
    "traffic replications": "含交通的重复次数",
    "od model": "OD 分布模型",
    # run panel
    "Years": "模拟年数",
    "Replications": "重复次数",
    "Seed": "随机种子",
    "Cancel": "取消",
    "Ready.": "就绪。",
    "Finished.": "完成。",
    "Cancelled; nothing was written.": "已取消，未写入任何结果。",
    "Cannot run: fix the scenario first.": "无法运行：请先修正情景。",
    "The run failed.": "运行失败。",
    "Starting the model…": "正在启动模型…",
    "Cancelling…": "正在取消…",
    "Year {year} · replication {rep} · {stage} · {s:.0f} s": "{year} 年 · 第 {rep} 次重复 · {stage} · {s:.0f} 秒",
    "synthesis": "人口合成",
    "demography": "人口变动",
    "enrollment": "入学分配",
    "mobility": "出行",
    "traffic": "交通分配",
    "writing": "写出结果",
    "done": "完成",
    # results
    "Run:": "运行：",
    "Year:": "年份：",
    "Refresh": "刷新",
    "No finished run yet: run a scenario (Run tab) to see results here.": "还没有完成的运行：请先运行情景（运行页）。",
    "{scenario}: median and p10–p90 band over {n} replication(s)": "{scenario}：{n} 次重复的中位数及 p10–p90 区间",
    "Pupils by level": "各学段学生数",
    "capacity": "学位",
    "utilisation": "使用率",
    "primary": "小学",
    "junior": "初中",
    "95% band": "95% 区间",
    "80% band": "80% 区间",
    "median": "中位数",
    "Pupils at {school}": "{school} 学生数",
    # compare
    "Baseline:": "基准：",
    "Compare with (1-3):": "对比方案（1-3 个）：",
    "Key indicators, final year": "关键指标（末年）",
    "School pressure": "学校压力",
    "Export report (HTML)…": "导出报告 (HTML)…",
    "Export map (PNG/SVG)…": "导出地图 (PNG/SVG)…",
    "Export tables (CSV)…": "导出表格 (CSV)…",
    "Export layers (GeoPackage)…": "导出图层 (GeoPackage)…",
    "Choose a baseline and 1-3 other finished runs, then Compare.": "请选择基准和 1-3 个已完成的运行，然后点击对比。",
    "Compare needs at least two finished runs in the catalog.": "对比至少需要两次已完成的运行。",
    "Baseline {base}; compared: {others}. Green = better, red = worse.": "基准 {base}；对比：{others}。绿色 = 更好，红色 = 更差。",
    "kpi": "指标",
    "solver diagnostic": "求解诊断",
    # enrollment query
    "Enrollment early-know (入学早知道)": "入学早知道",
    "Birth year": "出生年份",
    "Birth month": "出生月份",
    "any": "不限",
    "Click the home on the map": "在地图上点击家庭住址",
    "No home chosen yet.": "尚未选择住址。",
    "Home: {lon:.5f}, {lat:.5f}": "住址：{lon:.5f}, {lat:.5f}",
    "none (run a scenario first)": "无（请先运行情景）",
    "Projection from run: {run}": "预测来自运行：{run}",
    "Born {year} (months {months}):": "{year} 年出生（{months} 月）：",
    "  {level}: grade {grade} in {year} at {school}": "  {level}：{year} 年入 {grade} 年级，学校 {school}",
    ", utilisation {u}% (band {lo}-{hi}%)": "，学位使用率 {u}%（区间 {lo}-{hi}%）",
    " (beyond the projection)": "（超出预测年限）",
    # desktop: safe scenarios, whole streets, map basics (issue 15)
    "read-only": "只读",
    "Read-only (shipped scenario)": "只读（自带情景）",
    "A shipped scenario opens read-only: use Save As to keep changes.": "自带情景以只读方式打开：请用“另存为”保存修改。",
    "{name} is a shipped scenario: choose another name.": "{name} 是自带情景：请换一个文件名。",
    "Click a street to add or remove all of it, Shift-click to add or remove one piece (Esc: stop).": "单击街道添加或移除整条街道，Shift+单击添加或移除一段（Esc：停止）。",
    "unnamed road": "无名道路",
    "one direction": "单向",
    "Catchments": "学区",
    "Catchment boundary (primary)": "学区边界（小学）",
    "Catchment boundary (junior)": "学区边界（初中）",
    # map: basemap, names, tiles, search, hover, layers, print layout (issue 15 map)
    "Tiles": "瓦片底图",
    "Land": "陆地",
    "Names": "名称标注",
    "Legend": "图例",
    "Opacity: {layer}": "不透明度：{layer}",
    "Print layout…": "打印版面…",
    "Open MBTiles file…": "打开 MBTiles 文件…",
    "Tile URL…": "瓦片网址…",
    "No tiles": "不用瓦片",
    "Tile URL with {z}, {x} and {y} (fetched from now on):": "含 {z}、{x}、{y} 的瓦片网址（此后从该网址下载）：",
    "Cannot write the layout.": "无法写出版面。",
    "Cannot use these tiles.": "无法使用这些瓦片。",
    "Search a school, street or zone…": "搜索学校、街道或小区…",
    "Nothing called “{text}” on the map.": "地图上没有名为“{text}”的对象。",
    "Source: CitySandbox, city {city}": "来源：城市沙盘，城市 {city}",
    "capacity {n} seats": "学位 {n} 个",
    "utilisation {pct} %": "使用率 {pct}%",
    "population {n}": "人口 {n}",
    "Zone": "小区",
    "Open results": "打开结果",
    "Quick preview ({years} years × 1 replication)": "快速预览（{years} 年 × 1 次重复）",
    "about {s:.0f} s left": "约剩 {s:.0f} 秒",
}


ZH.update(ZH_VIEWS)
# the registries' labels, so that tr() of a policy or KPI label translates too
ZH.update({k.label: k.label_zh for k in KPIS})
ZH.update({c.label: c.label_zh for c in POLICY_CLASSES})


def tr(text: str) -> str:
    """The label ``text`` in the current language."""
    if _state["lang"] == "zh":
        return ZH.get(text, text)
    return text


def policy_label(kind: str) -> str:
    """The label of policy type ``kind`` in the current language (``kind`` if unknown)."""
    try:
        cls = policy_class(kind)
    except ScenarioError:
        return kind
    return cls.label_zh if _state["lang"] == "zh" else cls.label


def policy_help(kind: str) -> str:
    """What policy type ``kind`` does, in the current language ("" if unknown).

    Chinese falls back to the English help where the class has no ``help_zh``.
    """
    try:
        cls = policy_class(kind)
    except ScenarioError:
        return ""
    return (cls.help_zh or cls.help) if _state["lang"] == "zh" else cls.help


def kpi_label(name: str) -> str:
    """The label of KPI ``name`` in the current language (``name`` if not registered)."""
    info = KPI_BY_NAME.get(name)
    if info is None:
        return name
    return info.label_zh if _state["lang"] == "zh" else info.label


def language() -> str:
    """The current language code (``"en"`` or ``"zh"``)."""
    return _state["lang"]


def set_language(lang: str, cjk_font: bool) -> str:
    """Switch language; Chinese needs a CJK font, else English is kept.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``.
    cjk_font
        Whether a CJK font is installed in the app.

    Returns
    -------
    str
        The language now in effect.
    """
    if lang not in LANGUAGES:
        msg = f"language {lang!r} is not one of {', '.join(LANGUAGES)}"
        raise ValueError(msg)
    _state["lang"] = lang if (lang == "en" or cjk_font) else "en"
    return _state["lang"]
