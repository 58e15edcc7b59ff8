"""Access points inside zones and trips within a zone: weights, hashed homes, connectors, routes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from sim.city import City
from sim.mobility import access as ac
from sim.mobility import intrazonal as iz
from sim.traffic.network import network_from_links

CRS = "EPSG:32719"
#: Street nodes: zone 1 (x < 1000) has A B C D, zone 2 has E F G; 1 and 2 are centroids.
XY = {
    1: (500, 200),
    2: (1500, 200),
    11: (200, 500),  # A
    12: (500, 500),  # B
    13: (800, 500),  # C
    14: (500, 800),  # D
    21: (1200, 500),  # E
    22: (1500, 500),  # F
    23: (1800, 500),  # G
}
#: (a, b, metres, type, two-way): B-D one way (D has no way out), C-E a trunk road.
STREETS = [
    (11, 12, 300, "residential", True),
    (12, 13, 300, "residential", True),
    (12, 14, 300, "residential", False),
    (13, 21, 400, "trunk", True),
    (21, 22, 300, "residential", True),
    (22, 23, 300, "living_street", True),
    (1, 12, 300, "centroid_connector", True),
    (2, 22, 300, "centroid_connector", True),
]


def tiny_city() -> City:
    """Two 1 km square zones side by side with a small street network."""
    nodes = gpd.GeoDataFrame(
        {
            "is_centroid": [n < 10 for n in XY],
            "zone_id": [n if n < 10 else -1 for n in XY],
            "signal_id": -1,
        },
        geometry=[shapely.Point(xy) for xy in XY.values()],
        index=pd.Index(list(XY), name="node_id"),
        crs=CRS,
    )
    rows = []
    for a, b, m, kind, two_way in STREETS:
        for u, v in [(a, b), (b, a)] if two_way else [(a, b)]:
            rows.append(
                {
                    "a_node": u,
                    "b_node": v,
                    "length_m": float(m),
                    "lanes": 1,
                    "free_speed_kmh": 30.0,
                    "capacity_vph": 600.0,
                    "link_type": kind,
                    "name": "",
                    "source_link_id": -1,
                    "signal_id": -1,
                    "geometry": shapely.LineString([XY[u], XY[v]]),
                }
            )
    links = gpd.GeoDataFrame(rows, index=pd.Index(range(1, len(rows) + 1), name="link_id"), crs=CRS)
    zones = gpd.GeoDataFrame(
        {"centroid_node": [1, 2]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        index=pd.Index([1, 2], name="zone_id"),
        crs=CRS,
    )
    schools = gpd.GeoDataFrame(
        {"zone_id": [1]}, geometry=[shapely.Point(790, 480)], index=[0], crs=CRS
    )
    empty = pd.DataFrame()
    return City(
        path=Path("tiny.gpkg"),
        name="tiny",
        crs=pyproj.CRS(CRS),
        settings={},
        zones=zones,
        population=empty,
        households=empty,
        rates=empty,
        schools=schools,
        nodes=nodes,
        links=links,
        signals=gpd.GeoDataFrame(geometry=[], crs=CRS),
        parking=gpd.GeoDataFrame(geometry=[], crs=CRS),
        sites=gpd.GeoDataFrame(geometry=[], crs=CRS),
    )


A, B, C, D, E, F, G = 11, 12, 13, 14, 21, 22, 23


def test_points_weighted_by_local_street_length() -> None:
    pts = ac.AccessPoints.of(tiny_city())
    # half of each local street at each end; the trunk road C-E carries no homes:
    # A 150, B 450, C 150, D 150 m; E 150, F 300, G 150 m. Heaviest first, ties by id.
    assert pts.node_id.tolist() == [B, A, C, D, F, E, G]
    np.testing.assert_allclose(pts.weight, [0.5, 1 / 6, 1 / 6, 1 / 6, 0.5, 0.25, 0.25])
    assert pts.zone_start.tolist() == [0, 4, 7]


def test_hashed_homes_follow_the_weights_and_are_stable() -> None:
    pts = ac.AccessPoints.of(tiny_city(), seed=7)
    keys = np.arange(60_000)
    zone = np.zeros(len(keys), dtype=np.int64)
    picked = pts.pick(zone, keys, ac.HOME)
    share = np.bincount(picked, minlength=7)[:4] / len(keys)
    np.testing.assert_allclose(share, [0.5, 1 / 6, 1 / 6, 1 / 6], atol=0.01)
    # the same household keeps its point whatever is drawn around it
    np.testing.assert_array_equal(pts.pick(zone[:50], keys[:50], ac.HOME), picked[:50])
    other = pts.pick(zone, keys, ac.DESTINATION)
    assert 0.4 < (other != picked).mean() < 0.8  # an independent draw: 1 - sum(w^2) = 2/3
    reseeded = ac.AccessPoints.of(tiny_city(), seed=8).pick(zone, keys, ac.HOME)
    assert 0.6 < (reseeded != picked).mean() < 0.73


def test_connectors_join_the_heaviest_points_not_yet_joined() -> None:
    city = tiny_city()
    conn = ac.access_connectors(city, ac.AccessPoints.of(city), k=2)
    # zone 1: B (joined by the city already) and A; zone 2: F (joined) and E
    pairs = sorted(zip(conn["a_node"], conn["b_node"], strict=True))
    assert pairs == sorted([(1, A), (A, 1), (2, E), (E, 2)])
    # straight line x 1.3: centroid 1 (500, 200) to A (200, 500) = 424.26 m
    np.testing.assert_allclose(conn.loc[conn["a_node"] == 1, "length_m"], 300 * np.sqrt(2) * 1.3)
    assert (conn.index >= 100).all() and (conn["link_type"] == "access_connector").all()
    net = network_from_links(
        ac.with_access_connectors(city, 2).links, city.nodes, city.zones["centroid_node"]
    )
    assert net.n_links == len(city.links) + 4
    assert net.first_thru_node == 2  # centroids are destinations only, never passed through


def test_local_routes_and_trips_within_a_zone() -> None:
    city = tiny_city()
    pts = ac.AccessPoints.of(city)
    routes = iz.LocalRoutes.of(pts, city.links, iz.near_nodes(city, buffer_m=0))
    point = {int(n): i for i, n in enumerate(pts.node_id)}
    o = np.array([point[A], point[A], point[D], point[A], point[E]])
    d = np.array([point[C], point[A], point[A], point[D], point[G]])
    zone = pts.zone[o]
    dest_zone = np.array([0, 0, 0, 0, 1])
    trips = iz.local_trips(pts, routes, zone, dest_zone, o, d)
    # A -> C: A-B-C, 600 m at 30 km/h = 1.2 min; A -> A never leaves its point; D has no
    # way out; A -> D over the one-way B-D; E -> G: E-F-G 600 m
    assert trips.loaded.tolist() == [True, False, False, True, True]
    np.testing.assert_allclose(trips.minutes, [1.2, 0, 0, 1.2, 1.2])
    np.testing.assert_allclose(trips.km, [0.6, 0, 0, 0.6, 0.6])
    load = routes.link_load(trips.pairs[trips.loaded])
    ab = city.links.index[(city.links["a_node"] == A) & (city.links["b_node"] == B)][0]
    bd = city.links.index[(city.links["a_node"] == B) & (city.links["b_node"] == D)][0]
    assert load[ab] == 2 and load[bd] == 1 and load.sum() == 6


def test_trip_access_sends_pupils_to_their_school_point() -> None:
    access = iz.TripAccess(tiny_city())
    n = 200
    zone = np.zeros(n, dtype=np.int64)
    hh = np.arange(n)
    school = np.where(hh % 2 == 0, 0, -1)
    school[1] = 5  # a school the city lacks (a new_school policy): a point of its zone
    out = iz.TripAccess.trips(access, zone, zone, hh, hh, school)
    assert out.d_node is not None and out.o_node is not None
    assert (out.d_node[school == 0] == C).all()  # the school (790, 480) is nearest to C
    assert set(out.d_node[school < 0]) == {A, B, C, D}
    assert out.d_node[1] in {A, B, C, D}
    # a trip loads unless its two points coincide (D -> D) or start at D (no way out)
    expect = (out.o_node != out.d_node) & (out.o_node != D)
    np.testing.assert_array_equal(out.loaded, expect)


@pytest.mark.parametrize("k", [0])
def test_no_connectors_leaves_the_city_as_it_is(k: int) -> None:
    city = tiny_city()
    assert ac.with_access_connectors(city, k) is city


def test_expected_trip_within_a_zone_feeds_the_skims_diagonal() -> None:
    from sim.mobility.skims import car_skims

    city = tiny_city()
    km, minutes = iz.TripAccess(city).expected()
    # zone 1: weights B 1/2, A C D 1/6; D has no way out. Pairs that load, weight w_i w_j:
    # B->A, B->C, B->D, A->B, C->B (1/12 each, 0.3 km); A->C, A->D, C->A, C->D (1/36, 0.6 km)
    assert km[0] == pytest.approx((0.3 * 15 + 0.6 * 4) / 19)
    assert minutes[0] == pytest.approx(km[0] / 30 * 60)
    net = network_from_links(city.links, city.nodes, city.zones["centroid_node"])
    skims = car_skims(
        net,
        net.fftime,
        np.array([0.5, 0.5]),
        toll_factor=0.0,
        distance_factor=0.0,
        intrazonal_min=np.array([minutes[0], np.nan]),
    )
    assert skims.minutes[0, 0] == pytest.approx(minutes[0])
    assert skims.minutes[1, 1] == pytest.approx(0.5 / 25 * 60)  # no value: 25 km/h local rule


def test_access_is_built_once_per_city_content() -> None:
    first = iz.TripAccess.of(tiny_city())
    assert iz.TripAccess.of(tiny_city()) is first  # the same layers loaded again
    edited = tiny_city()
    edited.links.loc[edited.links.index[0], "length_m"] += 50.0
    assert iz.TripAccess.of(edited) is not first
