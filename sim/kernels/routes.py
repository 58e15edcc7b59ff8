"""Routes from shortest-path trees: the link chains of origin-destination pairs (numba)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def trace_paths(pred, link_from, zone_nodes, orig, dest):
    """The links from zone ``orig[i]`` to zone ``dest[i]`` along the predecessor trees.

    Parameters
    ----------
    pred
        ``(n_origins, n_nodes)`` predecessor link of each node in the tree of each origin
        zone (negative: not reached).
    link_from
        Start node of each link.
    zone_nodes
        Centroid node of each zone.
    orig, dest
        Zone indices of the pairs.

    Returns
    -------
    start, links
        CSR of the paths in travel order; ``start[i + 1] == -1`` marks the first pair
        whose destination cannot be reached (the arrays are then unusable).
    """
    n = len(orig)
    start = np.zeros(n + 1, np.int64)
    for i in range(n):
        o, node, k = orig[i], zone_nodes[dest[i]], 0
        while node != zone_nodes[o]:
            link = pred[o, node]
            if link < 0:
                start[i + 1] = -1
                return start, np.zeros(0, np.int64)
            node = link_from[link]
            k += 1
        start[i + 1] = start[i] + k
    links = np.empty(start[n], np.int64)
    for i in range(n):
        o, node, k = orig[i], zone_nodes[dest[i]], start[i + 1]
        while node != zone_nodes[o]:
            k -= 1
            links[k] = pred[o, node]
            node = link_from[links[k]]
    return start, links


@njit(cache=True)
def gather_routes(start, links, which):
    """The CSR of the paths ``which`` (indices into ``start``), one after the other."""
    out_start = np.zeros(len(which) + 1, np.int64)
    for i in range(len(which)):
        out_start[i + 1] = out_start[i] + start[which[i] + 1] - start[which[i]]
    out = np.empty(out_start[-1], np.int64)
    for i in range(len(which)):
        out[out_start[i] : out_start[i + 1]] = links[start[which[i]] : start[which[i] + 1]]
    return out_start, out


@njit(cache=True)
def route_turns(route_start, route_links, link_from, link_to, out_start, out_links):
    """The turns routes make, and the first break in a route's chain of links.

    Parameters
    ----------
    route_start, route_links
        CSR of the vehicles' routes (int64; ``route_start`` has ``n_vehicles + 1``
        entries).
    link_from, link_to
        Start and end node of each link (int64, ``(n_links,)``).
    out_start, out_links
        CSR of the links leaving each node, ascending within a node (int64).

    Returns
    -------
    bad, codes
        ``bad``: the index into ``route_links`` of the first link whose end is not the
        start of the vehicle's next link (−1: every route is a chain); ``codes``: the
        distinct turns ``in * n_links + out`` that routes make, ascending (only when
        ``bad`` is −1). One pass and a mark per (link, link leaving its end node), not
        a sort of every route entry: on a million vehicles the routes hold ~66 M links.
    """
    n_links = len(link_to)
    turn_start = np.zeros(n_links + 1, np.int64)
    for a in range(n_links):
        y = link_to[a]
        turn_start[a + 1] = turn_start[a] + out_start[y + 1] - out_start[y]
    mark = np.zeros(turn_start[n_links], np.bool_)
    for v in range(len(route_start) - 1):
        for k in range(route_start[v], route_start[v + 1] - 1):
            a, b = route_links[k], route_links[k + 1]
            y = link_to[a]
            if y != link_from[b]:
                return k, np.zeros(0, np.int64)
            j = out_start[y]
            while out_links[j] != b:
                j += 1
            mark[turn_start[a] + j - out_start[y]] = True
    codes = np.empty(int(mark.sum()), np.int64)
    n = 0
    for a in range(n_links):
        y = link_to[a]
        for j in range(out_start[y], out_start[y + 1]):
            if mark[turn_start[a] + j - out_start[y]]:
                codes[n] = a * n_links + out_links[j]
                n += 1
    return -1, codes
