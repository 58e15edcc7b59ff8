"""Static user equilibrium: cost kernels, analytic equilibria, TNTP best-known solutions, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.cli import main as cli_main
from sim.errors import GeodataError, UsageError
from sim.kernels import assign_links as kl
from sim.kernels.choice import path_sums
from sim.mobility.skims import car_skims
from sim.traffic import tntp
from sim.traffic.assignment import assign
from sim.traffic.network import build_network, network_from_tntp

TNTP = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "tntp"


def _links(seed: int, n: int = 50):
    rng = np.random.default_rng(seed)
    return (
        rng.uniform(0, 2000, n),  # flow
        rng.uniform(0, 10, n),  # fftime
        rng.uniform(0, 1, n),  # alpha
        rng.choice([0.0, 1.0, 2.5, 4.0], n),  # beta
        rng.uniform(100, 1000, n),  # capacity
        rng.uniform(0, 3, n),  # fixed
    )


def test_bpr_kernels_match_numpy_formula():
    x, t0, a, b, c, _ = _links(1)
    np.testing.assert_allclose(kl.bpr_time(x, t0, a, b, c), t0 * (1 + a * (x / c) ** b))
    h = 1e-4
    numeric = (kl.bpr_time(x + h, t0, a, b, c) - kl.bpr_time(x - h, t0, a, b, c)) / (2 * h)
    np.testing.assert_allclose(kl.bpr_derivative(x, t0, a, b, c), numeric, rtol=1e-6, atol=1e-9)


def test_beckmann_is_the_integral_of_the_generalised_cost():
    x, t0, a, b, c, fixed = _links(2, n=12)
    expected = sum(
        quad(lambda v, i=i: t0[i] * (1 + a[i] * (v / c[i]) ** b[i]) + fixed[i], 0, x[i])[0]
        for i in range(len(x))
    )
    assert kl.beckmann(x, t0, a, b, c, fixed) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_line_search_matches_scipy_minimiser(seed):
    x, t0, a, b, c, fixed = _links(seed + 10)
    target = np.random.default_rng(seed).uniform(0, 2000, len(x))
    step, _ = kl.line_search(x, target, t0, a, b, c, fixed, 1e-12)

    def objective(s):
        return kl.beckmann(x + s * (target - x), t0, a, b, c, fixed)

    ref = minimize_scalar(objective, bounds=(0, 1), method="bounded", options={"xatol": 1e-10})
    assert objective(step) <= ref.fun + 1e-9 * abs(ref.fun)
    assert step == pytest.approx(ref.x, abs=1e-5) or step in (0.0, 1.0)


def _parallel_links(toll=(0.0, 0.0)):
    """Two routes from zone 0 to zone 1: t1 = 1 + x1, t2 = 2 + x2 (BPR with beta = 1)."""
    return build_network(
        node_ids=np.array([1, 2]),
        link_from=np.array([0, 0]),
        link_to=np.array([1, 1]),
        capacity=np.array([1.0, 2.0]),
        fftime=np.array([1.0, 2.0]),
        alpha=np.array([1.0, 1.0]),
        beta=np.array([1.0, 1.0]),
        length=np.array([3.0, 1.0]),
        toll=np.array(toll),
        first_thru_node=0,
        zone_nodes=np.array([0, 1]),
    )


@pytest.mark.parametrize("algorithm", ["fw", "cfw", "bfw"])
def test_two_route_equilibrium_is_analytic(algorithm):
    # 1 + x1 = 2 + x2 and x1 + x2 = 10  =>  x1 = 5.5, x2 = 4.5
    res = assign(
        _parallel_links(), np.array([[0, 10.0], [0, 0]]), algorithm=algorithm, rel_gap=1e-9
    )
    np.testing.assert_allclose(res.flows, [5.5, 4.5], atol=1e-6)
    np.testing.assert_allclose(res.times, [6.5, 6.5], atol=1e-6)
    assert res.tstt == pytest.approx(65.0, rel=1e-8)
    # Beckmann: (x1 + x1^2/2) + (2 x2 + x2^2/2)
    assert res.objective == pytest.approx(5.5 + 5.5**2 / 2 + 9 + 4.5**2 / 2, rel=1e-8)


def test_toll_and_distance_shift_the_equilibrium():
    # cost1 = 1 + x1 + 0.5*4 + 0.1*3, cost2 = 2 + x2 + 0.1*1  =>  x1 = 4.4, x2 = 5.6
    net = _parallel_links(toll=(4.0, 0.0))
    res = assign(
        net, np.array([[0, 10.0], [0, 0]]), rel_gap=1e-10, toll_factor=0.5, distance_factor=0.1
    )
    np.testing.assert_allclose(res.flows, [4.4, 5.6], atol=1e-6)
    np.testing.assert_allclose(res.costs, [7.7, 7.7], atol=1e-6)
    np.testing.assert_allclose(res.times, [5.4, 7.6], atol=1e-6)


def test_unreachable_demand_and_bad_arguments():
    net = _parallel_links()
    with pytest.raises(GeodataError, match=r"zone 2 .*to zone 1"):
        assign(net, np.array([[0, 1.0], [1.0, 0]]))
    with pytest.raises(UsageError, match="algorithm 'msa'"):
        assign(net, np.array([[0, 1.0], [0, 0]]), algorithm="msa")
    with pytest.raises(UsageError, match="must be \\(2, 2\\)"):
        assign(net, np.ones((3, 3)))
    with pytest.raises(UsageError, match="rel_gap"):
        assign(net, np.array([[0, 1.0], [0, 0]]), rel_gap=0)


def _tntp_case(folder: str, stem: str):
    net_file = TNTP / folder / f"{stem}_net.tntp"
    if not net_file.exists():
        pytest.skip("shared TNTP benchmarks not available")
    best = json.loads((TNTP / "best_known.json").read_text())[folder]
    flow = tntp.read_flow(TNTP / folder / f"{stem}_flow.tntp")
    return (
        network_from_tntp(net_file),
        tntp.read_trips(TNTP / folder / f"{stem}_trips.tntp"),
        best,
        flow,
    )


def _independent_gap(net, demand, costs, flows):
    """Relative gap from scipy shortest paths (not our kernels)."""
    graph = csr_matrix((costs + 1e-300, (net.link_from, net.link_to)), (net.n_nodes, net.n_nodes))
    dist = dijkstra(graph, directed=True, indices=net.zone_nodes)[:, net.zone_nodes]
    tstt = np.dot(flows, costs)
    return (tstt - np.sum(demand * dist)) / tstt


def _check_against_best_known(res, best, flow, rel_gap=1e-4):
    assert res.rel_gap <= rel_gap
    assert abs(res.objective / best["beckmann_generalized"] - 1) <= 2e-4
    assert abs(res.tstt / best["tstt_bpr_generalized"] - 1) <= 2e-3
    ref = flow.volume.to_numpy()
    r2 = 1 - np.sum((res.flows - ref) ** 2) / np.sum((ref - ref.mean()) ** 2)
    assert r2 >= 0.999


@pytest.mark.parametrize("algorithm", ["fw", "cfw", "bfw"])
def test_sioux_falls_reaches_best_known_equilibrium(algorithm):
    net, demand, best, flow = _tntp_case("SiouxFalls", "SiouxFalls")
    res = assign(net, demand, algorithm=algorithm, rel_gap=1e-4, max_iter=5000)
    _check_against_best_known(res, best, flow)
    assert _independent_gap(net, demand, res.costs, res.flows) == pytest.approx(
        res.rel_gap, rel=1e-6
    )
    assert res.gap_history[-1] == res.rel_gap
    assert res.flows.sum() == pytest.approx(best["total_link_flow"], rel=2e-3)


def test_sioux_falls_conjugate_directions_converge_faster_and_repeat_exactly():
    net, demand, _, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    iters = {a: assign(net, demand, algorithm=a, rel_gap=1e-4).iterations for a in ("fw", "bfw")}
    assert iters["bfw"] * 3 < iters["fw"]
    first = assign(net, demand, rel_gap=1e-5)
    again = assign(net, demand, rel_gap=1e-5)
    np.testing.assert_array_equal(first.flows, again.flows)
    warm = assign(net, demand, rel_gap=1e-5, initial_flows=first.flows)
    assert warm.iterations == 1
    np.testing.assert_array_equal(warm.flows, first.flows)


def test_kept_trees_are_the_shortest_paths_at_the_final_costs_and_skim_as_a_search():
    net, demand, _, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    res = assign(net, demand, rel_gap=1e-3, keep_trees=True)
    assert assign(net, demand, rel_gap=1e-3).trees is None  # kept only when asked
    graph = csr_matrix((res.costs + 1e-300, (net.link_from, net.link_to)), (net.n_nodes,) * 2)
    dist = dijkstra(graph, directed=True, indices=net.zone_nodes)[:, net.zone_nodes]
    values = np.ascontiguousarray(res.costs[None, :])
    along = path_sums(res.trees, net.link_from, net.zone_nodes, values)[0]
    np.testing.assert_allclose(along, dist, rtol=1e-12)  # scipy's distances at res.costs
    kwargs = {"toll_factor": 0.0, "distance_factor": 0.0}
    searched = car_skims(net, res.times, np.ones(net.n_zones), **kwargs)
    reused = car_skims(net, res.times, np.ones(net.n_zones), trees=res.trees, **kwargs)
    for name in ("minutes", "km", "toll", "free_minutes"):
        np.testing.assert_array_equal(getattr(reused, name), getattr(searched, name))


def test_warm_start_from_another_demand_still_serves_this_demand():
    net, demand, best, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    old = assign(net, demand * 0.8, rel_gap=1e-4)
    res = assign(net, demand, rel_gap=1e-4, initial_flows=old.flows)
    assert res.rel_gap <= 1e-4
    assert abs(res.objective / best["beckmann_generalized"] - 1) <= 2e-4
    assert res.flows.sum() == pytest.approx(best["total_link_flow"], rel=2e-3)


def test_warm_start_that_knows_its_demand_keeps_the_route_split_and_reaches_the_gap():
    """A demand 10% off the old one, cell by cell: the old equilibrium scaled by the kept
    share starts near the new one, so the same gap takes fewer iterations than cold (and
    than a warm start that only keeps link costs), to the same equilibrium."""
    net, demand, _, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    old = assign(net, demand, rel_gap=1e-4)
    moved = demand * np.random.default_rng(3).uniform(0.9, 1.1, demand.shape)
    cold = assign(net, moved, rel_gap=1e-4)
    costs_only = assign(net, moved, rel_gap=1e-4, initial_flows=old.flows)
    warm = assign(net, moved, rel_gap=1e-4, initial_flows=old.flows, initial_demand=demand)
    for res in (cold, costs_only, warm):
        assert res.rel_gap <= 1e-4
        assert _independent_gap(net, moved, res.costs, res.flows) == pytest.approx(
            res.rel_gap, rel=1e-6
        )
    assert warm.iterations < 0.75 * min(cold.iterations, costs_only.iterations)
    # at a gap of 1e-4 the Beckmann objective is within 1e-4 of the optimum (convexity)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-4)
    np.testing.assert_allclose(warm.flows.sum(), cold.flows.sum(), rtol=2e-3)
    again = assign(net, moved, rel_gap=1e-4, initial_flows=old.flows, initial_demand=demand)
    np.testing.assert_array_equal(again.flows, warm.flows)


def test_kept_share_is_the_smallest_cell_ratio_so_the_rest_is_never_negative():
    from sim.traffic.assignment import _kept_share

    prior = np.array([[0.0, 10.0], [4.0, 0.0]])
    assert _kept_share(np.array([[3.0, 9.0], [4.0, 0.0]]), prior) == pytest.approx(0.9)
    assert _kept_share(np.array([[0.0, 20.0], [6.0, 1.0]]), prior) == pytest.approx(1.5)
    assert _kept_share(np.array([[0.0, 0.0], [4.0, 0.0]]), prior) == 0.0
    assert _kept_share(np.ones((2, 2)), np.zeros((2, 2))) == 0.0
    net = _parallel_links()
    ten, twelve = np.array([[0, 10.0], [0, 0]]), np.array([[0, 12.0], [0, 0]])
    with pytest.raises(UsageError, match="initial_demand"):
        assign(net, ten, initial_flows=np.ones(2), initial_demand=np.ones((3, 3)))
    # 10 vehicles split 5.5 / 4.5; 12 start at 1.2 times that and settle where
    # 1 + x1 = 2 + x2, x1 + x2 = 12  =>  x1 = 6.5, x2 = 5.5
    res = assign(net, twelve, rel_gap=1e-9, initial_flows=[5.5, 4.5], initial_demand=ten)
    np.testing.assert_allclose(res.flows, [6.5, 5.5], atol=1e-6)


def test_anaheim_needs_first_thru_node_to_match_best_known():
    # Anaheim's <FIRST THRU NODE> is 39: paths through its 38 zone centroids are forbidden
    net, demand, best, flow = _tntp_case("Anaheim", "Anaheim")
    assert net.first_thru_node == 38
    _check_against_best_known(assign(net, demand, rel_gap=1e-4), best, flow)
    net.first_thru_node = 0  # shortcuts through centroids: a different, wrong equilibrium
    res = assign(net, demand, rel_gap=1e-4)
    assert res.objective < best["beckmann_generalized"] * 0.95


def test_chicago_sketch_with_toll_and_distance_reaches_best_known():
    net, demand, best, flow = _tntp_case("Chicago-Sketch", "ChicagoSketch")
    res = assign(net, demand, rel_gap=1e-4, toll_factor=0.02, distance_factor=0.04)
    _check_against_best_known(res, best, flow)


def test_cli_assign_json_and_csv(tmp_path, capsys):
    folder = TNTP / "SiouxFalls"
    if not folder.exists():
        pytest.skip("shared TNTP benchmarks not available")
    out = tmp_path / "flows.csv"
    args = ["assign", str(folder / "SiouxFalls_net.tntp"), str(folder / "SiouxFalls_trips.tntp")]
    assert cli_main([*args, "--json", "--out", str(out), "--algorithm", "cfw"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary) == ["iterations", "rel_gap", "tstt", "objective", "seconds"]
    assert summary["rel_gap"] <= 1e-4
    table = pd.read_csv(out)
    assert list(table.columns) == ["init_node", "term_node", "flow", "cost"]
    net_links = tntp.read_net(folder / "SiouxFalls_net.tntp")[1]
    np.testing.assert_array_equal(table.init_node, net_links.init_node)
    np.testing.assert_array_equal(table.term_node, net_links.term_node)
    assert np.dot(table.flow, table.cost) == pytest.approx(summary["tstt"], rel=1e-9)


def test_cli_assign_errors_exit_2(tmp_path, capsys):
    folder = TNTP / "SiouxFalls"
    if not folder.exists():
        pytest.skip("shared TNTP benchmarks not available")
    net_file = str(folder / "SiouxFalls_net.tntp")
    assert cli_main(["assign", net_file, str(tmp_path / "none_trips.tntp")]) == 2
    assert "none_trips.tntp" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["assign", net_file, net_file, "--max-iter", "0"])
    assert exc.value.code == 2


def test_network_from_the_city_graph_equals_the_table_path() -> None:
    """The networkx MultiDiGraph and the links table give the same CSR network and flows."""
    from _support import DEFAULT_CITY

    from sim.city import load_city
    from sim.traffic.network import network_from_graph, network_from_links

    if not DEFAULT_CITY.exists():
        pytest.skip("default city missing")
    city = load_city(DEFAULT_CITY)
    centroids = city.zones["centroid_node"].to_numpy()
    from_graph = network_from_graph(city.road_graph(), centroids)
    from_table = network_from_links(city.links, city.nodes, centroids)
    for name in ("link_from", "link_to", "capacity", "fftime", "length", "node_ids"):
        np.testing.assert_array_equal(getattr(from_graph, name), getattr(from_table, name))
    demand = np.zeros((len(centroids), len(centroids)))
    demand[0, 5], demand[7, 2] = 300.0, 150.0
    a = assign(from_graph, demand, rel_gap=1e-6, max_iter=50)
    b = assign(from_table, demand, rel_gap=1e-6, max_iter=50)
    np.testing.assert_allclose(a.flows, b.flows)


def _scipy_aon(net, demand: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """All-or-nothing link flows by scipy's Dijkstra (an independent shortest-path code)."""
    graph = csr_matrix((costs, (net.link_from, net.link_to)), shape=(net.n_nodes, net.n_nodes))
    link_of = {(a, b): k for k, (a, b) in enumerate(zip(net.link_from, net.link_to, strict=True))}
    _, pred = dijkstra(graph, indices=net.zone_nodes, return_predecessors=True)
    flows = np.zeros(net.n_links)
    for o, d in zip(*np.nonzero(demand), strict=True):
        node = net.zone_nodes[d]
        while node != net.zone_nodes[o]:
            up = pred[o, node]
            flows[link_of[(up, node)]] += demand[o, d]
            node = up
    return flows


@pytest.mark.parametrize("algorithm", ["fw", "cfw", "bfw"])
def test_route_mix_rebuilds_the_flows_from_its_all_or_nothing_loads(monkeypatch, algorithm):
    """The flows are Σ weight · AON(costs, demand) over the mix's loads, cold and warm-started
    from another demand's flows and mix (each load rebuilt by the solver's own
    all-or-nothing search, which breaks Sioux Falls' free-flow ties as the assignment
    did). A wrong coefficient in any direction's bookkeeping, or a warm start that
    forgets the kept share, breaks the sum."""
    from sim.traffic import assignment

    monkeypatch.setattr(assignment, "MIX_LOADS", 10_000)  # every load: the sum is exact
    net, demand, _, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    old = assign(net, demand, algorithm=algorithm, rel_gap=1e-3, keep_mix=True)
    moved = demand * np.random.default_rng(3).uniform(0.9, 1.1, demand.shape)
    warm = assign(
        net, moved, algorithm=algorithm, rel_gap=1e-4, keep_mix=True,
        initial_flows=old.flows, initial_demand=demand, initial_mix=old.mix,
    )  # fmt: skip
    for res in (old, warm):
        mix = res.mix
        rebuilt = sum(
            w * assignment._Solver.of(net, d, np.zeros(net.n_links), 1).load(c)[0]
            for c, d, w in zip(mix.costs, mix.demand, mix.weights, strict=True)
        )
        np.testing.assert_allclose(rebuilt, res.flows, rtol=1e-9, atol=1e-6)
    assert assign(net, demand, rel_gap=1e-3).mix is None  # kept only when asked


def test_route_mix_of_the_heaviest_loads_keeps_the_split_within_a_percent():
    net, demand, _, _ = _tntp_case("SiouxFalls", "SiouxFalls")
    res = assign(net, demand, rel_gap=1e-4, keep_mix=True)
    assert res.iterations > len(res.mix.costs)  # some loads were dropped
    shares = res.mix.shares()
    np.testing.assert_allclose(shares.sum(axis=0)[demand > 0], 1.0)
    loads = zip(shares, res.mix.costs, strict=True)
    rebuilt = sum(_scipy_aon(net, demand * s, c) for s, c in loads)
    assert np.abs(rebuilt - res.flows).sum() < 0.01 * res.flows.sum()
