"""OpenStreetMap tags to road attributes, and the directed segments a road reader yields.

Shared by the ``.osm``/``.osm.pbf`` readers (:mod:`sim.traffic.osm`), the ``.graphml``
reader (:mod:`sim.traffic.graphml`) and road simplification (:mod:`sim.traffic.simplify`),
so none of them imports another. The tag rules are those :mod:`sim.traffic.osm` describes.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyproj

from sim.traffic.road_classes import DRIVABLE, INTERNATIONAL, RoadDefaults

_YES = frozenset({"yes", "true", "1"})
_REVERSE = frozenset({"-1", "reverse"})
_NO = frozenset({"no", "false", "0"})
_CLOSED = frozenset({"no", "private"})
_MPH = 1.609344
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


@dataclass
class _Segment:
    """One directed link before projection: node ids and lon/lat (or source CRS) points."""

    a_node: int
    b_node: int
    coords: list[tuple[float, float]]
    lanes: int
    speed_kmh: float
    capacity_vph: float
    link_type: str
    name: str


@dataclass
class _Roads:
    """What a reader hands to the common builder."""

    crs: pyproj.CRS
    points: dict[int, tuple[float, float]]
    segments: list[_Segment] = field(default_factory=list)
    signal_nodes: set[int] = field(default_factory=set)
    parking: list[tuple[int, list[tuple[float, float]], int | None]] = field(default_factory=list)
    """Car parks: (OSM id, one point or a closed ring, ``capacity`` tag)."""


# --------------------------------------------------------------------------- tags


def _first(value: Any) -> str:
    """First of several values: ``"a;b"``, a list, or osmnx's ``"['a', 'b']"``."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            items = None
        if isinstance(items, list) and items:
            return str(items[0])
    return text.split(";")[0].strip()


def is_drivable(tags: Mapping[str, Any]) -> bool:
    """A way cars may use: a known highway type, not an area, not closed to motor vehicles."""
    if _first(tags.get("highway", "")) not in DRIVABLE:
        return False
    if str(tags.get("area", "")).lower() == "yes":
        return False
    for key in ("motor_vehicle", "motorcar"):
        value = str(tags.get(key, "")).lower()
        if value in _CLOSED:
            return False
        if value in _YES | {"designated", "destination", "permissive"}:
            return True
    return str(tags.get("access", "")).lower() not in _CLOSED


def directions(tags: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(forward, backward)``: which ways along the drawn node order traffic may go."""
    oneway = _first(tags.get("oneway", "")).lower()
    if oneway in _YES:
        return True, False
    if oneway in _REVERSE:
        return False, True
    if oneway in _NO:
        return True, True
    implied = _first(tags.get("highway", "")) == "motorway" or str(
        tags.get("junction", "")
    ).lower() in {"roundabout", "circular"}
    return True, not implied


def parse_speed(value: Any) -> float | None:
    """``maxspeed`` in km/h (``"50"``, ``"30 mph"``, ``"50;30"``), or None when not numeric."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    match = _SPEED.match(_first(value))
    if not match:
        return None
    speed = float(match.group(1)) * (_MPH if (match.group(2) or "").lower() == "mph" else 1.0)
    return speed if speed > 0 else None


def _parse_int(value: Any) -> int | None:
    try:
        number = int(float(_first(value)))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def link_attributes(
    tags: Mapping[str, Any],
    direction: str,
    two_way: bool,
    table: Mapping[str, RoadDefaults] = INTERNATIONAL,
) -> tuple[int, float, float, str]:
    """Lanes, free speed (km/h), capacity (veh/h) and highway type of one direction.

    Parameters
    ----------
    tags
        The way's tags.
    direction
        ``"forward"`` or ``"backward"`` (against the drawn node order).
    two_way
        Whether the way carries traffic both ways (then ``lanes`` is split).
    table
        Defaults per highway class (:data:`sim.traffic.road_classes.STANDARDS`).
    """
    highway = _first(tags.get("highway", "road"))
    default = table.get(highway, table["road"])
    lanes = _parse_int(tags.get(f"lanes:{direction}"))
    if lanes is None:
        total = _parse_int(tags.get("lanes"))
        if total is not None and two_way:
            lanes = max(1, math.ceil(total / 2) if direction == "forward" else total // 2)
        else:
            lanes = total
    lanes = lanes or default.lanes
    speed = parse_speed(tags.get(f"maxspeed:{direction}")) or parse_speed(tags.get("maxspeed"))
    speed = speed or default.speed_kmh
    return lanes, float(speed), float(lanes * default.capacity_per_lane), highway


def _directed(
    tags: Mapping[str, Any],
    a: int,
    b: int,
    coords: list[tuple[float, float]],
    table: Mapping[str, RoadDefaults],
) -> list[_Segment]:
    """The directed segments a stretch of way a..b yields."""
    forward, backward = directions(tags)
    two_way = forward and backward
    name = _first(tags.get("name", "")) if tags.get("name") is not None else ""
    out = []
    for ok, direction, ends, pts in (
        (forward, "forward", (a, b), coords),
        (backward, "backward", (b, a), coords[::-1]),
    ):
        if ok:
            lanes, speed, cap, kind = link_attributes(tags, direction, two_way, table)
            out.append(_Segment(ends[0], ends[1], list(pts), lanes, speed, cap, kind, name))
    return out
