"""Read an osmnx-style GraphML road graph into the OSM importer's directed segments."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pyproj
import shapely

from sim.errors import GeodataError
from sim.traffic.osm_tags import _YES, _first, _Roads, _Segment, is_drivable, link_attributes
from sim.traffic.road_classes import DRIVABLE, INTERNATIONAL, RoadDefaults


def read_graphml(path: Path, table: Mapping[str, RoadDefaults] = INTERNATIONAL) -> _Roads:
    """Read an osmnx-style GraphML road graph (directed edges, ``x``/``y`` node attributes)."""
    try:
        graph = nx.read_graphml(path)
    except (ET.ParseError, nx.NetworkXError, OSError, KeyError) as exc:
        msg = f"{path}: not a readable GraphML file ({exc})"
        raise GeodataError(msg) from None
    crs = pyproj.CRS(graph.graph.get("crs", "EPSG:4326"))
    ids = _graphml_ids(path, graph)
    points, signals = {}, set()
    for node, data in graph.nodes(data=True):
        try:
            points[ids[node]] = (float(data["x"]), float(data["y"]))
        except (KeyError, ValueError):
            msg = f"{path}: node {node} lacks numeric 'x'/'y' attributes (osmnx style)"
            raise GeodataError(msg) from None
        if _first(data.get("highway", "")) == "traffic_signals":
            signals.add(ids[node])
    roads = _Roads(crs=crs, points=points, signal_nodes=signals)
    directed = graph.is_directed()
    for u, v, data in graph.edges(data=True):
        if u == v or not is_drivable(data):
            continue
        # osmnx stores each direction of a two-way road as its own edge
        two_way = _first(data.get("oneway", "False")).lower() not in _YES
        backward = _first(data.get("reversed", "False")).lower() in _YES
        lanes, speed, cap, kind = link_attributes(
            data, "backward" if backward else "forward", two_way, table
        )
        name = _first(data["name"]) if data.get("name") is not None else ""
        coords = _edge_coords(data, points[ids[u]], points[ids[v]])
        pairs = [(u, v, coords)] if directed else [(u, v, coords), (v, u, coords[::-1])]
        for a, b, pts in pairs:
            roads.segments.append(_Segment(ids[a], ids[b], pts, lanes, speed, cap, kind, name))
    if not roads.segments:
        msg = f"{path}: no drivable edges (highway={'/'.join(sorted(DRIVABLE))}) found"
        raise GeodataError(msg)
    return roads


def _graphml_ids(path: Path, graph: nx.Graph) -> dict[Any, int]:
    """Integer node ids: the GraphML ids when they are integers (osmnx: OSM ids)."""
    try:
        return {node: int(node) for node in graph.nodes}
    except (TypeError, ValueError):
        return {node: k + 1 for k, node in enumerate(graph.nodes)}


def _edge_coords(
    data: Mapping[str, Any], a: tuple[float, float], b: tuple[float, float]
) -> list[tuple[float, float]]:
    """The edge's WKT geometry, oriented from a to b; a straight line when absent."""
    wkt = data.get("geometry")
    if wkt:
        try:
            coords = [tuple(c[:2]) for c in shapely.from_wkt(wkt).coords]
        except shapely.errors.GEOSException:
            coords = []
        if len(coords) >= 2:
            if math.dist(coords[0], a) > math.dist(coords[-1], a):
                coords = coords[::-1]
            return coords
    return [a, b]
