"""Road policies: scenario edits of the city's directed links table.

:func:`apply_road_policies` returns the links in force in a given year, with a ``toll``
column, after every road policy of that year or earlier, in year order (scenario order within a
year):

- ``road_closure``: the listed (directed) links are removed.
- ``new_link``: a straight link between two existing nodes (and its reverse when
  ``both_directions``); length = straight-line distance, capacity = lanes x
  capacity per lane, ``link_type`` ``"new"``, ``signal_id`` of the head node's signal.
  New links get ids above the city's largest link id, numbered in scenario order
  whatever the year, so a new link keeps its id from year to year.
- ``lane_change``: lanes set; capacity scaled by new lanes / old lanes.
- ``speed_change``: free speed set.
- ``congestion_charge``: toll on the listed links and on every link entering the cordon
  (head node inside one of the cordon zones, tail node outside all of them). A later
  charge on the same link replaces the earlier toll.

Other policy types (schools, housing, signal retiming, parking guidance, staggered
school start) are ignored here. :func:`check_road_policies` checks the ids a scenario
names against the city before a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from sim.errors import ScenarioError
from sim.policies import (
    CongestionCharge,
    LaneChange,
    LinkPolicy,
    NewLink,
    Policy,
    RoadClosure,
    RoadPolicy,
    SpeedChange,
)

if TYPE_CHECKING:
    from sim.city import City

NEW_LINK_TYPE = "new"


def apply_road_policies(
    links: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    policies: Sequence[Policy],
    year: int,
) -> gpd.GeoDataFrame:
    """The city's links as they are in ``year``, with a ``toll`` column.

    Parameters
    ----------
    links
        Directed links indexed by ``link_id`` (the City contract's columns).
    nodes
        Nodes indexed by ``node_id`` (Point geometry, ``signal_id``).
    zones
        Zones indexed by ``zone_id`` (polygons), for cordon charges.
    policies
        The scenario's policies; only road policies with ``year <= year`` act.
    year
        The simulated year.

    Returns
    -------
    geopandas.GeoDataFrame
        A modified copy; the inputs are not changed.

    Raises
    ------
    ScenarioError
        A policy names a link, node or zone that does not exist (by then).
    """
    out = links.copy()
    if "toll" not in out.columns:
        out["toll"] = 0.0
    for col in ("toll", "capacity_vph", "free_speed_kmh"):
        out[col] = out[col].astype(float)
    new_ids = _new_link_ids(links, policies)
    in_force = [
        (i, pol)
        for i, pol in enumerate(policies)
        if isinstance(pol, RoadPolicy) and pol.year <= year
    ]
    # year order, scenario order within a year: a closure listed first but dated later
    # must not remove a link before an earlier-dated edit of it
    for i, pol in sorted(in_force, key=lambda item: item[1].year):
        if isinstance(pol, NewLink):
            out = _add_links(out, nodes, pol, new_ids[i], i)
            continue
        assert isinstance(pol, LinkPolicy)
        ids = _known_links(out, pol.links, i, pol.year) if pol.links else []
        if isinstance(pol, RoadClosure):
            out = out.drop(index=ids)
        elif isinstance(pol, LaneChange):
            old = out.loc[ids, "lanes"].to_numpy(dtype=float)
            out.loc[ids, "capacity_vph"] = out.loc[ids, "capacity_vph"].to_numpy() * pol.lanes / old
            out.loc[ids, "lanes"] = pol.lanes
        elif isinstance(pol, SpeedChange):
            out.loc[ids, "free_speed_kmh"] = float(pol.speed_kmh)
        elif isinstance(pol, CongestionCharge):
            charged = ids + cordon_entry_links(out, nodes, zones, pol.cordon_zones, i)
            out.loc[charged, "toll"] = float(pol.toll)
    return out


def _new_link_ids(links: pd.DataFrame, policies: Sequence[Policy]) -> dict[int, list[int]]:
    """Ids of the links each ``new_link`` policy adds, by policy index (year independent)."""
    next_id = int(links.index.max()) + 1 if len(links) else 1
    ids = {}
    for i, pol in enumerate(policies):
        if isinstance(pol, NewLink):
            count = 2 if pol.both_directions else 1
            ids[i] = list(range(next_id, next_id + count))
            next_id += count
    return ids


def _known_links(links: pd.DataFrame, ids: Sequence[int], index: int, year: int) -> list[int]:
    missing = [link for link in ids if link not in links.index]
    if missing:
        msg = (
            f"policies.{index}.links: link {missing[0]} does not exist in {year} "
            "(unknown id, or closed by an earlier policy)"
        )
        raise ScenarioError(msg)
    return list(dict.fromkeys(int(link) for link in ids))


def _add_links(
    links: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, pol: NewLink, ids: list[int], index: int
) -> gpd.GeoDataFrame:
    pol.check_nodes(nodes.index, index)
    ends = [(pol.from_node, pol.to_node), (pol.to_node, pol.from_node)][: len(ids)]
    rows = []
    for a, b in ends:
        line = shapely.LineString([nodes.geometry.loc[a], nodes.geometry.loc[b]])
        rows.append(
            {
                "a_node": int(a),
                "b_node": int(b),
                "length_m": float(line.length),
                "lanes": int(pol.lanes),
                "free_speed_kmh": float(pol.speed_kmh),
                "capacity_vph": float(pol.lanes * pol.capacity_per_lane),
                "link_type": NEW_LINK_TYPE,
                "name": f"new link {pol.from_node}-{pol.to_node}",
                "signal_id": int(nodes.loc[b, "signal_id"]),
                "toll": 0.0,
                "geometry": line,
            }
        )
    added = gpd.GeoDataFrame(
        rows, index=pd.Index(ids, name=links.index.name), geometry="geometry", crs=links.crs
    )
    combined = pd.concat([links, added.reindex(columns=links.columns)])
    for col in links.columns:
        if pd.api.types.is_integer_dtype(links[col].dtype):
            # extra id columns (e.g. a source link id) get -1, the contract's "none"
            combined[col] = combined[col].fillna(-1).astype(links[col].dtype)
    return gpd.GeoDataFrame(combined, geometry=links.geometry.name, crs=links.crs)


def cordon_entry_links(
    links: pd.DataFrame,
    nodes: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    cordon_zones: Sequence[int],
    index: int = 0,
) -> list[int]:
    """Links entering a cordon: head node inside one of the zones, tail node outside all.

    A node on a zone's boundary counts as inside. ``index`` is the policy's position in
    the scenario, for the error message.
    """
    if not cordon_zones:
        return []
    unknown = [z for z in cordon_zones if z not in zones.index]
    if unknown:
        msg = f"policies.{index}.cordon_zones: zone {unknown[0]} does not exist"
        raise ScenarioError(msg)
    area = shapely.union_all(zones.geometry.loc[list(cordon_zones)].to_numpy())
    shapely.prepare(area)
    inside = pd.Series(shapely.covers(area, nodes.geometry.to_numpy()), index=nodes.index)
    head_in = inside.reindex(links["b_node"]).to_numpy(dtype=bool)
    tail_in = inside.reindex(links["a_node"]).to_numpy(dtype=bool)
    return [int(k) for k in links.index[head_in & ~tail_in]]


def check_road_policies(city: City, policies: Sequence[Policy]) -> None:
    """Check the road policies against the city: the ids each names, then a replay.

    Parameters
    ----------
    city
        The city (its ``links``, ``nodes`` and ``zones`` are used).
    policies
        The scenario's policies, in scenario order (messages give their index).

    Raises
    ------
    ScenarioError
        Naming the policy index, the field and the bad value, e.g.
        ``policies.2.links: link 99999 is not a link of the city``, or a link named after
        an earlier-dated closure removed it.
    """
    roads = [(i, p) for i, p in enumerate(policies) if isinstance(p, RoadPolicy)]
    for i, pol in roads:
        pol.check(city, i, policies)
    # Replay them in year order: a link closed by an earlier-dated policy and named by a
    # later one would otherwise only fail in the middle of a run.
    if roads:
        last = max(p.year for _, p in roads)
        apply_road_policies(city.links, city.nodes, city.zones, policies, last)
