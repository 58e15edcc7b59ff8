"""Traveller information in the dynamic loading (numba): the quickest times to each destination.

Kernels of :mod:`sim.kernels.dnl` (same arrays). Every ``info_s`` the loading takes a
snapshot of link times (:func:`link_costs`) and computes, for each destination node,
the quickest time from every node to it (:func:`quickest_times`: one backward Dijkstra
per destination over nodes with a bucket queue, destinations in parallel, reached from
the loading through :func:`refresh_quickest`). An informed vehicle that enters link
``m`` then takes the movement of ``m`` whose link time plus the time from that link's
head onwards is least (:func:`next_link`). A search over nodes, not links, is about
three times cheaper on a street network (a node has two to four links) and chooses the
same paths where every turn is allowed at through nodes, as the loading gives informed
vehicles (the immediate turn is always one of ``m``'s movements).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.kernels.paths import _heap_pop, _heap_push


@njit(cache=True, error_model="numpy")
def link_costs(cost, t, b, fft, cap, buf, buf_start, buf_cap, head, count, ready, bin_out,
               bin_tt):  # fmt: skip
    """Fill ``cost`` (s, per link) with the times informed drivers see at ``t``.

    A link's time is the longest of its free-flow time, the mean time of the vehicles
    that left it in bin ``b`` (``b < 0``: none) and its free-flow time plus the time to
    discharge the queue now at its stop line.
    """
    for ln in range(len(fft)):
        c = fft[ln]
        if count[ln]:
            q = 0
            for k in range(count[ln]):
                if ready[buf[buf_start[ln] + (head[ln] + k) % buf_cap[ln]]] > t:
                    break
                q += 1
            c = max(c, fft[ln] + q / cap[ln])
        if b >= 0 and bin_out[b, ln] > 0:
            c = max(c, bin_tt[b, ln] / bin_out[b, ln])
        cost[ln] = c


@njit(cache=True, error_model="numpy")
def live_destinations(live, dest_of, arrive, depart, first_waiting, until):
    """Fill ``live[d]``: an informed vehicle heading for ``dest_nodes[d]`` is due.

    Due: on the network (it left before ``first_waiting``, vehicles sorted by
    departure, and has not arrived) or leaving before ``until`` (s). The tables of the
    others are not needed before the next recomputation, which is the saving: in the
    warm-up and the tail of the period few destinations are live.
    """
    live[:] = False
    v = 0
    while v < len(depart) and (v < first_waiting or depart[v] < until):
        d = dest_of[v]
        if d >= 0 and np.isnan(arrive[v]):
            live[d] = True
        v += 1


#: Most buckets of the bucket queue; with more (link times spread over a wider range
#: than ``MAX_BUCKETS`` of the shortest), the tables use a binary heap instead.
MAX_BUCKETS = 1 << 16


@njit(cache=True, error_model="numpy")
def queued_steps(cost, chain_prev, link_from, link_to, interior):
    """The shortest and longest step (s) of a search at ``cost``: its bucket width and span.

    A search queues a node over a link between two non-interior nodes, or at the end
    of a walk along a chain (the chain's time); interior links alone are never a step.
    """
    lo, hi = np.inf, 0.0
    for ln in range(len(cost)):
        if interior[link_to[ln]]:
            continue  # walked, not queued
        s, k = cost[ln], ln
        while interior[link_from[k]]:
            k = chain_prev[k]
            if k < 0:  # a walk that ends before a junction queues nothing
                break
            s += cost[k]
        if k >= 0:
            lo, hi = min(lo, s), max(hi, s)
    return lo, hi


@njit(cache=True, error_model="numpy")
def _walk(row, ln, nd, cost, chain_prev, link_from, interior):
    """Labels along a chain from link ``ln``, whose tail just got label ``nd``.

    ``row`` of the tail (an interior node) is set; the walk goes on over ``chain_prev``
    while it improves the labels (with positive link times the path it leaves is never
    a quickest one once it stops). Returns the chain's end, a non-interior node, with
    its new label, to be queued; -1 when the walk stopped first. Each label is the
    same sum, in the same order, as a search that queued the interior nodes gives.
    """
    a = link_from[ln]
    while interior[a]:
        row[a] = nd
        ln = chain_prev[ln]
        if ln < 0:
            return -1, nd
        nd = nd + cost[ln]
        a = link_from[ln]
        if nd >= row[a]:
            return -1, nd
    return a, nd


@njit(cache=True, error_model="numpy")
def _heap_row(row, dn, in_cost, node_in_start, in_from, through, keys, items, cost,
              node_in_links, chain_prev, link_from, interior):  # fmt: skip
    """Backward Dijkstra to node ``dn`` with a binary heap (the general case)."""
    row[:] = np.inf
    row[dn] = 0.0
    size = _heap_push(keys, items, 0, 0.0, dn)
    while size > 0:
        du, u, size = _heap_pop(keys, items, size)
        if du > row[u] or (u != dn and not through[u]):
            continue  # stale, or a node no path passes through
        for k in range(node_in_start[u], node_in_start[u + 1]):
            a = in_from[k]
            nd = du + in_cost[k]
            if nd < row[a]:
                if interior[a]:
                    a, nd = _walk(row, node_in_links[k], nd, cost, chain_prev, link_from,
                                  interior)  # fmt: skip
                    if a < 0:
                        continue
                row[a] = nd
                size = _heap_push(keys, items, size, nd, a)


@njit(cache=True, error_model="numpy")
def _bucket_row(row, dn, in_cost, node_in_start, in_from, through, width, b_head, e_next,
                e_node, e_key, done, cost, node_in_links, chain_prev, link_from,
                interior):  # fmt: skip
    """Backward Dijkstra to node ``dn`` with a bucket queue (Dial's algorithm).

    Buckets of ``width`` s, no wider than the shortest link time: a node's label in
    bucket ``i`` only gives labels in later buckets, so the nodes of a bucket are final
    in any order and the labels equal the heap's, bit for bit. ``b_head`` is a circular
    array of ``2^k`` buckets covering more than the longest step; entries are
    lists through ``e_next`` (a relaxed node is pushed again, the stale entry skipped).
    A node is expanded once (``done``), so the entries, one per relaxed link, never
    outnumber the links, whatever the rounding of the bucket index.
    """
    mask = len(b_head) - 1
    inv = 1.0 / width
    row[:] = np.inf
    b_head[:] = -1
    done[:] = False
    row[dn] = 0.0
    e_node[0], e_key[0], e_next[0], b_head[0] = dn, 0.0, -1, 0
    n_e, pending, cur = 1, 1, 0
    while pending > 0:
        slot = cur & mask
        e = b_head[slot]
        if e < 0:
            cur += 1
            continue
        b_head[slot] = e_next[e]
        pending -= 1
        u, du = e_node[e], e_key[e]
        if done[u] or du > row[u] or (u != dn and not through[u]):
            continue  # stale, or a node no path passes through
        done[u] = True
        for k in range(node_in_start[u], node_in_start[u + 1]):
            a = in_from[k]
            nd = du + in_cost[k]
            if nd < row[a]:
                if interior[a]:  # along the chain at once: its nodes are never queued
                    a, nd = _walk(row, node_in_links[k], nd, cost, chain_prev, link_from,
                                  interior)  # fmt: skip
                    if a < 0:
                        continue
                row[a] = nd
                b = max(int(nd * inv), cur) & mask  # (rounding never moves it back)
                e_node[n_e], e_key[n_e], e_next[n_e], b_head[b] = a, nd, b_head[b], n_e
                n_e += 1
                pending += 1


@njit(parallel=True, cache=True, error_model="numpy")
def quickest_times(dist, dest_nodes, live, cost, node_in_start, node_in_links, link_from,
                   link_to, through, interior, chain_prev):  # fmt: skip
    """``dist[d, u]``: quickest time (s) from node ``u`` to ``dest_nodes[d]`` at ``cost``.

    Only rows with ``live[d]`` are computed (the others keep their values). Paths pass
    only through nodes with ``through[u]`` (a node some route passes: never a zone
    centroid); ``inf`` where no such path exists. One row per destination, each
    written by one thread, so the result does not depend on scheduling. A bucket queue
    where link times allow (about twice as fast as the heap on the default city),
    else a binary heap; both give the same labels. The ``interior`` nodes of street
    chains (:func:`sim.kernels.paths.street_chains`; all False: none) are labelled by walking
    the chain, not queued: the same labels for ~40 % fewer queued nodes on the default
    city.
    """
    n_in = len(node_in_links)
    in_cost = np.empty(n_in)  # the incoming links' times and tails in CSR order: the
    in_from = np.empty(n_in, np.int64)  # searches read them in sequence
    for k in range(n_in):
        in_cost[k] = cost[node_in_links[k]]
        in_from[k] = link_from[node_in_links[k]]
    width, longest = queued_steps(cost, chain_prev, link_from, link_to, interior)
    spread = longest / width + 2 if width > 0 else np.inf  # buckets a step spans
    n_b = 1
    while n_b < spread and n_b <= MAX_BUCKETS:
        n_b *= 2
    buckets = spread <= n_b <= MAX_BUCKETS  # (false for a NaN time too: the heap)
    for d in prange(len(dest_nodes)):
        if not live[d]:
            continue
        keys = np.empty(n_in + 1)
        items = np.empty(n_in + 1, np.int64)
        if buckets:
            _bucket_row(dist[d], dest_nodes[d], in_cost, node_in_start, in_from, through,
                        width, np.empty(n_b, np.int64), np.empty(n_in + 1, np.int64), items,
                        keys, np.empty(len(through), np.bool_), cost, node_in_links,
                        chain_prev, link_from, interior)  # fmt: skip
        else:
            _heap_row(dist[d], dest_nodes[d], in_cost, node_in_start, in_from, through, keys,
                      items, cost, node_in_links, chain_prev, link_from, interior)  # fmt: skip


def refresh_quickest(dist, dest_nodes, live, cost, node_in_start, node_in_links, link_from,
                     link_to, through, interior, chain_prev):  # fmt: skip
    """Run :func:`quickest_times` from Python, as the loading's ``objmode`` block does.

    A parallel function called from another cached compiled function can crash when
    numba loads the caller from its cache (numba issues #8578, #10128).
    """
    quickest_times(dist, dest_nodes, live, cost, node_in_start, node_in_links, link_from,
                   link_to, through, interior, chain_prev)  # fmt: skip


@njit(cache=True, error_model="numpy")
def next_link(m, dist_row, cost, mov_start, mov_out, link_node):
    """The movement out of link ``m`` on the quickest path: least ``cost`` + time onwards.

    −1 when no movement of ``m`` leads to the destination (the vehicle leaves the
    network at the end of ``m``, as it does at the end of its route).
    """
    best, best_c = -1, np.inf
    for j in range(mov_start[m], mov_start[m + 1]):
        k = mov_out[j]
        c = cost[k] + dist_row[link_node[k]]
        if c < best_c:
            best, best_c = k, c
    return best
