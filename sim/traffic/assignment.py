"""Static user-equilibrium traffic assignment: Frank–Wolfe, conjugate and bi-conjugate FW.

Link travel time is BPR with per-link alpha/beta; the generalised cost a driver
minimises is ``time + toll_factor * toll + distance_factor * length``. Each iteration
loads the demand all-or-nothing on the current shortest paths (numba, origins in
parallel), picks a search direction and moves along it by an exact line search on
the Beckmann objective. The relative gap ``(TSTT - SPTT) / TSTT`` measures how far
from equilibrium the flows are.

Directions: ``"fw"`` the all-or-nothing flows; ``"cfw"`` conjugate FW, a mix of the
previous direction and the all-or-nothing flows made conjugate to the previous
direction; ``"bfw"`` bi-conjugate FW (Mitradjieva & Lindberg 2013, Transportation
Science 47(2)), conjugate to the two previous directions. A direction that is not a
descent direction restarts from a FW step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from sim.errors import GeodataError, UsageError
from sim.kernels import assign_links as kl
from sim.kernels import paths
from sim.traffic.network import Network, build_network

log = logging.getLogger(__name__)

ALGORITHMS = ("fw", "cfw", "bfw")
MAX_CONJUGATE = 0.99999  # keeps a conjugate mix from discarding the new all-or-nothing flows
LINE_SEARCH_TOL = 1e-12
FEASIBLE_TOL = 1e-9  # node-balance error, relative to total demand, of a usable warm start
PARALLEL_MIN_WORK = 200_000  # zones x links below which one thread beats waking the others
# origins are loaded in this many chunks whatever the thread count, so flows (to the last
# bit) do not depend on the machine; 32 keeps threads busy when one is held up
PARALLEL_CHUNKS = 32


@dataclass
class AssignmentResult:
    """Equilibrium link flows and convergence figures.

    Attributes
    ----------
    flows : numpy.ndarray
        Link flows (vehicles per period), link order of the network.
    costs : numpy.ndarray
        Generalised cost of each link at ``flows`` (minutes).
    times : numpy.ndarray
        BPR travel time of each link at ``flows`` (minutes).
    iterations : int
        Number of all-or-nothing loads (shortest-path rounds) done.
    rel_gap : float
        Relative gap of ``flows``: (TSTT - SPTT) / TSTT.
    tstt : float
        Total system travel cost: sum of flow times generalised cost.
    objective : float
        Beckmann objective of the generalised cost at ``flows``.
    seconds : float
        Wall time of the assignment.
    gap_history : list of float
        Relative gap after each iteration that measured one.
    trees : numpy.ndarray or None
        With ``keep_trees``: ``(n_zones, n_nodes)`` shortest-path trees of every origin
        zone at ``costs`` (the last all-or-nothing load's; ``pred`` of
        :func:`sim.kernels.paths.shortest_paths`), e.g. to skim the network without
        searching it again.
    """

    flows: np.ndarray
    costs: np.ndarray
    times: np.ndarray
    iterations: int
    rel_gap: float
    tstt: float
    objective: float
    seconds: float
    gap_history: list[float] = field(default_factory=list)
    trees: np.ndarray | None = None
    #: With ``keep_mix``: the flows as a mix of all-or-nothing loads (None when a warm
    #: start's flows came without theirs).
    mix: RouteMix | None = None


#: Most all-or-nothing loads a :class:`RouteMix` keeps (the heaviest; the rest is dropped).
MIX_LOADS = 24


@dataclass
class RouteMix:
    """Equilibrium flows as a weighted sum of all-or-nothing loads: their route split.

    Frank–Wolfe flows (and the conjugate variants', whose directions are mixes of
    earlier loads) are ``Σ_k weights[k] · AON(costs[k], demand[k])``: load ``k`` sends
    all of ``demand[k]`` along the shortest paths at link costs ``costs[k]``. So the
    share of an OD pair's trips on the routes of load ``k`` is
    ``weights[k] · demand[k][o, d] / Σ_j weights[j] · demand[j][o, d]`` (:meth:`shares`),
    and vehicles drawn over the loads by these shares reproduce the equilibrium's link
    flows in expectation: the route split a single shortest-path tree on the
    equilibrium's times loses (it sends every trip of an OD pair down one of its equally
    quick routes).
    """

    costs: list[np.ndarray]  # (n_links,) generalised link cost (min) of each load
    demand: list[np.ndarray]  # (n_zones, n_zones) the matrix each load carries
    weights: np.ndarray  # (n_loads,) float64

    def shares(self) -> np.ndarray:
        """``(n_loads, n_zones, n_zones)`` share of each OD pair's trips on each load.

        A pair no load carries has shares 0.
        """
        mass = self.weights[:, None, None] * np.stack(self.demand)
        total = mass.sum(axis=0)
        return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)

    def pruned(self, most: int | None = None) -> RouteMix:
        """The ``most`` (default :data:`MIX_LOADS`) heaviest loads by vehicles carried.

        Loads of weight 0 go too; :meth:`shares` spreads each pair over those kept.
        """
        most = MIX_LOADS if most is None else most
        mass = self.weights * np.array([d.sum() for d in self.demand])
        keep = np.sort(np.argsort(-mass, kind="stable")[:most])
        keep = keep[mass[keep] > 0]
        return RouteMix(
            [self.costs[k] for k in keep], [self.demand[k] for k in keep], self.weights[keep]
        )


@dataclass
class _Combo:
    """A vector of the assignment kept as weights over the loads of a :class:`_Loads`."""

    weights: dict[int, float] = field(default_factory=dict)

    def plus(self, other: _Combo, factor: float) -> _Combo:
        """``self + factor · other``."""
        out = dict(self.weights)
        for k, w in other.weights.items():
            out[k] = out.get(k, 0.0) + factor * w
        return _Combo(out)

    def times(self, factor: float) -> _Combo:
        """``factor · self``."""
        return _Combo({k: factor * w for k, w in self.weights.items()})


@dataclass
class _Loads:
    """The all-or-nothing loads of one assignment, for its :class:`RouteMix`."""

    costs: list[np.ndarray] = field(default_factory=list)
    demand: list[np.ndarray] = field(default_factory=list)

    def add(self, costs: np.ndarray, demand: np.ndarray) -> _Combo:
        """Record one load; the combo that is that load alone."""
        self.costs.append(np.array(costs, dtype=np.float64))
        self.demand.append(demand)
        return _Combo({len(self.costs) - 1: 1.0})

    def add_mix(self, mix: RouteMix) -> _Combo:
        """Record an earlier mix's loads; the combo that is that mix."""
        first = len(self.costs)
        self.costs.extend(mix.costs)
        self.demand.extend(mix.demand)
        return _Combo({first + k: float(w) for k, w in enumerate(mix.weights)})

    def mix(self, combo: _Combo) -> RouteMix:
        """The :class:`RouteMix` of a combo: its loads of weight > 0, the heaviest kept."""
        keys = sorted(k for k, w in combo.weights.items() if w > 0.0)
        weights = np.array([combo.weights[k] for k in keys], dtype=np.float64)
        return RouteMix(
            [self.costs[k] for k in keys], [self.demand[k] for k in keys], weights
        ).pruned()


@dataclass
class _Solver:
    """The per-run state shared by the iteration steps.

    ``graph`` is the network without its pass-through nodes (:func:`sim.kernels.paths.
    contract`), which every all-or-nothing search runs on: the same shortest paths,
    about half the nodes to settle on a city's network.
    """

    net: Network
    demand: np.ndarray
    fixed: np.ndarray
    n_chunks: int
    graph: paths.Contracted

    @classmethod
    def of(cls, net: Network, demand: np.ndarray, fixed: np.ndarray, n_chunks: int) -> _Solver:
        keep = np.zeros(net.n_nodes, dtype=bool)
        keep[: net.first_thru_node] = True  # centroids: a path may not pass them
        keep[net.zone_nodes] = True
        graph = paths.contract(net.out_start, net.out_links, net.link_from, net.link_to, keep)
        return cls(net, demand, fixed, n_chunks, graph)

    def times(self, flows: np.ndarray) -> np.ndarray:
        net = self.net
        return kl.bpr_time(flows, net.fftime, net.alpha, net.beta, net.capacity)

    def derivative(self, flows: np.ndarray) -> np.ndarray:
        net = self.net
        return kl.bpr_derivative(flows, net.fftime, net.alpha, net.beta, net.capacity)

    def objective(self, flows: np.ndarray) -> float:
        net = self.net
        return float(kl.beckmann(flows, net.fftime, net.alpha, net.beta, net.capacity, self.fixed))

    def line_search(self, flows: np.ndarray, target: np.ndarray) -> float:
        net = self.net
        step, _ = kl.line_search(
            flows,
            target,
            net.fftime,
            net.alpha,
            net.beta,
            net.capacity,
            self.fixed,
            LINE_SEARCH_TOL,
        )
        return float(step)

    def load(self, costs: np.ndarray, trees: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """All-or-nothing flows at link ``costs`` and their SPTT.

        ``trees`` (``(n_zones, n_nodes)``) is filled with the trees over the contracted
        graph's links (:meth:`sim.kernels.paths.Contracted.expand_trees` maps them back).
        """
        net, graph = self.net, self.graph
        flows, sptt, unreached = paths.all_or_nothing(
            graph.out_start,
            graph.out_links,
            graph.link_from,
            graph.link_to,
            graph.costs(costs),
            net.zone_nodes,
            self.demand,
            net.first_thru_node,
            self.n_chunks,
            trees,
        )
        if unreached:
            raise GeodataError(self._unreached_message(unreached, costs))
        return graph.expand_flows(flows, net.n_links), sptt

    def _unreached_message(self, count: int, costs: np.ndarray) -> str:
        net = self.net
        dist, _ = paths.shortest_paths(
            net.out_start, net.out_links, net.link_to, costs, net.zone_nodes, net.first_thru_node
        )
        stuck = (self.demand > 0) & ~np.isfinite(dist[:, net.zone_nodes])
        o, d = np.argwhere(stuck)[0]
        return (
            f"{count} origin-destination pair(s) with demand have no path, e.g. zone {o + 1} "
            f"(node {net.node_ids[net.zone_nodes[o]]}) to zone {d + 1} "
            f"(node {net.node_ids[net.zone_nodes[d]]}); check closures and one-way links"
        )


@dataclass
class _Directions:
    """Search-direction memory: the last two direction targets and the last step.

    A target is ``c_aon · aon + c_target · target + c_previous · previous``; the
    coefficients also combine the targets' :class:`_Combo` (their loads).
    """

    algorithm: str
    target: np.ndarray | None = None
    previous: np.ndarray | None = None
    step: float = 0.0
    target_combo: _Combo = field(default_factory=_Combo)
    previous_combo: _Combo = field(default_factory=_Combo)

    def next(
        self, solver: _Solver, flows: np.ndarray, aon: np.ndarray, aon_combo: _Combo
    ) -> tuple[np.ndarray, bool, _Combo]:
        """The next direction target, whether it is a plain FW target, and its loads.

        A plain FW target is the all-or-nothing flows themselves.
        """
        if self.algorithm == "fw" or self.target is None or self.step >= 1.0:
            return aon, True, aon_combo
        hess = solver.derivative(flows)
        if self.algorithm == "cfw" or self.previous is None:
            c = self._conjugate(hess, flows, aon)
        else:
            c = self._biconjugate(hess, flows, aon)
        target = c[0] * aon + c[1] * self.target
        combo = aon_combo.times(c[0]).plus(self.target_combo, c[1])
        if c[2] != 0.0:
            assert self.previous is not None
            target = target + c[2] * self.previous
            combo = combo.plus(self.previous_combo, c[2])
        return target, False, combo

    def _conjugate(
        self, hess: np.ndarray, flows: np.ndarray, aon: np.ndarray
    ) -> tuple[float, float, float]:
        assert self.target is not None  # next() calls it only after a first target
        d_prev = self.target - flows
        den = kl.dot(hess * d_prev, aon - self.target)
        mix = kl.dot(hess * d_prev, aon - flows) / den if den != 0.0 else 0.0
        mix = min(max(mix, 0.0), MAX_CONJUGATE)
        return 1.0 - mix, mix, 0.0

    def _biconjugate(
        self, hess: np.ndarray, flows: np.ndarray, aon: np.ndarray
    ) -> tuple[float, float, float]:
        assert self.target is not None and self.previous is not None  # see next()
        tau = self.step
        d_prev2 = tau * self.target + (1.0 - tau) * self.previous - flows
        d_aon = aon - flows
        d_prev = self.target - flows
        mu_den = kl.dot(hess * d_prev2, self.previous - self.target)
        mu = max(0.0, -kl.dot(hess * d_prev2, d_aon) / mu_den) if mu_den != 0.0 else 0.0
        nu_den = kl.dot(hess * d_prev, d_prev)
        nu = 0.0
        if nu_den != 0.0:
            nu = max(0.0, -kl.dot(hess * d_prev, d_aon) / nu_den + mu * tau / (1.0 - tau))
        b0 = 1.0 / (1.0 + mu + nu)
        return b0, nu * b0, mu * b0

    def accept(self, target: np.ndarray, step: float, is_fw: bool, combo: _Combo) -> None:
        """Remember the direction just taken, its step and its loads."""
        if is_fw:
            self.previous = None
            self.previous_combo = _Combo()
        else:
            self.previous = self.target
            self.previous_combo = self.target_combo
        self.target = target
        self.target_combo = combo
        self.step = step


def warm_up() -> None:
    """Compile (or load from the numba cache) every kernel :func:`assign` uses.

    Call it before timing an assignment so the time is the algorithm's alone.
    """
    ones = np.ones(3)
    net = build_network(
        node_ids=np.arange(3),
        link_from=np.array([0, 1, 0]),
        link_to=np.array([1, 2, 2]),
        capacity=ones,
        fftime=ones,
        alpha=ones,
        beta=ones * 4,
        length=ones,
        toll=ones,
        first_thru_node=0,
        zone_nodes=np.array([0, 2]),
    )
    demand = np.array([[0.0, 5.0], [0.0, 0.0]])
    assign(net, demand, algorithm="bfw", rel_gap=1e-12, max_iter=6)
    _Solver.of(net, demand, net.fftime, n_chunks=2).load(net.fftime)  # the parallel kernel


def _serves(net: Network, demand: np.ndarray, flows: np.ndarray) -> bool:
    """Whether ``flows`` carry exactly ``demand``: net inflow of each node = trips ending there."""
    balance = np.bincount(net.link_to, flows, net.n_nodes) - np.bincount(
        net.link_from, flows, net.n_nodes
    )
    expected = np.zeros(net.n_nodes)
    np.add.at(expected, net.zone_nodes, demand.sum(axis=0) - demand.sum(axis=1))
    return bool(np.abs(balance - expected).max() <= FEASIBLE_TOL * max(1.0, demand.sum()))


def _kept_share(demand: np.ndarray, prior: np.ndarray) -> float:
    """The largest ``r`` with ``r * prior <= demand`` in every cell (0: none).

    Flows that carry ``prior`` scaled by ``r`` carry ``r * prior``; the rest of
    ``demand`` is then non-negative in every cell and can be loaded on its own.
    """
    carried = prior > 0
    if not carried.any():
        return 0.0
    return float(np.min(demand[carried] / prior[carried]))


def _warm_start(
    solver: _Solver,
    initial_flows: np.ndarray,
    initial_demand: np.ndarray | None,
    loads: _Loads,
    initial_mix: RouteMix | None,
) -> tuple[np.ndarray, int, _Combo | None]:
    """Starting flows from a warm start, its all-or-nothing loads (0 or 1) and its mix.

    The mix (the start's loads) is None when the warm start's flows came without one.
    Flows that carry this demand are the start as they are. Flows of another demand
    that say which (``initial_demand``) keep the share :func:`_kept_share` of it: the
    start is those flows scaled by it plus the rest of the demand loaded all-or-nothing
    at their link costs, so it carries exactly this demand and keeps the route split of
    the scaled part. Otherwise the flows only set the link costs of the first load.
    """
    net, demand = solver.net, solver.demand
    init = np.asarray(initial_flows, dtype=np.float64)
    kept = None if initial_mix is None else loads.add_mix(initial_mix)
    if _serves(net, demand, init):
        return init.copy(), 0, kept
    costs = solver.times(init) + solver.fixed
    if initial_demand is not None and _serves(net, initial_demand, init):
        share = _kept_share(demand, initial_demand)
        if share > 0.0:
            rest_demand = np.maximum(demand - share * initial_demand, 0.0)
            rest, _ = replace(solver, demand=rest_demand).load(costs)
            combo = (
                None if kept is None else kept.times(share).plus(loads.add(costs, rest_demand), 1.0)
            )
            return share * init + rest, 1, combo
    flows, _ = solver.load(costs)
    return flows, 1, None if initial_mix is None else loads.add(costs, demand)


def _check_inputs(
    net: Network,
    demand: np.ndarray,
    algorithm: str,
    rel_gap: float,
    max_iter: int,
    factors: dict[str, float],
    initial_flows: np.ndarray | None,
) -> np.ndarray:
    if algorithm not in ALGORITHMS:
        raise UsageError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    if not (np.isfinite(rel_gap) and rel_gap > 0):
        raise UsageError(f"rel_gap {rel_gap} must be a positive number")
    if max_iter < 1:
        raise UsageError(f"max_iter {max_iter} must be >= 1")
    for name, value in factors.items():
        if not np.isfinite(value):
            raise UsageError(f"{name} {value} must be a finite number")
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    if demand.shape != (net.n_zones, net.n_zones):
        raise UsageError(
            f"demand has shape {demand.shape}; the network has {net.n_zones} zones, "
            f"so it must be ({net.n_zones}, {net.n_zones})"
        )
    if not (np.isfinite(demand).all() and (demand >= 0).all()):
        raise UsageError("demand must be finite and >= 0 everywhere")
    if initial_flows is not None:
        init = np.asarray(initial_flows, dtype=np.float64)
        if init.shape != (net.n_links,) or not (np.isfinite(init).all() and (init >= 0).all()):
            raise UsageError(f"initial_flows must be {net.n_links} finite flows >= 0")
    return demand


def assign(
    net: Network,
    demand: np.ndarray,
    *,
    algorithm: str = "bfw",
    rel_gap: float = 1e-4,
    max_iter: int = 1000,
    toll_factor: float = 0.0,
    distance_factor: float = 0.0,
    initial_flows: np.ndarray | None = None,
    initial_demand: np.ndarray | None = None,
    callback: Callable[[int, float], object] | None = None,
    keep_trees: bool = False,
    keep_mix: bool = False,
    initial_mix: RouteMix | None = None,
) -> AssignmentResult:
    """Find the static user equilibrium of ``demand`` on ``net``.

    Parameters
    ----------
    net
        The road network.
    demand
        ``(n_zones, n_zones)`` OD flows in zone order (>= 0).
    algorithm
        ``"fw"`` (Frank–Wolfe), ``"cfw"`` (conjugate FW) or ``"bfw"`` (bi-conjugate FW).
    rel_gap
        Stop when the relative gap ``(TSTT - SPTT) / TSTT`` is at or below this.
    max_iter
        Stop after this many all-or-nothing loads.
    toll_factor, distance_factor
        Minutes per unit of toll and of length in the generalised cost.
    initial_flows
        Warm start. Flows that carry exactly this demand (e.g. an earlier assignment of
        it) are the starting point; other flows (another year's demand, a changed
        network) only set the link costs of the first all-or-nothing load. Default:
        all-or-nothing at free-flow cost.
    initial_demand
        The demand ``initial_flows`` carry, when they are of another demand (last year's
        or a demand loop's previous round). The start then keeps them scaled by the
        largest share ``r`` with ``r * initial_demand <= demand`` in every cell and loads
        only the rest all-or-nothing: a demand that moved a little starts near its
        equilibrium instead of at all-or-nothing flows. Ignored unless ``initial_flows``
        carry it (same check as above) and ``r > 0``.
    callback
        Called as ``callback(iteration, rel_gap)`` after each gap measurement.
    keep_trees
        Return the shortest-path trees of the last load (:attr:`AssignmentResult.trees`).
    keep_mix
        Return the flows as a mix of all-or-nothing loads (:attr:`AssignmentResult.mix`,
        :class:`RouteMix`: the route split a dynamic loading starts from).
    initial_mix
        With ``keep_mix``, the mix of ``initial_flows`` (an earlier result's ``mix``);
        without it a warm start that keeps those flows has no mix.

    Returns
    -------
    AssignmentResult
        Flows, costs and times at the last iterate, with its gap, TSTT and objective.

    Raises
    ------
    UsageError
        A parameter or the demand shape is not allowed.
    GeodataError
        Some OD pair with demand has no path.

    Examples
    --------
    >>> net = network_from_tntp("SiouxFalls_net.tntp")  # doctest: +SKIP
    >>> res = assign(net, read_trips("SiouxFalls_trips.tntp"), rel_gap=1e-4)  # doctest: +SKIP
    """
    start = time.perf_counter()
    factors = {"toll_factor": toll_factor, "distance_factor": distance_factor}
    demand = _check_inputs(net, demand, algorithm, rel_gap, max_iter, factors, initial_flows)
    if initial_demand is not None and np.shape(initial_demand) != demand.shape:
        raise UsageError(f"initial_demand must have the demand's shape {demand.shape}")
    fixed = toll_factor * net.toll + distance_factor * net.length
    parallel = net.n_zones * net.n_links >= PARALLEL_MIN_WORK
    solver = _Solver.of(net, demand, fixed, PARALLEL_CHUNKS if parallel else 1)
    loads = _Loads()
    combo: _Combo | None
    if initial_flows is None:
        flows, _ = solver.load(net.fftime + fixed)
        combo = loads.add(net.fftime + fixed, demand) if keep_mix else None
        iterations = 1
    else:
        prior = None
        if initial_demand is not None:
            prior = np.ascontiguousarray(initial_demand, dtype=np.float64)
        flows, iterations, combo = _warm_start(
            solver, initial_flows, prior, loads, initial_mix if keep_mix else None
        )
    directions = _Directions(algorithm)
    history: list[float] = []
    trees = np.empty((net.n_zones, net.n_nodes), dtype=np.int32) if keep_trees else None
    while True:
        times = solver.times(flows)
        costs = times + fixed
        aon, sptt = solver.load(costs, trees)
        iterations += 1
        tstt = float(kl.dot(flows, costs))
        gap = (tstt - sptt) / tstt if tstt > 0 else 0.0
        history.append(gap)
        if callback is not None:
            callback(iterations, gap)
        if gap <= rel_gap or iterations >= max_iter:
            break
        aon_combo = loads.add(costs, demand) if keep_mix else _Combo()
        target, is_fw, target_combo = directions.next(solver, flows, aon, aon_combo)
        step = solver.line_search(flows, target)
        if step == 0.0 and not is_fw:
            target, is_fw, target_combo = aon, True, aon_combo
            step = solver.line_search(flows, target)
        if step == 0.0:
            break  # no descent even towards the all-or-nothing flows: numerically converged
        directions.accept(target, step, is_fw, target_combo)
        flows = flows + step * (target - flows)
        if combo is not None:
            combo = combo.plus(target_combo.plus(combo, -1.0), step)
    log.info(
        "assignment %s: %d iterations, relative gap %.2e (target %.0e) in %.2f s",
        algorithm,
        iterations,
        gap,
        rel_gap,
        time.perf_counter() - start,
    )
    return AssignmentResult(
        flows=flows,
        costs=costs,
        times=times,
        iterations=iterations,
        rel_gap=gap,
        tstt=tstt,
        objective=solver.objective(flows),
        seconds=time.perf_counter() - start,
        gap_history=history,
        trees=None if trees is None else solver.graph.expand_trees(trees, net.link_to),
        mix=loads.mix(combo) if keep_mix and combo is not None else None,
    )
