"""Whole streets: the directed links a planner means by "this street".

A road policy is about a street, not about one directed OSM piece: :func:`street_links`
grows a clicked link into every link of the same name that is connected to it (sharing a
node, or running alongside it within :data:`CARRIAGEWAY_GAP_M` metres, which joins the two
carriageways of a divided road), in both directions. :func:`describe_links` says what a set
of links is in a planner's words: street names, length of street covered and whether both
directions are in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Links of one name this close (metres) belong to one street (the two carriageways).
CARRIAGEWAY_GAP_M = 40.0


def _names(links: pd.DataFrame) -> pd.Series:
    """Link names folded for matching (case, spaces); "" where a link has none."""
    if "name" not in links:
        return pd.Series("", index=links.index)
    return links["name"].fillna("").astype(str).str.strip().str.casefold()


def street_links(links: pd.DataFrame, link_id: int) -> list[int]:
    """Every directed link of the named, connected street that ``link_id`` is part of.

    Parameters
    ----------
    links
        The city's links (index link_id; a_node, b_node, name, geometry).
    link_id
        A link of the street (e.g. the one clicked).

    Returns
    -------
    list of int
        The street's link ids in city order, both directions; for an unnamed link, the
        link and its reverse (same nodes, swapped).

    Raises
    ------
    KeyError
        ``link_id`` is not a link of ``links``.
    """
    names = _names(links)
    name = names.loc[link_id]
    if not name:
        a, b = links.loc[link_id, ["a_node", "b_node"]]
        twin = (links["a_node"] == b) & (links["b_node"] == a)
        return [int(i) for i in links.index[twin | (links.index == link_id)]]
    part = links[names == name]
    n = len(part)
    a = part["a_node"].to_numpy(np.int64)
    b = part["b_node"].to_numpy(np.int64)
    # links sharing a node: connect each link to the first link at each of its nodes
    ends = np.concatenate([a, b])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    _, first = np.unique(ends, return_index=True)
    _, inverse = np.unique(ends, return_inverse=True)
    rows = [owner, np.arange(n)]
    cols = [owner[first][inverse], np.arange(n)]
    # links running alongside (the other carriageway)
    tree = shapely.STRtree(part.geometry.to_numpy())
    near = tree.query(part.geometry.to_numpy(), predicate="dwithin", distance=CARRIAGEWAY_GAP_M)
    rows.append(near[0])
    cols.append(near[1])
    i = np.concatenate(rows)
    j = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    mine = label[part.index.get_loc(link_id)]
    return [int(x) for x in part.index[label == mine]]


@dataclass(frozen=True)
class StreetSummary:
    """What a set of links is: names, street length covered (m), both directions or not."""

    names: tuple[str, ...]
    length_m: float
    both_directions: bool


def describe_links(links: pd.DataFrame, link_ids: list[int]) -> StreetSummary:
    """Names, length of street and directions covered by ``link_ids``.

    A link whose reverse twin is also chosen counts once; one-way links (carriageways)
    count per heading along the street, and the longer heading is the street length.
    Unknown ids are ignored.
    """
    part = links.loc[[i for i in dict.fromkeys(link_ids) if i in links.index]]
    if part.empty:
        return StreetSummary((), 0.0, False)
    names = tuple(dict.fromkeys(n for n in part.get("name", pd.Series()).fillna("") if n))
    ends = list(zip(part["a_node"], part["b_node"], strict=True))
    pairs = set(ends)
    twin = np.array([(b, a) in pairs for a, b in ends])
    length = part["length_m"].to_numpy(float)
    twins_m = float(length[twin].sum()) / 2
    one_way = part[~twin]
    forward = backward = 0.0
    if len(one_way):
        heading = _headings(part.geometry.to_numpy(), one_way.geometry.to_numpy())
        forward = float(one_way["length_m"].to_numpy(float)[heading >= 0].sum())
        backward = float(one_way["length_m"].to_numpy(float)[heading < 0].sum())
    both = twins_m > 0 or (forward > 0 and backward > 0)
    return StreetSummary(names, twins_m + max(forward, backward), both)


def _headings(all_geoms: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Sign of each line's direction along the street's main axis (its vertices' first PC)."""
    coords = shapely.get_coordinates(all_geoms)
    centred = coords - coords.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if len(coords) > 1 else np.ones(2)
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    return (end - start) @ axis
