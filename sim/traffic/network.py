"""Road networks as plain arrays for the numba solvers.

A :class:`Network` holds one entry per directed link in input order, nodes by
index (``node_ids`` maps back to the original ids), zone centroids as node indices,
and the links grouped by tail node (CSR). Build it from a TNTP file with
:func:`network_from_tntp` or from the city's link and node tables with
:func:`network_from_links`; rebuild it after a policy edit (closure, new link,
lane or speed change, toll).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import GeodataError
from sim.kernels.paths import chain_next, street_chains
from sim.traffic import tntp

BPR_ALPHA = 0.15
BPR_BETA = 4.0


@dataclass
class Network:
    """A directed road network on arrays (link order = input order).

    Attributes
    ----------
    n_nodes : int
        Number of nodes; nodes are indices ``0..n_nodes-1``.
    link_from, link_to : numpy.ndarray
        int32 tail and head node index of each link.
    capacity : numpy.ndarray
        Link capacity (vehicles per hour for the city; TNTP: the file's units).
    fftime : numpy.ndarray
        Free-flow travel time in minutes (zero is allowed, e.g. centroid connectors).
    alpha, beta : numpy.ndarray
        BPR parameters: ``time = fftime * (1 + alpha * (flow / capacity) ** beta)``.
    length : numpy.ndarray
        Link length (km for the city; TNTP: the file's units, e.g. miles).
    toll : numpy.ndarray
        Link toll (the units the toll factor converts to minutes).
    first_thru_node : int
        0-based node index: nodes ``0..first_thru_node-1`` are zone centroids that a
        path may start or end at but never pass through (TNTP ``<FIRST THRU NODE>``
        minus one; 0 lets paths pass through every node).
    node_ids : numpy.ndarray
        int64 original id of each node index.
    zone_nodes : numpy.ndarray
        int32 node index of each zone's centroid, in zone order.
    out_start : numpy.ndarray
        int32 CSR offsets (``n_nodes + 1``): the links leaving node ``u`` are
        ``out_links[out_start[u]:out_start[u + 1]]``.
    out_links : numpy.ndarray
        int32 link indices sorted by tail node (stable, so input order within a node).
    """

    n_nodes: int
    link_from: np.ndarray
    link_to: np.ndarray
    capacity: np.ndarray
    fftime: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    length: np.ndarray
    toll: np.ndarray
    first_thru_node: int
    node_ids: np.ndarray
    zone_nodes: np.ndarray
    out_start: np.ndarray
    out_links: np.ndarray

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return len(self.link_from)

    @property
    def n_zones(self) -> int:
        """Number of zones (centroids)."""
        return len(self.zone_nodes)

    @cached_property
    def street_chains(self) -> tuple[np.ndarray, np.ndarray]:
        """Interior nodes of street chains and the next link along a chain of each link.

        (:func:`sim.kernels.paths.street_chains`, centroids never interior): the
        shortest-path trees walk a chain straight on instead of queueing its nodes.
        ``chain_next[l]`` is -1 unless link ``l`` ends at an interior node.
        """
        walkable = np.arange(self.n_nodes) >= self.first_thru_node
        interior, prev = street_chains(self.link_from, self.link_to, self.n_nodes, walkable)
        return interior, chain_next(prev)


def build_network(
    *,
    node_ids: np.ndarray,
    link_from: np.ndarray,
    link_to: np.ndarray,
    capacity: np.ndarray,
    fftime: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    length: np.ndarray,
    toll: np.ndarray,
    first_thru_node: int,
    zone_nodes: np.ndarray,
    source: str = "network",
) -> Network:
    """Validate link arrays and build a :class:`Network` with its CSR index.

    Parameters
    ----------
    node_ids
        Original id of each node index.
    link_from, link_to
        Tail and head node index of each link.
    capacity, fftime, alpha, beta, length, toll
        Per-link attributes (see :class:`Network`).
    first_thru_node
        0-based index of the first node paths may pass through.
    zone_nodes
        Node index of each zone centroid, in zone order.
    source
        What the arrays came from, for error messages (a file name).

    Raises
    ------
    GeodataError
        A capacity is not positive, a free-flow time, length or BPR parameter is
        negative or not finite, or a node index is out of range.
    """
    n_nodes = len(node_ids)
    link_from = np.ascontiguousarray(link_from, dtype=np.int32)
    link_to = np.ascontiguousarray(link_to, dtype=np.int32)
    for name, arr in (("tail node", link_from), ("head node", link_to)):
        if len(arr) and (arr.min() < 0 or arr.max() >= n_nodes):
            raise GeodataError(f"{source}: a link {name} is outside the {n_nodes} nodes")
    attrs = {
        "capacity": capacity,
        "free-flow time": fftime,
        "alpha (b)": alpha,
        "beta (power)": beta,
        "length": length,
        "toll": toll,
    }
    arrays = {}
    for name, values in attrs.items():
        arr = np.ascontiguousarray(values, dtype=np.float64)
        if arr.shape != link_from.shape:
            raise GeodataError(f"{source}: {name} has {arr.size} values for {link_from.size} links")
        low_ok = arr > 0 if name == "capacity" else arr >= 0
        bad = ~(np.isfinite(arr) & low_ok)
        if name == "toll":
            bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            allowed = "> 0" if name == "capacity" else "finite" if name == "toll" else ">= 0"
            raise GeodataError(
                f"{source}: link {i + 1} ({node_ids[link_from[i]]} -> {node_ids[link_to[i]]}) "
                f"has {name} {arr[i]}; allowed: {allowed}"
            )
        arrays[name] = arr
    order = np.argsort(link_from, kind="stable").astype(np.int32)
    counts = np.bincount(link_from, minlength=n_nodes)
    out_start = np.zeros(n_nodes + 1, dtype=np.int32)
    np.cumsum(counts, out=out_start[1:])
    return Network(
        n_nodes=n_nodes,
        link_from=link_from,
        link_to=link_to,
        capacity=arrays["capacity"],
        fftime=arrays["free-flow time"],
        alpha=arrays["alpha (b)"],
        beta=arrays["beta (power)"],
        length=arrays["length"],
        toll=arrays["toll"],
        first_thru_node=int(first_thru_node),
        node_ids=np.asarray(node_ids, dtype=np.int64),
        zone_nodes=np.ascontiguousarray(zone_nodes, dtype=np.int32),
        out_start=out_start,
        out_links=order,
    )


def network_from_tntp(net_path: str | Path) -> Network:
    """Build a :class:`Network` from a ``*_net.tntp`` file.

    Node ``k`` of the file becomes index ``k - 1``; zone ``z`` is node ``z``
    (index ``z - 1``), as TNTP numbers zones first. ``<FIRST THRU NODE>`` is honoured.

    Parameters
    ----------
    net_path
        The network file.

    Raises
    ------
    GeodataError
        The file is malformed (see :func:`sim.traffic.tntp.read_net`) or a link
        attribute is out of range (see :func:`build_network`).
    """
    meta, links = tntp.read_net(net_path)
    n_nodes = tntp.meta_int(net_path, meta, "NUMBER OF NODES")
    n_zones = tntp.meta_int(net_path, meta, "NUMBER OF ZONES")
    first_thru = tntp.meta_int(net_path, meta, "FIRST THRU NODE")
    if n_zones > n_nodes:
        raise GeodataError(f"{net_path}: <NUMBER OF ZONES> {n_zones} > <NUMBER OF NODES> {n_nodes}")
    return build_network(
        node_ids=np.arange(1, n_nodes + 1, dtype=np.int64),
        link_from=links["init_node"].to_numpy() - 1,
        link_to=links["term_node"].to_numpy() - 1,
        capacity=links["capacity"].to_numpy(),
        fftime=links["free_flow_time"].to_numpy(),
        alpha=links["b"].to_numpy(),
        beta=links["power"].to_numpy(),
        length=links["length"].to_numpy(),
        toll=links["toll"].to_numpy(),
        first_thru_node=max(first_thru - 1, 0),
        zone_nodes=np.arange(n_zones, dtype=np.int32),
        source=str(net_path),
    )


def network_from_links(
    links: pd.DataFrame, nodes: pd.DataFrame, zone_centroids: Sequence[int]
) -> Network:
    """Build a :class:`Network` from the city's directed link and node tables.

    Centroid nodes are numbered first (index = zone order) and ``first_thru_node`` is
    set to the number of zones, so paths never pass through a centroid other than
    their origin and destination (TNTP ``<FIRST THRU NODE>`` semantics). Other nodes
    follow in the order of ``nodes``.

    Parameters
    ----------
    links
        One row per direction, in the order the link arrays take. Columns ``a_node``,
        ``b_node`` (node ids), ``length_m``, ``capacity_vph``, ``free_speed_kmh``;
        optional ``toll`` (default 0), ``alpha`` and ``beta`` (default BPR 0.15 and 4).
    nodes
        Indexed by ``node_id``.
    zone_centroids
        The centroid node id of each zone, in zone order (distinct).

    Returns
    -------
    Network
        ``fftime`` in minutes from length and free speed, ``length`` in km.

    Raises
    ------
    GeodataError
        A column is missing, a link names an unknown node, a centroid is unknown or
        repeated, a free speed is not positive, or an attribute is out of range.
    """
    missing = {"a_node", "b_node", "length_m", "capacity_vph", "free_speed_kmh"} - set(links)
    if missing:
        raise GeodataError(f"links table: missing column(s) {', '.join(sorted(missing))}")
    centroids = np.asarray(list(zone_centroids), dtype=np.int64)
    node_index = pd.Index(nodes.index.to_numpy(dtype=np.int64))
    if not node_index.is_unique:
        raise GeodataError("nodes table: node_id values are not unique")
    if len(np.unique(centroids)) != len(centroids):
        raise GeodataError("zone centroids: a node is the centroid of more than one zone")
    unknown = centroids[~np.isin(centroids, node_index)]
    if unknown.size:
        raise GeodataError(f"zone centroids: node {unknown[0]} is not in the nodes table")
    others = node_index[~np.isin(node_index, centroids)].to_numpy()
    node_ids = np.concatenate([centroids, others])
    position = pd.Index(node_ids)
    idx = {}
    for col in ("a_node", "b_node"):
        ids = links[col].to_numpy(dtype=np.int64)
        idx[col] = position.get_indexer(ids)
        if (idx[col] < 0).any():
            bad = ids[idx[col] < 0][0]
            raise GeodataError(f"links table: {col} {bad} is not in the nodes table")
    speed = links["free_speed_kmh"].to_numpy(dtype=np.float64)
    if not (np.isfinite(speed) & (speed > 0)).all():
        i = int(np.flatnonzero(~(np.isfinite(speed) & (speed > 0)))[0])
        raise GeodataError(
            f"links table: row {i + 1} ({links.index[i]}) has free_speed_kmh {speed[i]}; "
            "allowed: > 0"
        )
    length_km = links["length_m"].to_numpy(dtype=np.float64) / 1000.0
    n = len(links)
    return build_network(
        node_ids=node_ids,
        link_from=idx["a_node"],
        link_to=idx["b_node"],
        capacity=links["capacity_vph"].to_numpy(dtype=np.float64),
        fftime=length_km / speed * 60.0,
        alpha=links["alpha"].to_numpy(dtype=np.float64)
        if "alpha" in links
        else np.full(n, BPR_ALPHA),
        beta=links["beta"].to_numpy(dtype=np.float64) if "beta" in links else np.full(n, BPR_BETA),
        length=length_km,
        toll=links["toll"].to_numpy(dtype=np.float64) if "toll" in links else np.zeros(n),
        first_thru_node=len(centroids),
        zone_nodes=np.arange(len(centroids), dtype=np.int32),
        source="links table",
    )


def network_from_graph(graph: Any, zone_centroids: Sequence[int]) -> Network:
    """Build a :class:`Network` from a networkx ``MultiDiGraph`` road graph.

    The graph is the project's lingua franca (what :meth:`sim.city.City.road_graph` and
    osmnx give): nodes are node ids, each edge's key is its link id and its attributes
    include ``length_m``, ``capacity_vph`` and ``free_speed_kmh`` (optional ``toll``,
    ``alpha``, ``beta``). Links are ordered by link id.

    Parameters
    ----------
    graph
        A directed multigraph of the road network.
    zone_centroids
        The centroid node id of each zone, in zone order.

    Returns
    -------
    Network
        The same arrays :func:`network_from_links` builds from the equivalent tables.
    """
    keys, rows = [], []
    for a, b, key, data in graph.edges(keys=True, data=True):
        keys.append(key)
        rows.append({**data, "a_node": a, "b_node": b})
    links = pd.DataFrame(rows, index=pd.Index(keys, name="link_id")).sort_index()
    nodes = pd.DataFrame(index=pd.Index(list(graph.nodes), name="node_id"))
    return network_from_links(links, nodes, zone_centroids)
