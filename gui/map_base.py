"""The basemap of a city, built once per city off the UI thread: land, roads, catchments, names.

Everything the map draws from the city's own layers that costs more than a few
milliseconds is computed here, in the worker thread that loads the city
(:func:`basemap_of`, cached per city): the zone polygons, the land (the union of the zones),
the catchment boundaries of each school level, the road hierarchy and the label and
search entries (street names, schools, zones). Drawing it is then only handing arrays to
matplotlib.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gui.maproads import Roads, roads_of
from sim.city import City

#: Road hierarchy: OSM ``link_type`` -> rank (0 minor .. 4 motorway); others are minor.
ROAD_RANKS = {
    "motorway": 4,
    "trunk": 3,
    "primary": 3,
    "secondary": 2,
    "tertiary": 1,
}
#: Line width (points) and basemap colour of each rank.
RANK_WIDTHS = (0.45, 0.8, 1.2, 1.7, 2.4)
RANK_COLOURS = ("#a3a3a3", "#8c8c8c", "#777777", "#5f5f5f", "#c0582a")
#: Ranks whose streets are labelled, and the view width (m) under which each shows.
LABEL_VIEW_M = {4: 40_000, 3: 40_000, 2: 9_000, 1: 3_500, 0: 1_500}
#: Schools are labelled when the view is narrower than this (metres).
SCHOOL_LABEL_VIEW_M = 6_000
CACHED_CITIES = 3
_CACHE: dict[int, tuple[City, Basemap]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Label:
    """A name to write on the map: where, at what angle, from which zoom on."""

    text: str
    x: float
    y: float
    angle: float  # degrees, readable (-90..90)
    rank: int  # road rank (see ROAD_RANKS)


@dataclass(frozen=True)
class Place:
    """A named feature the search box finds: kind, id, name and its bounds."""

    kind: str  # "school" | "street" | "zone"
    ident: Any  # school id, street name or zone id
    name: str
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy


@dataclass
class Basemap:
    """What the map draws of a city that does not change with the results shown."""

    roads: Roads
    road_rank: np.ndarray  # rank of each road (see :data:`ROAD_RANKS`)
    zone_polygons: list[np.ndarray]  # exterior rings, one per polygon part
    zone_owner: np.ndarray  # zone id of each polygon
    land: list[np.ndarray]  # rings of the union of the zones
    catchments: dict[str, list[np.ndarray]]  # level -> boundary lines
    street_labels: list[Label]
    places: list[Place]


_PAUSE: dict[str, Any] = {"count": 0, "enabled": True, "freeze": False}
_PAUSE_LOCK = threading.Lock()


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """The cyclic garbage collector paused meanwhile (for every thread).

    Nested and concurrent pauses share one; when the last ends, the collector runs again
    and, if one of them asked to ``freeze``, what is alive then is frozen out of later
    full passes (:func:`gc.freeze`; whatever was alive in another pause, too).
    """
    with _PAUSE_LOCK:
        if not _PAUSE["count"]:
            _PAUSE["enabled"] = gc.isenabled()
            gc.disable()
        _PAUSE["count"] += 1
        _PAUSE["freeze"] = _PAUSE["freeze"] or freeze
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSE["count"] -= 1
            if not _PAUSE["count"]:
                if _PAUSE["freeze"]:
                    gc.freeze()
                _PAUSE["freeze"] = False
                if _PAUSE["enabled"]:
                    gc.enable()


def long_lived() -> contextlib.AbstractContextManager[None]:
    """Build objects that live as long as the window (a city, its basemap) apart from the GC.

    A city is hundreds of thousands of objects: while they are made (in a worker), the
    cyclic garbage collector's full passes over them each held the interpreter, so the UI
    thread, for 100-200 ms (bench/gui.py, opening the default city); the collector is
    paused meanwhile, and what was built is then frozen out of later full passes.
    """
    return gc_paused(freeze=True)


def basemap_of(city: City) -> Basemap:
    """The :class:`Basemap` of a city, built once per city object (thread-safe)."""
    with _LOCK:
        hit = _CACHE.get(id(city))
        if hit is not None and hit[0] is city:
            return hit[1]
    with long_lived():  # thousands of paths and places, kept while the city is
        base = build_basemap(city)
    with _LOCK:
        while len(_CACHE) >= CACHED_CITIES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(city)] = (city, base)
    return base


def build_basemap(city: City) -> Basemap:
    """Build the :class:`Basemap` of ``city`` (seconds on a big city: call off the UI thread)."""
    roads = roads_of(city.links)
    ranks = city.links["link_type"].map(ROAD_RANKS).fillna(0).to_numpy(np.int64)
    road_rank = np.zeros(len(roads.segments), dtype=np.int64)
    np.maximum.at(road_rank, roads.road_of_link, ranks)
    polygons, owners = [], []
    for zone_id, geom in zip(city.zones.index, city.zones.geometry, strict=True):
        for part in getattr(geom, "geoms", [geom]):
            polygons.append(np.asarray(part.exterior.coords))
            owners.append(zone_id)
    land = shapely.union_all(city.zones.geometry.to_numpy())
    return Basemap(
        roads=roads,
        road_rank=road_rank,
        zone_polygons=polygons,
        zone_owner=np.asarray(owners),
        land=[np.asarray(p.exterior.coords) for p in shapely.get_parts(land)],
        catchments={
            level: catchment_boundaries(city.zones, f"catchment_{level}")
            for level in ("primary", "junior")
        },
        street_labels=street_labels(city.links),
        places=places(city),
    )


def zone_indicators(zones: pd.DataFrame) -> dict[str, pd.Series]:
    """The city's own zone indicators (name -> value per zone), before any run."""
    area_km2 = zones.geometry.area.to_numpy() / 1e6
    return {
        "population": zones["population"].astype(float),
        "density (persons/km²)": zones["population"] / np.maximum(area_km2, 1e-9),
        "households": zones["households"].astype(float),
        "dwellings": zones["dwellings"].astype(float),
        "jobs": zones["jobs"].astype(float),
    }


def school_table(city: City) -> pd.DataFrame:
    """The city's schools: x, y, level, name, capacity (seats: classes of every grade x size)."""
    s = city.schools
    grades = s["grade_hi"] - s["grade_lo"] + 1
    classes = s["classes_per_grade"] * grades
    if "classes_by_grade" in s:  # "6,6,5": classes of each grade
        by_grade = s["classes_by_grade"].fillna("").astype(str)
        counted = by_grade.map(lambda v: sum(int(c) for c in v.split(",") if c.strip()))
        classes = counted.where(by_grade.str.strip() != "", classes)
    return pd.DataFrame(
        {
            "x": s.geometry.x,
            "y": s.geometry.y,
            "level": s["level"],
            "name": s["name"],
            "capacity": classes * s["class_size"],
        },
        index=s.index,
    )


def catchment_boundaries(zones: pd.DataFrame, column: str) -> list[np.ndarray]:
    """Lines where zones of different catchment schools (``column``) meet, and the outline.

    Parameters
    ----------
    zones
        The city's zones (geometry, ``column`` = the school of each zone's catchment).
    column
        ``"catchment_primary"`` or ``"catchment_junior"``.
    """
    if column not in zones:
        return []
    areas = [
        shapely.union_all(group.geometry.to_numpy())
        for _school, group in zones.groupby(zones[column].fillna("").astype(str))
    ]
    lines = shapely.get_parts(shapely.boundary(np.asarray(areas, dtype=object)))
    merged = shapely.line_merge(shapely.union_all(lines))
    return [np.asarray(part.coords) for part in shapely.get_parts(merged) if not part.is_empty]


def street_labels(links: pd.DataFrame) -> list[Label]:
    """One label per named street: at the middle of its longest link, along it."""
    named = links[links["name"].fillna("").astype(str).str.strip() != ""]
    if named.empty:
        return []
    ranks = named["link_type"].map(ROAD_RANKS).fillna(0).astype(int)
    table = pd.DataFrame(
        {"name": named["name"].astype(str), "rank": ranks, "length": named["length_m"]}
    )
    total = table.groupby("name")["length"].sum()
    best = table.sort_values("length").groupby("name").tail(1)
    out = []
    for link_id, row in best.iterrows():
        if total[row["name"]] < 300:  # a stub's name is noise on a city map
            continue
        line = links.geometry.loc[link_id]
        mid = line.interpolate(0.5, normalized=True)
        a = line.interpolate(0.45, normalized=True)
        b = line.interpolate(0.55, normalized=True)
        angle = float(np.degrees(np.arctan2(b.y - a.y, b.x - a.x)))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        out.append(Label(row["name"], mid.x, mid.y, angle, int(row["rank"])))
    return sorted(out, key=lambda lab: (-lab.rank, -total[lab.text]))


def places(city: City) -> list[Place]:
    """Everything the search box can find: schools, named streets, zones."""
    out = [
        Place("school", i, f"{row['name']} ({i})", _box((g.x, g.y, g.x, g.y)))
        for (i, row), g in zip(city.schools.iterrows(), city.schools.geometry, strict=True)
    ]
    links = city.links[city.links["name"].fillna("").astype(str).str.strip() != ""]
    bounds = shapely.bounds(links.geometry.to_numpy())
    frame = pd.DataFrame(bounds, columns=["x0", "y0", "x1", "y1"], index=links.index)
    frame["name"] = links["name"].astype(str)
    grouped = frame.groupby("name").agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
    out += [
        Place("street", name, name, _box(b))
        for name, b in zip(grouped.index, grouped.to_numpy(), strict=True)
    ]
    zone_bounds = shapely.bounds(city.zones.geometry.to_numpy())
    names = city.zones["name"] if "name" in city.zones else city.zones.index.astype(str)
    out += [
        Place("zone", z, f"{name} ({z})", _box(b))
        for z, name, b in zip(city.zones.index, names, zone_bounds, strict=True)
    ]
    return out


def _box(bounds: Any) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in bounds)
    return x0, y0, x1, y1
