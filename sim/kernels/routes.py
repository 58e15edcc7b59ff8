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
