"""numba shortest paths and all-or-nothing loading against pure-Python twins and scipy."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.kernels import paths
from sim.kernels.choice import path_sums
from sim.traffic.network import build_network


def _unit_network(link_from, link_to, n_nodes: int, n_zones: int = 6):
    """A network of these links with unit attributes; zones on the first nodes."""
    ones = np.ones(len(link_from))
    return build_network(
        node_ids=np.arange(n_nodes) + 1,
        link_from=np.asarray(link_from),
        link_to=np.asarray(link_to),
        capacity=ones,
        fftime=ones,
        alpha=ones,
        beta=ones,
        length=ones,
        toll=np.zeros(len(link_from)),
        first_thru_node=0,
        zone_nodes=np.arange(n_zones),
    )


def _random_network(seed: int, n_nodes: int = 40, n_links: int = 160, n_zones: int = 6):
    rng = np.random.default_rng(seed)
    link_from = rng.integers(0, n_nodes, n_links)
    link_to = (link_from + rng.integers(1, n_nodes, n_links)) % n_nodes  # no self-loops
    return _unit_network(link_from, link_to, n_nodes, n_zones), rng


def _aon(graph, cost, net, demand, first_thru=0, n_chunks=8, trees=None):
    """All-or-nothing on ``graph`` (a network or a contracted one) for ``net``'s zones."""
    return paths.all_or_nothing(
        graph.out_start,
        graph.out_links,
        graph.link_from,
        graph.link_to,
        cost,
        net.zone_nodes,
        demand,
        first_thru,
        n_chunks,
        trees=trees,
    )


def _python_dijkstra(net, cost, origin, first_thru):
    """Pure-Python twin: heapq Dijkstra that never expands centroids other than the origin."""
    dist = np.full(net.n_nodes, np.inf)
    dist[origin] = 0.0
    heap = [(0.0, origin)]
    done = set()
    while heap:
        d, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u < first_thru and u != origin:
            continue
        for link in np.flatnonzero(net.link_from == u):
            v = net.link_to[link]
            if d + cost[link] < dist[v]:
                dist[v] = d + cost[link]
                heapq.heappush(heap, (dist[v], v))
    return dist


def _python_aon(net, cost, demand, first_thru):
    """Pure-Python twin of all-or-nothing: walk each OD path back from the destination."""
    flows = np.zeros(net.n_links)
    sptt = 0.0
    for o, origin in enumerate(net.zone_nodes):
        dist = _python_dijkstra(net, cost, origin, first_thru)
        for d, dest in enumerate(net.zone_nodes):
            if demand[o, d] <= 0 or dest == origin:
                continue
            sptt += demand[o, d] * dist[dest]
            v = dest
            while v != origin:  # the entering link on a shortest path
                cand = np.flatnonzero(
                    (net.link_to == v) & np.isclose(dist[net.link_from] + cost, dist[v])
                )
                cand = [
                    c for c in cand if net.link_from[c] >= first_thru or net.link_from[c] == origin
                ]
                flows[cand[0]] += demand[o, d]
                v = net.link_from[cand[0]]
    return flows, sptt


@pytest.mark.parametrize("seed", range(6))
def test_dijkstra_matches_scipy(seed):
    net, rng = _random_network(seed)
    cost = rng.uniform(0, 10, net.n_links)
    cost[rng.random(net.n_links) < 0.2] = 0.0  # zero-cost links (centroid connectors)
    dist, pred = paths.shortest_paths(
        net.out_start, net.out_links, net.link_to, cost, np.arange(net.n_nodes), n_chunks=3
    )
    # scipy sums duplicate entries, so keep the cheapest of parallel links; 0 means
    # "no edge" in a sparse matrix, so shift zeros to a tiny positive value
    best = {}
    for a, b, c in zip(net.link_from, net.link_to, cost, strict=True):
        best[(a, b)] = min(best.get((a, b), np.inf), c)
    rows, cols = zip(*best, strict=True)
    vals = np.maximum(list(best.values()), 1e-300)
    graph = csr_matrix((vals, (rows, cols)), shape=(net.n_nodes, net.n_nodes))
    np.testing.assert_allclose(dist, dijkstra(graph, directed=True), rtol=1e-12, atol=1e-9)
    # each reached node's entering link is tight: dist[tail] + cost == dist[head]
    for o in range(net.n_nodes):
        reached = np.flatnonzero(pred[o] >= 0)
        links = pred[o, reached]
        assert np.all(net.link_to[links] == reached)
        np.testing.assert_allclose(dist[o, net.link_from[links]] + cost[links], dist[o, reached])
    assert np.all(pred[np.arange(net.n_nodes), np.arange(net.n_nodes)] == -1)


@pytest.mark.parametrize("seed", range(4))
def test_dijkstra_honours_first_thru_node(seed):
    net, rng = _random_network(seed + 10)
    cost = rng.uniform(0, 10, net.n_links)
    first_thru = 6
    dist, _ = paths.shortest_paths(
        net.out_start, net.out_links, net.link_to, cost, np.arange(net.n_nodes), first_thru
    )
    for o in range(net.n_nodes):
        np.testing.assert_allclose(dist[o], _python_dijkstra(net, cost, o, first_thru))
    free, _ = paths.shortest_paths(
        net.out_start, net.out_links, net.link_to, cost, np.arange(net.n_nodes)
    )
    assert np.all(dist >= free - 1e-12)


def test_first_thru_node_forbids_a_shortcut_through_a_centroid():
    # zones 0 and 1; path 0 -> 2 -> 1 -> 3 is cheap but passes through centroid 1
    net = build_network(
        node_ids=np.arange(4),
        link_from=np.array([0, 2, 1, 2]),
        link_to=np.array([2, 1, 3, 3]),
        capacity=np.ones(4),
        fftime=np.ones(4),
        alpha=np.ones(4),
        beta=np.ones(4),
        length=np.ones(4),
        toll=np.zeros(4),
        first_thru_node=2,
        zone_nodes=np.array([0, 1]),
    )
    cost = np.array([1.0, 1.0, 1.0, 10.0])
    for first_thru, expected in ((0, 3.0), (2, 11.0)):
        dist, _ = paths.shortest_paths(
            net.out_start, net.out_links, net.link_to, cost, np.array([0]), first_thru
        )
        assert dist[0, 3] == expected
    # zone 1 is still reachable as a destination
    assert dist[0, 1] == 2.0


@pytest.mark.parametrize(("seed", "first_thru"), [(0, 0), (1, 0), (2, 6), (3, 6), (4, 3)])
def test_all_or_nothing_matches_python_twin(seed, first_thru):
    net, rng = _random_network(seed + 20, n_nodes=25, n_links=110)
    cost = rng.uniform(0.1, 10, net.n_links)
    demand = rng.uniform(0, 100, (net.n_zones, net.n_zones)) * (rng.random((6, 6)) < 0.7)
    dist, _ = paths.shortest_paths(
        net.out_start, net.out_links, net.link_to, cost, net.zone_nodes, first_thru
    )
    demand[~np.isfinite(dist[:, net.zone_nodes])] = 0.0
    flows, sptt, unreached = paths.all_or_nothing(
        net.out_start,
        net.out_links,
        net.link_from,
        net.link_to,
        cost,
        net.zone_nodes,
        demand,
        first_thru,
        n_chunks=4,
    )
    ref_flows, ref_sptt = _python_aon(net, cost, demand, first_thru)
    assert unreached == 0
    np.testing.assert_allclose(flows, ref_flows, rtol=1e-12, atol=1e-9)
    assert sptt == pytest.approx(ref_sptt, rel=1e-12)
    assert np.dot(flows, cost) == pytest.approx(sptt, rel=1e-12)  # AON cost = SPTT


def test_all_or_nothing_conserves_flow_and_counts_unreached():
    net, rng = _random_network(99, n_nodes=30, n_links=60)
    cost = rng.uniform(0.1, 5, net.n_links)
    demand = rng.uniform(1, 10, (net.n_zones, net.n_zones))
    flows, _, unreached = paths.all_or_nothing(
        net.out_start, net.out_links, net.link_from, net.link_to, cost, net.zone_nodes, demand
    )
    dist, _ = paths.shortest_paths(net.out_start, net.out_links, net.link_to, cost, net.zone_nodes)
    reach = np.isfinite(dist[:, net.zone_nodes]) & ~np.eye(net.n_zones, dtype=bool)
    assert unreached == int((~reach & ~np.eye(net.n_zones, dtype=bool)).sum())
    served = np.where(reach, demand, 0.0)
    balance = np.bincount(net.link_to, flows, net.n_nodes) - np.bincount(
        net.link_from, flows, net.n_nodes
    )
    expected = np.zeros(net.n_nodes)
    expected[net.zone_nodes] = served.sum(axis=0) - served.sum(axis=1)
    np.testing.assert_allclose(balance, expected, atol=1e-9)


def test_all_or_nothing_result_does_not_depend_on_chunk_count():
    net, rng = _random_network(5, n_nodes=30, n_links=150)
    cost = rng.uniform(0.1, 5, net.n_links)
    demand = rng.uniform(1, 10, (net.n_zones, net.n_zones))
    runs = [
        paths.all_or_nothing(
            net.out_start,
            net.out_links,
            net.link_from,
            net.link_to,
            cost,
            net.zone_nodes,
            demand,
            0,
            n,
        )[0]
        for n in (1, 2, 6)
    ]
    for other in runs[1:]:
        np.testing.assert_allclose(other, runs[0], rtol=1e-12)


@pytest.mark.parametrize(("n_chunks", "first_thru"), [(1, 0), (3, 6)])
def test_all_or_nothing_keeps_every_origins_shortest_path_tree(n_chunks, first_thru):
    net, rng = _random_network(7, n_nodes=30, n_links=120)
    cost = rng.uniform(0.1, 5, net.n_links)
    demand = rng.uniform(1, 10, (net.n_zones, net.n_zones))
    demand[2] = 0.0  # an origin without demand still gets its tree
    trees = np.full((net.n_zones, net.n_nodes), 99, dtype=np.int32)
    _aon(net, cost, net, demand, first_thru, n_chunks, trees)
    for o, origin in enumerate(net.zone_nodes):
        dist = _python_dijkstra(net, cost, origin, first_thru)
        for v in range(net.n_nodes):
            link, total = trees[o, v], 0.0
            while link >= 0:  # walk the tree back to the origin, adding up its links
                total += cost[link]
                link = trees[o, net.link_from[link]]
            if np.isfinite(dist[v]) and v != origin:
                assert total == pytest.approx(dist[v], rel=1e-12)
            else:
                assert trees[o, v] == -1


def test_all_or_nothing_refuses_trees_of_the_wrong_shape():
    net, _ = _random_network(8)
    wrong = np.zeros((net.n_zones, net.n_nodes), dtype=np.int64)
    with pytest.raises(ValueError, match="trees"):
        _aon(net, np.ones(net.n_links), net, np.ones((net.n_zones,) * 2), trees=wrong)


def _network_with_shape_points(seed: int, n_nodes: int = 20, n_roads: int = 45):
    """Random roads between junctions, each split by a node of its own in the middle.

    A two-way road shares its middle node (in from and out to both ends), a one-way
    road has one link in and one out: the pass-through nodes of a city's network.
    """
    rng = np.random.default_rng(seed)
    link_from, link_to, middle = [], [], n_nodes
    for _ in range(n_roads):
        a, b = rng.choice(n_nodes, 2, replace=False)
        ends = [(a, b), (b, a)] if rng.random() < 0.6 else [(a, b)]
        for u, w in ends:
            link_from += [u, middle]
            link_to += [middle, w]
        middle += 1
    return _unit_network(link_from, link_to, middle), rng, n_nodes


@pytest.mark.parametrize(("seed", "first_thru"), [(0, 0), (1, 6), (2, 3)])
def test_the_contracted_graph_loads_and_skims_as_the_full_one(seed, first_thru):
    net, rng, junctions = _network_with_shape_points(seed)
    cost = rng.uniform(0.1, 5, net.n_links)
    demand = rng.uniform(1, 10, (net.n_zones, net.n_zones))
    full = _aon(net, cost, net, demand, first_thru)
    keep = np.zeros(net.n_nodes, dtype=bool)
    keep[:first_thru] = True
    keep[net.zone_nodes] = True
    graph = paths.contract(net.out_start, net.out_links, net.link_from, net.link_to, keep)
    middles = np.arange(junctions, net.n_nodes)
    assert not np.isin(graph.link_from, middles).any()  # every middle node is contracted
    assert not np.isin(graph.link_to, middles).any()
    assert np.array_equal(np.sort(graph.members), np.arange(net.n_links))  # each link once
    trees = np.empty((net.n_zones, net.n_nodes), dtype=np.int32)
    flows, sptt, unreached = _aon(graph, graph.costs(cost), net, demand, first_thru, trees=trees)
    assert unreached == full[2]
    assert sptt == pytest.approx(full[1], rel=1e-12)
    np.testing.assert_allclose(graph.expand_flows(flows, net.n_links), full[0], rtol=1e-12)
    along = path_sums(
        graph.expand_trees(trees, net.link_to), net.link_from, net.zone_nodes, cost[None, :]
    )[0]
    for o, origin in enumerate(net.zone_nodes):
        dist = _python_dijkstra(net, cost, origin, first_thru)[net.zone_nodes]
        reached = np.isfinite(dist) & (net.zone_nodes != origin)
        np.testing.assert_allclose(along[o, reached], dist[reached], rtol=1e-12)
