"""Time-dependent shortest paths and route swapping for the dynamic user equilibrium (numba).

The graph is the CSR of :mod:`sim.kernels.paths` (``out_start``, ``out_links``,
``link_from``, ``link_to``; nodes below ``first_thru`` are zone centroids a path may
start or end at but never pass through). ``tt[b, l]`` is the travel time (s) of link
``l`` for a vehicle entering it in time bin ``b`` (bins of ``bin_s`` seconds from the
start of the loading; the last bin holds for later times): bins by row, so that one
tree reads mostly one row. :func:`td_tree` is Dijkstra
on arrival times (exact when every link is FIFO, i.e. ``t + tt(t)`` never decreases).

:func:`swap_routes` runs one tree per (origin, departure group) of the vehicles (trees
in parallel, :func:`group_trees`), gives every vehicle its best arrival, and moves the
vehicles picked to swap onto the best route of their group.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.kernels.paths import _heap_pop, _heap_push


@njit(cache=True)
def td_tree(out_start, out_links, link_to, tt, bin_s, origin, t0, first_thru, arrival, pred, hk,
            hi, interior, chain_next):  # fmt: skip
    """Earliest arrival at every node leaving ``origin`` at ``t0`` (into ``arrival``, ``pred``).

    ``pred[v]`` is the link the best route enters node ``v`` by (-1: origin or
    unreached); ``hk``/``hi`` are heap buffers of at least ``len(out_links) + 1``.
    The ``interior`` nodes of street chains (:func:`sim.kernels.paths.street_chains`, bool
    per node; all False: none) are not queued: a label that reaches one goes on along
    ``chain_next`` (int64 per link) while it improves, to the chain's end, which is.
    The same arrivals, bit for bit, as queueing them (FIFO times), and the same
    predecessors but where two routes reach a node at exactly the same time: the heap
    then pops equal keys in another order and the tie may go the other way (either
    route is a quickest one).
    """
    arrival[:] = np.inf
    pred[:] = -1
    n_bins = tt.shape[0]
    arrival[origin] = t0
    size = _heap_push(hk, hi, 0, t0, origin)
    while size > 0:
        t, u, size = _heap_pop(hk, hi, size)
        if t > arrival[u]:
            continue
        if u < first_thru and u != origin:
            continue
        b = min(int(t // bin_s), n_bins - 1)
        for k in range(out_start[u], out_start[u + 1]):
            link = out_links[k]
            v = link_to[link]
            tv = t + tt[b, link]
            if tv < arrival[v]:
                arrival[v] = tv
                pred[v] = link
                if interior[v]:
                    v, tv = _straight_on(link, tv, tt, bin_s, link_to, arrival, pred,
                                         interior, chain_next)  # fmt: skip
                if v >= 0:
                    size = _heap_push(hk, hi, size, tv, v)


@njit(cache=True)
def _straight_on(link, t, tt, bin_s, link_to, arrival, pred, interior, chain_next):
    """Labels along a chain after ``link``, into an interior node reached at ``t``.

    Returns the chain's end (not interior) and its arrival, to be queued, or -1 when
    the walk stopped first: a link onwards that does not improve the next node's
    arrival improves none after it (FIFO), and a one-way chain may just end.
    """
    n_bins = tt.shape[0]
    v = link_to[link]
    while interior[v]:
        link = chain_next[link]
        if link < 0:
            return -1, t
        w = link_to[link]
        tw = t + tt[min(int(t // bin_s), n_bins - 1), link]
        if tw >= arrival[w]:
            return -1, t
        arrival[w] = tw
        pred[w] = link
        v, t = w, tw
    return v, t


#: Trees computed side by side (threads) before their routes are read off: bounds the
#: predecessor rows kept, ``TREES_AT_ONCE × n_nodes``.
TREES_AT_ONCE = 64


@njit(parallel=True, cache=True)
def group_trees(out_start, out_links, link_to, tt, bin_s, first_thru, n_nodes, zone_nodes,
                origin, dest, group_start, group_t0, g0, g1, best, preds, interior,
                chain_next):  # fmt: skip
    """Trees of groups ``g0:g1`` (``preds[g - g0]``) and their vehicles' ``best`` times.

    One group per thread with its own buffers, so results do not depend on scheduling.
    """
    for j in prange(g1 - g0):
        g = g0 + j
        a, z = group_start[g], group_start[g + 1]
        if a == z:
            continue
        arrival = np.empty(n_nodes)
        hk = np.empty(len(out_links) + 1)
        hi = np.empty(len(out_links) + 1, dtype=np.int64)
        o, t0 = zone_nodes[origin[a]], group_t0[g]
        td_tree(out_start, out_links, link_to, tt, bin_s, o, t0, first_thru, arrival, preds[j],
                hk, hi, interior, chain_next)  # fmt: skip
        for i in range(a, z):
            best[i] = arrival[zone_nodes[dest[i]]] - t0


def swap_routes(
    out_start,
    out_links,
    link_from,
    link_to,
    first_thru,
    n_nodes,
    tt,
    bin_s,
    zone_nodes,
    origin,
    dest,
    group_start,
    group_t0,
    swap,
    best,
    new_start,
    new_links,
    interior,
    chain_next,
):
    """Best arrival of every vehicle and the best routes of the vehicles that swap.

    A plain Python loop over batches of :data:`TREES_AT_ONCE` groups: the parallel
    kernel :func:`group_trees` is called from Python, never from another compiled
    function, because numba's cache of a parallel function nested in a cached one can
    crash when loaded (numba issues #8578, #10128).

    Parameters
    ----------
    origin, dest
        Zone index of each vehicle; vehicles are sorted so that each group (same
        origin, same departure group) is the contiguous range
        ``group_start[g]:group_start[g + 1]``.
    group_t0
        Departure time (s) the group's tree is computed for.
    swap
        1 for the vehicles that take their group's best route.
    best
        Out: best travel time (s) of each vehicle on ``tt`` (its group's arrival at its
        destination minus ``group_t0``).
    new_start, new_links
        Out: CSR of the new routes of the vehicles that swap (``new_start[i]`` is the
        offset of vehicle ``i``; length 0 for the others).
    interior, chain_next
        The street chains the trees walk (:func:`td_tree`).

    Returns
    -------
    int
        Links written to ``new_links``; if it was too short, minus the length it needs
        (nothing usable).
    """
    n_groups = len(group_start) - 1
    preds = np.empty((min(TREES_AT_ONCE, max(n_groups, 1)), n_nodes), dtype=np.int64)
    pos = 0
    for g0 in range(0, n_groups, TREES_AT_ONCE):
        g1 = min(g0 + TREES_AT_ONCE, n_groups)
        group_trees(out_start, out_links, link_to, tt, bin_s, first_thru, n_nodes,
                    zone_nodes, origin, dest, group_start, group_t0, g0, g1, best,
                    preds, interior, chain_next)  # fmt: skip
        pos = read_routes(link_from, zone_nodes, origin, dest, group_start, g0, g1, swap,
                          preds, pos, new_start, new_links)  # fmt: skip
    new_start[len(origin)] = pos
    return pos if pos <= len(new_links) else -pos


@njit(cache=True)
def read_routes(link_from, zone_nodes, origin, dest, group_start, g0, g1, swap, preds, pos,
                new_start, new_links):  # fmt: skip
    """Write the routes of the swapping vehicles of groups ``g0:g1`` from their trees.

    From offset ``pos`` of ``new_links`` (only counted past its end); returns the next
    offset.
    """
    for g in range(g0, g1):
        pred = preds[g - g0]
        o = zone_nodes[origin[group_start[g]]] if group_start[g] < group_start[g + 1] else -1
        for i in range(group_start[g], group_start[g + 1]):
            d = zone_nodes[dest[i]]
            new_start[i] = pos
            if swap[i] == 0 or pred[d] < 0:
                continue
            n = 0
            node = d
            while node != o:
                node = link_from[pred[node]]
                n += 1
            if pos + n <= len(new_links):  # else only count what it needs
                node = d
                for k in range(n):
                    link = pred[node]
                    new_links[pos + n - 1 - k] = link
                    node = link_from[link]
            pos += n
    return pos


@njit(cache=True)
def merge_routes(old_start, old_links, new_start, new_links, new_index, take_new):
    """The CSR of each vehicle's routes: new route ``new_index[i]`` where ``take_new[i]``.

    Vehicle ``i`` keeps its old route ``i`` elsewhere.
    """
    n = len(take_new)
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        j = new_index[i]
        if take_new[i]:
            start[i + 1] = start[i] + new_start[j + 1] - new_start[j]
        else:
            start[i + 1] = start[i] + old_start[i + 1] - old_start[i]
    links = np.empty(start[n], dtype=np.int64)
    for i in range(n):
        if take_new[i]:
            j = new_index[i]
            links[start[i] : start[i + 1]] = new_links[new_start[j] : new_start[j + 1]]
        else:
            links[start[i] : start[i + 1]] = old_links[old_start[i] : old_start[i + 1]]
    return start, links
