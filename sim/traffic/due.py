"""Dynamic user equilibrium by iterative route swapping on time-dependent link times.

Each iteration loads the vehicles (:class:`~sim.traffic.dynamic.TrafficControl`),
reads every link's travel time per 5-minute entry bin from the loading
(:func:`link_times`), finds every vehicle's best route for its departure on those
times (time-dependent Dijkstra, :mod:`sim.kernels.tdsp`, one tree per origin and
:data:`GROUP_S` departure group) and moves a shrinking share ``1 / (k + 1)`` of the
vehicles whose experienced time is worse than their best onto it. The relative gap
``Σ max(experienced − best, 0) / Σ best`` of a loading is what :func:`equilibrate`
reports and stops on. The first routes are a warm start: last year's routes after
its last swap for vehicles of the same OD pair and departure group
(:func:`inherited_routes`), the static equilibrium's route split for the others
(:func:`mixed_routes`), or else the shortest paths on given link times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sim.errors import RunError
from sim.kernels import tdsp
from sim.mobility.departure import N_BINS, WARMUP_BINS
from sim.traffic.assignment import RouteMix
from sim.traffic.dynamic import BIN_S, GridlockError, LoadResult, TrafficControl, Vehicles
from sim.traffic.network import Network
from sim.traffic.od_vehicles import whole_counts
from sim.traffic.parking_plan import ParkingPlan, ParkingSearch

#: Vehicles leaving the same origin within this many seconds share one route tree
#: (the default city: 133 origins x 8 groups of the AM period, ~1,100 trees a round).
GROUP_S = 1800.0
#: A vehicle swaps only if its time is worse than its best by more than this share.
SWAP_TOLERANCE = 0.02
#: Seconds of the warm-up before the AM period: the AM period's loading starts then.
WARMUP_S = WARMUP_BINS * BIN_S
#: Links per new route the route buffer is first sized for (the default city's routes
#: run to ~100 links of its OSM network; a short guess costs one more pass).
ROUTE_LINKS_GUESS = 128
#: Loadings retried after a gridlock, and the time (s) added to its links' times.
GRIDLOCK_RETRIES, GRIDLOCK_PENALTY_S = 2, 1800.0

log = logging.getLogger(__name__)


@dataclass
class Trips:
    """Vehicles to load: origin and destination zone (indices) and departure (s), sorted."""

    origin: np.ndarray
    dest: np.ndarray
    depart: np.ndarray

    def __len__(self) -> int:
        return len(self.depart)


@dataclass
class Equilibrium:
    """The last loading of a route-swapping run, its routes and gap per iteration."""

    load: LoadResult
    vehicles: Vehicles
    gaps: list[float] = field(default_factory=list)
    #: Loadings that gridlocked and were retried around the gridlock's links.
    gridlock_retries: int = 0
    #: The parking of the last loading (None without a parking search).
    parking: ParkingPlan | None = None
    #: The routes after the last loading's swap: the next loading's (e.g. next year's).
    swapped: Vehicles | None = None

    @property
    def gap(self) -> float:
        """Relative gap of the last loading."""
        return self.gaps[-1] if self.gaps else float("nan")


def link_times(result: LoadResult, free_s: np.ndarray) -> np.ndarray:
    """Travel time (s) of each link per 5-minute entry bin of the loading, at least free flow.

    A bin's time is the mean time on the link of the vehicles that entered it in the bin
    (the route trees read it as the time of a vehicle entering then); one still on the
    link when the loading ended counts with its time so far from mid-bin. A bin in
    which nobody entered but vehicles were on the link keeps the time of the bin before
    and grows by the bin (they have waited that long at least); a bin without traffic
    is at free flow.
    """
    n_in = result.bin_in.astype(float)
    mid = (np.arange(n_in.shape[1]) + 0.5) * result.bin_s
    on = n_in - result.entry_out  # entered in the bin, not left by the end
    spent = result.entry_tt + on * np.maximum(result.sim_s - mid, 0.0)[None, :]
    tt = np.divide(spent, n_in, out=np.zeros(n_in.shape), where=n_in > 0)
    held = np.cumsum(result.bin_in - result.bin_out, axis=1) > 0
    stuck = (n_in == 0) & ((result.bin_queue > 0) | held)
    for b in np.flatnonzero(stuck.any(axis=0)):
        rows = stuck[:, b]
        before = tt[rows, b - 1] if b > 0 else free_s[rows]
        tt[rows, b] = np.maximum(before, free_s[rows]) + result.bin_s * (b > 0)
    return np.maximum(tt, free_s[:, None])


@dataclass
class BestRoutes:
    """Best times of the vehicles and the new routes of those that were asked to swap.

    ``start``/``links`` are a CSR in the order of the route trees; vehicle ``i``'s new
    route is entry ``index[i]`` (empty where it was not asked or cannot reach).
    """

    best_s: np.ndarray
    start: np.ndarray
    links: np.ndarray
    index: np.ndarray

    def has_route(self) -> np.ndarray:
        """Per vehicle: a new route was found."""
        return np.diff(self.start)[self.index] > 0

    def apply(self, vehicles: Vehicles, take: np.ndarray) -> Vehicles:
        """``vehicles`` with the new route where ``take``, the old one elsewhere."""
        start, links = tdsp.merge_routes(
            vehicles.route_start, vehicles.route_links, self.start, self.links, self.index, take
        )
        return Vehicles(vehicles.ids, vehicles.depart, start, links)


def origin_wait(
    load: LoadResult, vehicles: Vehicles, net: Network, capacity_vph: np.ndarray
) -> np.ndarray:
    """Wait (s) at the origin per first link × bin: the queue of vehicles not yet let in.

    Only links leaving a zone centroid (which no route passes through, so every vehicle
    entering them comes from the origin): the backlog at mid-bin (departures wanting the
    link less vehicles it took in) over the link's capacity.
    """
    n_links, n_bins = load.bin_in.shape
    wait = np.zeros((n_links, n_bins))
    if not len(vehicles.depart) or net.first_thru_node == 0:
        return wait
    first = vehicles.route_links[vehicles.route_start[:-1]]
    b = np.minimum((vehicles.depart // load.bin_s).astype(np.int64), n_bins - 1)
    wanted = np.zeros((n_links, n_bins))
    np.add.at(wanted, (first, b), 1.0)
    rows = np.flatnonzero((net.link_from < net.first_thru_node) & wanted.any(axis=1))
    mid = lambda x: np.cumsum(x, axis=1) - x / 2.0  # noqa: E731
    backlog = np.maximum(mid(wanted[rows]) - mid(load.bin_in[rows].astype(float)), 0.0)
    wait[rows] = backlog / (capacity_vph[rows, None] / 3600.0)
    return wait


def best_routes(
    net: Network, trips: Trips, tt: np.ndarray, swap: np.ndarray, bin_s: float = BIN_S
) -> BestRoutes:
    """Best time of every vehicle on link times ``tt`` and best routes of those in ``swap``.

    With one time bin (times that do not change over the period) every origin needs
    only one tree.
    """
    if tt.shape[1] == 1:
        group = np.zeros(len(trips), dtype=np.int64)
    else:
        group = np.floor(trips.depart / GROUP_S).astype(np.int64)
    order = np.lexsort((group, trips.origin))
    key = trips.origin[order] * (int(group.max(initial=0)) + 1) + group[order]
    cut = np.flatnonzero(np.diff(key)) + 1
    group_start = np.concatenate([[0], cut, [len(order)]]).astype(np.int64)
    group_t0 = (group[order][group_start[:-1]] + 0.5) * GROUP_S if len(order) else np.zeros(0)
    if tt.shape[1] == 1:  # any start time: the same tree
        group_t0[:] = 0.0
    best = np.zeros(len(order))
    new_start = np.zeros(len(order) + 1, dtype=np.int64)
    size = max(ROUTE_LINKS_GUESS * int(swap.sum()), 1024)
    by_bin = np.ascontiguousarray(tt.T, dtype=np.float64)
    while True:  # a second pass only if the guess was short, with the length it needs
        links = np.empty(size, dtype=np.int64)
        used = tdsp.swap_routes(
            net.out_start, net.out_links, net.link_from, net.link_to, int(net.first_thru_node),
            net.n_nodes, by_bin, float(bin_s), net.zone_nodes,
            trips.origin[order], trips.dest[order], group_start, group_t0,
            swap[order].astype(np.int8), best, new_start, links, *net.street_chains,
        )  # fmt: skip
        if used >= 0:
            break
        size = -used
    index = np.empty(len(order), dtype=np.int64)
    index[order] = np.arange(len(order))
    return BestRoutes(best[index], new_start, links[:used], index)


def routed_vehicles(
    net: Network, trips: Trips, times_s: np.ndarray, vehicles: Vehicles | None = None,
    which: np.ndarray | None = None,
) -> Vehicles:  # fmt: skip
    """Vehicles on their best routes for link times ``times_s`` (per link, or per link × bin).

    With ``vehicles`` and ``which`` (a mask), only those vehicles are routed and the
    others keep their route in ``vehicles``.
    """
    tt = times_s if times_s.ndim == 2 else times_s[:, None]
    if vehicles is None:
        vehicles = Vehicles([str(i) for i in range(len(trips))], trips.depart,
                            np.zeros(len(trips) + 1, np.int64), np.zeros(0, np.int64))  # fmt: skip
    if which is None:
        which = np.ones(len(trips), dtype=bool)
    picked = np.flatnonzero(which)
    part = Trips(trips.origin[picked], trips.dest[picked], trips.depart[picked])
    routes = best_routes(net, part, tt, np.ones(len(picked), dtype=bool))
    if not routes.has_route().all():
        lost = int((~routes.has_route()).sum())
        raise RunError(f"{lost} vehicles cannot reach their destination on the road network")
    index = np.zeros(len(trips), dtype=np.int64)
    index[picked] = routes.index
    start, links = tdsp.merge_routes(
        vehicles.route_start, vehicles.route_links, routes.start, routes.links, index, which
    )
    return Vehicles(vehicles.ids, vehicles.depart, start, links)


def inherited_routes(
    trips: Trips, before: Trips, routes: Vehicles, rng: np.random.Generator
) -> tuple[np.ndarray, Vehicles]:
    """Routes of earlier vehicles handed on to ``trips`` of the same OD pair and departure.

    Each vehicle takes the route of a seeded draw among ``before``'s vehicles (routes
    ``routes``) of its origin, destination and :data:`GROUP_S` departure group, so the
    earlier loading's route split (e.g. last year's, after its route swap) goes on.
    Returns the mask of the vehicles that found such a vehicle, and ``trips``' vehicles
    with those routes (the others' routes empty).
    """
    n_groups = (
        int(max(trips.depart.max(initial=0.0), before.depart.max(initial=0.0)) // GROUP_S) + 1
    )
    n_zones = int(max(trips.origin.max(initial=0), before.origin.max(initial=0),
                      trips.dest.max(initial=0), before.dest.max(initial=0))) + 1  # fmt: skip

    def key(t: Trips) -> np.ndarray:
        group = (t.depart // GROUP_S).astype(np.int64)
        return (t.origin * n_zones + t.dest) * n_groups + group

    old = key(before)
    order = np.argsort(old, kind="stable")
    new = key(trips)
    lo = np.searchsorted(old[order], new, side="left")
    count = np.searchsorted(old[order], new, side="right") - lo
    found = count > 0
    draw = np.minimum(lo + (rng.random(len(trips)) * count).astype(np.int64), len(old) - 1)
    pick = order[draw] if len(old) else np.zeros(len(trips), np.int64)
    empty = np.zeros(len(trips) + 1, np.int64)
    start, links = tdsp.merge_routes(
        empty, np.zeros(0, np.int64), routes.route_start, routes.route_links,
        np.where(found, pick, 0), found,
    )  # fmt: skip
    return found, Vehicles([str(i) for i in range(len(trips))], trips.depart, start, links)


def mixed_routes(
    net: Network, trips: Trips, mix: RouteMix, times_s: np.ndarray, rng: np.random.Generator,
    vehicles: Vehicles | None = None, which: np.ndarray | None = None,
) -> Vehicles:  # fmt: skip
    """Vehicles spread over the routes of a static equilibrium's loads (its route split).

    Each vehicle draws one load of ``mix`` by its OD pair's shares
    (:meth:`~sim.traffic.assignment.RouteMix.shares`) and takes that load's shortest
    path (its link costs, minutes, in ``net``'s link order): the vehicles of a pair
    reproduce the equilibrium's split of the pair over its routes. A vehicle of a pair
    no load carries takes its best route on ``times_s`` (link seconds). With ``vehicles``
    and ``which``, only those vehicles are routed; the others keep their routes.
    """
    shares = mix.shares()[:, trips.origin, trips.dest]  # (n_loads, n_vehicles)
    cum = np.cumsum(shares, axis=0)
    carried = cum[-1] > 0
    u = rng.random(len(trips)) * cum[-1]
    load = np.where(carried, (cum < u[None, :]).sum(axis=0), -1)
    load = np.minimum(load, len(mix.costs) - 1)
    every = np.ones(len(trips), dtype=bool) if which is None else which
    vehicles = routed_vehicles(net, trips, times_s, vehicles, every & (load < 0))
    for k in np.unique(load[every & (load >= 0)]):
        vehicles = routed_vehicles(net, trips, mix.costs[k] * 60.0, vehicles, every & (load == k))
    return vehicles


def equilibrate(
    net: Network,
    control: TrafficControl,
    trips: Trips,
    times_s: np.ndarray,
    *,
    gap: float,
    max_iter: int,
    seed: int,
    link_cost_s: np.ndarray | None = None,
    parking: ParkingSearch | None = None,
    horizon_s: float | None = None,
    first_routes: Vehicles | None = None,
) -> Equilibrium:
    """Swap routes until the loading's relative gap is at most ``gap`` or ``max_iter`` loadings.

    The first routes are the best ones on ``times_s`` (link times, per link or per link ×
    bin: the warm start); ``control`` loads them on the dynamic twin of ``net`` (same
    link order). The draws of who swaps come from ``seed``. ``link_cost_s`` (per link,
    seconds) is added to every link's time in the route choice and the gap: tolls and
    distance at the value of time (a charge holds for the whole period). A loading that
    gridlocks is
    retried up to :data:`GRIDLOCK_RETRIES` times with the links of its cycle made
    :data:`GRIDLOCK_PENALTY_S` slower and the vehicles routed over them moved to their
    best route avoiding them.
    With ``parking`` each loading's vehicles park first
    (:meth:`~sim.traffic.parking_plan.ParkingSearch.plan` on the last loading's
    arrivals: searchers drive cruise tails, guided cars go on to a car park); the time
    a vehicle experiences is to its destination zone (the search is not route choice).
    ``horizon_s`` ends each loading (default: 4 h after the last departure); a vehicle
    still on its way then has experienced the time until the horizon.
    ``first_routes`` (e.g. :func:`mixed_routes`, the static equilibrium's split) are
    the first loading's routes instead of the best ones on ``times_s``.

    Raises
    ------
    GridlockError
        The last retry gridlocked too.
    """
    rng = np.random.default_rng(seed)
    free_s = net.fftime * 60.0
    extra = np.zeros(len(free_s)) if link_cost_s is None else link_cost_s
    tt = np.ascontiguousarray(times_s if times_s.ndim == 2 else times_s[:, None], dtype=float)
    vehicles = (
        routed_vehicles(net, trips, tt + extra[:, None]) if first_routes is None else first_routes
    )
    gaps: list[float] = []
    retries = 0
    plan, reached = None, None
    for _ in range(max_iter + GRIDLOCK_RETRIES):
        if parking is not None:  # parking on the last loading's arrivals: cruise tails
            plan = parking.plan(vehicles, reached)
        try:
            if plan is None:
                load = control.run(vehicles, horizon_s)
            else:
                load = control.run(plan.vehicles, horizon_s, capacity_factor=plan.capacity_factor)
        except GridlockError as err:
            retries += 1
            if retries > GRIDLOCK_RETRIES:
                raise
            vehicles, tt = _avoid(net, control, trips, vehicles, tt, err)
            continue
        tt = link_times(load, np.maximum(free_s, control.dt)) + extra[:, None]
        tt += origin_wait(load, vehicles, net, control.net.capacity_vph)
        reached = load.arrive if plan is None else plan.destination_arrivals(load)
        experienced = np.where(np.isnan(reached), load.sim_s, reached) - trips.depart
        if link_cost_s is not None:
            experienced += np.add.reduceat(extra[vehicles.route_links], vehicles.route_start[:-1])
        draw = rng.random(len(trips)) < 1.0 / (len(gaps) + 2)
        routes = best_routes(net, trips, tt, draw)
        worse = experienced - routes.best_s
        gaps.append(float(np.maximum(worse, 0.0).sum() / max(routes.best_s.sum(), 1e-9)))
        take = draw & (worse > SWAP_TOLERANCE * routes.best_s) & routes.has_route()
        swapped = routes.apply(vehicles, take)
        if gaps[-1] <= gap or len(gaps) == max_iter:
            return Equilibrium(load, vehicles, gaps, retries, plan, swapped)
        vehicles = swapped
    raise AssertionError("unreachable: the last round returns or raises")


def _avoid(
    net: Network,
    control: TrafficControl,
    trips: Trips,
    vehicles: Vehicles,
    tt: np.ndarray,
    err: GridlockError,
) -> tuple[Vehicles, np.ndarray]:
    """Vehicles routed over a gridlock's cycle moved to their best route around it."""
    index = {name: i for i, name in enumerate(control.net.link_ids)}
    cycle = np.array([index[name] for name in err.cycle or err.links], dtype=np.int64)
    log.info("gridlock on %d links: rerouting around them and loading again", len(cycle))
    tt = tt.copy()
    tt[cycle] += GRIDLOCK_PENALTY_S
    on_cycle = np.zeros(len(tt), dtype=bool)
    on_cycle[cycle] = True
    owner = np.repeat(np.arange(len(trips)), np.diff(vehicles.route_start))
    move = np.zeros(len(trips), dtype=bool)
    move[owner[on_cycle[vehicles.route_links]]] = True
    routes = best_routes(net, trips, tt, move)
    return routes.apply(vehicles, move & routes.has_route()), tt


def period_trips(
    origin: np.ndarray,
    dest: np.ndarray,
    bins: np.ndarray,
    extra_bins: np.ndarray,
    rng: np.random.Generator,
    bin_s: float = BIN_S,
) -> Trips:
    """The AM period's vehicles: trips by departure bin plus other vehicles per OD and bin.

    ``origin``/``dest``/``bins`` are zone indices and 5-minute departure bins of the car
    trips (intrazonal ones are left out; a bin below 0 is one of the warm-up's,
    :mod:`sim.mobility.departure`); ``extra_bins`` ``(zones, zones, N_BINS)`` is the AM
    period's other vehicles per OD and bin (through traffic, freight in PCU), made whole
    per OD by largest remainders and spread over the OD's bins by :func:`spread_bins`.
    Every vehicle leaves at a seeded uniform time inside its bin, on the loading's clock:
    t = 0 at the start of the warm-up (:data:`WARMUP_S` before the AM period).
    """
    if extra_bins.shape[2] != N_BINS or (len(bins) and int(bins.min()) < -WARMUP_BINS):
        raise ValueError(f"bins must be AM bins or warm-up bins >= {-WARMUP_BINS}")
    per_od = whole_counts(extra_bins.sum(axis=2))
    per_od[np.diag_indices_from(per_od)] = 0
    eo, ed = np.nonzero(per_od)
    cell, eb = spread_bins(extra_bins[eo, ed], per_od[eo, ed], rng)
    keep = origin != dest
    o = np.concatenate([origin[keep], eo[cell]]).astype(np.int64)
    d = np.concatenate([dest[keep], ed[cell]]).astype(np.int64)
    b = np.concatenate([bins[keep], eb]).astype(np.int64) + WARMUP_BINS
    depart = (b + rng.random(len(o))) * bin_s
    order = np.argsort(depart, kind="stable")
    return Trips(o[order], d[order], depart[order])


def spread_bins(
    x: np.ndarray, totals: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row and bin of each of ``totals[r]`` vehicles spread over row ``r`` of ``x``'s bins.

    Systematic sampling on each row's shares: vehicle ``i`` of ``k`` takes the bin where
    the row's cumulative share passes ``(i + u) / k``, ``u`` a seeded uniform per row. A
    bin gets its share of the row's vehicles, rounded up or down, and a row of a few
    vehicles over many even bins puts them anywhere in the period (largest remainders
    per row put every such row's vehicles in its first bins: most of the default city's
    19,400 through and freight vehicles, over 9,500 ODs of one or two, left at
    06:00-06:05).
    """
    row = np.repeat(np.arange(len(totals)), totals)
    if not len(row):
        return row, row.copy()
    first = np.cumsum(totals) - totals
    at = (np.arange(len(row)) - first[row] + rng.random(len(totals))[row]) / totals[row]
    cdf = np.cumsum(x, axis=1)
    cdf /= np.maximum(cdf[:, -1:], 1e-300)
    b = (cdf[row] <= at[:, None]).sum(axis=1)
    return row, np.minimum(b, x.shape[1] - 1)
