"""Shortest paths and all-or-nothing loading on CSR arrays (numba).

The graph is given by ``out_start`` (CSR offsets by tail node), ``out_links`` (link
indices sorted by tail node), ``link_from``/``link_to`` (tail and head node of each
link) and a per-link ``cost`` (>= 0, zero allowed). Nodes below ``first_thru`` are
zone centroids: a path may start or end there but never pass through (TNTP
``<FIRST THRU NODE>`` semantics, 0-based).

Dijkstra uses a binary heap with lazy deletion (a node is pushed again when its
label improves; stale entries are skipped when popped). One tree per origin; origins
run in parallel (prange) in fixed chunks, so results do not depend on scheduling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

UNREACHED = -1


@njit(cache=True)
def _heap_push(keys, items, size, key, item):
    """Push (key, item) on a binary min-heap stored in keys/items; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        items[i] = items[parent]
        i = parent
    keys[i] = key
    items[i] = item
    return size + 1


@njit(cache=True)
def _heap_pop(keys, items, size):
    """Pop the smallest entry; return (key, item, new size). The heap must not be empty."""
    top_key = keys[0]
    top_item = items[0]
    size -= 1
    last_key = keys[size]
    last_item = items[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if last_key <= keys[child]:
            break
        keys[i] = keys[child]
        items[i] = items[child]
        i = child
    keys[i] = last_key
    items[i] = last_item
    return top_key, top_item, size


@njit(cache=True)
def shortest_path_tree(
    out_start,
    out_links,
    link_to,
    cost,
    origin,
    first_thru,
    dist,
    pred,
    order,
    heap_keys,
    heap_items,
):
    """One shortest-path tree from ``origin``, written into preallocated arrays.

    Parameters
    ----------
    out_start, out_links, link_to, cost
        The CSR graph and per-link costs (>= 0).
    origin
        Origin node index.
    first_thru
        Nodes ``< first_thru`` other than ``origin`` are never passed through.
    dist, pred, order
        Outputs (length ``n_nodes``): distance (``inf`` when unreached), the link
        entering each node on its shortest path (``-1`` for the origin and unreached
        nodes), and the nodes in the order they were settled (by distance).
    heap_keys, heap_items
        Work space of length ``n_links + 1``.

    Returns
    -------
    int
        The number of settled nodes (the valid prefix of ``order``).
    """
    dist[:] = np.inf
    pred[:] = UNREACHED
    dist[origin] = 0.0
    size = _heap_push(heap_keys, heap_items, 0, 0.0, origin)
    n_settled = 0
    while size > 0:
        d, u, size = _heap_pop(heap_keys, heap_items, size)
        if d > dist[u]:
            continue  # stale entry
        order[n_settled] = u
        n_settled += 1
        if u < first_thru and u != origin:
            continue  # a centroid: a destination only
        for k in range(out_start[u], out_start[u + 1]):
            link = out_links[k]
            v = link_to[link]
            nd = d + cost[link]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = link
                size = _heap_push(heap_keys, heap_items, size, nd, v)
    return n_settled


def _chunk_bounds(n_items: int, n_chunks: int) -> np.ndarray:
    return np.linspace(0, n_items, n_chunks + 1).astype(np.int64)


@njit(parallel=True, cache=True)
def _shortest_paths(out_start, out_links, link_to, cost, origins, first_thru, bounds):
    n_nodes = len(out_start) - 1
    n_links = len(out_links)
    dist = np.empty((len(origins), n_nodes))
    pred = np.empty((len(origins), n_nodes), dtype=np.int32)
    for c in prange(len(bounds) - 1):
        order = np.empty(n_nodes, dtype=np.int32)
        keys = np.empty(n_links + 1)
        items = np.empty(n_links + 1, dtype=np.int32)
        for i in range(bounds[c], bounds[c + 1]):
            shortest_path_tree(
                out_start,
                out_links,
                link_to,
                cost,
                origins[i],
                first_thru,
                dist[i],
                pred[i],
                order,
                keys,
                items,
            )
    return dist, pred


def shortest_paths(
    out_start: np.ndarray,
    out_links: np.ndarray,
    link_to: np.ndarray,
    cost: np.ndarray,
    origins: np.ndarray,
    first_thru: int = 0,
    n_chunks: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest-path trees from many origins, in parallel.

    Parameters
    ----------
    out_start, out_links, link_to, cost
        The CSR graph and per-link costs (>= 0).
    origins
        Origin node indices.
    first_thru
        Nodes ``< first_thru`` other than the origin are never passed through.
    n_chunks
        Number of parallel work chunks.

    Returns
    -------
    dist : numpy.ndarray
        ``(len(origins), n_nodes)`` distances, ``inf`` where unreached.
    pred : numpy.ndarray
        ``(len(origins), n_nodes)`` int32 link entering each node, ``-1`` if none.
    """
    origins = np.ascontiguousarray(origins, dtype=np.int32)
    bounds = _chunk_bounds(len(origins), max(1, min(n_chunks, len(origins))))
    return _shortest_paths(out_start, out_links, link_to, cost, origins, first_thru, bounds)


@njit(cache=True)
def _load_origins(
    out_start, out_links, link_from, link_to, cost, zone_nodes, demand, first_thru, lo, hi,
    flows, trees,
):  # fmt: skip
    """Load the demand of origins ``lo..hi-1`` into ``flows``; return (sptt, unreached).

    ``trees`` is ``(n_zones, n_nodes)`` to keep every origin's tree in (its row ``o``
    then gets one even without demand) or ``(0, 0)`` not to keep them.
    """
    n_nodes = len(out_start) - 1
    n_links = len(out_links)
    keep = trees.shape[0] > 0
    dist = np.empty(n_nodes)
    own_pred = np.empty(n_nodes if not keep else 0, dtype=np.int32)
    order = np.empty(n_nodes, dtype=np.int32)
    keys = np.empty(n_links + 1)
    items = np.empty(n_links + 1, dtype=np.int32)
    node_demand = np.zeros(n_nodes)
    sptt = 0.0
    unreached = 0
    for o in range(lo, hi):
        if demand[o].sum() <= 0.0 and not keep:
            continue
        pred = trees[o] if keep else own_pred
        origin = zone_nodes[o]
        n_settled = shortest_path_tree(
            out_start,
            out_links,
            link_to,
            cost,
            origin,
            first_thru,
            dist,
            pred,
            order,
            keys,
            items,
        )
        for d in range(len(zone_nodes)):
            trips = demand[o, d]
            v = zone_nodes[d]
            if trips <= 0.0 or v == origin:
                continue
            if dist[v] == np.inf:
                unreached += 1
                continue
            node_demand[v] += trips
            sptt += trips * dist[v]
        # sweep the tree leaves-first: each node passes its load to its entering link
        for k in range(n_settled - 1, 0, -1):
            v = order[k]
            load = node_demand[v]
            if load != 0.0:
                link = pred[v]
                flows[link] += load
                node_demand[link_from[link]] += load
                node_demand[v] = 0.0
        node_demand[origin] = 0.0
    return sptt, unreached


@njit(parallel=True, cache=True)
def _load_parallel(
    out_start,
    out_links,
    link_from,
    link_to,
    cost,
    zone_nodes,
    demand,
    first_thru,
    bounds,
    chunk_flows,
    chunk_sptt,
    chunk_unreached,
    trees,
):
    # no array expressions here: each would become a parallel region of its own
    for c in prange(len(bounds) - 1):
        chunk_sptt[c], chunk_unreached[c] = _load_origins(
            out_start,
            out_links,
            link_from,
            link_to,
            cost,
            zone_nodes,
            demand,
            first_thru,
            bounds[c],
            bounds[c + 1],
            chunk_flows[c],
            trees,
        )


def all_or_nothing(
    out_start: np.ndarray,
    out_links: np.ndarray,
    link_from: np.ndarray,
    link_to: np.ndarray,
    cost: np.ndarray,
    zone_nodes: np.ndarray,
    demand: np.ndarray,
    first_thru: int = 0,
    n_chunks: int = 8,
    trees: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """Load every OD flow on its shortest path (all-or-nothing assignment).

    Parameters
    ----------
    out_start, out_links, link_from, link_to, cost
        The CSR graph, link end nodes and per-link costs (>= 0).
    zone_nodes
        Node index of each zone.
    demand
        ``(n_zones, n_zones)`` OD flows (>= 0); flows between zones on the same node
        are not loaded.
    first_thru
        Nodes ``< first_thru`` other than origin and destination are never passed through.
    n_chunks
        Number of parallel work chunks; 1 runs serially in the calling thread (best for
        small networks, where waking threads costs more than the work). The result's
        rounding depends on it, not on thread scheduling.
    trees
        ``(n_zones, n_nodes)`` int32, filled with the shortest-path tree of every
        origin zone (the link entering each node, ``-1`` for the origin and unreached
        nodes; the ``pred`` of :func:`shortest_paths`), demand or not; None: not kept.

    Returns
    -------
    flows : numpy.ndarray
        Link flows.
    sptt : float
        Shortest-path travel cost: sum over OD pairs of flow times path cost.
    unreached : int
        Number of OD pairs with positive flow and no path (their flow is dropped).
    """
    zone_nodes = np.ascontiguousarray(zone_nodes, dtype=np.int32)
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    n_chunks = max(1, min(n_chunks, len(zone_nodes)))
    if trees is None:
        trees = np.empty((0, 0), dtype=np.int32)
    elif trees.shape != (len(zone_nodes), len(out_start) - 1) or trees.dtype != np.int32:
        raise ValueError(f"trees must be int32 of shape ({len(zone_nodes)}, n_nodes)")
    if n_chunks == 1 or len(zone_nodes) < 2:
        flows = np.zeros(len(out_links))
        sptt, unreached = _load_origins(
            out_start,
            out_links,
            link_from,
            link_to,
            cost,
            zone_nodes,
            demand,
            first_thru,
            0,
            len(zone_nodes),
            flows,
            trees,
        )
    else:
        # many small chunks handed out one at a time: a thread held up by other
        # processes on the machine does not hold up the whole load
        chunk_flows = np.zeros((n_chunks, len(out_links)))
        chunk_sptt = np.zeros(n_chunks)
        chunk_unreached = np.zeros(n_chunks, dtype=np.int64)
        with numba.parallel_chunksize(1):
            _load_parallel(
                out_start,
                out_links,
                link_from,
                link_to,
                cost,
                zone_nodes,
                demand,
                first_thru,
                _chunk_bounds(len(zone_nodes), n_chunks),
                chunk_flows,
                chunk_sptt,
                chunk_unreached,
                trees,
            )
        # summed in chunk order, so the result does not depend on thread scheduling
        flows = chunk_flows.sum(axis=0)
        sptt = chunk_sptt.sum()
        unreached = chunk_unreached.sum()
    return flows, float(sptt), int(unreached)


@njit(cache=True)
def _csr(node_of, n_nodes):
    """CSR (start, links) of the links by ``node_of`` (their tail or head), in link order."""
    start = np.zeros(n_nodes + 1, np.int64)
    for link in range(len(node_of)):
        start[node_of[link] + 1] += 1
    start = np.cumsum(start)
    links = np.empty(len(node_of), np.int64)
    filled = start[:-1].copy()
    for link in range(len(node_of)):
        links[filled[node_of[link]]] = link
        filled[node_of[link]] += 1
    return start, links


@njit(cache=True)
def _passes_through(out_start, out_links, in_start, in_links, link_from, link_to, v):
    """Whether node ``v`` only passes traffic on between two neighbours.

    One way: one link in from ``u``, one out to ``w != u``; both ways: a link in from
    and a link out to each of the same two neighbours.
    """
    n_out = out_start[v + 1] - out_start[v]
    n_in = in_start[v + 1] - in_start[v]
    if n_in != n_out or n_in < 1 or n_in > 2:
        return False
    if n_in == 1:
        u = link_from[in_links[in_start[v]]]
        w = link_to[out_links[out_start[v]]]
        return u != w and u != v and w != v
    a = link_from[in_links[in_start[v]]]
    b = link_from[in_links[in_start[v] + 1]]
    c = link_to[out_links[out_start[v]]]
    d = link_to[out_links[out_start[v] + 1]]
    if a == b or v in (a, b):
        return False
    return (a == c and b == d) or (a == d and b == c)


@njit(cache=True)
def _chains(out_start, out_links, link_from, link_to, keep):
    n_nodes = len(out_start) - 1
    in_start, in_links = _csr(link_to, n_nodes)
    through = np.zeros(n_nodes, dtype=np.bool_)
    for v in range(n_nodes):
        if not keep[v]:
            through[v] = _passes_through(
                out_start, out_links, in_start, in_links, link_from, link_to, v
            )
    n_links = len(link_to)  # each link is in one chain at most: the arrays' bound
    c_from = np.empty(n_links, dtype=np.int64)
    c_to = np.empty(n_links, dtype=np.int64)
    bounds = np.zeros(n_links + 1, dtype=np.int64)
    members = np.empty(n_links, dtype=np.int64)
    n_chains, n_members = 0, 0
    for u in range(n_nodes):
        if through[u]:
            continue
        for k in range(out_start[u], out_start[u + 1]):
            link = out_links[k]
            prev, v = u, link_to[link]
            members[n_members] = link
            n_members += 1
            while through[v]:  # a path of pass-through nodes ends at a node that is not one
                nxt = link
                for kk in range(out_start[v], out_start[v + 1]):
                    nxt = out_links[kk]
                    if link_to[nxt] != prev:
                        break
                members[n_members] = nxt
                n_members += 1
                prev, v = v, link_to[nxt]
            c_from[n_chains] = u
            c_to[n_chains] = v
            n_chains += 1
            bounds[n_chains] = n_members
    return c_from[:n_chains], c_to[:n_chains], bounds[: n_chains + 1], members[:n_members]


@njit(cache=True)
def street_chains(link_from, link_to, n_nodes, walkable):
    """The pass-through nodes a search may walk, and the chain link into each one's out-links.

    ``interior`` (bool per node): ``walkable`` and passing traffic on between two
    neighbours (:func:`_passes_through`: a bend or a way break of a street, where a
    shortest path goes straight on). ``chain_prev[l]`` (int64 per link) for a link
    ``l`` out of an interior node ``a`` is the link into ``a`` from its other neighbour
    (-1 for every other link). Searches label an interior node's chain by walking it
    from where they entered it instead of queueing its nodes
    (:mod:`sim.kernels.dnl_info`, :mod:`sim.kernels.tdsp`): the same labels, bit for
    bit, for fewer queue operations (6,727 of the default city's 15,633 nodes); a tree's
    predecessor may differ only where two routes tie exactly.
    """
    out_start, out_links = _csr(link_from, n_nodes)
    in_start, in_links = _csr(link_to, n_nodes)
    interior = np.zeros(n_nodes, np.bool_)
    chain_prev = np.full(len(link_to), -1, np.int64)
    for a in range(n_nodes):
        if not walkable[a]:
            continue
        if not _passes_through(out_start, out_links, in_start, in_links, link_from, link_to, a):
            continue
        interior[a] = True
        for j in range(out_start[a], out_start[a + 1]):
            out = out_links[j]
            for k in range(in_start[a], in_start[a + 1]):
                if link_from[in_links[k]] != link_to[out]:
                    chain_prev[out] = in_links[k]
    return interior, chain_prev


def chain_next(chain_prev: np.ndarray) -> np.ndarray:
    """The next link along its chain of each link into an interior node (-1: none).

    The inverse of :func:`street_chains`' ``chain_prev``: ``chain_next[chain_prev[l]]
    == l``.
    """
    nxt = np.full(len(chain_prev), -1, np.int64)
    ok = np.flatnonzero(chain_prev >= 0)
    nxt[chain_prev[ok]] = ok
    return nxt


@dataclass(frozen=True)
class Contracted:
    """A graph without its pass-through nodes: each chain of links through them is one link.

    Node indices are those of the full graph (the pass-through nodes have no links);
    contracted link ``s`` is the full graph's links ``members[bounds[s]:bounds[s + 1]]``
    in the order of travel. A link inside a ring of pass-through nodes only (which no
    other node reaches) is in no chain.
    """

    out_start: np.ndarray
    out_links: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    bounds: np.ndarray
    members: np.ndarray

    def costs(self, cost: np.ndarray) -> np.ndarray:
        """Each contracted link's cost: its chain's costs added up in the order of travel."""
        return _chain_sums(self.bounds, self.members, np.ascontiguousarray(cost))

    def expand_flows(self, flows: np.ndarray, n_links: int) -> np.ndarray:
        """Full-graph link flows of contracted link flows (each link carries its chain's)."""
        return _expand_flows(self.bounds, self.members, flows, n_links)

    def expand_trees(self, trees: np.ndarray, link_to: np.ndarray) -> np.ndarray:
        """Shortest-path trees over contracted links as trees over the full graph's links.

        A node reached at the end of a chain gets the chain's last link, and the chain's
        pass-through nodes the links on the way to it, so walking back from any node the
        contracted tree reaches follows the full graph's links.
        """
        return _expand_trees(self.bounds, self.members, link_to, trees)


def contract(
    out_start: np.ndarray,
    out_links: np.ndarray,
    link_from: np.ndarray,
    link_to: np.ndarray,
    keep: np.ndarray,
) -> Contracted:
    """The graph with its pass-through nodes contracted (:class:`Contracted`).

    A node passes through when it is not in ``keep`` (bool per node: the zones, and the
    centroids a path may not pass) and joins exactly two neighbours, one way or both
    ways (a road's shape points, a node splitting a road without a junction). A
    shortest path never turns inside such a chain, so searching the contracted graph
    settles about half the nodes of a city's network for the same paths.
    """
    c_from, c_to, bounds, members = _chains(
        out_start, out_links, link_from, link_to, np.ascontiguousarray(keep, dtype=np.bool_)
    )
    n_nodes = len(out_start) - 1
    c_start = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(c_from, minlength=n_nodes), out=c_start[1:])
    # chains come out ordered by their first node, so they are their own CSR order
    return Contracted(
        out_start=c_start,
        out_links=np.arange(len(c_from), dtype=np.int64),
        link_from=c_from,
        link_to=c_to,
        bounds=bounds,
        members=members,
    )


@njit(cache=True)
def _chain_sums(bounds, members, cost):
    out = np.empty(len(bounds) - 1)
    for s in range(len(bounds) - 1):
        total = 0.0
        for k in range(bounds[s], bounds[s + 1]):
            total += cost[members[k]]
        out[s] = total
    return out


@njit(cache=True)
def _expand_flows(bounds, members, flows, n_links):
    out = np.zeros(n_links)
    for s in range(len(bounds) - 1):
        for k in range(bounds[s], bounds[s + 1]):
            out[members[k]] += flows[s]
    return out


@njit(cache=True)
def _expand_trees(bounds, members, link_to, trees):
    out = np.full(trees.shape, UNREACHED, dtype=np.int32)
    for o in range(trees.shape[0]):
        for node in range(trees.shape[1]):
            s = trees[o, node]
            if s < 0:
                continue
            for k in range(bounds[s], bounds[s + 1]):
                out[o, link_to[members[k]]] = members[k]
    return out
