"""Traveller information: which drivers are informed, and the turns they may take.

Informed drivers re-route en route: after each link they take the next link of the
currently quickest path to their destination (next-hop tables recomputed in the
loading, :func:`sim.kernels.dnl.simulate`). This module picks them and gives the
loading every turn they might need.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.traffic.dynamic_network import DynamicNetwork, Vehicles


def informed_destinations(
    net: DynamicNetwork, veh: Vehicles, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which vehicles are informed, and their destinations, for the kernel.

    A vehicle is informed when the CRC-32 of its id, over 2³², is below ``share``: the
    same vehicles in every loading (route swapping keeps ids) and every run, and a
    larger share informs a superset. On a city's network (``net.zone_nodes``) only
    vehicles whose route ends at a zone centroid are informed: a car searching for
    parking drives its cruise, and a guided one its path to the car park (the end of
    either is no destination to re-route to), and the quickest times are computed for
    the zones alone (on the default city 133 destinations instead of ~970).
    Returns ``dest_of`` (index into ``dest_nodes`` of each informed vehicle's
    destination node, −1 for the others) and the destination nodes.
    """
    n = len(veh.ids)
    if share <= 0.0 or n == 0:
        return np.full(n, -1, np.int64), np.zeros(0, np.int64)
    draw = np.array([zlib.crc32(i.encode()) for i in veh.ids], dtype=np.float64) / 2.0**32
    dest = net.link_to[veh.route_links[veh.route_start[1:] - 1]]
    informed = draw < share
    if net.zone_nodes > 0:  # a city: only a trip to its zone is re-routed (see above)
        informed &= dest < net.zone_nodes
    nodes, index = np.unique(dest[informed], return_inverse=True)
    dest_of = np.full(n, -1, np.int64)
    dest_of[informed] = index
    return dest_of, nodes.astype(np.int64)


def through_turns(net: DynamicNetwork, veh: Vehicles, turns: np.ndarray) -> np.ndarray:
    """Codes ``in * n_links + out`` of the turns, U-turns aside, at through nodes.

    A node is a through node unless routes only start or end there (a zone centroid):
    informed drivers never cut through a zone. ``turns`` are the codes of the turns
    the routes make (a node some route turns at is passed).
    """
    r = veh.route_links
    ends = np.zeros(net.n_nodes, dtype=bool)
    ends[net.link_from[r[veh.route_start[:-1]]]] = True
    ends[net.link_to[r[veh.route_start[1:] - 1]]] = True
    passed = ~ends
    passed[net.link_to[turns // len(net.link_ids)]] = True
    order = np.argsort(net.link_from, kind="stable")
    start = np.searchsorted(net.link_from[order], np.arange(net.n_nodes + 1))
    ins = np.flatnonzero(passed[net.link_to])
    n_out = start[net.link_to[ins] + 1] - start[net.link_to[ins]]
    a = np.repeat(ins, n_out)
    first = np.repeat(start[net.link_to[ins]] - np.cumsum(n_out) + n_out, n_out)
    b = order[np.arange(len(a)) + first]
    keep = net.link_to[b] != net.link_from[a]
    return a[keep].astype(np.int64) * len(net.link_ids) + b[keep]
