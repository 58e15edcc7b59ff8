"""Vehicles from an OD matrix: whole counts, shortest routes, seeded departures."""

from __future__ import annotations

import numpy as np

from sim.errors import InputDataError
from sim.kernels.paths import shortest_paths
from sim.kernels.routes import gather_routes, trace_paths
from sim.traffic.dynamic import Vehicles
from sim.traffic.network import Network


def whole_counts(trips: np.ndarray) -> np.ndarray:
    """Whole vehicles per OD cell: floors plus the largest remainders up to the total."""
    flat = np.asarray(trips, dtype=float).ravel()
    count = np.floor(flat).astype(np.int64)
    short = round(float(flat.sum())) - int(count.sum())
    if short > 0:
        count[np.argsort(-(flat - count), kind="stable")[:short]] += 1
    return count.reshape(np.shape(trips))


def od_vehicles(
    net: Network,
    trips: np.ndarray,
    t0: float,
    t1: float,
    seed: int,
    source: str = "trips",
    cost: np.ndarray | None = None,
) -> Vehicles:
    """Vehicles for a zone-to-zone trip table on a static network's shortest paths.

    Parameters
    ----------
    net
        The network (its CSR index, free-flow times and zone centroids).
    trips
        ``(n_zones, n_zones)`` vehicles per period; made whole by :func:`whole_counts`.
    t0, t1
        Departures are spread evenly over ``t0..t1`` s.
    seed
        Seed of the random order in which the vehicles depart.
    source
        What the trips came from, for error messages.
    cost
        Link costs the routes minimise (default the free-flow times), e.g. the link
        times of a static equilibrium.

    Returns
    -------
    Vehicles
        Ids ``"<origin>-<destination>-<k>"`` (zones numbered from 1); link indices of
        ``net``. Intrazonal trips are left out.
    """
    count = whole_counts(trips)
    n = net.n_zones
    weight = net.fftime if cost is None else np.ascontiguousarray(cost, dtype=np.float64)
    _, pred = shortest_paths(
        net.out_start, net.out_links, net.link_to, weight, net.zone_nodes, net.first_thru_node
    )
    cells = np.flatnonzero(count)
    cells = cells[cells // n != cells % n]  # intrazonal trips stay off the network
    orig, dest = cells // n, cells % n
    p_start, p_links = trace_paths(
        pred, net.link_from.astype(np.int64), net.zone_nodes.astype(np.int64), orig, dest
    )
    if (p_start < 0).any():
        i = int(np.flatnonzero(p_start[1:] < 0)[0])
        raise InputDataError(f"{source}: zone {dest[i] + 1} cannot be reached from {orig[i] + 1}")
    cell_of = np.repeat(np.arange(len(cells)), count.ravel()[cells])  # vehicle -> OD cell
    order = np.random.default_rng(seed).permutation(len(cell_of))
    n_veh = len(cell_of)
    depart = np.linspace(t0, t1, n_veh) if n_veh > 1 else np.full(n_veh, float(t0))
    o1, d1 = (orig + 1).tolist(), (dest + 1).tolist()
    ids = [
        f"{o1[c]}-{d1[c]}-{i}" for c, i in zip(cell_of[order].tolist(), order.tolist(), strict=True)
    ]
    route_start, route_links = gather_routes(p_start, p_links, cell_of[order])
    return Vehicles(ids, np.asarray(depart, dtype=float), route_start, route_links)
