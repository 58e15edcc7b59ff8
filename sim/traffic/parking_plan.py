"""The parking search of one dynamic loading: routes with cruise tails, blocked lanes, KPIs.

:class:`ParkingSearch` holds the city's parking supply and street graph for one year
(:mod:`sim.traffic.parking_supply`) and the parking policies in force. Before each
loading, :meth:`ParkingSearch.plan` plays the arrivals of the last loading through the
parking state (:func:`sim.traffic.parking_search.search_outcomes`) and returns a
:class:`ParkingPlan`: the same vehicles, in the same order, whose routes now end where
they park (a cruise tail for searchers, a path to a car park for the guided), the
capacity factor of the lanes illegally parked cars block, the KPIs and the occupancy
table. A vehicle parks when its route ends on a centroid connector into its
destination zone's centroid; other vehicles (no zone) are left alone.

Typical use, in the rounds of a dynamic equilibrium::

    search = ParkingSearch.from_city(city, links, net, policies, year)
    arrive = None
    for _ in range(rounds):
        plan = search.plan(vehicles, arrive)  # vehicles: the plain OD routes
        result = control.load(plan.vehicles, capacity_factor=plan.capacity_factor)
        arrive = plan.destination_arrivals(result)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sim.city import City
from sim.policies import ParkingEnforcement, ParkingGuidance, Policy, latest_in_force
from sim.traffic.dynamic import BIN_S, LoadResult, Vehicles
from sim.traffic.network import Network
from sim.traffic.parking_search import (
    FOUND,
    GUIDE_RADIUS_M,
    GUIDED,
    ILLEGAL,
    MOVED,
    WALK_VARIANTS,
    Outcomes,
    SearchRules,
    blocked_capacity,
    cruise_walk,
    lot_next_links,
    occupancy_frame,
    search_outcomes,
)
from sim.traffic.parking_supply import ParkingSupply, StreetGraph, parking_supply, street_graph

#: The parking KPIs a plan reports (registered in :mod:`sim.kpis`).
PARKING_KPIS = ("parking_cruise_vkt", "parking_search_min", "illegal_parked")
#: Columns of the run folder's ``parking.parquet`` (:func:`parking_table`).
PARKING_COLUMNS = ("year", "kind", "place", "bin_start_s", "occupied", "capacity")


def parking_table(rows: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The occupancy frames of several years (each with a ``year`` column) as one table.

    Columns :data:`PARKING_COLUMNS`; empty (with them) when there are none, e.g. a
    static run or a city without car parks.
    """
    if not rows:
        return pd.DataFrame(
            {
                "year": pd.Series(dtype=np.int32),
                "kind": pd.Series(dtype=object),
                "place": pd.Series(dtype=np.int64),
                "bin_start_s": pd.Series(dtype=float),
                "occupied": pd.Series(dtype=np.int64),
                "capacity": pd.Series(dtype=np.int64),
            }
        )
    return pd.concat(rows, ignore_index=True)[list(PARKING_COLUMNS)]


@dataclass
class ParkingPlan:
    """The vehicles of one loading with their parking, and what it costs.

    Attributes
    ----------
    vehicles
        The vehicles (same ids and order) with their routes to where they park.
    outcomes
        Each vehicle's parking outcome and search time.
    tail_fft
        Free-flow seconds of each vehicle's added tail (0: none).
    cruise_km
        Kilometres of each vehicle's cruise tail (searchers only).
    cruise_links
        Per link, how many cruise tails drive it.
    capacity_factor
        ``(n_links, n_bins)`` discharge factor of the 5-min bins (1: no lane blocked).
    occupancy
        Occupied spaces per car park and zone kerb and bin
        (:func:`~sim.traffic.parking_search.occupancy_frame`).
    """

    vehicles: Vehicles
    outcomes: Outcomes
    tail_fft: np.ndarray
    cruise_km: np.ndarray
    cruise_links: np.ndarray
    capacity_factor: np.ndarray
    occupancy: pd.DataFrame = field(repr=False)

    def destination_arrivals(self, result: LoadResult) -> np.ndarray:
        """When each vehicle of ``result`` (a loading of :attr:`vehicles`) reached its zone.

        Its arrival less the free-flow time of its tail (NaN: not arrived).
        """
        return np.maximum(result.arrive - self.tail_fft, result.depart)

    def kpis(self) -> dict[str, float]:
        """The parking KPIs of the plan (:data:`PARKING_KPIS`).

        ``parking_cruise_vkt`` (veh·km of cruise tails, driven on the links),
        ``parking_search_min`` (vehicle-minutes searching) and ``illegal_parked``
        (cars left parked illegally).
        """
        out = self.outcomes
        return {
            "parking_cruise_vkt": float(self.cruise_km.sum()),
            "parking_search_min": float(out.search_s.sum() / 60.0),
            "illegal_parked": float((out.outcome == ILLEGAL).sum()),
        }


@dataclass
class ParkingSearch:
    """The parking supply, street graph and parking policies of one year's peak.

    Attributes
    ----------
    graph, supply
        The street graph and the spaces (see :mod:`sim.traffic.parking_supply`).
    rules
        The parking policies in force and the drivers' behaviour.
    """

    graph: StreetGraph
    supply: ParkingSupply
    rules: SearchRules = field(default_factory=SearchRules)

    @classmethod
    def from_city(
        cls, city: City, links: pd.DataFrame, net: Network, policies: Sequence[Policy], year: int
    ) -> ParkingSearch:
        """The search for the links in force (in the order of ``net``) and the policies."""
        guide = latest_in_force(policies, ParkingGuidance, year)
        enforce = latest_in_force(policies, ParkingEnforcement, year)
        return cls(
            graph=street_graph(links, city.nodes, net, city.zones),
            supply=parking_supply(city, links, net),
            rules=SearchRules(
                guided=0.0 if guide is None else guide.share,
                enforced=0.0 if enforce is None else enforce.share,
                enforce_s=600.0 if enforce is None else enforce.within_min * 60.0,
            ),
        )

    @cached_property
    def _lot_next(self) -> np.ndarray:
        return lot_next_links(self.graph, self.supply.lot_node)

    def _nearest_lots(self, node: int) -> list[int]:
        """Car parks reachable from ``node`` within :data:`GUIDE_RADIUS_M`, nearest first."""
        xy = self.graph.node_xy
        lots = self.supply.lot_node
        d = np.hypot(*(xy[lots] - xy[node]).T)
        ok = (d <= GUIDE_RADIUS_M) & ((self._lot_next[:, node] >= 0) | (lots == node))
        return [int(i) for i in np.flatnonzero(ok)[np.argsort(d[ok], kind="stable")]]

    def _path_to_lot(self, node: int, lot: int) -> list[int]:
        path, goal = [], int(self.supply.lot_node[lot])
        while node != goal:
            link = int(self._lot_next[lot, node])
            path.append(link)
            node = int(self.graph.link_to[link])
        return path

    def plan(self, vehicles: Vehicles, arrive_s: np.ndarray | None = None) -> ParkingPlan:
        """The parking of ``vehicles`` (plain OD routes) arriving at ``arrive_s``.

        Parameters
        ----------
        vehicles
            The vehicles, routes ending at their destination: a centroid (the final
            connector is replaced by the parking tail) or a street node in a zone.
        arrive_s
            When each reached its destination zone in the last loading
            (:meth:`ParkingPlan.destination_arrivals`; NaN: not arrived, it does not
            park); default its departure plus its route's free-flow time.
        """
        g = self.graph
        start, links = vehicles.route_start, vehicles.route_links
        first, last = links[start[:-1]], links[start[1:] - 1]
        if arrive_s is None:
            arrive_s = vehicles.depart + np.add.reduceat(g.fft_s[links], start[:-1])
        drop = (np.diff(start) >= 2) & g.connector[last]
        street = np.where(drop, g.link_from[last], g.link_to[last])
        prev = np.where(drop, links[np.maximum(start[1:] - 2, 0)], last)
        parks = ~np.isnan(arrive_s) & (drop | ~g.connector[last])
        dest = np.where(parks, g.node_zone[g.link_to[last]], -1)
        nodes, at = np.unique(np.where(dest >= 0, street, -1), return_inverse=True)
        near = [self._nearest_lots(int(u)) if u >= 0 else [] for u in nodes]
        lots = [near[i] for i in at]
        out = search_outcomes(
            self.supply,
            dest,
            np.nan_to_num(arrive_s),
            g.node_zone[g.link_from[first]],
            vehicles.depart,
            lots,
            self.rules,
        )
        tails = self._tails(out, street, prev)
        cruising = np.isin(out.outcome, (FOUND, ILLEGAL, MOVED))
        tail_fft, cruise_km = np.zeros(len(vehicles.depart)), np.zeros(len(vehicles.depart))
        cruise = np.zeros(g.n_links, np.int64)
        for v, tail in tails.items():
            tail_fft[v] = g.fft_s[tail].sum()
            if cruising[v]:
                cruise_km[v] = g.length_m[tail].sum() / 1000.0
                np.add.at(cruise, tail, 1)
        blocked = [v for v, tail in tails.items() if tail and not np.isnan(out.illegal_from[v])]
        blocked_to = out.illegal_to[blocked]
        last_change = max((t for t, _, _ in out.changes), default=0.0)
        arrived = max(float(np.nanmax(arrive_s, initial=0.0)), last_change) + 1.0
        horizon = max(arrived, float(blocked_to.max(initial=0.0)))
        factor = blocked_capacity(
            g,
            np.array([tails[v][-1] for v in blocked], np.int64),
            out.illegal_from[blocked],
            blocked_to,
            max(int(np.ceil(horizon / BIN_S)), 1),
        )
        return ParkingPlan(
            vehicles=with_tails(vehicles, tails, drop),
            outcomes=out,
            tail_fft=tail_fft,
            cruise_km=cruise_km,
            cruise_links=cruise,
            capacity_factor=factor,
            occupancy=occupancy_frame(self.supply, out, arrived),
        )

    def _tails(self, out: Outcomes, node: np.ndarray, prev: np.ndarray) -> dict[int, list[int]]:
        """The links each vehicle that parks away from its destination drives on.

        A searcher's tail is the first links of the cruise walk from its destination's
        street ``node`` (arriving over link ``prev``), as long as its search; searchers
        arriving alike take the :data:`WALK_VARIANTS` walks in turn. A guided car's
        tail is the path to its car park (empty at the car park's own node).
        """
        g = self.graph
        walks: dict[tuple[int, int, int], tuple[list[int], np.ndarray]] = {}
        turns: dict[tuple[int, int], int] = {}
        tails: dict[int, list[int]] = {}
        for v in np.flatnonzero(np.isin(out.outcome, (FOUND, GUIDED, ILLEGAL, MOVED))):
            if out.outcome[v] == GUIDED:
                tails[int(v)] = self._path_to_lot(int(node[v]), int(out.lot[v]))
                continue
            way = (int(node[v]), int(prev[v]))
            turns[way] = turns.get(way, -1) + 1
            key = (*way, turns[way] % WALK_VARIANTS)
            if key not in walks:
                walk = cruise_walk(g, *way, self.rules.limit_s, key[2])
                walks[key] = (walk, np.cumsum(g.fft_s[walk]))
            walk, elapsed = walks[key]
            tails[int(v)] = walk[: int(np.searchsorted(elapsed, out.search_s[v] - 1e-9)) + 1]
        return tails


def with_tails(vehicles: Vehicles, tails: dict[int, list[int]], drop: np.ndarray) -> Vehicles:
    """``vehicles`` whose routes in ``tails`` end with the tail.

    Where ``drop``, the tail replaces the route's last link (its final connector).
    """
    if not tails:
        return vehicles
    start, links = vehicles.route_start, vehicles.route_links
    pieces: list[np.ndarray] = []
    new_len = np.diff(start)
    done = 0  # route_links before this are copied
    for v in sorted(tails):
        end = int(start[v + 1]) - int(drop[v])
        pieces += [links[done:end], np.asarray(tails[v], np.int64)]
        new_len[v] += len(tails[v]) - int(drop[v])
        done = int(start[v + 1])
    pieces.append(links[done:])
    new_start = np.zeros(len(new_len) + 1, np.int64)
    np.cumsum(new_len, out=new_start[1:])
    return Vehicles(vehicles.ids, vehicles.depart, new_start, np.concatenate(pieces))
