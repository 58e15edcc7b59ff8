"""Build a city road layer (nodes, directed links, signals) from an OpenStreetMap extract.

Reads a file only, never the network: ``.osm`` XML (standard library ``iterparse``),
``.osm.pbf`` (needs the ``osmium`` package) or an osmnx-style ``.graphml``
(:mod:`sim.traffic.graphml`).

Steps: keep drivable ways (``highway`` in :data:`~sim.traffic.road_classes.DRIVABLE`,
not ``area=yes``, not closed to motor vehicles); split ways into links at intersections,
way ends and signal nodes; one directed link per direction of travel (``oneway=yes/-1``;
``highway=motorway`` and roundabouts are one-way unless tagged otherwise); project to
a local UTM CRS chosen from the data's centroid (or a given projected CRS); keep the
largest strongly connected component. Nodes tagged ``highway=traffic_signals`` become
fixed-time signals. With ``simplified``, links through nodes that only join two links
with equal attributes are merged (:mod:`sim.traffic.simplify`).

Link attributes come from the tags, else from a default table per highway class and
standard (``international`` or ``china``, :mod:`sim.traffic.road_classes`).
Nodes and closed ways tagged ``amenity=parking`` become car parks
(:mod:`sim.traffic.parking`). The pieces cut off by the largest strongly connected
component are listed in :attr:`RoadLayer.dropped`.

``lanes`` counts both directions of a two-way road (OSM convention): a direction gets
``lanes:forward`` / ``lanes:backward`` when tagged, else half of ``lanes`` (the
forward direction takes the odd lane), else the default. ``maxspeed`` (``:forward`` /
``:backward``) in km/h or ``mph``; non-numeric values (``none``, ``signals``, zone
codes) fall back to the default. Capacity = lanes x capacity per lane.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from sim.errors import GeodataError, UsageError
from sim.geo import COORDINATE_SYSTEMS, to_lonlat, to_wgs84, transformer
from sim.traffic.osm_tags import (
    _directed,
    _Roads,
    is_drivable,
)
from sim.traffic.parking import capacity_tag, is_parking, parking_layer
from sim.traffic.road_classes import DRIVABLE, INTERNATIONAL, STANDARDS, RoadDefaults
from sim.traffic.simplify import simplify

SIGNAL_CYCLE_S = 90.0
SIGNAL_PHASES = 2
SIGNAL_LOST_S_PER_PHASE = 4.0
"""Fixed-time plan given to every imported signal: equal greens after lost time."""

SUFFIXES = (".osm", ".osm.pbf", ".graphml")


@dataclass
class RoadLayer:
    """An imported road layer in the City contract's shape (indexed tables)."""

    crs: pyproj.CRS
    nodes: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    signals: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    """Car parks (index osm_id; capacity) as points."""
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Pieces outside the largest strongly connected component: nodes, links, node_id, x, y
    (a node of the piece, city CRS), largest first."""
    clipped: int = 0
    """Directed links left out for lying outside the ``clip`` box."""


# --------------------------------------------------------------------------- readers


def read_osm_xml(path: Path, table: Mapping[str, RoadDefaults] = INTERNATIONAL) -> _Roads:
    """Parse an ``.osm`` XML extract (nodes, ways; relations are ignored)."""
    points: dict[int, tuple[float, float]] = {}
    signals: set[int] = set()
    ways: list[tuple[list[int], dict[str, str]]] = []
    parking: list[tuple[int, list[int], int | None]] = []
    try:
        for _, elem in ET.iterparse(path, events=("end",)):
            if elem.tag == "node":
                nid = int(elem.get("id"))
                points[nid] = (float(elem.get("lon")), float(elem.get("lat")))
                tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                if tags.get("highway") == "traffic_signals":
                    signals.add(nid)
                if is_parking(tags):
                    parking.append((nid, [nid], capacity_tag(tags)))
                elem.clear()
            elif elem.tag == "way":
                tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                refs = [int(nd.get("ref")) for nd in elem.iter("nd")]
                if is_drivable(tags):
                    ways.append((refs, tags))
                elif is_parking(tags):
                    parking.append((int(elem.get("id")), refs, capacity_tag(tags)))
                elem.clear()
            elif elem.tag == "relation":
                elem.clear()
    except (ET.ParseError, TypeError, ValueError) as exc:
        msg = f"{path}: not a readable OSM XML file ({exc})"
        raise GeodataError(msg) from None
    roads = _split_ways(path, pyproj.CRS("EPSG:4326"), points, ways, signals, table)
    for oid, refs, cap in parking:
        ring = [points[r] for r in refs if r in points]
        if ring:
            roads.parking.append((oid, ring, cap))
    return roads


def read_osm_pbf(path: Path, table: Mapping[str, RoadDefaults] = INTERNATIONAL) -> _Roads:
    """Parse an ``.osm.pbf`` extract with pyosmium (node locations resolved by osmium)."""
    try:
        import osmium
    except ImportError:
        msg = (
            f"{path}: reading .osm.pbf needs the 'osmium' package (pip install osmium); "
            "or convert the file to .osm XML (e.g. 'osmium cat FILE.osm.pbf -o FILE.osm')"
        )
        raise GeodataError(msg) from None
    points: dict[int, tuple[float, float]] = {}
    signals: set[int] = set()
    ways: list[tuple[list[int], dict[str, str]]] = []
    parking: list[tuple[int, list[tuple[float, float]], int | None]] = []
    try:
        objects: Any = osmium.FileProcessor(str(path)).with_locations()
        for obj in objects:
            if obj.is_node():
                if obj.tags.get("highway") == "traffic_signals":
                    signals.add(obj.id)
                if obj.tags.get("amenity") == "parking" and obj.location.valid():
                    lonlat = (obj.location.lon, obj.location.lat)
                    parking.append((obj.id, [lonlat], capacity_tag(obj.tags)))
            elif obj.is_way():
                tags = {t.k: t.v for t in obj.tags}
                if is_parking(tags):
                    ring = [
                        (n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()
                    ]
                    if ring:
                        parking.append((obj.id, ring, capacity_tag(tags)))
                if not is_drivable(tags):
                    continue
                refs = []
                for nd in obj.nodes:
                    if nd.location.valid():
                        points[nd.ref] = (nd.location.lon, nd.location.lat)
                    refs.append(nd.ref)
                ways.append((refs, tags))
    except RuntimeError as exc:
        msg = f"{path}: not a readable OSM PBF file ({exc})"
        raise GeodataError(msg) from None
    roads = _split_ways(path, pyproj.CRS("EPSG:4326"), points, ways, signals, table)
    roads.parking = parking
    return roads


def _split_ways(
    path: Path,
    crs: pyproj.CRS,
    points: dict[int, tuple[float, float]],
    ways: list[tuple[list[int], dict[str, str]]],
    signals: set[int],
    table: Mapping[str, RoadDefaults],
) -> _Roads:
    """Cut drivable ways into links at shared nodes, way ends and signals."""
    ways = [([r for r in refs if r in points], tags) for refs, tags in ways]
    ways = [(refs, tags) for refs, tags in ways if len(refs) >= 2]
    uses = Counter(r for refs, _ in ways for r in refs)
    cut = {r for r, k in uses.items() if k > 1} | (signals & set(uses))
    cut |= {r for refs, _ in ways for r in (refs[0], refs[-1])}
    roads = _Roads(crs=crs, points={}, signal_nodes=signals & set(uses))
    for refs, tags in ways:
        start = 0
        for k in range(1, len(refs)):
            if refs[k] in cut:
                stretch = refs[start : k + 1]
                if stretch[0] != stretch[-1]:
                    coords = [points[r] for r in stretch]
                    roads.segments.extend(_directed(tags, stretch[0], stretch[-1], coords, table))
                start = k
    if not roads.segments:
        msg = f"{path}: no drivable roads (highway={'/'.join(sorted(DRIVABLE))}) found"
        raise GeodataError(msg)
    used = {s.a_node for s in roads.segments} | {s.b_node for s in roads.segments}
    roads.points = {r: points[r] for r in sorted(used)}
    return roads


# --------------------------------------------------------------------------- build


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS 84 / UTM zone CRS containing a point."""
    zone = min(max(int((lon + 180.0) // 6.0) + 1, 1), 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _target_crs(roads: _Roads, crs: str | int | pyproj.CRS | None) -> pyproj.CRS:
    if crs is not None:
        try:
            target = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError:
            msg = "is not a known CRS (give e.g. EPSG:32719)"
            raise UsageError(msg, field="crs", value=repr(crs)) from None
        if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
            msg = "is not a projected CRS in metres (give e.g. a UTM zone)"
            raise UsageError(msg, field="crs", value=repr(crs))
        return target
    mx, my = np.array(list(roads.points.values())).mean(axis=0)
    lon, lat = to_lonlat(mx, my, roads.crs)
    return utm_crs(float(lon), float(lat))


def build_road_layer(
    roads: _Roads,
    crs: str | int | pyproj.CRS | None = None,
    clip: tuple[float, float, float, float] | None = None,
    simplified: bool = False,
) -> RoadLayer:
    """Clip, simplify, project, keep the largest strongly connected part, build the tables."""
    clipped = _clip(roads, clip) if clip is not None else 0
    if simplified:
        simplify(roads)
    target = _target_crs(roads, crs)
    project = transformer(roads.crs, target)
    keep, pieces = _components((s.a_node, s.b_node) for s in roads.segments)
    segments = [s for s in roads.segments if s.a_node in keep and s.b_node in keep]
    node_ids = sorted(keep)
    xy = np.array([roads.points[n] for n in node_ids])
    px, py = project.transform(xy[:, 0], xy[:, 1])
    signal_nodes = [n for n in node_ids if n in roads.signal_nodes]
    signal_of = {n: k + 1 for k, n in enumerate(signal_nodes)}
    node_index = pd.Index(np.asarray(node_ids, dtype=np.int64), name="node_id")
    nodes = gpd.GeoDataFrame(
        {
            "is_centroid": False,
            "zone_id": np.full(len(node_ids), -1, dtype=np.int64),
            "signal_id": np.array([signal_of.get(n, -1) for n in node_ids], dtype=np.int64),
        },
        geometry=shapely.points(px, py),
        index=node_index,
        crs=target,
    )
    lines = [_project_line(project, s.coords) for s in segments]
    links = gpd.GeoDataFrame(
        {
            "a_node": np.array([s.a_node for s in segments], dtype=np.int64),
            "b_node": np.array([s.b_node for s in segments], dtype=np.int64),
            "length_m": shapely.length(np.array(lines, dtype=object)),
            "lanes": np.array([s.lanes for s in segments], dtype=np.int64),
            "free_speed_kmh": [s.speed_kmh for s in segments],
            "capacity_vph": [s.capacity_vph for s in segments],
            "link_type": [s.link_type for s in segments],
            "name": [s.name for s in segments],
            "signal_id": np.array([signal_of.get(s.b_node, -1) for s in segments], dtype=np.int64),
        },
        geometry=lines,
        index=pd.Index(np.arange(1, len(segments) + 1, dtype=np.int64), name="link_id"),
        crs=target,
    )
    signals = _signals(nodes, signal_nodes, signal_of)
    lots = parking_layer(roads.parking, project)
    return RoadLayer(target, nodes, links, signals, lots, _dropped(roads, pieces, project), clipped)


def _clip(roads: _Roads, box: tuple[float, float, float, float]) -> int:
    """Keep the segments with both ends in a lon/lat box; return how many were dropped."""
    ids = np.array(list(roads.points), dtype=np.int64)
    xs, ys = np.array(list(roads.points.values()), dtype=float).T
    lon, lat = to_lonlat(xs, ys, roads.crs)
    x0, y0, x1, y1 = box
    inside = set(ids[(lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)].tolist())
    before = len(roads.segments)
    roads.segments = [s for s in roads.segments if s.a_node in inside and s.b_node in inside]
    if not roads.segments:
        msg = (
            f"no road lies inside the zones' extent (lon {x0:.4f}..{x1:.4f},"
            f" lat {y0:.4f}..{y1:.4f})"
        )
        raise GeodataError(msg)
    return before - len(roads.segments)


def _components(pairs: Iterable[tuple[int, int]]) -> tuple[set[int], list[set[int]]]:
    """The largest strongly connected component and the others, largest first."""
    graph = nx.DiGraph()
    graph.add_edges_from(pairs)
    parts = sorted(nx.strongly_connected_components(graph), key=lambda c: (-len(c), min(c)))
    return set(parts[0]), [set(p) for p in parts[1:]]


def _dropped(roads: _Roads, pieces: list[set[int]], project: pyproj.Transformer) -> pd.DataFrame:
    """One row per piece cut off by the largest strongly connected component."""
    piece_of = {n: k for k, piece in enumerate(pieces) for n in piece}
    links = Counter(piece_of.get(s.a_node, -1) for s in roads.segments)
    rows = []
    for k, piece in enumerate(pieces):
        node = min(piece)
        x, y = project.transform(*roads.points[node])
        rows.append(
            {"nodes": len(piece), "links": links.get(k, 0), "node_id": node, "x": x, "y": y}
        )
    return pd.DataFrame(rows, columns=["nodes", "links", "node_id", "x", "y"])


def _project_line(project: pyproj.Transformer, coords: list[tuple[float, float]]) -> Any:
    xs, ys = project.transform(*np.asarray(coords, dtype=float).T)
    return shapely.LineString(np.column_stack([xs, ys]))


def _signals(
    nodes: gpd.GeoDataFrame, signal_nodes: list[int], signal_of: dict[int, int]
) -> gpd.GeoDataFrame:
    green = (SIGNAL_CYCLE_S - SIGNAL_PHASES * SIGNAL_LOST_S_PER_PHASE) / SIGNAL_PHASES
    return gpd.GeoDataFrame(
        {
            "node_id": np.asarray(signal_nodes, dtype=np.int64),
            "cycle_s": SIGNAL_CYCLE_S,
            "n_phases": np.full(len(signal_nodes), SIGNAL_PHASES, dtype=np.int64),
            "green_s": ",".join([f"{green:g}"] * SIGNAL_PHASES),
            "offset_s": 0.0,
        },
        geometry=list(nodes.geometry.loc[signal_nodes]),
        index=pd.Index([signal_of[n] for n in signal_nodes], dtype=np.int64, name="signal_id"),
        crs=nodes.crs,
    )


def read_roads(path: str | Path, standard: str = "international") -> _Roads:
    """Dispatch on the file suffix (``.osm``, ``.osm.pbf``, ``.graphml``)."""
    path = Path(path)
    table = STANDARDS.get(standard)
    if table is None:
        msg = f"road standard {standard!r} is unknown; allowed: {', '.join(STANDARDS)}"
        raise UsageError(msg)
    if not path.is_file():
        msg = f"{path}: file not found"
        raise GeodataError(msg)
    name = path.name.lower()
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        return read_osm_pbf(path, table)
    if name.endswith(".osm") or name.endswith(".xml"):
        return read_osm_xml(path, table)
    if name.endswith(".graphml"):
        from sim.traffic.graphml import read_graphml

        return read_graphml(path, table)
    msg = f"{path}: unknown road file type; allowed: {', '.join(SUFFIXES)}"
    raise UsageError(msg)


def import_osm(
    path: str | Path,
    crs: str | int | pyproj.CRS | None = None,
    standard: str = "international",
    coordinates: str = "wgs84",
    clip: tuple[float, float, float, float] | None = None,
    simplified: bool = False,
) -> RoadLayer:
    """Read an OSM extract or osmnx GraphML file and build the city road layer.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.pbf`` or ``.graphml`` file.
    crs
        Target projected CRS in metres; default the UTM zone of the data's centroid.
    standard
        Default lanes/speeds/capacities: ``"international"`` or ``"china"``
        (:mod:`sim.traffic.road_classes`).
    coordinates
        The lon/lat system of the file (``wgs84``; ``gcj02``/``bd09`` for a graph drawn
        on a Chinese map service), moved to WGS84 before projection.
    clip
        ``(lon0, lat0, lon1, lat1)`` (WGS84): only roads with both ends inside are kept.
    simplified
        Merge links through nodes that only join two equal links
        (:mod:`sim.traffic.simplify`).

    Returns
    -------
    RoadLayer
        ``nodes`` (index node_id = OSM id), ``links`` (index link_id 1..n, directed),
        ``signals`` (index signal_id 1..k), ``parking`` (index osm_id) and the
        ``dropped`` pieces, all in ``crs``.

    Raises
    ------
    GeodataError
        Unreadable file, no drivable roads, ``.osm.pbf`` without ``osmium``.
    UsageError
        Unknown file type or a CRS that is not projected in metres.
    """
    roads = read_roads(path, standard)
    if coordinates not in COORDINATE_SYSTEMS:
        msg = f"coordinates {coordinates!r} is unknown; allowed: {', '.join(COORDINATE_SYSTEMS)}"
        raise UsageError(msg)
    if coordinates != "wgs84" and roads.crs.is_geographic:
        _shift(roads, coordinates)
    return build_road_layer(roads, crs, clip, simplified)


def _shift(roads: _Roads, system: str) -> None:
    """Move every lon/lat of ``roads`` from ``system`` to WGS84, in place."""

    def move(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        xs, ys = np.asarray(pts, dtype=float).T
        lon, lat = to_wgs84(xs, ys, system)
        return list(zip(lon.tolist(), lat.tolist(), strict=True))

    ids = list(roads.points)
    roads.points = dict(zip(ids, move([roads.points[i] for i in ids]), strict=True))
    for seg in roads.segments:
        seg.coords = move(seg.coords)
    roads.parking = [(oid, move(ring), cap) for oid, ring, cap in roads.parking]


def write_road_layer(layer: RoadLayer, out: str | Path) -> Path:
    """Write the layers ``nodes``, ``links`` and ``signals`` to a new GeoPackage."""
    from sim.city import write_layers

    tables = {
        "nodes": layer.nodes.reset_index(),
        "links": layer.links.reset_index(),
        "signals": layer.signals.reset_index(),
    }
    return write_layers(out, tables)
