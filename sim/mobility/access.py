"""Access points: where trips start and end inside a zone, on the zone's own streets.

Each zone gets up to :data:`POINTS_PER_ZONE` street nodes inside it, the ones with the
most local road around them (half the length of every local street touching the node;
the city layers hold no buildings, so road length stands in for where people live).
A zone with no local street inside uses every road; a zone with no street node inside
uses the nodes its centroid connectors reach. Each point's weight is its share of the
zone's road length, and:

- a household lives at one point of its zone, drawn by weight from a hash of the
  scenario seed, the household and the zone (:meth:`AccessPoints.pick`), so it keeps
  its point until it moves; a workplace or other destination is a point of the
  destination zone drawn the same way from the traveller; a school is the point of
  its zone nearest to it;
- the static network reaches each zone through connectors to its
  ``k`` heaviest points (:func:`access_connectors`);
- a car trip within one zone between two different points drives the zone's local
  streets (:mod:`sim.mobility.intrazonal`); one whose two points coincide never reaches
  a road and is reported apart (``car_trips_intrazonal``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim.city import City
from sim.mobility.trips import DETOUR_FACTOR
from sim.traffic.road_classes import CENTROID_CONNECTOR

#: Most access points a zone keeps (the heaviest street nodes inside it).
POINTS_PER_ZONE = 12
#: Road classes whose length says where people live and work (no motorways, trunks, ramps).
LOCAL_TYPES = frozenset(
    {"residential", "living_street", "unclassified", "tertiary", "secondary", "primary", "road"}
)
#: Link types of connectors: the city's own, and the ones :func:`access_connectors` adds.
CITY_CONNECTOR, ACCESS_CONNECTOR = "centroid_connector", "access_connector"
#: Salts of the hashed draws: a household's home, a traveller's destination point.
HOME, DESTINATION = 1, 2


@dataclass
class AccessPoints:
    """Up to :data:`POINTS_PER_ZONE` weighted street nodes per zone, heaviest first.

    Attributes
    ----------
    zone_start
        int64 ``(n_zones + 1)``: the points of zone ``z`` are ``zone_start[z]:zone_start[z+1]``.
    node_id
        int64 street node id of each point.
    weight
        float64 share of its zone's homes (and jobs) at each point; sums to 1 per zone.
    x, y
        Coordinates of each point (city CRS, metres).
    seed
        Seed of the hashed draws of :meth:`pick`.
    """

    zone_start: np.ndarray
    node_id: np.ndarray
    weight: np.ndarray
    x: np.ndarray
    y: np.ndarray
    seed: int = 0

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return len(self.zone_start) - 1

    @property
    def zone(self) -> np.ndarray:
        """int64 zone index of each point."""
        return np.repeat(np.arange(self.n_zones), np.diff(self.zone_start))

    @classmethod
    def of(cls, city: City, seed: int = 0, per_zone: int = POINTS_PER_ZONE) -> AccessPoints:
        """The access points of ``city`` (zones in ``city.zones`` order).

        Parameters
        ----------
        city
            A loaded city (zones, nodes, links).
        seed
            Seed of the hashed draws (the scenario seed).
        per_zone
            Most points a zone keeps.
        """
        nodes, links, zones = city.nodes, city.links, city.zones
        owner = street_zones(city)
        roads = links[~links["link_type"].isin([CITY_CONNECTOR, ACCESS_CONNECTOR])]
        local_m = _road_length(roads[roads["link_type"].isin(LOCAL_TYPES)])
        road_m = _road_length(roads)
        order = np.argsort(owner.to_numpy(), kind="stable")
        bounds = np.searchsorted(owner.to_numpy()[order], np.arange(len(zones) + 1))
        starts, ids, weights = [0], [], []
        for z in range(len(zones)):
            inside = owner.index.to_numpy(dtype=np.int64)[order[bounds[z] : bounds[z + 1]]]
            w = local_m.reindex(inside, fill_value=0.0).to_numpy(dtype=np.float64)
            if not (w > 0).any():
                w = road_m.reindex(inside, fill_value=0.0).to_numpy(dtype=np.float64)
            if not (w > 0).any():
                inside = _connector_nodes(links, int(zones["centroid_node"].iloc[z]))
                w = np.ones(len(inside))
            keep = np.argsort(-w, kind="stable")[:per_zone]
            keep = keep[w[keep] > 0]
            ids.append(inside[keep])
            weights.append(w[keep] / w[keep].sum())
            starts.append(starts[-1] + len(keep))
        node_id = np.concatenate(ids)
        pts = nodes.geometry.loc[node_id]
        return cls(
            zone_start=np.asarray(starts, dtype=np.int64),
            node_id=node_id,
            weight=np.concatenate(weights),
            x=pts.x.to_numpy(dtype=np.float64),
            y=pts.y.to_numpy(dtype=np.float64),
            seed=int(seed),
        )

    def pick(self, zone: np.ndarray, key: np.ndarray, salt: int) -> np.ndarray:
        """Point index for each ``(zone, key)``, drawn by weight from a stable hash.

        The same seed, zone, key and salt always give the same point, whatever else
        is drawn; a different key is an independent draw.
        """
        zone = np.asarray(zone, dtype=np.int64)
        u = uniform_hash(np.asarray(key, dtype=np.int64), zone, self.seed, salt)
        cum = _zone_cumsum(self.weight, self.zone_start) + self.zone
        pos = np.searchsorted(cum, zone + u, side="right")
        return np.clip(pos, self.zone_start[zone], self.zone_start[zone + 1] - 1)

    def nearest(self, zone: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Point index of zone ``zone[i]`` nearest to ``(x[i], y[i])``."""
        out = np.empty(len(zone), dtype=np.int64)
        for i, (z, px, py) in enumerate(zip(zone, x, y, strict=True)):
            a, b = self.zone_start[z], self.zone_start[z + 1]
            out[i] = a + int(np.argmin(np.hypot(self.x[a:b] - px, self.y[a:b] - py)))
        return out


def street_zones(city: City) -> pd.Series:
    """Zone index of every street node inside a zone (a boundary node: the first zone)."""
    nodes, zones = city.nodes, city.zones
    street = nodes[~nodes["is_centroid"].to_numpy(dtype=bool)]
    joined = gpd.sjoin(
        gpd.GeoDataFrame(geometry=street.geometry.values, index=street.index, crs=nodes.crs),
        gpd.GeoDataFrame(geometry=zones.geometry.values, crs=zones.crs),
        predicate="intersects",
    )
    joined = joined.reset_index(names="node_id").sort_values(["index_right", "node_id"])
    joined = joined.drop_duplicates("node_id").sort_values("node_id")
    return pd.Series(
        joined["index_right"].to_numpy(dtype=np.int64),
        index=pd.Index(joined["node_id"].to_numpy(dtype=np.int64), name="node_id"),
        name="zone",
    )


def _road_length(links: pd.DataFrame) -> pd.Series:
    """Half the length of the streets touching each node (a two-way street counted once)."""
    a = links["a_node"].to_numpy(dtype=np.int64)
    b = links["b_node"].to_numpy(dtype=np.int64)
    pair = pd.DataFrame({"lo": np.minimum(a, b), "hi": np.maximum(a, b)})
    pair["m"] = links["length_m"].to_numpy(dtype=np.float64)
    street = pair.groupby(["lo", "hi"], sort=False)["m"].max()
    lo = street.index.get_level_values("lo").to_numpy()
    hi = street.index.get_level_values("hi").to_numpy()
    m = street.to_numpy()
    ends = pd.Series(np.concatenate([m, m]), index=np.concatenate([lo, hi]))
    return ends.groupby(level=0).sum() / 2.0


def _connector_nodes(links: pd.DataFrame, centroid: int) -> np.ndarray:
    """Street nodes the centroid's own connectors lead to."""
    out = links.loc[links["a_node"] == centroid, "b_node"].to_numpy(dtype=np.int64)
    return np.unique(out)


def _zone_cumsum(weight: np.ndarray, zone_start: np.ndarray) -> np.ndarray:
    """Cumulative weight within each zone (ending at 1)."""
    total = np.cumsum(weight)
    before = np.concatenate([[0.0], total])[zone_start[:-1]]
    return total - np.repeat(before, np.diff(zone_start))


_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014) on uint64 arrays."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK64


def uniform_hash(key: np.ndarray, zone: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Uniforms in [0, 1) from a hash of ``(seed, salt, zone, key)``, element by element."""
    h = _splitmix(np.full(len(key), np.uint64(seed % 2**64)) ^ np.uint64(salt))
    for part in (zone, key):
        h = _splitmix(h ^ np.asarray(part).astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def access_id_base(links: pd.DataFrame) -> int:
    """First link id of the access connectors: a power of ten ten times above every city id."""
    top = int(links.index.max()) if len(links) else 0
    return 10 ** (len(str(max(top, 1))) + 1)


def access_connectors(city: City, access: AccessPoints, k: int) -> gpd.GeoDataFrame:
    """Two-way connectors from each zone's centroid to its ``k`` heaviest access points.

    A connector's length is the straight line from the centroid to the point times
    :data:`sim.mobility.trips.DETOUR_FACTOR` (the walk or drive from the zone's homes to
    that street), so its time is that length at the connector speed
    (:data:`sim.traffic.road_classes.CENTROID_CONNECTOR`, 30 km/h, never binding).
    Points the centroid already connects to are skipped. Rows follow the City links
    contract (``link_type`` ``"access_connector"``, no signal), ids from
    :func:`access_id_base`; append them to ``city.links`` before building a network.
    """
    links, nodes = city.links, city.nodes
    spec = CENTROID_CONNECTOR
    rows = []
    for z, (zid, centroid) in enumerate(city.zones["centroid_node"].items()):
        linked = set(_connector_nodes(links, int(centroid)).tolist())
        c = nodes.geometry.loc[centroid]
        a, b = access.zone_start[z], access.zone_start[z + 1]
        for p in range(a, min(b, a + k)):
            target = int(access.node_id[p])
            if target in linked:
                continue
            length = max(float(np.hypot(access.x[p] - c.x, access.y[p] - c.y)), 1.0)
            for u, v in ((int(centroid), target), (target, int(centroid))):
                rows.append(
                    {
                        "a_node": u,
                        "b_node": v,
                        "length_m": length * DETOUR_FACTOR,
                        "lanes": spec.lanes,
                        "free_speed_kmh": spec.speed_kmh,
                        "capacity_vph": spec.capacity_per_lane * spec.lanes,
                        "link_type": ACCESS_CONNECTOR,
                        "name": f"access connector zone {zid}",
                        "source_link_id": -1,
                        "signal_id": -1,
                        "geometry": shapely.LineString(
                            [nodes.geometry.loc[u].coords[0], nodes.geometry.loc[v].coords[0]]
                        ),
                    }
                )
    base = access_id_base(links)
    index = pd.Index(np.arange(base, base + len(rows), dtype=np.int64), name=links.index.name)
    frame = pd.DataFrame(rows, index=index, columns=[*links.columns])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=links.crs).astype(
        links.dtypes.drop("geometry").to_dict()
    )


def with_access_connectors(city: City, k: int) -> City:
    """``city`` whose links end with ``k`` access connectors per zone (``k = 0``: ``city``)."""
    if k <= 0:
        return city
    extra = access_connectors(city, AccessPoints.of(city), k)
    return replace(city, links=pd.concat([city.links, extra]))


def school_points(access: AccessPoints, city: City) -> np.ndarray:
    """Access point of each school (``city.schools`` order): the nearest of its zone's."""
    schools = city.schools
    zone = city.zones.index.get_indexer(schools["zone_id"])
    pts = schools.geometry
    return access.nearest(zone, pts.x.to_numpy(), pts.y.to_numpy())


def trip_points(
    access: AccessPoints,
    origin: np.ndarray,
    dest: np.ndarray,
    household: np.ndarray,
    traveller: np.ndarray,
    school_point: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Origin and destination access point of each trip from home.

    Parameters
    ----------
    access
        The zones' access points.
    origin, dest
        Zone index of each trip's ends (origin = the home zone).
    household
        Household id: the home point is drawn from it and the home zone.
    traveller
        A stable key of the traveller (e.g. household and birth year): the
        destination point is drawn from it and the destination zone.
    school_point
        The destination point of school trips (:func:`school_points`), -1 for others.
    """
    o_point = access.pick(origin, household, HOME)
    d_point = access.pick(dest, traveller, DESTINATION)
    to_school = school_point >= 0
    d_point[to_school] = school_point[to_school]
    return o_point, d_point
