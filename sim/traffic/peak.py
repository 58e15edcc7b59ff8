"""The city's morning peak hour: road policies, signal plans, equilibrium assignment, KPIs.

:class:`PeakTraffic` keeps the road network of one run. Each simulated year it applies
the road policies in force, rebuilds the CSR network only when they changed, loads the
peak-hour car OD matrix with a user-equilibrium assignment (warm-started from last
year's flows) and reports the traffic KPIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.policies import ParkingGuidance, SignalRetiming, latest_in_force
from sim.scenario import AssignmentParams
from sim.traffic.assignment import assign
from sim.traffic.network import Network, network_from_links
from sim.traffic.policies import apply_road_policies
from sim.traffic.signals import SignalPlans, apply_signal_timing, approach_phases

#: V/C above which a link counts as congested.
CONGESTED_VC = 0.9
#: Extra km a driver cruises for parking per unit of lot occupancy, without guidance.
CRUISE_KM_AT_FULL = 1.0
#: Speed while cruising for parking (km/h).
CRUISE_SPEED_KMH = 15.0


@dataclass
class PeakResult:
    """Link results and KPIs of one peak-hour assignment."""

    links: pd.DataFrame  # link_id index: flow, capacity, vc, time_min, speed_kmh
    kpis: dict[str, float] = field(default_factory=dict)


class PeakTraffic:
    """The road network of one run, stepped year by year."""

    def __init__(self, city: Any, policies: Sequence[Any], params: AssignmentParams) -> None:
        self.city = city
        self.policies = list(policies)
        self.params = params
        self.centroids = city.zones["centroid_node"].to_numpy()
        self.plans = SignalPlans.from_city(city.signals, city.links)
        self._key: tuple[int, ...] | None = None
        self._links: pd.DataFrame | None = None
        self._net: Network | None = None
        self._flows: pd.Series | None = None
        self._times: pd.Series | None = None
        self._retimed: set[int] = set()

    def _road_links(self, year: int) -> pd.DataFrame:
        key = tuple(i for i, p in enumerate(self.policies) if p.year <= year)
        if key != self._key:
            self._links = apply_road_policies(
                self.city.links, self.city.nodes, self.city.zones, self.policies, year
            )
            # a new link ending at a signal is an approach too: phase the links in force
            self.plans = replace(self.plans, approach_phase=approach_phases(self._links))
            self._key = key
            self._net = None
        assert self._links is not None
        return self._links

    def _retime_signals(self, year: int, links: pd.DataFrame, demand: np.ndarray) -> None:
        for i, pol in enumerate(self.policies):
            if not isinstance(pol, SignalRetiming) or pol.year > year or i in self._retimed:
                continue
            ids = None if pol.signals == "all" else list(pol.signals)
            if pol.method == "webster":
                flows = self._flows
                if flows is None:  # retiming in the first year: time it on this year's flows
                    flows = self._assign(links, demand).links["flow"]
                self.plans = self.plans.retime_webster(links, flows, ids)
            else:
                self.plans = self.plans.with_cycle(pol.cycle_s or 90.0, ids)
            self._retimed.add(i)
            self._net = None

    def _assign(
        self, links: pd.DataFrame, demand: np.ndarray, rel_gap: float | None = None
    ) -> PeakResult:
        timed = apply_signal_timing(links, self.plans)
        if self._net is None:
            self._net = network_from_links(timed, self.city.nodes, self.centroids)
        net = self._net
        p = self.params
        warm = None
        if self._flows is not None and len(self._flows) == len(timed):
            warm = self._flows.reindex(timed.index).fillna(0.0).to_numpy()
        res = assign(
            net,
            demand,
            algorithm=p.algorithm,
            rel_gap=p.rel_gap if rel_gap is None else rel_gap,
            max_iter=p.max_iter,
            toll_factor=p.toll_factor,
            distance_factor=p.distance_factor,
            initial_flows=warm,
        )
        cap = timed["capacity_vph"].to_numpy()
        length_km = timed["length_m"].to_numpy() / 1000.0
        time_min = np.asarray(res.times)
        frame = pd.DataFrame(
            {
                "flow": res.flows,
                "capacity": cap,
                "vc": np.divide(res.flows, cap, out=np.zeros_like(cap), where=cap > 0),
                "time_min": time_min,
                "speed_kmh": np.divide(
                    length_km * 60.0, time_min, out=np.zeros_like(cap), where=time_min > 0
                ),
            },
            index=timed.index,
        )
        # true free-flow time: the untimed links (the network's fftime includes signal delay)
        free_min = (links["length_m"] / links["free_speed_kmh"] * 0.06).to_numpy()
        kpis = link_kpis(frame, length_km, free_min, float(demand.sum()))
        kpis["rel_gap"] = float(res.rel_gap)
        kpis["assignment_iterations"] = float(res.iterations)
        return PeakResult(links=frame, kpis=kpis)

    def network_times(self, year: int) -> tuple[Network, np.ndarray]:
        """The year's network and link minutes of the last assignment (free flow before one).

        What the demand model skims (:func:`sim.mobility.skims.car_skims`); a link new this
        year starts at its free-flow time.
        """
        links = self._road_links(year)
        timed = apply_signal_timing(links, self.plans)
        if self._net is None:
            self._net = network_from_links(timed, self.city.nodes, self.centroids)
        net = self._net
        if self._times is None:
            return net, net.fftime
        last = self._times.reindex(timed.index).to_numpy(dtype=np.float64)
        return net, np.where(np.isfinite(last), last, net.fftime)

    def step(self, year: int, demand: np.ndarray, rel_gap: float | None = None) -> PeakResult:
        """Assign this year's peak-hour car demand and return link results and KPIs.

        ``rel_gap`` overrides the scenario's gap (a demand loop's looser inner rounds).
        """
        links = self._road_links(year)
        self._retime_signals(year, links, demand)
        result = self._assign(links, demand, rel_gap)
        self._flows = result.links["flow"]
        self._times = result.links["time_min"]
        cruise = parking_cruise_km(self.city, demand, guidance_share(self.policies, year))
        result.kpis["vkt"] += cruise
        result.kpis["vht"] += cruise / CRUISE_SPEED_KMH
        result.kpis["parking_cruise_vkt"] = cruise
        return result


def link_kpis(
    frame: pd.DataFrame, length_km: np.ndarray, free_min: np.ndarray, trips: float
) -> dict[str, float]:
    """VKT, VHT, delay, congestion and travel-time index of one peak hour."""
    flow = frame["flow"].to_numpy()
    vkt = float(flow @ length_km)
    vht = float(flow @ frame["time_min"].to_numpy()) / 60.0
    free_vht = float(flow @ free_min) / 60.0
    return {
        "car_trips_peak": trips,
        "vkt": vkt,
        "vht": vht,
        "delay_vh": vht - free_vht,
        "mean_trip_min": vht * 60.0 / trips if trips > 0 else 0.0,
        "congested_links": float((frame["vc"] > CONGESTED_VC).sum()),
        "travel_time_index": vht / free_vht if free_vht > 0 else 1.0,
    }


def guidance_share(policies: Sequence[Any], year: int) -> float:
    """Share of drivers sent to the nearest free lot (the latest guidance policy in force)."""
    pol = latest_in_force(policies, ParkingGuidance, year)
    return 0.0 if pol is None else pol.share


def parking_cruise_km(city: Any, demand: np.ndarray, guided: float) -> float:
    """Vehicle-km driven searching for parking in zones with lots (unguided drivers cruise).

    A driver arriving in a zone with public lots cruises ``CRUISE_KM_AT_FULL × occupancy``
    km on average; guidance sends its share straight to the nearest free lot.
    """
    lots = city.parking
    if lots.empty:
        return 0.0
    zone_pos = {z: i for i, z in enumerate(city.zones.index)}
    occ = lots.groupby("zone_id")["occupancy_am"].mean()
    arrivals = demand.sum(axis=0)
    km = sum(arrivals[zone_pos[z]] * o for z, o in occ.items() if z in zone_pos)
    return float(km * CRUISE_KM_AT_FULL * (1.0 - guided))
