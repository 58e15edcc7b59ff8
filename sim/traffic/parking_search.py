"""Parking search in the dynamic peak: who parks, who cruises, who parks illegally.

Given the vehicles of a loading and the times they reach their destination zone (from
the last loading), :func:`search_outcomes` plays the zone's kerb and the car parks
(:class:`~sim.traffic.parking_supply.ParkingSupply`) forward in time order:

- of the cars leaving a zone, every so many (:data:`HOME_KERB_SHARE` of them, in
  departure order: the residents' cars parked on the street) free a kerb space there;
- :data:`OFF_STREET_SHARE` of the arrivals (every so many, in arrival order) have a
  space of their own off the street (a workplace or home garage) or only drop someone
  off: they need no public space;
- any other arrival takes a free kerb space of its destination zone if there is one;
- else a guided driver (``parking_guidance``: that share of those who find the kerb full,
  counted in arrival order) is sent to the nearest car park with room within
  :data:`GUIDE_RADIUS_M`;
- else the driver searches: it takes the next kerb space that comes free in the zone
  (first come, first served) or gives up after :data:`SEARCH_LIMIT_S` and parks
  illegally, blocking the kerb lane of the link where it stops for
  :data:`ILLEGAL_DWELL_S`;
- ``parking_enforcement``: that share of the illegally parked (in the order they park)
  get a message and move to the nearest car park with room ``within_min`` later,
  which frees the lane.

:class:`ParkingSearch` turns the outcomes into the next loading: a searcher's route
loses its final connector and gets a cruise tail of nearby street links
(:func:`cruise_walk`) whose free-flow time is its search time, so searching cars drive
on the links while they search; a guided car's tail is the shortest path to its car
park. Blocked kerb lanes become a link × 5-min-bin capacity factor for the kernel.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from sim.kernels.cruise import cruise_links
from sim.traffic.dynamic import BIN_S
from sim.traffic.parking_supply import ParkingSupply, StreetGraph

#: A driver gives up searching after this long (s) and parks illegally.
SEARCH_LIMIT_S = 600.0
#: Share of arriving cars with a private off-street space (or only dropping off).
OFF_STREET_SHARE = 0.75
#: Share of the cars leaving a zone in the peak that were parked on its kerb.
HOME_KERB_SHARE = 0.3
#: Guided drivers (and messaged illegal parkers) go to car parks at most this far (m).
GUIDE_RADIUS_M = 2000.0
#: How long an illegally parked car stays (s): a commuter's, past the peak.
ILLEGAL_DWELL_S = 4 * 3600.0
#: Lanes a one-lane street keeps while a parked car blocks it (drivers squeeze past).
SQUEEZE_LANES = 0.5
#: A cruise walk avoids links already driven: each earlier pass counts this many metres.
REVISIT_M = 300.0
#: ...and prefers streets with kerb: one without counts this many metres more.
NO_KERB_M = 150.0
#: Searchers arriving over the same link take turns on this many first ways out.
WALK_VARIANTS = 3

#: Outcomes: not parking (no destination zone), parked on arrival, found a kerb space
#: after searching, guided to a car park, parked illegally, moved to a car park, parked
#: off the street.
NONE, PARKED, FOUND, GUIDED, ILLEGAL, MOVED, PRIVATE = -1, 0, 1, 2, 3, 4, 6
_FREE, _ARRIVE, _GIVE_UP, _MOVE = 0, 1, 2, 3
_SEARCHING = 5


def _take(count: int, share: float) -> bool:
    """Whether the ``count``-th candidate (from 0) is in the share: exact and seedless."""
    return int((count + 1) * share + 1e-9) > int(count * share + 1e-9)


def _every(n: int, share: float) -> np.ndarray:
    """:func:`_take` of the candidates ``0..n-1`` at once."""
    k = np.arange(n)
    return np.floor((k + 1) * share + 1e-9) > np.floor(k * share + 1e-9)


def _in_order(times: np.ndarray, which: np.ndarray) -> np.ndarray:
    """The vehicles ``which`` sorted by time (ties by index): the order events happen in."""
    return which[np.lexsort((which, times[which]))]


@dataclass
class Outcomes:
    """What each vehicle's parking came to (arrays over the vehicles).

    Attributes
    ----------
    outcome
        One of :data:`NONE`, :data:`PARKED`, :data:`FOUND`, :data:`GUIDED`,
        :data:`ILLEGAL`, :data:`MOVED`, :data:`PRIVATE`.
    search_s
        Seconds searching (the limit for those who gave up).
    lot
        Car park index (guided or moved), else -1.
    illegal_from, illegal_to
        When an illegally parked car blocked its lane (NaN: never).
    changes
        ``(time, place, +1/-1)`` of every change of occupied spaces; places are zones
        ``0..n_zones-1`` (kerb) and ``n_zones + lot`` (car parks).
    """

    outcome: np.ndarray
    search_s: np.ndarray
    lot: np.ndarray
    illegal_from: np.ndarray
    illegal_to: np.ndarray
    changes: list[tuple[float, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class SearchRules:
    """How drivers park: the policies in force and the behaviour's constants.

    Attributes
    ----------
    guided
        Share of the drivers who find the kerb full that are guided (``parking_guidance``).
    enforced, enforce_s
        Share of the illegally parked who are messaged (``parking_enforcement``) and
        the seconds they take to move.
    limit_s
        Search time after which a driver parks illegally.
    private
        Share of arrivals with an off-street space of their own.
    home_kerb
        Share of departing cars that leave a kerb space free in their origin zone.
    """

    guided: float = 0.0
    enforced: float = 0.0
    enforce_s: float = 600.0
    limit_s: float = SEARCH_LIMIT_S
    private: float = OFF_STREET_SHARE
    home_kerb: float = HOME_KERB_SHARE


def search_outcomes(
    supply: ParkingSupply,
    arrive_zone: np.ndarray,
    arrive_s: np.ndarray,
    leave_zone: np.ndarray,
    leave_s: np.ndarray,
    nearest_lots: Sequence[Sequence[int]],
    rules: SearchRules,
) -> Outcomes:
    """Play kerb and car-park occupancy forward in time order (see the module docstring).

    Parameters
    ----------
    supply
        Spaces and those taken at the start.
    arrive_zone, arrive_s
        Destination zone index (-1: none) and arrival time of each vehicle.
    leave_zone, leave_s
        Origin zone index (-1: none) and departure time of each vehicle.
    nearest_lots
        Per vehicle, the car parks it may be sent to, nearest first.
    rules
        The policies in force and the drivers' behaviour.
    """
    n = len(arrive_s)
    n_zones = len(supply.kerb_spaces)
    free = (supply.kerb_spaces - supply.kerb_taken).astype(np.int64)
    taken = supply.kerb_taken.astype(np.int64).copy()
    lot_free = (supply.lot_capacity - supply.lot_taken).astype(np.int64)
    out = Outcomes(
        outcome=np.full(n, NONE, np.int64),
        search_s=np.zeros(n),
        lot=np.full(n, -1, np.int64),
        illegal_from=np.full(n, np.nan),
        illegal_to=np.full(n, np.nan),
    )
    waiting: list[deque[int]] = [deque() for _ in range(n_zones)]
    # every so many departures of a zone free a kerb space there (its k-th departure)
    leaving = _in_order(leave_s, np.flatnonzero(leave_zone >= 0))
    rank = pd.Series(leave_zone[leaving]).groupby(leave_zone[leaving]).cumcount().to_numpy()
    frees = leaving[_every(int(rank.max(initial=-1)) + 1, rules.home_kerb)[rank]]
    arriving = _in_order(arrive_s, np.flatnonzero(arrive_zone >= 0))
    private = _every(len(arriving), rules.private)
    out.outcome[arriving[private]] = PRIVATE
    events = [(float(leave_s[v]), _FREE, int(v)) for v in frees]
    events += [(float(arrive_s[v]), _ARRIVE, int(v)) for v in arriving[~private]]
    heapq.heapify(events)
    n_short = n_illegal = 0

    def to_lot(v: int, t: float) -> bool:
        for lot in nearest_lots[v]:
            if lot_free[lot] > 0:
                lot_free[lot] -= 1
                out.lot[v] = lot
                out.changes.append((t, n_zones + lot, 1))
                return True
        return False

    while events:
        t, kind, v = heapq.heappop(events)
        if kind == _FREE:
            z = int(leave_zone[v])
            if taken[z] == 0:
                continue
            queue = waiting[z]
            while queue and out.outcome[queue[0]] != _SEARCHING:
                queue.popleft()
            if queue:  # the first searcher takes the space
                w = queue.popleft()
                out.outcome[w], out.search_s[w] = FOUND, t - arrive_s[w]
            else:
                free[z] += 1
                taken[z] -= 1
                out.changes.append((t, z, -1))
        elif kind == _ARRIVE:
            z = int(arrive_zone[v])
            if free[z] > 0:
                free[z] -= 1
                taken[z] += 1
                out.outcome[v] = PARKED
                out.changes.append((t, z, 1))
                continue
            n_short += 1
            if _take(n_short - 1, rules.guided) and to_lot(v, t):
                out.outcome[v] = GUIDED
                continue
            out.outcome[v] = _SEARCHING
            waiting[z].append(v)
            heapq.heappush(events, (t + rules.limit_s, _GIVE_UP, v))
        elif kind == _GIVE_UP:
            if out.outcome[v] != _SEARCHING:
                continue
            out.outcome[v], out.search_s[v] = ILLEGAL, rules.limit_s
            out.illegal_from[v], out.illegal_to[v] = t, t + ILLEGAL_DWELL_S
            if _take(n_illegal, rules.enforced):
                heapq.heappush(events, (t + rules.enforce_s, _MOVE, v))
            n_illegal += 1
        elif to_lot(v, t):  # _MOVE: the message sends it to a car park with room
            out.outcome[v], out.illegal_to[v] = MOVED, t
    return out


def occupancy_frame(supply: ParkingSupply, out: Outcomes, horizon_s: float) -> pd.DataFrame:
    """Occupied spaces of every car park and zone kerb at the end of each 5-min bin.

    Columns ``kind`` ("lot" or "kerb"), ``place`` (car park id or zone id),
    ``bin_start_s``, ``occupied`` and ``capacity``; places without spaces are left out.
    """
    n_zones = len(supply.kerb_spaces)
    n_bins = max(int(np.ceil(horizon_s / BIN_S)), 1)
    delta = np.zeros((n_zones + len(supply.lot_ids), n_bins), np.int64)
    for t, place, d in out.changes:
        delta[place, min(int(t // BIN_S), n_bins - 1)] += d
    base = np.concatenate([supply.kerb_taken, supply.lot_taken])
    occupied = base[:, None] + np.cumsum(delta, axis=1)
    capacity = np.concatenate([supply.kerb_spaces, supply.lot_capacity])
    places = np.flatnonzero(capacity > 0)
    kind = np.where(places < n_zones, "kerb", "lot")
    ids = np.concatenate([supply.zone_ids, supply.lot_ids])[places]
    return pd.DataFrame(
        {
            "kind": np.repeat(kind, n_bins),
            "place": np.repeat(ids.astype(np.int64), n_bins),
            "bin_start_s": np.tile(np.arange(n_bins) * BIN_S, len(places)),
            "occupied": occupied[places].ravel(),
            "capacity": np.repeat(capacity[places], n_bins),
        }
    )


def cruise_walk(
    graph: StreetGraph, start: int, prev: int, seconds: float, variant: int = 0
) -> list[int]:
    """Street links a searcher drives from node ``start`` for ``seconds`` of free flow.

    At each node it takes the outgoing street link (never a connector, no U-turn unless
    it is the only way) whose end is nearest to ``start``, counting :data:`REVISIT_M`
    per earlier pass and :data:`NO_KERB_M` for a street without kerb: it circles the
    blocks around its destination. ``variant`` k takes the k-th best way out of
    ``start`` (modulo the ways there are), so searchers arriving alike spread over the
    blocks. At least one link; empty if none leaves ``start``.
    """
    out_start, out_links = graph.street_out
    walk = cruise_links(out_start, out_links, graph.link_from, graph.link_to, graph.node_xy,
                        graph.kerb, graph.fft_s, start, prev, seconds, variant, REVISIT_M,
                        NO_KERB_M)  # fmt: skip
    return walk.tolist()


def lot_next_links(graph: StreetGraph, lot_nodes: np.ndarray) -> np.ndarray:
    """``(n_lots, n_nodes)``: the first link of the quickest street path to each car park.

    -1 where the car park cannot be reached (or at its own node).
    """
    street = np.flatnonzero(~graph.connector)
    frame = pd.DataFrame(
        {
            "a": graph.link_from[street],
            "b": graph.link_to[street],
            "t": graph.fft_s[street],
            "k": street,
        }
    )
    best = frame.sort_values(["t", "k"]).drop_duplicates(["a", "b"])
    n_nodes = len(graph.node_xy)
    reverse = sp.csr_matrix((best["t"], (best["b"], best["a"])), shape=(n_nodes, n_nodes))
    _, pred = dijkstra(reverse, indices=lot_nodes, return_predecessors=True)
    link_of = pd.Series(best["k"].to_numpy(), index=pd.MultiIndex.from_frame(best[["a", "b"]]))
    nxt = np.full((len(lot_nodes), n_nodes), -1, np.int64)
    for i in range(len(lot_nodes)):
        u = np.flatnonzero(pred[i] >= 0)
        keys = pd.MultiIndex.from_arrays([u, pred[i][u]])
        nxt[i, u] = link_of.reindex(keys).to_numpy()
    return nxt


def blocked_capacity(
    graph: StreetGraph, link: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, n_bins: int
) -> np.ndarray:
    """Capacity factor per link and 5-min bin while parked cars block a kerb lane.

    While at least one car stands on a link, its kerb lane is blocked: it keeps
    ``lanes - 1`` of ``lanes`` (a one-lane street :data:`SQUEEZE_LANES`). A bin's factor
    is the time-weighted mean over the bin.
    """
    factor = np.ones((graph.n_links, n_bins))
    edges = np.arange(n_bins + 1) * BIN_S
    for ln in np.unique(link):
        mine = link == ln
        blocked = np.zeros(n_bins)
        spans = sorted(zip(start_s[mine], end_s[mine], strict=True))
        merged: list[list[float]] = []
        for a, b in spans:  # the union of the stays: a lane is blocked once
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            blocked += np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
        lanes = float(graph.lanes[ln])
        keep = max(lanes - 1.0, SQUEEZE_LANES) / lanes
        factor[ln] = 1.0 - blocked / BIN_S * (1.0 - keep)
    return factor
