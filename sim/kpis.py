"""The KPI registry: every indicator the model reports, with its label, unit and direction.

One :class:`KPI` per indicator, listed once in :data:`KPIS` (the order is the column order
of ``kpis.parquet`` and of every table that shows KPIs). The model collects exactly these
names; compare, the batch report, the figures, the GUI and its translations read them here.

A KPI's ``direction`` says which way is better: ``"lower"``, ``"higher"``, or ``None`` for
counts that are neither good nor bad (population, births, pupils). A ``diagnostic`` (the
assignment's relative gap, its iterations) describes the solver, not the city: it is shown
as a diagnostic and never judged better or worse. ``headline`` KPIs are shown first.

Adding a KPI: append a ``KPI(...)`` to :data:`KPIS` and set ``model.kpis[name]`` in the
stage that computes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["lower", "higher"] | None


@dataclass(frozen=True)
class KPI:
    """One indicator collected every simulated year.

    Attributes
    ----------
    name
        The column name in ``kpis.parquet`` (snake_case, never renamed).
    label, label_zh
        Human labels in English and Chinese.
    unit
        The unit of a value, e.g. ``"veh·km"`` ("" for ratios without one).
    direction
        ``"lower"`` or ``"higher"`` is better, or ``None`` (neither: a count).
    headline
        Shown first (batch report, results).
    diagnostic
        Describes the solver, not the city; never judged better or worse.
    """

    name: str
    label: str
    label_zh: str
    unit: str
    direction: Direction
    headline: bool = False
    diagnostic: bool = False

    def __post_init__(self) -> None:
        if self.diagnostic and (self.direction is not None or self.headline):
            msg = f"KPI {self.name}: a diagnostic has no direction and is not a headline"
            raise ValueError(msg)

    @property
    def judged(self) -> bool:
        """Whether a change of this KPI is better or worse (an outcome with a direction)."""
        return self.direction is not None and not self.diagnostic


KPIS: tuple[KPI, ...] = (
    KPI("population", "Population", "人口", "persons", None, headline=True),
    KPI("births", "Births", "出生人数", "persons/year", None),
    KPI("deaths", "Deaths", "死亡人数", "persons/year", None),
    KPI("in_migrants", "In-migrants", "迁入人数", "persons/year", None),
    KPI("out_migrants", "Out-migrants", "迁出人数", "persons/year", None),
    KPI("movers", "Movers within the city", "市内搬迁人数", "persons/year", None),
    KPI(
        "pupils_primary",
        "Primary pupils (placed or not)",
        "小学适龄学生",
        "pupils",
        None,
        headline=True,
    ),
    KPI(
        "pupils_junior",
        "Junior pupils (placed or not)",
        "初中适龄学生",
        "pupils",
        None,
        headline=True,
    ),
    KPI("capacity_primary", "Primary school places", "小学学位", "places", "higher"),
    KPI("capacity_junior", "Junior school places", "初中学位", "places", "higher"),
    KPI(
        "max_utilisation",
        "Highest school utilisation",
        "最高学校学位使用率",
        "demand/capacity",
        "lower",
        headline=True,
    ),
    KPI("schools_over_capacity", "Schools over capacity", "超员学校数", "schools", "lower"),
    KPI(
        "schools_over_capacity_3y",
        "Schools over capacity 3+ years",
        "连续 3 年以上超员学校数",
        "schools",
        "lower",
    ),
    KPI(
        "overflow_pupils",
        "Pupils placed outside their catchment school",
        "未能入读学区学校学生数",
        "pupils",
        "lower",
        headline=True,
    ),
    KPI(
        "unplaced_pupils",
        "Pupils without a school place",
        "无学位学生数",
        "pupils",
        "lower",
        headline=True,
    ),
    KPI("unplaced_primary", "Primary pupils without a place", "无学位小学生", "pupils", "lower"),
    KPI("unplaced_junior", "Junior pupils without a place", "无学位初中生", "pupils", "lower"),
    KPI(
        "new_housing_residents",
        "Residents moving into new housing",
        "新建住宅入住人数",
        "persons/year",
        None,
    ),
    KPI(
        "mean_school_km", "Mean home-school distance", "平均上学距离", "km", "lower", headline=True
    ),
    KPI("car_trips", "Car trips loaded, AM period", "早高峰小汽车出行（上路）", "trips", "lower"),
    KPI(
        "car_trips_intrazonal",
        "Car trips within their zone, AM period (not loaded)",
        "区内小汽车出行（未上路）",
        "trips",
        None,
    ),
    KPI(
        "car_trips_peak",
        "Car trips loaded, busiest hour",
        "最繁忙小时小汽车出行（上路）",
        "trips",
        "lower",
    ),
    KPI("peak_hour_start", "Start of the busiest hour", "最繁忙小时起点", "h", None),
    KPI(
        "school_car_trips_peak",
        "School-run car trips, busiest hour",
        "最繁忙小时接送上学小汽车出行",
        "trips",
        "lower",
    ),
    KPI(
        "school_area_arrivals_15min",
        "Cars arriving in school zones, busiest 15 minutes",
        "学校所在小区最繁忙15分钟到达车辆",
        "cars",
        "lower",
    ),
    KPI("mode_share_car", "Car share of trips (driver + passenger)", "小汽车出行比例", "", "lower"),
    KPI("mode_share_pt", "Bus share of trips", "公交出行比例", "", "higher"),
    KPI("mode_share_walk", "Walking share of trips", "步行出行比例", "", "higher"),
    KPI("mode_share_bike", "Cycling share of trips (incl. e-bike)", "自行车出行比例", "", "higher"),
    KPI("toll_revenue", "Toll revenue, AM period", "早高峰收费收入", "money", None),
    KPI(
        "accessibility_logsum",
        "Accessibility (mode logsum per trip, in money)",
        "可达性（每次出行对数和，货币）",
        "money/trip",
        "higher",
    ),
    KPI("vkt", "Peak-hour VKT", "车公里", "veh·km", "lower", headline=True),
    KPI("vht", "Peak-hour vehicle-hours", "车小时", "veh·h", "lower", headline=True),
    KPI("delay_vh", "Peak-hour delay", "延误（车小时）", "veh·h", "lower", headline=True),
    KPI(
        "mean_trip_min",
        "Mean car trip time (loaded trips)",
        "平均小汽车出行时间（上路）",
        "min",
        "lower",
        headline=True,
    ),
    KPI("congested_links", "Congested links (V/C > 0.9)", "拥堵路段数", "links", "lower"),
    KPI("travel_time_index", "Travel time index", "行程时间指数", "", "lower", headline=True),
    KPI(
        "signal_delay_vh",
        "Delay at signals (dynamic model)",
        "信号灯延误（车小时）",
        "veh·h",
        "lower",
    ),
    KPI(
        "congestion_delay_vh",
        "Congestion delay (dynamic model)",
        "拥堵延误（车小时）",
        "veh·h",
        "lower",
    ),
    KPI("max_queue_veh", "Longest queue at a stop line", "最长停车线排队", "veh", "lower"),
    KPI(
        "spillback_link_min",
        "Spill-back (full links blocking upstream)",
        "排队溢出（路段·分钟）",
        "link·min",
        "lower",
    ),
    KPI(
        "school_zone_delay_vh",
        "Delay within 300 m of schools",
        "学校周边 300 米延误（车小时）",
        "veh·h",
        "lower",
    ),
    KPI(
        "parking_cruise_vkt",
        "Parking search VKT (AM period)",
        "寻找车位车公里（早高峰时段）",
        "veh·km",
        "lower",
    ),
    KPI(
        "parking_search_min",
        "Parking search time (AM period)",
        "寻找车位时间（早高峰时段）",
        "veh·min",
        "lower",
    ),
    KPI(
        "illegal_parked",
        "Illegally parked cars (AM period)",
        "违法停车车辆（早高峰时段）",
        "cars",
        "lower",
    ),
    KPI("rel_gap", "Assignment relative gap", "交通分配相对间隙", "", None, diagnostic=True),
    KPI(
        "demand_gap",
        "Demand-supply gap (car matrix change)",
        "需求-供给间隙",
        "",
        None,
        diagnostic=True,
    ),
    KPI(
        "demand_rounds",
        "Demand-supply rounds",
        "需求-供给迭代轮数",
        "rounds",
        None,
        diagnostic=True,
    ),
    KPI(
        "assignment_iterations",
        "Assignment iterations",
        "交通分配迭代次数",
        "iterations",
        None,
        diagnostic=True,
    ),
    KPI(
        "due_gap",
        "Dynamic equilibrium relative gap",
        "动态用户均衡相对间隙",
        "",
        None,
        diagnostic=True,
    ),
    KPI(
        "due_iterations",
        "Dynamic loadings per year",
        "动态加载次数",
        "loadings",
        None,
        diagnostic=True,
    ),
    KPI(
        "unfinished_vehicles",
        "Vehicles still driving 30 min after the AM period",
        "早高峰结束30分钟后仍在途车辆",
        "vehicles",
        None,
        diagnostic=True,
    ),
    KPI(
        "teleported_vehicles",
        "Vehicles let into a full link after waiting (gridlock breaker)",
        "等待后强行进入满载路段的车辆",
        "vehicles",
        None,
        diagnostic=True,
    ),
)

#: Traffic KPIs whose solver noise a run reports as ``<name>_noise`` (their change over the
#: demand-supply loop's last round, sim.mobility.loop); compare weighs deltas against it.
NOISY_KPIS: tuple[str, ...] = (
    "car_trips",
    "car_trips_intrazonal",
    "car_trips_peak",
    "peak_hour_start",
    "school_car_trips_peak",
    "school_area_arrivals_15min",
    "mode_share_car",
    "mode_share_pt",
    "mode_share_walk",
    "mode_share_bike",
    "toll_revenue",
    "accessibility_logsum",
    "vkt",
    "vht",
    "delay_vh",
    "mean_trip_min",
    "congested_links",
    "travel_time_index",
)
_BASE = {k.name: k for k in KPIS}
KPIS += tuple(
    KPI(
        f"{name}_noise",
        f"{_BASE[name].label}: solver noise",
        f"{_BASE[name].label_zh}：求解噪声",
        _BASE[name].unit,
        None,
        diagnostic=True,
    )
    for name in NOISY_KPIS
)

KPI_BY_NAME: dict[str, KPI] = {k.name: k for k in KPIS}
#: Every KPI name, in column order.
KPI_NAMES: tuple[str, ...] = tuple(KPI_BY_NAME)
#: KPIs where a lower value is better.
LOWER_IS_BETTER: frozenset[str] = frozenset(k.name for k in KPIS if k.direction == "lower")
#: KPIs where a higher value is better.
HIGHER_IS_BETTER: frozenset[str] = frozenset(k.name for k in KPIS if k.direction == "higher")
#: KPIs shown first, in column order.
HEADLINE_KPIS: tuple[str, ...] = tuple(k.name for k in KPIS if k.headline)
#: Solver diagnostics (shown apart, never judged).
DIAGNOSTIC_KPIS: tuple[str, ...] = tuple(k.name for k in KPIS if k.diagnostic)
#: KPIs only the dynamic peak model computes: NaN in a run with ``traffic_model: static``
#: (queues, spill-back, signal/congestion split, parking search, route swapping).
DYNAMIC_ONLY_KPIS: tuple[str, ...] = (
    "signal_delay_vh",
    "congestion_delay_vh",
    "max_queue_veh",
    "spillback_link_min",
    "school_zone_delay_vh",
    "parking_cruise_vkt",
    "parking_search_min",
    "illegal_parked",
    "due_gap",
    "due_iterations",
    "unfinished_vehicles",
    "teleported_vehicles",
)


def kpi(name: str) -> KPI:
    """The registered KPI called ``name``.

    Raises
    ------
    KeyError
        No KPI of that name is registered (the message lists the known ones).
    """
    try:
        return KPI_BY_NAME[name]
    except KeyError:
        msg = f"unknown KPI {name!r}; known: {', '.join(KPI_NAMES)}"
        raise KeyError(msg) from None


def verdict(name: str, diff: float, rel: float, neutral: float) -> str:
    """How a change of KPI ``name`` reads against a baseline.

    Parameters
    ----------
    name
        A registered KPI, or another column (treated as a count without direction).
    diff
        Variant minus baseline.
    rel
        ``|diff| / |baseline|`` (inf from a zero baseline, NaN for 0 / 0).
    neutral
        Relative changes below this are ``"same"``.

    Returns
    -------
    str
        ``"better"``/``"worse"`` for judged KPIs, ``"up"``/``"down"`` for counts without a
        direction, ``"same"`` for no change, ``""`` for diagnostics (not compared).
    """
    info = KPI_BY_NAME.get(name)
    if info is not None and info.diagnostic:
        return ""
    if not rel >= neutral:  # also NaN: 0 / 0 or a missing value
        return "same"
    if info is None or info.direction is None:
        return "up" if diff > 0 else "down"
    better = -diff if info.direction == "lower" else diff
    return "better" if better > 0 else "worse"


def format_number(value: float) -> str:
    """A KPI value as people read it: thousands separators, about four significant digits.

    Never scientific notation for counts (population ``461,900``, not ``4.619e+05``); whole
    numbers without decimals; tiny values such as a solver gap keep three significant digits.
    Non-finite values read ``n/a``.
    """
    if not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1000 or value == round(value):
        return f"{value:,.0f}"
    if size >= 1e-3:
        return f"{value:,.{max(0, 3 - math.floor(math.log10(size)))}f}"
    return f"{value:.3g}"
