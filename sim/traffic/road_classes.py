"""Default lanes, free speed and capacity per OpenStreetMap ``highway`` class, by standard.

An imported road takes its ``lanes`` and ``maxspeed`` tags when present; what the tags do
not say comes from one of these tables. Lanes are per direction, capacities per lane in
vehicles (pcu) per hour; urban classes carry a signalised-section capacity (saturation
flow times a green share of about one half), as traffic assignment needs.

``international`` (:data:`INTERNATIONAL`)
    HCM-style planning values: uninterrupted motorway ~2,000 veh/h/lane, signalised
    arterials ~1,900 saturation flow x ~0.5 g/C, less on minor streets; free speeds of
    a 50 km/h urban limit with 30 km/h on residential streets.

``china`` (:data:`CHINA`)
    《城市道路工程设计规范》 CJJ 37-2012: the design speeds of the four urban classes
    (快速路 expressway 60–100, 主干路 arterial 40–60, 次干路 collector 30–50, 支路
    local 20–40 km/h; a middle value is taken) and the design capacity per lane at that
    speed (快速路 100/80 km/h: 2,000/1,750; other roads 50/40/30/20 km/h:
    1,350/1,300/1,300/1,100 pcu/h), halved for the signalised classes as above; typical
    cross-sections (双向六车道 arterials, 双向四车道 collectors). OSM classes map as used
    by OpenStreetMap China: motorway = 高速/快速路 on viaduct, trunk = 快速路, primary =
    主干路, secondary = 次干路, tertiary and below = 支路.

================  =====================  =====================
highway           international           china
                  lanes, km/h, veh/h/ln   lanes, km/h, pcu/h/ln
================  =====================  =====================
motorway          2, 100, 2000            3, 100, 2000
motorway_link     1, 60, 1500             1, 60, 1400
trunk             2, 80, 1800             3, 80, 1750
trunk_link        1, 50, 1500             1, 40, 1300
primary           2, 60, 1000             3, 50, 675
primary_link      1, 40, 1000             1, 40, 650
secondary         1, 50, 900              2, 40, 650
secondary_link    1, 40, 900              1, 30, 650
tertiary          1, 40, 700              1, 30, 650
tertiary_link     1, 30, 700              1, 30, 650
unclassified      1, 40, 600              1, 30, 650
residential       1, 30, 500              1, 20, 550
living_street     1, 15, 300              1, 15, 300
road              1, 40, 600              1, 30, 650
================  =====================  =====================

Centroid connectors (:data:`CENTROID_CONNECTOR`) join each zone's centroid to its
streets: 2 lanes, 30 km/h, 2,500 veh/h/lane, so they never bind.
"""

from __future__ import annotations

from typing import NamedTuple


class RoadDefaults(NamedTuple):
    """Default attributes of one highway class."""

    lanes: int
    """Lanes per direction."""
    speed_kmh: float
    capacity_per_lane: float
    """Vehicles per hour per lane."""


INTERNATIONAL: dict[str, RoadDefaults] = {
    "motorway": RoadDefaults(2, 100.0, 2000.0),
    "motorway_link": RoadDefaults(1, 60.0, 1500.0),
    "trunk": RoadDefaults(2, 80.0, 1800.0),
    "trunk_link": RoadDefaults(1, 50.0, 1500.0),
    "primary": RoadDefaults(2, 60.0, 1000.0),
    "primary_link": RoadDefaults(1, 40.0, 1000.0),
    "secondary": RoadDefaults(1, 50.0, 900.0),
    "secondary_link": RoadDefaults(1, 40.0, 900.0),
    "tertiary": RoadDefaults(1, 40.0, 700.0),
    "tertiary_link": RoadDefaults(1, 30.0, 700.0),
    "unclassified": RoadDefaults(1, 40.0, 600.0),
    "residential": RoadDefaults(1, 30.0, 500.0),
    "living_street": RoadDefaults(1, 15.0, 300.0),
    "road": RoadDefaults(1, 40.0, 600.0),
}

CHINA: dict[str, RoadDefaults] = {
    "motorway": RoadDefaults(3, 100.0, 2000.0),
    "motorway_link": RoadDefaults(1, 60.0, 1400.0),
    "trunk": RoadDefaults(3, 80.0, 1750.0),
    "trunk_link": RoadDefaults(1, 40.0, 1300.0),
    "primary": RoadDefaults(3, 50.0, 675.0),
    "primary_link": RoadDefaults(1, 40.0, 650.0),
    "secondary": RoadDefaults(2, 40.0, 650.0),
    "secondary_link": RoadDefaults(1, 30.0, 650.0),
    "tertiary": RoadDefaults(1, 30.0, 650.0),
    "tertiary_link": RoadDefaults(1, 30.0, 650.0),
    "unclassified": RoadDefaults(1, 30.0, 650.0),
    "residential": RoadDefaults(1, 20.0, 550.0),
    "living_street": RoadDefaults(1, 15.0, 300.0),
    "road": RoadDefaults(1, 30.0, 650.0),
}

STANDARDS: dict[str, dict[str, RoadDefaults]] = {"international": INTERNATIONAL, "china": CHINA}
"""The default tables by name (``roads.standard`` in an import config)."""

DRIVABLE = frozenset(INTERNATIONAL)
"""The highway classes imported as roads (both tables list the same ones)."""

CENTROID_CONNECTOR = RoadDefaults(2, 30.0, 2500.0)
