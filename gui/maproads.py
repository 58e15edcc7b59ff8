"""The roads of a city map: directed links folded into undirected roads, drawn as paths.

Each undirected road is drawn once; its two directed links share the line. The roads of a
city are built once per links table (:func:`roads_of`), so the main map, the results and
the comparison share them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from matplotlib.path import Path

#: How many cities' roads are kept (main map and a compared city).
CACHED_CITIES = 3
_CACHE: dict[int, tuple[pd.DataFrame, Roads]] = {}
_LOCK = threading.Lock()


def roads_of(links: pd.DataFrame) -> Roads:
    """The :class:`Roads` of a links table, built once per table (thread-safe)."""
    with _LOCK:
        hit = _CACHE.get(id(links))
        if hit is not None and hit[0] is links:
            return hit[1]
    roads = Roads.from_links(links)
    with _LOCK:
        while len(_CACHE) >= CACHED_CITIES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(links)] = (links, roads)
    return roads


@dataclass
class Roads:
    """The directed links of a city folded into undirected roads for drawing and picking."""

    link_ids: np.ndarray  # directed link ids, in city order
    road_of_link: np.ndarray  # road index of each directed link
    segments: list[np.ndarray]  # one (n, 2) array per road
    lanes: np.ndarray  # most lanes of either direction
    tree: shapely.STRtree
    order: np.ndarray  # link positions sorted by road
    starts: np.ndarray  # first position in ``order`` of each road (len n_roads + 1)
    vertices: np.ndarray  # every road's vertices, road after road
    road_of_vertex: np.ndarray
    first_vertex: np.ndarray  # True where a road starts

    @classmethod
    def from_links(cls, links: pd.DataFrame) -> Roads:
        """Fold directed links (a_node, b_node, lanes, geometry) into undirected roads."""
        a = links["a_node"].to_numpy(np.int64)
        b = links["b_node"].to_numpy(np.int64)
        key = np.minimum(a, b) * (max(a.max(), b.max()) + 1) + np.maximum(a, b)
        _, first, road_of_link = np.unique(key, return_index=True, return_inverse=True)
        geoms = links.geometry.to_numpy()[first]
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        segments = np.split(coords, np.flatnonzero(np.diff(which)) + 1)
        lanes = np.zeros(len(first), dtype=np.int64)
        np.maximum.at(lanes, road_of_link, links["lanes"].to_numpy(np.int64))
        order = np.argsort(road_of_link, kind="stable")
        starts = np.searchsorted(road_of_link[order], np.arange(len(first) + 1))
        first_vertex = np.ones(len(which), dtype=bool)
        first_vertex[1:] = which[1:] != which[:-1]
        return cls(
            link_ids=links.index.to_numpy(),
            road_of_link=road_of_link,
            segments=segments,
            lanes=lanes,
            tree=shapely.STRtree(geoms),
            order=order,
            starts=starts,
            vertices=coords,
            road_of_vertex=which,
            first_vertex=first_vertex,
        )

    def path(self, roads: np.ndarray) -> Path:
        """One compound path (MOVETO at each road's start) drawing the roads in a mask."""
        keep = roads[self.road_of_vertex]
        codes = np.where(self.first_vertex[keep], Path.MOVETO, Path.LINETO).astype(Path.code_type)
        return Path(self.vertices[keep], codes)

    def paths(self, groups: np.ndarray) -> dict[int, Path]:
        """One compound path per group of roads (``groups``: a group number per road, < 0 = none).

        One sort of the vertices for all groups, instead of a pass over every vertex per
        group as :meth:`path` would take.
        """
        of_vertex = groups[self.road_of_vertex]
        order = np.argsort(of_vertex, kind="stable")  # keeps each road's vertices in order
        sorted_groups = of_vertex[order]
        present, starts = np.unique(sorted_groups, return_index=True)
        ends = [*starts[1:], len(order)]
        codes = np.where(self.first_vertex, Path.MOVETO, Path.LINETO).astype(Path.code_type)
        return {
            int(g): Path(self.vertices[order[a:b]], codes[order[a:b]])
            for g, a, b in zip(present, starts, ends, strict=True)
            if g >= 0
        }

    def links_of(self, road: int) -> list[int]:
        """The directed link ids drawn as road ``road``."""
        return [
            int(i) for i in self.link_ids[self.order[self.starts[road] : self.starts[road + 1]]]
        ]

    def fold(self, values: pd.Series, how: str) -> np.ndarray:
        """Reduce per-link values to per-road values (``"max"`` or ``"sum"``); NaN where none."""
        per_link = values.reindex(self.link_ids).to_numpy(float)
        out = np.full(len(self.segments), np.nan)
        ok = ~np.isnan(per_link)
        if how == "sum":
            out[np.unique(self.road_of_link[ok])] = 0.0
            np.add.at(out, self.road_of_link[ok], per_link[ok])
        else:
            filled = np.full(len(self.segments), -np.inf)
            np.maximum.at(filled, self.road_of_link[ok], per_link[ok])
            out = np.where(np.isfinite(filled), filled, np.nan)
        return out

    def road_at(self, x: float, y: float, tolerance: float) -> int | None:
        """The road nearest to (x, y) within ``tolerance`` metres, or None."""
        hits = self.tree.query_nearest(shapely.Point(x, y), max_distance=tolerance)
        return int(hits[0]) if len(hits) else None
