"""Vehicles from an OD matrix: whole counts, shortest routes, seeded departures."""

from __future__ import annotations

import numpy as np

from sim.errors import InputDataError
from sim.kernels.paths import shortest_paths
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
    routes: list[list[int]] = []
    ods: list[tuple[int, int]] = []
    for cell in np.flatnonzero(count):
        o, d = divmod(int(cell), n)
        if o == d:
            continue
        path, node = [], int(net.zone_nodes[d])
        while node != net.zone_nodes[o]:
            link = int(pred[o, node])
            if link < 0:
                raise InputDataError(f"{source}: zone {d + 1} cannot be reached from {o + 1}")
            path.append(link)
            node = int(net.link_from[link])
        routes += [path[::-1]] * int(count.flat[cell])
        ods += [(o, d)] * int(count.flat[cell])
    order = np.random.default_rng(seed).permutation(len(routes))
    depart = np.linspace(t0, t1, len(routes)) if len(routes) > 1 else np.full(len(routes), t0)
    ids = [f"{ods[i][0] + 1}-{ods[i][1] + 1}-{i}" for i in order]
    return Vehicles.from_routes(ids, depart, [routes[i] for i in order])
