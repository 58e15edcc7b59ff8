"""Traveller information in the dynamic loading: informed drivers avoid an incident.

Expectations come from the network's geometry, not the model: with the main road's
bottleneck cut to a fifth of its capacity, the detour's free-flow time (80 s more) is far
below the queue that forms, so drivers who know the current times take the detour and
arrive sooner than those who keep their planned route.
"""

from __future__ import annotations

import numpy as np
import pytest
from _support import street_graph

from sim.errors import UsageError
from sim.traffic.dynamic import DynamicNetwork, TrafficControl, Vehicles
from sim.traffic.information import informed_destinations

# entry (5 -> 0); main road A (0 -> 1), B (1 -> 2); detour D (0 -> 4), E (4 -> 2);
# exit C (2 -> 3)
LINKS = [(5, 0, 500, 2, 15.0, 3600), (0, 1, 1000, 1, 15.0, 1800),
         (1, 2, 500, 1, 15.0, 1800), (0, 4, 800, 1, 10.0, 1800),
         (4, 2, 800, 1, 10.0, 1800), (2, 3, 500, 1, 15.0, 3600)]  # fmt: skip
ENTRY, A, B, D, E, C = range(6)


def _net() -> DynamicNetwork:
    a = np.array(LINKS, dtype=float)
    return DynamicNetwork(
        link_ids=["O", "A", "B", "D", "E", "C"],
        link_from=a[:, 0].astype(np.int64),
        link_to=a[:, 1].astype(np.int64),
        n_nodes=6,
        length_m=a[:, 2],
        lanes=a[:, 3].astype(np.int64),
        speed_ms=a[:, 4],
        capacity_vph=a[:, 5],
    )


def _vehicles(n: int = 900) -> Vehicles:
    # 1,200 veh/h for 45 minutes, all planned on the main road
    depart = np.arange(n) * 3.0
    return Vehicles.from_routes([f"v{i}" for i in range(n)], depart, [[ENTRY, A, B, C]] * n)


def _incident() -> np.ndarray:
    factor = np.ones((6, 24))
    factor[B] = 0.2  # 360 veh/h through the incident for two hours
    return factor


def test_informed_drivers_take_the_detour_round_an_incident_and_arrive_sooner() -> None:
    net, veh = _net(), _vehicles()
    res = TrafficControl(net, informed_share=0.5).load(veh, capacity_factor=_incident())
    informed = informed_destinations(net, veh, 0.5)[0] >= 0
    assert 0.4 < informed.mean() < 0.6
    tt = res.travel_time
    assert np.isfinite(tt).all()
    # the detour carries informed drivers only, and a good part of them
    assert 0.3 * informed.sum() < res.link_inflow[D] <= informed.sum()
    assert res.link_inflow[D] == res.link_inflow[E]
    assert res.link_inflow[A] + res.link_inflow[D] == len(veh.ids)
    # they arrive sooner on average than the drivers who keep their planned route
    assert tt[informed].mean() < 0.8 * tt[~informed].mean()
    # and everyone gains against nobody being informed (less queue on the main road)
    none = TrafficControl(net).load(veh, capacity_factor=_incident())
    assert res.link_inflow[D] > 0 == none.link_inflow[D]
    assert tt.mean() < none.travel_time.mean()


def test_without_an_incident_informed_drivers_keep_the_quickest_route() -> None:
    net, veh = _net(), _vehicles(300)
    plain = TrafficControl(net).load(veh)
    informed = TrafficControl(net, informed_share=1.0).load(veh)
    assert informed.link_inflow[D] == 0  # the main road is the quickest and stays so
    np.testing.assert_array_equal(informed.arrive, plain.arrive)


def test_a_zero_share_is_the_loading_without_information() -> None:
    net, veh = _net(), _vehicles(300)
    zero = TrafficControl(net, informed_share=0.0).load(veh, capacity_factor=_incident())
    plain = TrafficControl(net).load(veh, capacity_factor=_incident())
    np.testing.assert_array_equal(zero.arrive, plain.arrive)
    np.testing.assert_array_equal(zero.bin_in, plain.bin_in)
    # a larger share informs the same drivers and more (stable across loadings)
    few = informed_destinations(net, veh, 0.2)[0] >= 0
    more = informed_destinations(net, veh, 0.6)[0] >= 0
    assert (more | ~few).all() and more.sum() > few.sum()
    with pytest.raises(UsageError, match="informed_share"):
        TrafficControl(net, informed_share=1.5)


def test_on_a_city_only_trips_that_end_at_a_zone_are_informed() -> None:
    # nodes 0..3 as zone centroids: the trips to node 3 (the end of C) end at a zone; a
    # car whose route ends at node 4 (a cruise or a car park's street) keeps its route
    net = _net()
    net.zone_nodes = 4
    to_zone = Vehicles.from_routes(["a", "b"], np.zeros(2), [[ENTRY, A, B, C]] * 2)
    dest_of, nodes = informed_destinations(net, to_zone, 1.0)
    assert (dest_of == 0).all() and nodes.tolist() == [3]
    to_street = Vehicles.from_routes(["a", "b"], np.zeros(2), [[ENTRY, D]] * 2)
    dest_of, nodes = informed_destinations(net, to_street, 1.0)
    assert (dest_of == -1).all() and len(nodes) == 0


@pytest.mark.parametrize("chained", [False, True], ids=["plain", "street-chains"])
@pytest.mark.parametrize("spread", [30.0, 1e6, np.inf], ids=["bucket-queue", "heap", "closed"])
def test_quickest_times_equal_networkx_dijkstra_to_each_destination(
    spread: float, chained: bool
) -> None:
    """The tables informed drivers read are networkx's shortest times to each destination.

    A random street-like graph (a ring with chords, links both ways) with link times up
    to ``spread`` times the shortest: 30 takes the bucket queue, 1e6 the heap (more
    buckets than :data:`~sim.kernels.dnl_info.MAX_BUCKETS`), and a closed link (infinite
    time) the heap too. Paths may not pass through
    a node some routes never use (``through`` False), as zone centroids are not.
    With street chains (bend nodes splitting some streets, some one way), the labels
    the searches give by walking the chains are those of searches that queue every
    node, bit for bit.
    """
    import networkx as nx

    from sim.kernels.dnl_info import quickest_times
    from sim.kernels.paths import street_chains

    rng = np.random.default_rng(7)
    link_from, link_to, n = street_graph(300, rng, chained)
    edges = list(zip(link_from.tolist(), link_to.tolist(), strict=True))
    cost = 0.5 * np.exp(rng.uniform(0.0, np.log(min(spread, 30.0)), len(edges)))
    if spread > 30.0:
        cost[::7] = 0.5 * spread  # a spread of link times the buckets cannot cover
    through = rng.random(n) > 0.1
    order = np.argsort(link_to, kind="stable").astype(np.int64)
    node_in_start = np.searchsorted(link_to[order], np.arange(n + 1)).astype(np.int64)
    dest_nodes = np.array([3, 77, 150, 299], dtype=np.int64)
    live = np.array([True, True, False, True])
    walkable = through.copy()
    walkable[dest_nodes] = False
    interior, chain_prev = street_chains(link_from, link_to, n, walkable)
    assert interior.sum() > (0.3 * (n - 300) if chained else -1)  # the bends are walked
    dist = np.full((len(dest_nodes), n), -1.0)
    quickest_times(dist, dest_nodes, live, cost, node_in_start, order, link_from, link_to,
                   through, interior, chain_prev)  # fmt: skip
    queued = np.full_like(dist, -1.0)
    quickest_times(queued, dest_nodes, live, cost, node_in_start, order, link_from, link_to,
                   through, np.zeros(n, np.bool_), chain_prev)  # fmt: skip
    np.testing.assert_array_equal(dist, queued)

    for d, dn in enumerate(dest_nodes):
        if not live[d]:
            assert (dist[d] == -1.0).all()  # a row nobody needs is left as it was
            continue
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        for k, (a, b) in enumerate(edges):
            if b == dn or through[b]:  # enter only nodes a path may go on from
                g.add_edge(a, b, w=cost[k])
        want = nx.single_source_dijkstra_path_length(g.reverse(), int(dn), weight="w")
        expected = np.array([want.get(u, np.inf) for u in range(n)])
        np.testing.assert_allclose(dist[d], expected, rtol=1e-12)
