"""Dynamic user equilibrium by route swapping (sim.traffic.due, sim.kernels.tdsp).

The equilibrium expectation is independent of the module: two routes of equal free-flow
time whose first links are bottlenecks of 3,600 and 1,800 veh/h (two lanes and one at the
saturation flow) and a steady demand above both. Vehicles arriving at time ``t`` wait
``(q_i − c_i) t / c_i`` at bottleneck ``i`` (the deterministic queue), so equal times on
both routes need equal ``q_i / c_i``: route A takes 2/3 of the vehicles.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from _support import street_graph
from test_peak import two_route_city

from sim.kernels import tdsp
from sim.traffic import due
from sim.traffic.city_dynamic import city_network
from sim.traffic.dynamic import GridlockError, TrafficControl, Vehicles
from sim.traffic.network import Network
from sim.traffic.signals import SignalPlans


def td_tree_twin(net: Network, tt: np.ndarray, bin_s: float, origin: int, t0: float):
    """Time-dependent Dijkstra in plain Python: earliest arrival and entering link per node."""
    arrival = np.full(net.n_nodes, np.inf)
    pred = np.full(net.n_nodes, -1)
    arrival[origin] = t0
    heap = [(t0, origin)]
    while heap:
        t, u = heapq.heappop(heap)
        if t > arrival[u] or (u < net.first_thru_node and u != origin):
            continue
        b = min(int(t // bin_s), tt.shape[1] - 1)
        for link in net.out_links[net.out_start[u] : net.out_start[u + 1]]:
            v = net.link_to[link]
            if t + tt[link, b] < arrival[v]:
                arrival[v] = t + tt[link, b]
                pred[v] = link
                heapq.heappush(heap, (arrival[v], v))
    return arrival, pred


def _two_routes(lanes_a: int = 2, lanes_b: int = 1):
    city = two_route_city(lanes={10: lanes_a, 11: lanes_a, 20: lanes_b, 21: lanes_b})
    plans = SignalPlans.from_city(city.signals, city.links)
    dyn, static = city_network(city.links, city.nodes, city.signals, plans, [1, 4])
    return dyn, static


def _trips(n: int, period_s: float) -> due.Trips:
    depart = np.linspace(0.0, period_s, n, endpoint=False)
    return due.Trips(np.zeros(n, np.int64), np.ones(n, np.int64), depart)


def test_td_tree_matches_the_python_twin() -> None:
    rng = np.random.default_rng(3)
    _, net = _two_routes()
    tt = rng.uniform(20.0, 400.0, (len(net.link_from), 6))
    arrival = np.empty(net.n_nodes)
    pred = np.empty(net.n_nodes, dtype=np.int64)
    hk, hi = np.empty(len(net.out_links) + 1), np.empty(len(net.out_links) + 1, np.int64)
    for t0 in (0.0, 250.0, 1300.0, 5000.0):
        tdsp.td_tree(
            net.out_start, net.out_links, net.link_to, np.ascontiguousarray(tt.T), 300.0,
            int(net.zone_nodes[0]), t0,
            int(net.first_thru_node), arrival, pred, hk, hi, *net.street_chains,
        )  # fmt: skip
        want_arrival, want_pred = td_tree_twin(net, tt, 300.0, int(net.zone_nodes[0]), t0)
        np.testing.assert_allclose(arrival, want_arrival)
        np.testing.assert_array_equal(pred, want_pred)


def test_td_tree_walks_street_chains_to_the_same_arrivals_and_routes() -> None:
    """Chains walked, not queued: every tree's arrivals and predecessors bit for bit.

    A street-like graph whose streets bends split into chains (two-way and one way),
    time-dependent link times over 12 bins; trees from 40 origins at four start times
    against the same search queueing every node (and that one against the Python
    twin).
    """
    from sim.traffic.network import build_network

    rng = np.random.default_rng(11)
    link_from, link_to, n = street_graph(200, rng, chained=True)
    m = len(link_from)
    net = build_network(
        node_ids=np.arange(n), link_from=link_from, link_to=link_to, capacity=np.ones(m),
        fftime=np.ones(m), alpha=np.zeros(m), beta=np.zeros(m), length=np.ones(m),
        toll=np.zeros(m), first_thru_node=10, zone_nodes=np.arange(10),
    )  # fmt: skip
    interior, chain_next = net.street_chains
    assert interior.sum() > 100 and not interior[:10].any()  # bends walked, never a zone
    tt = rng.uniform(20.0, 400.0, (m, 12))
    by_bin = np.ascontiguousarray(tt.T)
    hk, hi = np.empty(m + 1), np.empty(m + 1, np.int64)
    got, want = (np.empty(n), np.empty(n, np.int64)), (np.empty(n), np.empty(n, np.int64))
    for origin in rng.integers(0, n, 40):
        for t0 in (0.0, 250.0, 1300.0, 5000.0):
            args = (net.out_start, net.out_links, net.link_to, by_bin, 300.0, int(origin), t0,
                    10)  # fmt: skip
            tdsp.td_tree(*args, *got, hk, hi, interior, chain_next)
            tdsp.td_tree(*args, *want, hk, hi, np.zeros(n, np.bool_), chain_next)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
        twin = td_tree_twin(net, tt, 300.0, int(origin), t0)
        np.testing.assert_allclose(want[0], twin[0])
        np.testing.assert_array_equal(want[1], twin[1])


def test_best_routes_follow_the_time_dependent_times() -> None:
    _, net = _two_routes()
    ids = {int(k): i for i, k in enumerate([10, 11, 20, 21, 30, 31, 40, 41])}
    bins = int(3 * due.GROUP_S / 300.0)
    tt = np.full((8, bins), 100.0)
    tt[ids[20]] = 110.0  # route B: 210 s at any time
    tt[ids[10], : int(due.GROUP_S / 300.0)] = 1000.0  # route A: slow in the first group
    # one vehicle in each of the first two departure groups (trees at their mid times)
    depart = np.array([0.0, 1.2 * due.GROUP_S])
    trips = due.Trips(np.zeros(2, np.int64), np.ones(2, np.int64), depart)
    routes = due.best_routes(net, trips, tt, np.ones(2, bool), bin_s=300.0)
    vehicles = routes.apply(due.routed_vehicles(net, trips, np.full(8, 1.0)), np.ones(2, bool))
    first = vehicles.route_links[vehicles.route_start[0] : vehicles.route_start[1]]
    later = vehicles.route_links[vehicles.route_start[1] : vehicles.route_start[2]]
    assert list(first) == [ids[20], ids[21]]  # A is slow when the first group leaves: B
    assert list(later) == [ids[10], ids[11]]  # A is fast again for the second group
    np.testing.assert_allclose(routes.best_s, [210.0, 200.0])


def test_best_routes_of_more_groups_than_one_batch_of_trees_match_the_twin() -> None:
    # 150 departure groups: the trees are built in batches of tdsp.TREES_AT_ONCE (64)
    # side by side; every vehicle's best time and route must still be its own group's,
    # whichever batch and thread built it (a row mixed up between groups fails it)
    rng = np.random.default_rng(7)
    _, net = _two_routes()
    n_groups = 150
    tt = rng.uniform(20.0, 400.0, (len(net.link_from), int(n_groups * due.GROUP_S / 300.0)))
    depart = (np.arange(2 * n_groups) // 2 + 0.5) * due.GROUP_S
    trips = due.Trips(np.zeros(len(depart), np.int64), np.ones(len(depart), np.int64), depart)
    swap = np.arange(len(depart)) % 2 == 0  # every group's first vehicle swaps
    routes = due.best_routes(net, trips, tt, swap, bin_s=300.0)
    origin, dest = int(net.zone_nodes[0]), int(net.zone_nodes[1])
    for i, t0 in enumerate(depart):
        arrival, pred = td_tree_twin(net, tt, 300.0, origin, t0)
        assert routes.best_s[i] == pytest.approx(arrival[dest] - t0)
        k = routes.index[i]
        got = list(routes.links[routes.start[k] : routes.start[k + 1]])
        want, node = [], dest
        while swap[i] and node != origin:
            want.insert(0, int(pred[node]))
            node = int(net.link_from[pred[node]])
        assert got == want


def test_route_swapping_reaches_the_bottleneck_split() -> None:
    dyn, net = _two_routes()
    demand_vph, period = 8100.0, 1200.0  # 1.5 x both bottlenecks for 20 minutes
    trips = _trips(int(demand_vph * period / 3600.0), period)
    control = TrafficControl(dyn, "fixed", dt=1.0)
    free = net.fftime * 60.0  # all-or-nothing start
    eq = due.equilibrate(net, control, trips, free, gap=1e-9, max_iter=15, seed=1)
    assert eq.gaps[-1] < 0.5 * eq.gaps[0]
    assert eq.gaps[-1] < 0.05
    inflow = eq.load.link_inflow
    a, b = inflow[0], inflow[2]  # links 10 and 20
    assert a / (a + b) == pytest.approx(2 / 3, abs=0.04)
    # equal travel times on the used routes (the equilibrium condition)
    starts = eq.vehicles.route_links[eq.vehicles.route_start[:-1]]
    tt = eq.load.arrive - eq.load.depart
    assert tt[starts == 0].mean() == pytest.approx(tt[starts == 2].mean(), rel=0.1)


def test_same_seed_same_equilibrium() -> None:
    dyn, net = _two_routes()
    trips = _trips(2000, 1200.0)

    def run(seed: int):
        control = TrafficControl(dyn, "fixed", dt=1.0)
        free = net.fftime * 60.0
        return due.equilibrate(net, control, trips, free, gap=1e-9, max_iter=4, seed=seed)

    one, two = run(7), run(7)
    np.testing.assert_array_equal(one.load.arrive, two.load.arrive)
    np.testing.assert_array_equal(one.vehicles.route_links, two.vehicles.route_links)
    assert one.gaps == two.gaps


def test_the_origin_queue_is_the_wait_not_the_link_time() -> None:
    dyn, net = _two_routes()
    trips = _trips(600, 60.0)
    vehicles = due.routed_vehicles(net, trips, net.fftime * 60.0)
    load = TrafficControl(dyn, "fixed", dt=1.0).run(vehicles)
    first = int(vehicles.route_links[0])
    free = net.fftime * 60.0
    tt = due.link_times(load, free)
    assert (tt >= free[:, None] - 1e-9).all()
    # 600 vehicles in one minute onto a link that takes 1 veh/s: the link flows at
    # capacity (free-flow time on it) while the rest wait at the origin for 10 minutes
    assert tt[first, 0] == pytest.approx(free[first], abs=5.0)
    wait = due.origin_wait(load, vehicles, net, dyn.capacity_vph)
    # mid-bin 0: 300 of the 600 wanted in, 150 entered (the cumulative counts at mid-bin)
    assert wait[first, 0] == pytest.approx(150.0, rel=0.05)
    assert (wait[first, 3:] == 0).all()
    assert (np.delete(wait, first, axis=0) == 0).all()  # no other link leaves a centroid used


def test_period_trips_spread_in_their_bins() -> None:
    rng = np.random.default_rng(0)
    extra = np.zeros((2, 2, 48))
    extra[0, 1, 10], extra[0, 1, 11] = 1.3, 1.3  # 2.6 vehicles over two bins: 3 whole ones
    extra[1, 0, 0] = 1.4
    extra[1, 1, 5] = 5.0  # the diagonal (intrazonal) is left out
    trips = due.period_trips(
        np.array([0, 1, 1, 0]), np.array([1, 0, 1, 1]), np.array([3, 0, 7, -12]), extra, rng
    )
    assert len(trips) == 3 + 3 + 1  # three trips (one intrazonal dropped), 3 + 1 extra
    assert (np.diff(trips.depart) >= 0).all()
    # the loading's clock starts at 05:00, the warm-up's first bin (-12): 06:00 is 3600 s
    car = trips.depart[(trips.origin == 0) & (trips.dest == 1)]
    assert len(car) == 5  # 1 trip in bin 3, 1 in the warm-up's first + 3 extra in bins 10-11
    assert ((car >= 3600.0 + 900.0) & (car < 3600.0 + 1200.0)).sum() == 1
    assert ((car >= 3600.0 + 3000.0) & (car < 3600.0 + 3600.0)).sum() == 3
    assert ((car >= 0.0) & (car < 300.0)).sum() == 1
    back = trips.depart[(trips.origin == 1) & (trips.dest == 0)]
    assert ((back >= 3600.0) & (back < 3900.0)).all() and len(back) == 2
    with pytest.raises(ValueError, match="warm-up"):  # before the warm-up: no such bin
        due.period_trips(np.array([0]), np.array([1]), np.array([-13]), extra, rng)


def test_a_gridlocked_loading_is_retried_around_its_cycle() -> None:
    dyn, net = _two_routes()
    trips = _trips(300, 600.0)
    control = TrafficControl(dyn, "fixed", dt=1.0)
    loaded: list[Vehicles] = []
    real_run = control.run

    def run(vehicles, horizon_s=None, **kwargs):
        loaded.append(vehicles)
        if len(loaded) == 1:  # the first loading locks on route A's links
            raise GridlockError("gridlock", ["10", "11"], ["10", "11"])
        return real_run(vehicles, horizon_s, **kwargs)

    control.run = run  # type: ignore[method-assign]
    free = net.fftime * 60.0
    free[2] += 1.0  # route A first: every vehicle starts on the links that lock
    eq = due.equilibrate(net, control, trips, free, gap=1e9, max_iter=1, seed=1)
    first_links = lambda v: v.route_links[v.route_start[:-1]]  # noqa: E731
    assert (first_links(loaded[0]) == 0).all()
    assert (first_links(loaded[1]) == 2).all()  # moved around the cycle to route B
    assert eq.gridlock_retries == 1 and np.isfinite(eq.load.arrive).all()


def test_few_vehicles_per_od_spread_over_the_period_not_into_its_first_bins() -> None:
    rng = np.random.default_rng(5)
    # 960 ODs of one vehicle each, even over 48 bins: ~20 a bin (binomial sd ~4.4);
    # largest remainders put all 960 in bin 0
    row, b = due.spread_bins(np.full((960, 48), 1 / 48), np.ones(960, np.int64), rng)
    counts = np.bincount(b, minlength=48)
    assert counts.sum() == 960 and counts.max() <= 40
    # a row of 8 vehicles over shares 1:2:1 gets exactly its shares, and 3 over 1:1
    # gets 1 or 2 in each bin
    row, b = due.spread_bins(np.array([[1.0, 2.0, 1.0], [1.0, 1.0, 0.0]]), np.array([8, 3]), rng)
    assert np.bincount(b[row == 0], minlength=3).tolist() == [2, 4, 2]
    assert sorted(np.bincount(b[row == 1], minlength=2).tolist()) == [1, 2]
    assert not (b[row == 1] == 2).any()  # never a bin without share


def test_link_times_are_those_of_the_vehicles_entering_in_each_bin() -> None:
    # a long four-lane link into a one-lane bottleneck: the queue grows on the long link
    # for the 10 minutes of demand (twice the bottleneck), so a vehicle entering later
    # waits longer; the route trees read a bin's time as that of a vehicle entering then
    from _support import tiny_network

    net = tiny_network([(0, 1, 2000, 4, 20, 3600), (1, 2, 200, 1, 20, 1800)], 3)
    n = 600
    veh = Vehicles.from_routes([str(i) for i in range(n)], np.arange(n) * 1.0, [[0, 1]] * n)
    res = TrafficControl(net, dt=1.0).load(veh)
    tt = due.link_times(res, net.length_m / net.speed_ms)
    assert (res.bin_in[0, :2] == 300).all()  # room enough: each enters as it departs
    # each vehicle's time on the long link: it enters at departure and
    # crosses the uncongested bottleneck link in its free-flow time after leaving it
    on_long = res.arrive - 200 / 20 - res.depart
    for b in (0, 1):
        entered = (res.depart >= b * 300) & (res.depart < (b + 1) * 300)
        assert tt[0, b] == pytest.approx(on_long[entered].mean(), abs=1.0)
    assert tt[0, 1] > tt[0, 0] + 100  # the queue grew: later entries wait longer


def test_first_routes_keep_the_static_equilibriums_route_split() -> None:
    """Two routes with t1 = 1 + x1 and t2 = 2 + x2 for 10 trips split 5.5 / 4.5 at
    equilibrium (1 + x1 = 2 + x2): vehicles drawn over the static equilibrium's loads
    take route 1 at 55 % (binomial sd 0.35 % for 20,000), while one shortest-path tree on
    the equilibrium's (equal) route times sends every vehicle down the same route."""
    from test_assignment import _parallel_links

    from sim.traffic.assignment import assign

    net = _parallel_links()
    res = assign(net, np.array([[0, 10.0], [0, 0]]), rel_gap=1e-9, keep_mix=True)
    np.testing.assert_allclose(res.flows, [5.5, 4.5], atol=1e-6)
    n = 20_000
    trips = due.Trips(np.zeros(n, np.int64), np.ones(n, np.int64), np.zeros(n))
    veh = due.mixed_routes(net, trips, res.mix, res.times * 60.0, np.random.default_rng(1))
    assert np.array_equal(np.diff(veh.route_start), np.ones(n))
    assert (veh.route_links == 0).mean() == pytest.approx(0.55, abs=0.015)
    one_tree = due.routed_vehicles(net, trips, res.times * 60.0)
    assert len(np.unique(one_tree.route_links)) == 1
    again = due.mixed_routes(net, trips, res.mix, res.times * 60.0, np.random.default_rng(1))
    np.testing.assert_array_equal(again.route_links, veh.route_links)


def test_inherited_routes_hand_on_the_split_of_the_same_od_pair_and_departure_group() -> None:
    """Last year's vehicles leaving in the first half hour split 30 / 70 over two routes and
    those of the second half hour all took route 2: this year's vehicles take routes in
    the same shares by departure group, and a group nobody drove in last year gets none."""
    half = due.GROUP_S
    n_before = 1000
    depart = np.concatenate([np.linspace(0, half - 1, n_before), np.full(50, half + 10.0)])
    before = due.Trips(np.zeros(len(depart), np.int64), np.ones(len(depart), np.int64), depart)
    routes = [[0] if i % 10 < 3 else [1] for i in range(n_before)] + [[1]] * 50
    old = Vehicles.from_routes([str(i) for i in range(len(depart))], depart, routes)
    now = np.concatenate([np.linspace(0, half - 1, 4000), np.full(20, half + 5.0), [2.5 * half]])
    trips = due.Trips(np.zeros(len(now), np.int64), np.ones(len(now), np.int64), now)
    found, veh = due.inherited_routes(trips, before, old, np.random.default_rng(5))
    assert found[:4020].all() and not found[4020]
    lengths = np.diff(veh.route_start)
    assert (lengths[:4020] == 1).all() and lengths[4020] == 0
    first_group = veh.route_links[veh.route_start[:4000]]
    assert (first_group == 0).mean() == pytest.approx(0.3, abs=0.03)  # sd 0.7 %
    assert (veh.route_links[veh.route_start[4000:4020]] == 1).all()
    nobody = due.Trips(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    none = Vehicles([], np.zeros(0), np.zeros(1, np.int64), np.zeros(0, np.int64))
    found, veh = due.inherited_routes(trips, nobody, none, np.random.default_rng(5))
    assert not found.any() and len(veh.route_links) == 0
