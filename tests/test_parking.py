"""Parking search: kerb and car-park state, cruising on the links, illegal parking, policies.

The toy city is a 5 x 5 grid of two-way one-lane streets, 100 m apart at 36 km/h (10 s a
link), with zone 0's centroid off its south-west corner and zone 1's (the destination)
off its centre node. Expectations are counted by hand from the rules in the module
docstring of :mod:`sim.traffic.parking_search`.
"""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from sim.errors import ScenarioError
from sim.policies import ParkingEnforcement, ParkingGuidance
from sim.traffic.dynamic import BIN_S, DynamicNetwork, TrafficControl, Vehicles
from sim.traffic.network import Network, network_from_links
from sim.traffic.od_vehicles import od_vehicles
from sim.traffic.parking_plan import PARKING_COLUMNS, ParkingSearch, parking_table
from sim.traffic.parking_search import (
    FOUND,
    GUIDED,
    ILLEGAL,
    MOVED,
    PARKED,
    SearchRules,
    blocked_capacity,
    cruise_walk,
    occupancy_frame,
    search_outcomes,
)
from sim.traffic.parking_supply import ParkingSupply, StreetGraph, kerb_spaces, street_graph

N = 5  # grid side
CENTRE = 100 + 2 * N + 2  # node id of the grid's centre (row 2, column 2)


def _grid() -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Links and nodes of the toy city: node ids 100 + row * N + col, centroids 1 and 2."""
    xy = {100 + r * N + c: (100.0 * c, 100.0 * r) for r in range(N) for c in range(N)}
    xy |= {1: (-50.0, -50.0), 2: (250.0, 250.0)}
    rows = []
    for r in range(N):
        for c in range(N):
            a = 100 + r * N + c
            for b in ([a + 1] if c < N - 1 else []) + ([a + N] if r < N - 1 else []):
                rows += [(a, b, "residential"), (b, a, "residential")]
    rows += [(1, 100, "centroid_connector"), (100, 1, "centroid_connector")]
    rows += [(2, CENTRE, "centroid_connector"), (CENTRE, 2, "centroid_connector")]
    links = pd.DataFrame(rows, columns=["a_node", "b_node", "link_type"])
    links["length_m"] = [
        float(np.hypot(*np.subtract(xy[a], xy[b])))
        for a, b in zip(links.a_node, links.b_node, strict=True)
    ]
    links["lanes"] = 1
    links["free_speed_kmh"] = 36.0
    links["capacity_vph"] = 1800.0
    links.index = pd.RangeIndex(1, len(links) + 1, name="link_id")
    nodes = gpd.GeoDataFrame(
        {"is_centroid": [n < 100 for n in xy]},
        geometry=[shapely.Point(p) for p in xy.values()],
        index=pd.Index(list(xy), name="node_id"),
    )
    return links, nodes


def _toy(
    kerb_free: int, lot_free: int = 0, lot_node: int | None = None
) -> tuple[Network, DynamicNetwork, ParkingSearch]:
    links, nodes = _grid()
    net = network_from_links(links, nodes, [1, 2])
    dyn = DynamicNetwork(
        link_ids=[str(k) for k in links.index],
        link_from=net.link_from.astype(np.int64),
        link_to=net.link_to.astype(np.int64),
        n_nodes=net.n_nodes,
        length_m=links["length_m"].to_numpy(dtype=float),
        lanes=links["lanes"].to_numpy(dtype=np.int64),
        speed_ms=np.full(len(links), 10.0),
        capacity_vph=links["capacity_vph"].to_numpy(dtype=float),
    )
    node = list(net.node_ids).index(lot_node if lot_node is not None else 100 + N * N - 1)
    supply = ParkingSupply(
        zone_ids=np.array([1, 2]),
        kerb_spaces=np.array([0, kerb_free]),
        kerb_taken=np.array([0, 0]),
        lot_ids=np.array([7]),
        lot_zone=np.array([1]),
        lot_node=np.array([node]),
        lot_capacity=np.array([lot_free]),
        lot_taken=np.array([0]),
    )
    search = ParkingSearch(street_graph(links, nodes, net), supply, SearchRules(private=0.0))
    return net, dyn, search


def _vehicles(net: Network, n: int, t1: float = 120.0) -> Vehicles:
    trips = np.zeros((2, 2))
    trips[0, 1] = n
    return od_vehicles(net, trips, 0.0, t1, seed=1)


def _near_destination(search: ParkingSearch, radius_m: float) -> np.ndarray:
    """Street links whose both ends are within ``radius_m`` of the destination node."""
    g = search.graph
    centre = g.node_xy[g.link_from[np.flatnonzero(g.connector)][-1]]
    d = np.hypot(*(g.node_xy - centre).T)
    return ~g.connector & (d[g.link_from] <= radius_m) & (d[g.link_to] <= radius_m)


def _supply(kerb: int, lot: int = 0) -> ParkingSupply:
    return ParkingSupply(
        zone_ids=np.array([1]),
        kerb_spaces=np.array([kerb]),
        kerb_taken=np.array([0]),
        lot_ids=np.array([7]),
        lot_zone=np.array([0]),
        lot_node=np.array([0]),
        lot_capacity=np.array([lot]),
        lot_taken=np.array([0]),
    )


def _arrivals(n: int, every_s: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, np.int64), np.arange(n) * every_s


def test_ten_spaces_and_fifteen_arrivals_make_exactly_five_searchers() -> None:
    zone, t = _arrivals(15)
    none = np.full(15, -1)
    out = search_outcomes(
        _supply(10), zone, t, none, t, [[]] * 15, SearchRules(private=0.0, limit_s=600.0)
    )
    assert (out.outcome == PARKED).sum() == 10
    assert (out.outcome == ILLEGAL).sum() == 5  # nobody leaves: all five give up
    assert list(np.flatnonzero(out.outcome == ILLEGAL)) == [10, 11, 12, 13, 14]
    assert out.search_s.sum() == pytest.approx(5 * 600.0)
    np.testing.assert_allclose(out.illegal_from[10:], t[10:] + 600.0)


def test_searchers_take_freed_spaces_first_come_first_served() -> None:
    """Two searchers (arrive 0 s and 10 s); two cars leave the zone at 100 s and 250 s."""
    supply = _supply(1)
    supply.kerb_taken[:] = 1  # full when the peak starts
    arrive = np.array([0.0, 10.0, np.nan, np.nan])
    zone = np.array([0, 0, -1, -1])
    leave_zone = np.array([-1, -1, 0, 0])
    leave = np.array([0.0, 0.0, 100.0, 250.0])
    rules = SearchRules(private=0.0, home_kerb=1.0)
    out = search_outcomes(supply, zone, arrive, leave_zone, leave, [[]] * 4, rules)
    assert list(out.outcome[:2]) == [FOUND, FOUND]
    np.testing.assert_allclose(out.search_s[:2], [100.0, 240.0])


def test_private_share_and_home_kerb_share_count_whole_cars() -> None:
    """60 % of 10 arrivals have a space of their own; 0.3 of 10 departures free 3 spaces."""
    zone, t = _arrivals(10)
    rules = SearchRules(private=0.6, home_kerb=0.3)
    out = search_outcomes(_supply(100), zone, t, np.full(10, -1), t, [[]] * 10, rules)
    assert (out.outcome == PARKED).sum() == 4
    supply = _supply(5)
    supply.kerb_taken[:] = 5
    out = search_outcomes(supply, np.full(10, -1), t, np.zeros(10, np.int64), t, [[]] * 10, rules)
    assert sum(d for _, _, d in out.changes) == -3


def test_guidance_sends_its_share_of_searchers_to_the_lot() -> None:
    zone, t = _arrivals(15)
    rules = SearchRules(private=0.0, guided=0.4)
    out = search_outcomes(_supply(10, lot=50), zone, t, np.full(15, -1), t, [[0]] * 15, rules)
    assert (out.outcome == GUIDED).sum() == 2  # 40 % of the 5 who find the kerb full
    assert (out.outcome == ILLEGAL).sum() == 3
    occ = occupancy_frame(_supply(10, lot=50), out, 3600.0)
    lot = occ[occ["kind"] == "lot"]
    assert lot["occupied"].iloc[-1] == 2 and lot["capacity"].iloc[0] == 50
    assert occ[occ["kind"] == "kerb"]["occupied"].iloc[-1] == 10


def test_enforcement_moves_the_illegally_parked_to_a_lot_within_its_minutes() -> None:
    zone, t = _arrivals(15)
    rules = SearchRules(private=0.0, enforced=1.0, enforce_s=600.0)
    out = search_outcomes(_supply(10, lot=3), zone, t, np.full(15, -1), t, [[0]] * 15, rules)
    assert (out.outcome == MOVED).sum() == 3  # the lot has room for three
    assert (out.outcome == ILLEGAL).sum() == 2
    moved = out.outcome == MOVED
    np.testing.assert_allclose(out.illegal_to[moved] - out.illegal_from[moved], 600.0)


def test_a_parked_car_halves_a_two_lane_link_for_its_stay() -> None:
    """Blocked from 600 s to 1500 s: bins 2-4 at half, bin 5 (1500-1800 s) untouched."""
    links, nodes = _grid()
    graph = street_graph(links, nodes, network_from_links(links, nodes, [1, 2]))
    graph.lanes[:] = 2
    graph.lanes[1] = 1
    link = np.array([0, 0, 1])
    factor = blocked_capacity(
        graph, link, np.array([600.0, 700.0, 0.0]), np.array([1500.0, 900.0, 150.0]), 6
    )
    np.testing.assert_allclose(factor[0], [1.0, 1.0, 0.5, 0.5, 0.5, 1.0])
    assert factor[1, 0] == pytest.approx(1.0 - 0.5 * 0.5)  # one lane keeps half; half a bin
    assert (factor[2:] == 1.0).all()


def test_cruise_walk_circles_the_destination_on_streets() -> None:
    _, _, search = _toy(0)
    g = search.graph
    start = int(g.link_from[np.flatnonzero(g.connector)][-1])
    walk = cruise_walk(g, start, -1, 300.0)
    assert g.fft_s[walk].sum() >= 300.0 and g.fft_s[walk[:-1]].sum() < 300.0
    assert not g.connector[walk].any()
    assert (g.link_to[walk[:-1]] == g.link_from[walk[1:]]).all()  # a chain
    d = np.hypot(*(g.node_xy[g.link_to[walk]] - g.node_xy[start]).T)
    assert d.max() <= 250.0  # never further than the next ring of blocks


def test_cruise_walk_kernel_equals_its_python_twin() -> None:
    """The compiled walk and its plain-Python twin drive the same links, every start."""
    from sim.kernels.cruise import cruise_links
    from sim.traffic.parking_search import NO_KERB_M, REVISIT_M

    _, _, search = _toy(0)
    g = search.graph
    out_start, out_links = g.street_out
    for ln in range(g.n_links):
        for prev, variant, seconds in ((-1, 0, 60.0), (ln, 1, 400.0), (ln, 2, 900.0)):
            args = (out_start, out_links, g.link_from, g.link_to, g.node_xy, g.kerb, g.fft_s,
                    int(g.link_to[ln]), prev, seconds, variant, REVISIT_M, NO_KERB_M)  # fmt: skip
            walk = cruise_links(*args)
            np.testing.assert_array_equal(walk, cruise_links.py_func(*args))
            node = int(g.link_to[ln])
            if out_start[node + 1] == out_start[node]:  # no street leaves (a centroid)
                assert len(walk) == 0
                continue
            assert g.fft_s[walk[:-1]].sum() < seconds <= g.fft_s[walk].sum()


def test_with_ample_space_nobody_cruises_and_the_loading_is_unchanged() -> None:
    net, dyn, search = _toy(kerb_free=100)
    veh = _vehicles(net, 30)
    plan = search.plan(veh)
    assert plan.kpis() == {"parking_cruise_vkt": 0.0, "parking_search_min": 0.0,
                           "illegal_parked": 0.0}  # fmt: skip
    np.testing.assert_array_equal(plan.vehicles.route_links, veh.route_links)
    plain = TrafficControl(dyn).load(veh)
    parked = TrafficControl(dyn).load(plan.vehicles)
    km = dyn.length_m / 1000.0
    assert parked.link_inflow @ km == pytest.approx(plain.link_inflow @ km)


def test_searchers_cruise_on_the_links_around_their_destination() -> None:
    """10 kerb spaces, 30 arrivals: 20 search for 10 minutes on the blocks nearby."""
    net, dyn, search = _toy(kerb_free=10)
    veh = _vehicles(net, 30)
    plan = search.plan(veh)
    assert (plan.outcomes.outcome == ILLEGAL).sum() == 20
    plain = TrafficControl(dyn).load(veh)
    load = TrafficControl(dyn).load(plan.vehicles)
    near = _near_destination(search, 250.0)
    extra_km = (load.link_inflow - plain.link_inflow) @ (dyn.length_m / 1000.0)
    # 20 cars x 600 s at 36 km/h = 20 x 6 km, all of it on the links near the destination
    assert plan.kpis()["parking_cruise_vkt"] == pytest.approx(20 * 6.0, rel=0.05)
    assert extra_km == pytest.approx(plan.kpis()["parking_cruise_vkt"], rel=0.02)
    assert (load.link_inflow - plain.link_inflow)[~near & ~search.graph.connector].sum() == 0
    assert load.link_inflow[near].sum() > plain.link_inflow[near].sum() + 20 * 50


def test_guidance_takes_cruising_off_the_links_and_fills_the_lot() -> None:
    net, dyn, search = _toy(kerb_free=10, lot_free=40)
    veh = _vehicles(net, 30)
    base = search.plan(veh)
    search.rules = SearchRules(private=0.0, guided=0.5)
    guided = search.plan(veh)
    assert (guided.outcomes.outcome == GUIDED).sum() == 10  # half of the 20 searchers
    near = _near_destination(search, 250.0)
    base_in = TrafficControl(dyn).load(base.vehicles).link_inflow[near].sum()
    guided_in = TrafficControl(dyn).load(guided.vehicles).link_inflow[near].sum()
    assert guided.kpis()["parking_cruise_vkt"] == pytest.approx(
        base.kpis()["parking_cruise_vkt"] / 2, rel=0.05
    )
    assert guided_in < base_in - 10 * 50  # ten cars fewer circling ~60 links each
    lot = guided.occupancy[guided.occupancy["kind"] == "lot"]["occupied"]
    assert lot.iloc[-1] == 10
    assert base.occupancy[base.occupancy["kind"] == "lot"]["occupied"].max() == 0


def test_enforcement_lowers_illegal_parking_and_restores_the_blocked_lane() -> None:
    net, _, search = _toy(kerb_free=10, lot_free=40)
    veh = _vehicles(net, 30)
    base = search.plan(veh)
    search.rules = SearchRules(private=0.0, enforced=1.0, enforce_s=600.0)
    enforced = search.plan(veh)
    assert base.kpis()["illegal_parked"] == 20 and enforced.kpis()["illegal_parked"] == 0
    blocked = np.flatnonzero((base.capacity_factor < 1).any(axis=1))
    assert len(blocked) >= 1
    late = int(np.ceil((np.nanmax(base.outcomes.illegal_from) + 600.0) / BIN_S)) + 1
    assert (base.capacity_factor[blocked, late:] < 1).all()  # blocked for the dwell
    assert (enforced.capacity_factor[:, late:] == 1).all()  # cleared 10 minutes later


def test_destination_arrivals_take_the_tail_off() -> None:
    net, dyn, search = _toy(kerb_free=10)
    veh = _vehicles(net, 30)
    plan = search.plan(veh)
    load = TrafficControl(dyn).load(plan.vehicles)
    plain = TrafficControl(dyn).load(veh)
    reached = plan.destination_arrivals(load)
    searched = plan.tail_fft > 0
    assert searched.sum() == 20
    # a searcher reaches its zone where its connector (70.7 m, 7.07 s) would have started
    np.testing.assert_allclose(reached[searched], plain.arrive[searched] - 7.07, atol=3.0)
    np.testing.assert_allclose(reached[~searched], plain.arrive[~searched], atol=3.0)


def test_kerb_spaces_follow_the_local_street_length() -> None:
    """Two residential links of 120 m in zone 1, a primary in zone 1, one link outside."""
    nodes = gpd.GeoDataFrame(
        geometry=[shapely.Point(10, 10), shapely.Point(130, 10), shapely.Point(500, 500)],
        index=pd.Index([1, 2, 3], name="node_id"),
    )
    links = pd.DataFrame(
        {
            "a_node": [1, 2, 1, 3],
            "b_node": [2, 1, 2, 1],
            "length_m": [120.0, 120.0, 120.0, 600.0],
            "link_type": ["residential", "residential", "primary", "residential"],
        }
    )
    zones = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 200, 200)], index=[1])
    # 240 m of kerb; a 6 m bay on half of it: 240 / 6 / 2 = 20 spaces
    assert kerb_spaces(links, nodes, zones).tolist() == [20]


def test_parking_policies_need_car_parks() -> None:
    city = SimpleNamespace(parking=pd.DataFrame())
    for pol in (
        ParkingGuidance(type="parking_guidance", share=0.5, year=2025),
        ParkingEnforcement(type="parking_enforcement", share=0.5, year=2025),
    ):
        with pytest.raises(ScenarioError, match=r"policies\.3\.type: the city has no car parks"):
            pol.check(city, 3, [pol])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="within_min"):
        ParkingEnforcement(type="parking_enforcement", share=0.5, within_min=0, year=2025)


def test_from_city_reads_the_latest_policies_and_derives_the_kerb() -> None:
    links, nodes = _grid()
    net = network_from_links(links, nodes, [1, 2])
    zones = gpd.GeoDataFrame(
        geometry=[shapely.box(-100, -100, 150, 500), shapely.box(150, -100, 500, 500)],
        index=pd.Index([1, 2], name="zone_id"),
    )
    lots = gpd.GeoDataFrame(
        {"zone_id": [2], "capacity": [40], "occupancy_am": [0.25]},
        geometry=[shapely.Point(390, 410)],
        index=pd.Index([7], name="lot_id"),
    )
    city = SimpleNamespace(zones=zones, nodes=nodes, parking=lots)
    policies = [
        ParkingGuidance(type="parking_guidance", share=0.3, year=2025),
        ParkingEnforcement(type="parking_enforcement", share=0.5, within_min=5, year=2026),
        ParkingGuidance(type="parking_guidance", share=0.8, year=2027),
        ParkingGuidance(type="parking_guidance", share=0.1, year=2030),
    ]
    search = ParkingSearch.from_city(city, links, net, policies, 2027)  # type: ignore[arg-type]
    assert (search.rules.guided, search.rules.enforced, search.rules.enforce_s) == (0.8, 0.5, 300)
    # zone 1: columns 0-1 start 31 street links of 100 m, zone 2: columns 2-4 start 49
    assert search.supply.kerb_spaces.tolist() == [3100 // 12, 4900 // 12]
    assert search.supply.kerb_taken.tolist() == [round(258 * 0.9), round(408 * 0.9)]
    assert search.supply.lot_taken.tolist() == [10]
    assert net.node_ids[search.supply.lot_node[0]] == 100 + N * N - 1  # the node at (400, 400)
    assert search.graph.node_zone[list(net.node_ids).index(100 + 3)] == 1  # (300, 0): zone 2


def test_routes_ending_in_a_street_node_keep_their_last_link() -> None:
    """Without a final connector the tail starts where the route ends."""
    _, _, search = _toy(kerb_free=0)
    g = search.graph
    street = np.flatnonzero(~g.connector)
    a = int(street[0])
    b = int(np.flatnonzero((g.link_from == g.link_to[a]) & ~g.connector)[0])
    veh = Vehicles.from_routes(["x", "y"], np.array([0.0, 1.0]), [[a, b], [a]])
    search.graph.node_zone[g.link_to[b]] = 1  # the route's end lies in zone 1
    plan = search.plan(veh)
    assert plan.outcomes.outcome[0] == ILLEGAL and plan.outcomes.outcome[1] == -1
    route = plan.vehicles.route_links[plan.vehicles.route_start[0] : plan.vehicles.route_start[1]]
    assert route[:2].tolist() == [a, b] and len(route) > 2
    assert g.link_from[route[2]] == g.link_to[b]
    assert plan.vehicles.route_links[plan.vehicles.route_start[1] :].tolist() == [a]


def test_the_parking_table_has_its_columns_with_or_without_rows() -> None:
    assert tuple(parking_table([]).columns) == PARKING_COLUMNS
    net, _, search = _toy(kerb_free=10, lot_free=5)
    occ = search.plan(_vehicles(net, 30)).occupancy
    table = parking_table([occ.assign(year=2025), occ.assign(year=2026)])
    assert tuple(table.columns) == PARKING_COLUMNS and len(table) == 2 * len(occ)
    assert set(table["kind"]) == {"kerb", "lot"}


def test_route_swapping_loads_the_parking_plan_of_each_round() -> None:
    """equilibrate(parking=...): the last loading drives the cruise tails; guidance cuts them."""
    from sim.traffic import due

    net, dyn, search = _toy(kerb_free=10, lot_free=40)
    trips = due.Trips(np.zeros(30, np.int64), np.ones(30, np.int64), np.linspace(0, 120, 30))
    near = _near_destination(search, 250.0)
    result = {}
    for guided in (0.0, 1.0):
        search.rules = SearchRules(private=0.0, guided=guided)
        eq = due.equilibrate(
            net, TrafficControl(dyn), trips, net.fftime * 60.0, gap=1e-9, max_iter=2, seed=0,
            parking=search,
        )  # fmt: skip
        assert eq.parking is not None
        result[guided] = (eq.parking.kpis(), eq.load.link_inflow[near].sum())
    (plain, plain_in), (guided, guided_in) = result[0.0], result[1.0]
    assert plain["illegal_parked"] == 20 and guided["illegal_parked"] == 0
    assert guided["parking_cruise_vkt"] == 0.0 < plain["parking_cruise_vkt"]
    assert guided_in < plain_in - 20 * 50  # twenty cars fewer circling the blocks


def test_the_parking_table_exports_with_small_counts_suppressed() -> None:
    from sim.runs.export import SPECS, suppress_table

    net, _, search = _toy(kerb_free=10, lot_free=40)
    search.rules = SearchRules(private=0.0, guided=0.3)
    table = parking_table([search.plan(_vehicles(net, 30)).occupancy.assign(year=2025)])
    out = suppress_table(table, SPECS["parking"], 10)
    # 6 guided cars in the car park (30 % of 20) are below 10: hidden; the kerb's 10 shown
    assert table.loc[table["kind"] == "lot", "occupied"].tolist() == [6]
    assert out.loc[out["kind"] == "lot", "occupied"].isna().all()
    assert out.loc[out["kind"] == "kerb", "occupied"].tolist() == [10]


def _bottleneck() -> tuple[DynamicNetwork, StreetGraph, Vehicles]:
    """One 2-lane link (100 m, 10 m/s) discharging 3,600 veh/h; 900 cars join at 1 veh/s."""
    net = DynamicNetwork(
        link_ids=["L"], link_from=np.array([0]), link_to=np.array([1]), n_nodes=2,
        length_m=np.array([100.0]), lanes=np.array([2]), speed_ms=np.array([10.0]),
        capacity_vph=np.array([3600.0]),
    )  # fmt: skip
    graph = StreetGraph(
        link_from=net.link_from, link_to=net.link_to, length_m=net.length_m,
        fft_s=np.array([10.0]), lanes=net.lanes, connector=np.array([False]),
        kerb=np.array([True]), node_xy=np.zeros((2, 2)), node_zone=np.array([-1, -1]),
    )  # fmt: skip
    n = 900
    return net, graph, Vehicles.from_routes([str(i) for i in range(n)], np.arange(n) * 1.0,
                                            [[0]] * n)  # fmt: skip


def _parked(graph: StreetGraph, until_s: float, n_bins: int) -> np.ndarray:
    """The capacity factor of one car parked on the link from 0 s to ``until_s``."""
    return blocked_capacity(graph, np.array([0]), np.array([0.0]), np.array([until_s]), n_bins)


def test_a_blocked_lane_of_a_two_lane_link_halves_its_discharge() -> None:
    """Bottleneck: arrivals 1 veh/s, capacity 1 veh/s, 0.5 veh/s while a lane is blocked.

    Blocked 0-600 s: after 10 s of free flow the queue discharges 0.5 veh/s (D/D/1:
    out(t) = 0.5 (t - 10)), 145 cars in the first 5-min bin and 150 in the second; from
    600 s the full capacity is back: 300 a bin while the queue lasts.
    """
    net, graph, veh = _bottleneck()
    factor = _parked(graph, 600.0, 2)
    np.testing.assert_allclose(factor, [[0.5, 0.5]])
    free = TrafficControl(net).load(veh).bin_out[0]
    blocked = TrafficControl(net).load(veh, capacity_factor=factor).bin_out[0]
    assert free[1] == 300 and blocked[1] == 150
    assert abs(blocked[0] - 0.5 * (300 - 10)) <= 1
    assert blocked[2] == 300 and blocked[3] == 300


def test_enforcement_restores_the_discharge_of_the_blocked_link() -> None:
    """An illegal parker from 0 s: kept (4 h) or moved by an SMS after 10 minutes."""
    net, graph, veh = _bottleneck()
    kept = TrafficControl(net).load(veh, capacity_factor=_parked(graph, 14400.0, 6)).bin_out[0]
    moved = TrafficControl(net).load(veh, capacity_factor=_parked(graph, 600.0, 6)).bin_out[0]
    assert kept[2] == 150 and moved[2] == 300
    assert kept.sum() == moved.sum() == 900
