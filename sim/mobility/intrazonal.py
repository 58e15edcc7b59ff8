"""Trips within one zone: local street routes between its access points.

A car trip within a zone between two different access points
(:mod:`sim.mobility.access`) drives the streets within :data:`LOCAL_BUFFER_M` of the
zone (a street along or just beyond its edge often joins two of its parts), on the
fastest route at free flow (:class:`LocalRoutes`); it is loaded on the network like any
other car trip. One whose two points coincide, or that those streets cannot take from
one point to the other, never reaches a road and is reported apart
(``car_trips_intrazonal``). :class:`TripAccess` bundles what a run needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.city import City
from sim.mobility.access import (
    ACCESS_CONNECTOR,
    CITY_CONNECTOR,
    AccessPoints,
    school_points,
    trip_points,
)

#: A zone's local streets for trips within it: those within this distance of the zone.
LOCAL_BUFFER_M = 800.0
#: How many cities' :class:`TripAccess` are kept.
_RECENT_MAX = 2
_RECENT: list[tuple[int, TripAccess]] = []


def city_fingerprint(city: City) -> int:
    """A hash of the layers the access reads: zones, nodes, links and schools."""
    parts = [
        city.zones.geometry.to_wkb(),
        city.zones["centroid_node"],
        city.nodes.geometry.to_wkb(),
        city.nodes["is_centroid"],
        city.links[["a_node", "b_node", "length_m", "free_speed_kmh", "link_type"]],
        city.schools.geometry.to_wkb(),
        city.schools["zone_id"],
    ]
    hashes = [pd.util.hash_pandas_object(pd.DataFrame(p), index=True).to_numpy() for p in parts]
    return hash(tuple(int(h.sum(dtype=np.uint64)) for h in hashes))


def near_nodes(city: City, buffer_m: float = LOCAL_BUFFER_M) -> pd.DataFrame:
    """Street nodes within ``buffer_m`` of each zone: columns ``node_id``, ``zone`` (index)."""
    nodes = city.nodes
    street = nodes[~nodes["is_centroid"].to_numpy(dtype=bool)]
    zones = city.zones.geometry.buffer(buffer_m) if buffer_m > 0 else city.zones.geometry
    joined = gpd.sjoin(
        gpd.GeoDataFrame(geometry=street.geometry.values, index=street.index, crs=nodes.crs),
        gpd.GeoDataFrame(geometry=zones.values, crs=city.zones.crs),
        predicate="intersects",
    )
    return pd.DataFrame(
        {
            "node_id": joined.index.to_numpy(dtype=np.int64),
            "zone": joined["index_right"].to_numpy(dtype=np.int64),
        }
    )


@dataclass
class LocalRoutes:
    """Free-flow routes between the access points of each zone on its own streets.

    Pair ``(i, j)`` of zone ``z`` (points ``i, j`` of that zone, from 0) is entry
    ``pair_start[z] + i * m_z + j`` with ``m_z`` the zone's point count.

    Attributes
    ----------
    pair_start
        int64 ``(n_zones + 1)`` offsets of each zone's ``m_z × m_z`` block.
    minutes, km
        Free-flow minutes and km of each pair's route (``inf``: no route inside the zone).
    link_start, link_ids
        CSR of each pair's links (link ids of the links table, in driving order).
    """

    pair_start: np.ndarray
    minutes: np.ndarray
    km: np.ndarray
    link_start: np.ndarray
    link_ids: np.ndarray

    @classmethod
    def of(cls, access: AccessPoints, links: pd.DataFrame, near: pd.DataFrame) -> LocalRoutes:
        """Fastest free-flow routes on the streets near each zone (connectors excluded).

        Parameters
        ----------
        access
            The zones' access points.
        links
            The links in force (e.g. after the year's road policies).
        near
            Street nodes near each zone, columns ``node_id`` and ``zone``
            (:func:`near_nodes`); a zone's streets join two of its near nodes.

        A pair these streets do not join gets ``inf``.
        """
        roads = links[~links["link_type"].isin([CITY_CONNECTOR, ACCESS_CONNECTOR])]
        ends = pd.DataFrame(
            {
                "a_node": roads["a_node"].to_numpy(dtype=np.int64),
                "b_node": roads["b_node"].to_numpy(dtype=np.int64),
                "link_id": roads.index.to_numpy(dtype=np.int64),
                "t": roads["length_m"].to_numpy() / roads["free_speed_kmh"].to_numpy() * 0.06,
                "km": roads["length_m"].to_numpy() / 1000.0,
            }
        )
        za = ends.merge(near.rename(columns={"node_id": "a_node"}), on="a_node")
        both = za.merge(near.rename(columns={"node_id": "b_node"}), on=["b_node", "zone"])
        both = both.sort_values(["zone", "link_id"])
        bounds = np.searchsorted(both["zone"].to_numpy(), np.arange(access.n_zones + 1))
        sizes = np.diff(access.zone_start)
        pair_start = np.concatenate([[0], np.cumsum(sizes**2)]).astype(np.int64)
        out_min = np.full(pair_start[-1], np.inf)
        out_km = np.full(pair_start[-1], np.inf)
        routes: list[np.ndarray] = []
        for z in range(access.n_zones):
            rows = both.iloc[bounds[z] : bounds[z + 1]]
            pts = access.node_id[access.zone_start[z] : access.zone_start[z + 1]]
            zone_routes = _zone_routes(
                rows["a_node"].to_numpy(),
                rows["b_node"].to_numpy(),
                rows["t"].to_numpy(),
                rows["km"].to_numpy(),
                rows["link_id"].to_numpy(),
                pts,
            )
            block = slice(pair_start[z], pair_start[z + 1])
            out_min[block], out_km[block] = zone_routes[0], zone_routes[1]
            routes += zone_routes[2]
        lengths = np.array([len(r) for r in routes], dtype=np.int64)
        return cls(
            pair_start=pair_start,
            minutes=out_min,
            km=out_km,
            link_start=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            link_ids=np.concatenate([np.zeros(0, np.int64), *routes]).astype(np.int64),
        )

    def pair(self, access: AccessPoints, o_point: np.ndarray, d_point: np.ndarray) -> np.ndarray:
        """Pair entry of each trip between two points of the same zone."""
        z = access.zone[o_point]
        m = np.diff(access.zone_start)[z]
        i = o_point - access.zone_start[z]
        j = d_point - access.zone_start[z]
        return self.pair_start[z] + i * m + j

    def link_load(self, pairs: np.ndarray, weight: np.ndarray | None = None) -> pd.Series:
        """Vehicles per link id of trips on route ``pairs`` (each trip ``weight``, default 1)."""
        w = np.ones(len(pairs)) if weight is None else np.asarray(weight, dtype=np.float64)
        per_pair = np.bincount(pairs, w, minlength=len(self.minutes))
        counts = np.diff(self.link_start)
        flow = np.repeat(per_pair, counts)
        load = pd.Series(flow).groupby(self.link_ids).sum()
        return load[load > 0].rename_axis("link_id")


def _zone_routes(
    a: np.ndarray,
    b: np.ndarray,
    minutes: np.ndarray,
    km: np.ndarray,
    ids: np.ndarray,
    points: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """All-pairs fastest routes between ``points`` on one zone's street links."""
    m = len(points)
    nodes = np.unique(np.concatenate([a, b, points]))
    n = len(nodes)
    ia, ib, ip = (np.searchsorted(nodes, x) for x in (a, b, points))
    # parallel links: keep the fastest of each node pair (the lowest id on ties)
    fastest = np.lexsort((ids, minutes))
    _, first = np.unique((ia * n + ib)[fastest], return_index=True)
    best = fastest[np.sort(first)]  # one link per node pair, fastest first
    graph = csr_matrix((minutes[best] + 1e-9, (ia[best], ib[best])), shape=(n, n))
    dist, pred = dijkstra(graph, directed=True, indices=ip, return_predecessors=True)
    key = ia[best].astype(np.int64) * n + ib[best]
    order = np.argsort(key)
    key, link, link_km = key[order], ids[best][order], km[best][order]
    out_min = np.zeros(m * m)
    out_km = np.zeros(m * m)
    routes = [np.zeros(0, np.int64)] * (m * m)
    for s in range(m):
        for t in range(m):
            if s == t:
                continue
            cell = s * m + t
            if not np.isfinite(dist[s, ip[t]]):
                out_min[cell] = out_km[cell] = np.inf
                continue
            walk, node = [int(ip[t])], int(ip[t])
            while node != ip[s]:
                node = int(pred[s, node])
                walk.append(node)
            seq = np.asarray(walk[::-1], dtype=np.int64)
            at = np.searchsorted(key, seq[:-1] * n + seq[1:])
            routes[cell] = link[at].astype(np.int64)
            out_min[cell] = dist[s, ip[t]] - 1e-9 * len(at)
            out_km[cell] = float(link_km[at].sum())
    return out_min, out_km, routes


@dataclass
class LocalTrips:
    """Trips within one zone: which drive the zone's streets, and their minutes and km.

    Attributes
    ----------
    loaded
        bool per trip: within one zone, between two different points that the zone's
        streets join (these are loaded on the network; the others within a zone are
        reported apart).
    minutes, km
        Free-flow minutes and km of the loaded ones' routes (0 elsewhere).
    pairs
        Route entry (:class:`LocalRoutes`) of each trip, -1 where not loaded.
    o_node, d_node
        Street node id of each trip's origin and destination point (where a dynamic
        model's vehicle starts and ends), when known.
    """

    loaded: np.ndarray
    minutes: np.ndarray
    km: np.ndarray
    pairs: np.ndarray
    o_node: np.ndarray | None = None
    d_node: np.ndarray | None = None


def local_trips(
    access: AccessPoints,
    routes: LocalRoutes,
    origin: np.ndarray,
    dest: np.ndarray,
    o_point: np.ndarray,
    d_point: np.ndarray,
) -> LocalTrips:
    """Which trips between zones ``origin → dest`` and points ``o_point → d_point`` are local."""
    within = np.flatnonzero((origin == dest) & (o_point != d_point))
    pairs = np.full(len(origin), -1, dtype=np.int64)
    cand = routes.pair(access, o_point[within], d_point[within])
    ok = np.isfinite(routes.minutes[cand])
    pairs[within[ok]] = cand[ok]
    loaded = pairs >= 0
    minutes = np.where(loaded, routes.minutes[np.maximum(pairs, 0)], 0.0)
    km = np.where(loaded, routes.km[np.maximum(pairs, 0)], 0.0)
    return LocalTrips(loaded=loaded, minutes=minutes, km=km, pairs=pairs)


class TripAccess:
    """The access points and local routes of one run, for the demand model.

    Parameters
    ----------
    city
        The loaded city.
    seed
        Seed of the hashed point draws (fixed by default: a household in a zone lives
        at the same point in every run and scenario, so comparisons see no point noise).
    """

    def __init__(self, city: City, seed: int = 0) -> None:
        self.points = AccessPoints.of(city, seed)
        self.routes = LocalRoutes.of(self.points, city.links, near_nodes(city))
        self.school = school_points(self.points, city)

    @classmethod
    def of(cls, city: City) -> TripAccess:
        """The access of ``city`` (seed 0), built once for the last few cities asked for.

        Cities are told apart by what the access reads (:func:`city_fingerprint`), so a
        city loaded again from the same file (every run loads its city) reuses it.
        """
        key = city_fingerprint(city)
        for known, access in _RECENT:
            if known == key:
                return access
        access = cls(city)
        _RECENT.insert(0, (key, access))
        del _RECENT[_RECENT_MAX:]
        return access

    def trips(
        self,
        origin: np.ndarray,
        dest: np.ndarray,
        household: np.ndarray,
        traveller: np.ndarray,
        school: np.ndarray,
    ) -> LocalTrips:
        """Points of trips from home and which of them drive local streets within a zone.

        ``school`` is the school index of school trips (-1 for others; a school the
        city's layer lacks, e.g. a ``new_school``, gets a hashed point of its zone); the
        other arguments as in :func:`trip_points`.
        """
        school = np.asarray(school, dtype=np.int64)
        known = (school >= 0) & (school < len(self.school))
        spot = np.where(known, self.school[np.clip(school, 0, len(self.school) - 1)], -1)
        o, d = trip_points(self.points, origin, dest, household, traveller, spot)
        out = local_trips(self.points, self.routes, origin, dest, o, d)
        out.o_node, out.d_node = self.points.node_id[o], self.points.node_id[d]
        return out

    def expected(self) -> tuple[np.ndarray, np.ndarray]:
        """Per zone, the mean km and free-flow minutes of a car trip within it that loads.

        Over pairs of two different points joined by local streets, each pair weighted
        by the product of its points' weights (NaN where no pair loads): the level of
        service such a trip sees, for the skims' diagonal.
        """
        pts, r = self.points, self.routes
        n = pts.n_zones
        km, minutes = np.full(n, np.nan), np.full(n, np.nan)
        for z in range(n):
            w = pts.weight[pts.zone_start[z] : pts.zone_start[z + 1]]
            block = slice(r.pair_start[z], r.pair_start[z + 1])
            t = r.minutes[block].reshape(len(w), len(w))
            pair = np.outer(w, w) * (np.isfinite(t) & ~np.eye(len(w), dtype=bool))
            if pair.sum() > 0:
                minutes[z] = float((pair * np.where(pair > 0, t, 0.0)).sum() / pair.sum())
                k = r.km[block].reshape(len(w), len(w))
                km[z] = float((pair * np.where(pair > 0, k, 0.0)).sum() / pair.sum())
        return km, minutes


def trips_within_zones(
    access: TripAccess | None,
    origin: np.ndarray,
    dest: np.ndarray,
    household: np.ndarray,
    traveller: np.ndarray,
    school: np.ndarray,
) -> LocalTrips:
    """:meth:`TripAccess.trips`, or, without access (a city without streets), none loads."""
    if access is not None:
        return access.trips(origin, dest, household, traveller, school)
    n = len(origin)
    return LocalTrips(
        loaded=np.zeros(n, dtype=bool),
        minutes=np.zeros(n),
        km=np.zeros(n),
        pairs=np.full(n, -1, dtype=np.int64),
    )
