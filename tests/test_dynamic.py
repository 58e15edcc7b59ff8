"""The dynamic model against queueing theory: bottleneck, signal delay, spill-back, gridlock.

Expected values come from outside the model: the deterministic queue of a bottleneck
(Newell 1982: vehicle i waits i (1/μ − 1/λ) while the queue lasts), Webster's (1958)
delay formula at an isolated fixed-time approach with random arrivals, and conservation
of vehicles through a blocked node.
"""

from __future__ import annotations

import pickle
from itertools import pairwise

import numpy as np
import pytest
from _support import tiny_network as _net

from sim.errors import UsageError
from sim.kernels import dnl, routes
from sim.traffic.dynamic import (
    DynamicNetwork,
    GridlockError,
    TrafficControl,
    Vehicles,
    geometry_signal,
    node_headings,
    turn_kind,
)


def _uniform(n: int, rate_vph: float, route: list[int], t0: float = 0.0) -> Vehicles:
    depart = t0 + np.arange(n) * 3600.0 / rate_vph
    return Vehicles.from_routes([str(i) for i in range(n)], depart, [route] * n)


def test_a_bottleneck_queues_at_demand_minus_capacity_and_discharges_at_capacity() -> None:
    # 2,700 veh/h for 30 minutes into a 1,800 veh/h link
    net = _net([(0, 1, 1000, 2, 10, 3600), (1, 2, 500, 1, 10, 1800), (2, 3, 500, 1, 10, 3600)], 4)
    lam, mu, n = 2700.0, 1800.0, 1350
    veh = _uniform(n, lam, [0, 1, 2])
    res = TrafficControl(net, dt=1.0).run(veh)
    assert np.isfinite(res.arrive).all()
    # discharge at capacity: one vehicle every 2 s at the exit once the queue has formed
    np.testing.assert_allclose(np.diff(res.arrive)[10:], 3600 / mu, atol=1e-6)
    # deterministic queue: vehicle i waits i (1/mu - 1/lam); mean (n - 1)/2 (1/mu - 1/lam)
    expected = (n - 1) / 2 * (3600 / mu - 3600 / lam)
    assert res.summary()["mean_delay_s"] == pytest.approx(expected, rel=0.02)
    # the queue (arrived at the bottleneck, 100 s after departure, and not yet into link 1,
    # 100 s before arrival; origin waits included) grows at lam - mu
    for t in (300.0, 900.0, 1500.0):
        queue = (veh.depart + 100 <= t).sum() - (res.arrive - 100 <= t).sum()
        assert queue == pytest.approx((lam - mu) * (t - 100) / 3600, abs=2)


def _signal_net(greens: list[float]) -> tuple[DynamicNetwork, TrafficControl]:
    # a crossroads at node 1: main road 0 -> 1 -> 2 (east), cross road 3 -> 1 -> 4 (north)
    xy = np.array([[-500, 0], [0, 0], [500, 0], [0, -500], [0, 500]], dtype=float)
    net = _net(
        [(0, 1, 500, 1, 10, 1800), (1, 2, 500, 1, 10, 3600),
         (3, 1, 500, 1, 10, 1800), (1, 4, 500, 1, 10, 3600)], 5
    )  # fmt: skip
    h_in, h_out = node_headings(net, xy)
    rank = np.array([5, 5, 1, 1])
    net.signals = [geometry_signal(net, 1, np.array(greens), h_in, h_out, rank)]
    return net, TrafficControl(net, dt=1.0)


def _plan_green(greens: list[float], lost: float, until: float) -> list[float]:
    """Seconds of green each phase of a fixed plan from t = 0 gets in [0, until)."""
    given, t = [0.0] * len(greens), 0.0
    while t < until:
        for i, g in enumerate(greens):
            given[i] += max(0.0, min(t + g, until) - t)
            t += g + lost
    return given


@pytest.mark.parametrize("depart", [0.0, 200.0])
def test_green_seconds_follow_the_plan_to_the_last_step(depart: float) -> None:
    # one vehicle on the cross road: it arrives early (the run stops then) or is still
    # driving at the 250 s horizon; either way the green ends with the last step
    net, _ = _signal_net([40.0, 32.0])
    net.signals[0].lost_s = 4.0
    veh = Vehicles.from_routes(["a"], np.array([depart]), [[2, 3]])
    res = TrafficControl(net, dt=1.0).load(veh, horizon_s=250.0)
    assert (res.sim_s < 250.0) == (depart == 0.0)
    np.testing.assert_array_equal(res.green_s[0], _plan_green([40.0, 32.0], 4.0, res.sim_s))


def test_geometry_phasing_of_the_crossroads() -> None:
    net, _ = _signal_net([40.0, 20.0])
    masks = net.signals[0].masks
    assert masks[0, 1] == (1, 0)  # main road straight on: phase 0
    assert masks[2, 3] == (2, 0)  # cross road: phase 1
    assert turn_kind(0.0, 90.0) == "left" and turn_kind(0.0, -90.0) == "right"
    assert turn_kind(0.0, 10.0) == "through" and turn_kind(0.0, 180.0) == "u"


def _webster_delay(c: float, g: float, q: float, s: float) -> float:
    """Webster (1958) mean delay per vehicle (s) with random arrivals; q, s in veh/s."""
    lam = g / c
    x = q / (lam * s)
    uniform = c * (1 - lam) ** 2 / (2 * (1 - lam * x))
    rand = x**2 / (2 * q * (1 - x))
    return uniform + rand - 0.65 * (c / q**2) ** (1 / 3) * x ** (2 + 5 * lam)


@pytest.mark.parametrize("x", [0.3, 0.6, 0.85])
def test_delay_at_a_fixed_time_approach_matches_webster(x: float) -> None:
    greens = [40.0, 32.0]  # cycle 40 + 32 + 2 x 4 s lost = 80 s
    _, control = _signal_net(greens)
    c, g, s = 80.0, 40.0, 0.5
    q = x * s * g / c
    rng = np.random.default_rng(7)
    n = int(q * 4 * 3600)  # four hours of Poisson arrivals on the main road
    depart = np.cumsum(rng.exponential(1 / q, n))
    veh = Vehicles.from_routes([str(i) for i in range(n)], depart, [[0, 1]] * n)
    res = control.run(veh)
    assert res.summary()["mean_delay_s"] == pytest.approx(_webster_delay(c, g, q, s), rel=0.15)
    # the main phase got its 40 s in every 80 s cycle
    assert res.green_s[0][0] / res.sim_s == pytest.approx(40 / 80, abs=0.01)


def test_spill_back_blocks_the_upstream_node() -> None:
    # link 0 feeds link 1 (short, then a 360 veh/h exit) and link 3 (free); vehicles
    # alternate between them, so once link 1 is full the ones for link 3 wait behind
    net = _net(
        [(0, 1, 500, 1, 10, 1800), (1, 2, 75, 1, 10, 1800), (2, 3, 500, 1, 10, 360),
         (1, 4, 500, 1, 10, 1800)], 5
    )  # fmt: skip
    n = 600
    routes = [[0, 1, 2] if i % 2 == 0 else [0, 3] for i in range(n)]
    depart = np.arange(n) * 3600.0 / 1200.0  # 1,200 veh/h for 30 minutes
    res = TrafficControl(net, dt=1.0).load(
        Vehicles.from_routes([str(i) for i in range(n)], depart, routes), horizon_s=1800.0
    )
    # storage of link 1 is 75 m / 7.5 m = 10 vehicles; beyond it link 1 takes what link 2
    # lets go, 360 veh/h, and link 3 gets no more than link 1 (FIFO at the blocked node)
    assert 9 <= res.link_max_queue[1] <= 10  # the last one still rolling up to the queue
    assert res.link_inflow[3] <= res.link_inflow[1] + 1
    assert res.link_inflow[1] == pytest.approx(10 + 360 * 0.5, abs=6)
    # without the spill-back link 3 would have taken its 300 vehicles
    assert res.link_inflow[3] < 250


def test_gridlock_is_reported_with_the_links() -> None:
    net, veh = _ring()
    with pytest.raises(GridlockError) as err:
        TrafficControl(net, dt=1.0).load(veh)
    assert set(err.value.links) >= {"L0", "L1", "L2", "L3"}
    # the ring is the cycle: each link's front vehicle waits for the next ring link
    cycle = err.value.cycle
    assert sorted(cycle) == ["L0", "L1", "L2", "L3"]
    k = cycle.index("L0")
    assert cycle[k:] + cycle[:k] == ["L0", "L1", "L2", "L3"]
    assert "gridlock" in str(err.value) and "L0 -> L1" in str(err.value)
    # it crosses a process boundary whole (a replication or batch worker's gridlock)
    back = pickle.loads(pickle.dumps(err.value))
    assert type(back) is GridlockError and str(back) == str(err.value)
    assert (back.links, back.cycle) == (err.value.links, err.value.cycle)


def _ring(n: int = 400) -> tuple[DynamicNetwork, Vehicles]:
    # a ring of four short links, each fed by an entry link; every vehicle goes three
    # quarters round: the ring fills and no one can move
    ring = [(k, (k + 1) % 4, 15, 1, 10, 1800) for k in range(4)]
    feeds = [(4 + k, k, 500, 1, 10, 3600) for k in range(4)]
    exits = [(k, 8 + k, 500, 1, 10, 3600) for k in range(4)]
    routes = [[4 + i % 4, i % 4, (i + 1) % 4, (i + 2) % 4, 8 + (i + 3) % 4] for i in range(n)]
    veh = Vehicles.from_routes([str(i) for i in range(n)], np.arange(n) * 1.0, routes)
    return _net(ring + feeds + exits, 12), veh


def test_time_to_teleport_resolves_the_gridlock_and_counts_the_vehicles() -> None:
    net, veh = _ring(100)
    res = TrafficControl(net, dt=1.0, max_wait_s=60.0).load(veh)
    assert np.isfinite(res.arrive).all()
    assert res.teleported == res.bin_forced.sum() > 0
    assert res.summary()["teleported"] == res.teleported
    # only vehicles that wait for a full ring link are moved: on the ring and its feeds,
    # never on the exits (they lead off the network)
    assert res.bin_forced[:4].sum() > 0 and res.bin_forced[8:].sum() == 0
    # nobody is moved before waiting the 60 s
    assert np.flatnonzero(res.bin_forced.sum(axis=0))[0] * res.bin_s + res.bin_s > 60.0


def test_a_locked_ring_unlocks_after_a_teleport_instead_of_refilling_from_its_feeds() -> None:
    # the ring of four 2-car links fills and locks; a teleport frees a place on a ring
    # link. Served in turn, the feed into the same node takes that place as often as the
    # ring vehicle waiting for it, so the ring stays full and locks again: 80 of the
    # 100 vehicles were teleported (measured with the turn-taking rule alone; last arrival
    # at 1,339 s). The ring's own front going first lets the gap run back round the ring
    # and its vehicles reach their exits.
    net, veh = _ring(100)
    res = TrafficControl(net, dt=1.0, max_wait_s=60.0).load(veh)
    assert np.isfinite(res.arrive).all()
    assert 0 < res.teleported < 20
    assert np.nanmax(res.arrive) < 700.0


@pytest.mark.parametrize(("length", "lanes", "cap"), [(14.0, 1, 1800.0), (10.0, 2, 3600.0)])
def test_a_chain_of_short_links_passes_its_capacity(length: float, lanes: int, cap: float) -> None:
    # five links shorter than two cars (OSM's crossings and junction pieces) between two
    # long ones, offered twice their capacity at Δt 2 s: the chain passes its capacity.
    # Holding only their jam storage (one car, two on two lanes), they passed 67 % and
    # 75 % of it (a place comes free a step after its car left)
    chain = [(1 + k, 2 + k, length, lanes, 13.9, cap) for k in range(5)]
    links = [(0, 1, 500, lanes, 13.9, cap), *chain, (6, 7, 500, lanes, 13.9, cap)]
    n = int(cap)  # over half an hour: twice the capacity
    veh = Vehicles.from_routes([str(i) for i in range(n)], np.arange(n) * 1800.0 / cap,
                               [list(range(7))] * n)  # fmt: skip
    res = TrafficControl(_net(links, 8), dt=2.0).load(veh)
    per_hour = res.bin_out[6, 2:6].mean() * 3600.0 / res.bin_s  # 10-30 min: queued upstream
    assert per_hour == pytest.approx(cap, rel=0.02)


def test_a_capacity_factor_scales_the_discharge_rate() -> None:
    # the bottleneck of 1,800 veh/h at half capacity (a lane of two blocked): one vehicle
    # every 4 s leaves it while the queue lasts
    net = _net([(0, 1, 1000, 2, 10, 3600), (1, 2, 500, 1, 10, 1800), (2, 3, 500, 1, 10, 3600)], 4)
    veh = _uniform(600, 1800.0, [0, 1, 2])
    factor = np.ones((3, 12))
    factor[1] = 0.5
    res = TrafficControl(net, dt=1.0).run(veh, capacity_factor=factor)
    np.testing.assert_allclose(np.diff(res.arrive)[20:400], 4.0, atol=1e-6)
    # after the factor's 12 bins (one hour) the link discharges at its capacity again
    late = res.arrive[res.arrive > 3700.0]
    np.testing.assert_allclose(np.diff(late), 2.0, atol=1e-6)
    with pytest.raises(UsageError, match="capacity_factor"):
        TrafficControl(net, dt=1.0).load(veh, capacity_factor=np.zeros((3, 1)))


def test_vehicles_moving_off_from_rest_lose_v_over_2a() -> None:
    # uniform acceleration from rest to v takes v / a over v^2 / 2a metres: v / 2a more
    # than at speed; a = 2 m/s^2, v = 10 m/s: 2.5 s at departure and after each stop
    # main road green 0-40 s, cross road 44-76 s, main road again from 80 s
    net, _ = _signal_net([40.0, 32.0])
    veh = Vehicles.from_routes(["a", "b"], np.array([0.0, 10.0]), [[0, 1], [2, 3]])
    plain = TrafficControl(net, dt=1.0).load(veh).arrive
    res = TrafficControl(net, dt=1.0, accel_ms2=2.0).load(veh).arrive
    np.testing.assert_allclose(plain, [50.0 + 30.0 + 50.0, 10.0 + 100.0])
    # a: departs from rest (+2.5), stops at the red at 52.5 s, moves off from rest again
    # at the green at 80 s (+2.5); b: departs from rest and finds its green
    np.testing.assert_allclose(res, [80.0 + 2.5 + 50.0, 10.0 + 2.5 + 100.0])
    with pytest.raises(UsageError, match="accel_ms2"):
        TrafficControl(net, accel_ms2=0.0)


def test_the_kernel_agrees_with_its_pure_python_twin() -> None:
    _, control = _signal_net([30.0, 20.0])
    n = 200
    rng = np.random.default_rng(3)
    depart = np.sort(rng.uniform(0, 600, n))
    routes = [[0, 1] if i % 3 else [2, 3] for i in range(n)]
    veh = Vehicles.from_routes([str(i) for i in range(n)], depart, routes)
    fast = control.load(veh)
    compiled = dnl.simulate
    try:
        dnl.simulate = compiled.py_func  # the same rules, interpreted line by line
        slow = control.load(veh)
    finally:
        dnl.simulate = compiled
    np.testing.assert_array_equal(fast.arrive, slow.arrive)
    np.testing.assert_array_equal(fast.link_max_queue, slow.link_max_queue)


def test_adaptive_controls_give_the_busy_road_its_green() -> None:
    # 900 veh/h on the main road, 90 veh/h on the cross road, a 30/30 fixed plan
    rng = np.random.default_rng(11)
    main = np.cumsum(rng.exponential(4.0, 900))
    cross = np.cumsum(rng.exponential(40.0, 90))
    depart = np.concatenate([main, cross])
    order = np.argsort(depart, kind="stable")
    routes = [[0, 1]] * 900 + [[2, 3]] * 90
    veh = Vehicles.from_routes([str(i) for i in order], depart[order], [routes[i] for i in order])
    delay, share = {}, {}
    for control in ("fixed", "webster", "actuated", "max-pressure"):
        _, model = _signal_net([30.0, 30.0])
        model = TrafficControl(model.net, control, dt=1.0)
        res = model.run(veh)
        assert res.summary()["completed"] == 990
        delay[control] = res.summary()["mean_delay_s"]
        share[control] = res.green_s[0][0] / res.green_s[0].sum()
        if control == "webster":
            g = model.controllers[0].greens
            assert g[0] > 2 * g[1]  # main y = 0.5 against 0.05: most of the green
    assert share["fixed"] == pytest.approx(0.5, abs=0.01)
    for control in ("webster", "actuated", "max-pressure"):
        assert share[control] > 0.6
        assert delay[control] < delay["fixed"]


def test_link_results_by_five_minute_bin_follow_the_bottleneck_queue() -> None:
    net = _net([(0, 1, 1000, 2, 10, 3600), (1, 2, 500, 1, 10, 1800), (2, 3, 500, 1, 10, 3600)], 4)
    res = TrafficControl(net, dt=1.0).run(_uniform(1350, 2700.0, [0, 1, 2]))
    table = res.links_t(net.link_ids, net.length_m).set_index(["link", "bin_start_s"])
    # the bottleneck passes 1,800 veh/h: 150 vehicles in every full 5-minute bin of the queue
    np.testing.assert_array_equal(table.loc[("L1", [600.0, 900.0, 1200.0]), "inflow"], 150)
    # the queue on link 0 at 600 s: (2,700 - 1,800) veh/h over the 500 s since the first
    # vehicle reached the bottleneck (100 s after leaving)
    assert table.loc[("L0", 300.0), "queue"] == pytest.approx(900 * 500 / 3600, abs=2)
    # link 1 runs at free speed (its queue is upstream): 500 m in 50 s = 36 km/h
    assert table.loc[("L1", 900.0), "mean_speed_kmh"] == pytest.approx(36.0)
    # totals agree with the per-link figures
    assert table["inflow"].sum() == res.link_inflow.sum() == 3 * 1350
    assert table["occupancy"].sum() * 300 == pytest.approx(res.link_time_s.sum())


def test_the_queue_at_a_red_is_measured_in_each_bin_it_spans_and_when_its_green_starts() -> None:
    # main road 40 s green, cross road 600 s (+ 4 s lost each): a red from 44 s to 648 s
    # with no cross traffic, so nothing else makes the node due; one car every 20 s
    _, control = _signal_net([40.0, 600.0])
    n, gap, fft = 40, 20.0, 50.0  # 500 m at 10 m/s
    veh = _uniform(n, 3600.0 / gap, [0, 1])
    table = control.run(veh).links_t(["L0", "L1", "L2", "L3"], np.full(4, 500.0))
    queue = table.set_index(["link", "bin_start_s"])["queue"]

    # deterministic arrivals: the cars at the stop line by t are those with 20 i + 50 <= t,
    # none of which has passed before the green at 648 s
    def at_line(t: float) -> int:
        return int(np.floor((t - fft) / gap)) + 1

    assert queue[("L0", 0.0)] == at_line(300.0)  # bins wholly red: their ends
    assert queue[("L0", 300.0)] == at_line(600.0)
    assert queue[("L0", 600.0)] == pytest.approx(at_line(648.0), abs=1)  # the green start


def test_route_tracing_agrees_with_its_twin_and_walks_the_tree() -> None:
    # a path 0 -> 1 -> 2 -> 3 (links 0, 1, 2) and a spur 1 -> 4 (link 3); one origin zone
    # at node 0, destinations at nodes 3 and 4; node 2 is not reached from zone 1
    link_from = np.array([0, 1, 2, 1], dtype=np.int64)
    pred = np.array([[-1, 0, 1, 2, 3]], dtype=np.int32)
    zones = np.array([0, 3, 4], dtype=np.int64)
    orig, dest = np.array([0, 0]), np.array([1, 2])
    start, links = routes.trace_paths(pred, link_from, zones, orig, dest)
    assert start.tolist() == [0, 3, 5] and links.tolist() == [0, 1, 2, 0, 3]
    twin = routes.trace_paths.py_func(pred, link_from, zones, orig, dest)
    np.testing.assert_array_equal(twin[1], links)
    pick = np.array([1, 0, 1])
    r_start, r_links = routes.gather_routes(start, links, pick)
    assert r_start.tolist() == [0, 2, 5, 7] and r_links.tolist() == [0, 3, 0, 1, 2, 0, 3]
    np.testing.assert_array_equal(routes.gather_routes.py_func(start, links, pick)[1], r_links)
    pred[0, 4] = -1  # zone 3 cut off: the first pair that cannot be reached is marked
    assert routes.trace_paths(pred, link_from, zones, orig, dest)[0][2] == -1


def test_route_turns_are_the_distinct_consecutive_link_pairs_of_the_routes() -> None:
    """The movements the loading builds are exactly the (in, out) pairs of consecutive
    links in some route, counted by numpy's unique over every route entry; a route that
    breaks its chain is found at its first break."""
    rng = np.random.default_rng(3)
    n = 6  # a 6 × 6 grid of nodes, links both ways between neighbours
    pairs = [(i, i + 1) for i in range(n * n) if (i + 1) % n] + [
        (i, i + n) for i in range(n * n - n)
    ]
    edges = pairs + [(b, a) for a, b in pairs]
    link_from = np.array([a for a, _ in edges], dtype=np.int64)
    link_to = np.array([b for _, b in edges], dtype=np.int64)
    order = np.argsort(link_from, kind="stable")
    out_start = np.searchsorted(link_from[order], np.arange(n * n + 1)).astype(np.int64)
    out_links = order.astype(np.int64)
    walks = []
    for _ in range(300):  # random walks of 1-30 links
        link = int(rng.integers(len(edges)))
        walk = [link]
        for _ in range(int(rng.integers(0, 30))):
            y = link_to[walk[-1]]
            walk.append(int(rng.choice(out_links[out_start[y] : out_start[y + 1]])))
        walks.append(walk)
    veh = Vehicles.from_routes([str(i) for i in range(300)], np.zeros(300), walks)
    bad, codes = routes.route_turns(veh.route_start, veh.route_links, link_from, link_to,
                                    out_start, out_links)  # fmt: skip
    expected = np.unique([a * len(edges) + b for w in walks for a, b in pairwise(w)])
    assert bad == -1
    np.testing.assert_array_equal(codes, expected)
    i = next(i for i, w in enumerate(walks) if i > 40 and len(w) >= 3)
    jump = next(k for k in range(len(edges)) if link_from[k] != link_to[walks[i][1]])
    walks[i] = [*walks[i][:2], jump, *walks[i][2:]]  # no longer a chain after its 2nd link
    veh = Vehicles.from_routes([str(i) for i in range(300)], np.zeros(300), walks)
    bad, _ = routes.route_turns(veh.route_start, veh.route_links, link_from, link_to,
                                out_start, out_links)  # fmt: skip
    assert bad == veh.route_start[i] + 1


def test_a_loading_refuses_routes_that_are_not_chains_or_empty_or_unsorted_departures() -> None:
    net = _net([(0, 1, 500, 1, 10, 1800), (1, 2, 500, 1, 10, 1800), (2, 3, 500, 1, 10, 1800)], 4)
    control = TrafficControl(net, dt=1.0)
    broken = Vehicles.from_routes(["a", "b"], np.array([0.0, 1.0]), [[0, 1, 2], [0, 2]])
    with pytest.raises(UsageError, match="vehicle b: link L0 does not lead to link L2"):
        control.run(broken)
    empty = Vehicles.from_routes(["a", "b"], np.array([0.0, 1.0]), [[0, 1], []])
    with pytest.raises(UsageError, match="vehicle b: empty route"):
        control.run(empty)
    late_first = Vehicles.from_routes(["a", "b"], np.array([5.0, 1.0]), [[0, 1], [0]])
    with pytest.raises(UsageError, match="departures must be sorted"):
        control.run(late_first)
