"""The city's morning peak: road policies, signal plans, static and dynamic assignment, KPIs.

:class:`PeakTraffic` keeps the road network of one run. Each simulated year it applies
the road policies in force, rebuilds the CSR network only when they changed, loads the
busiest hour's car OD matrix with a static user-equilibrium assignment (warm-started
from last year's flows; :meth:`PeakTraffic.step`, what the demand loop calls) and, with
the dynamic model (:meth:`PeakTraffic.load_period`), loads the whole AM period's vehicles
on the dynamic network with its signals (:mod:`sim.traffic.due`: route swapping from
the static equilibrium's or last year's link times). The traffic KPIs keep their names
either way; with the dynamic model they are those of the vehicles in the busiest hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.kernels.assign_links import dot
from sim.policies import SignalRetiming, TravellerInformation, latest_in_force
from sim.policies.traffic import GreenWave, SignalPlan, apply_signal_policy
from sim.scenario import AssignmentParams, DynamicParams
from sim.traffic import due
from sim.traffic.assignment import AssignmentResult, RouteMix, assign
from sim.traffic.city_dynamic import city_network
from sim.traffic.dynamic import (
    BIN_S,
    DynamicNetwork,
    GridlockError,
    LoadResult,
    TrafficControl,
    Vehicles,
)
from sim.traffic.network import Network, network_from_links
from sim.traffic.parking_plan import ParkingSearch
from sim.traffic.peak_outputs import PeakOutputs, peak_outputs
from sim.traffic.policies import apply_road_policies
from sim.traffic.signals import (
    SignalPlans,
    apply_signal_timing,
    approach_phases,
)

#: V/C above which a link counts as congested.
CONGESTED_VC = 0.9
#: The dynamic loading runs this long (s) past the AM period's last departure bin;
#: vehicles still on their way then count as unfinished (``unfinished_vehicles``).
HORIZON_GRACE_S = 1800.0


@dataclass
class PeakResult:
    """Link results and KPIs of one peak-hour assignment."""

    links: pd.DataFrame  # link_id index: flow, capacity, vc, time_min, speed_kmh
    kpis: dict[str, float] = field(default_factory=dict)
    #: The dynamic model's last loading of the AM period (t = 0 at 05:00, the start of
    #: the departure warm-up, sim.traffic.due.WARMUP_S before 06:00); None if static.
    load: LoadResult | None = None
    #: The dynamic network it ran on (link order of ``links``); None if static.
    dyn: DynamicNetwork | None = None
    #: The dynamic loading's KPIs and links_t/signals rows (sim.traffic.peak_outputs).
    outputs: PeakOutputs | None = None
    #: Car park and kerb occupancy over the period (sim.traffic.parking_plan); None if static.
    parking: pd.DataFrame | None = None


class PeakTraffic:
    """The road network of one run, stepped year by year."""

    def __init__(
        self,
        city: Any,
        policies: Sequence[Any],
        params: AssignmentParams,
        dynamic: DynamicParams | None = None,
    ) -> None:
        self.city = city
        self.policies = list(policies)
        self.params = params
        #: Settings of the dynamic model; None: the static model only.
        self.dynamic = dynamic
        self._dyn: tuple[tuple[Any, ...], DynamicNetwork, Network] | None = None
        #: Busiest-hour mean link minutes of the last dynamic loading (the skims' times).
        self._dyn_minutes: pd.Series | None = None
        #: Build the links_t/signals rows (the run keeps replication 0's only).
        self.tables = True
        self.centroids = city.zones["centroid_node"].to_numpy()
        self.plans = SignalPlans.from_city(city.signals, city.links)
        self._key: tuple[int, ...] | None = None
        self._links: pd.DataFrame | None = None
        self._net: Network | None = None
        #: The links in force with the signal timing of ``plans`` (``_net``'s table).
        self._timed: pd.DataFrame | None = None
        self._flows: pd.Series | None = None
        #: The car matrix ``_flows`` carry (the warm start of the next assignment).
        self._demand: np.ndarray | None = None
        self._times: pd.Series | None = None
        #: The network of the last static assignment and its shortest-path trees at
        #: ``_times`` (what the skims of :meth:`skim_trees` reuse).
        self._trees: tuple[Network, np.ndarray | None] | None = None
        self._retimed: set[int] = set()
        #: The last static equilibrium's route split (the dynamic loading's first routes).
        self._mix: RouteMix | None = None
        #: Last year's dynamic network, vehicles and routes after their last swap: the
        #: first routes of this year's vehicles of the same OD pair and departure group.
        self._last_routes: tuple[Network, due.Trips, Vehicles] | None = None
        #: The flows the signals' main roads were chosen by (None: not yet, by capacity).
        self._phase_flows: pd.Series | None = None

    def _road_links(self, year: int) -> pd.DataFrame:
        key = tuple(i for i, p in enumerate(self.policies) if p.year <= year)
        if key != self._key:
            self._links = apply_road_policies(
                self.city.links, self.city.nodes, self.city.zones, self.policies, year
            )
            # a new link ending at a signal is an approach too: phase the links in force
            phases = approach_phases(self._links, self._phase_flows)
            self.plans = replace(self.plans, approach_phase=phases)
            self._key = key
            self._net = None
        assert self._links is not None
        return self._links

    def _retime_signals(self, year: int, links: pd.DataFrame, demand: np.ndarray) -> None:
        for i, pol in enumerate(self.policies):
            if (
                isinstance(pol, SignalPlan | GreenWave)
                and pol.year <= year
                and i not in self._retimed
            ):
                self.plans = apply_signal_policy(self.plans, pol, links)
                self._retimed.add(i)
                self._net = None
            if not isinstance(pol, SignalRetiming) or pol.year > year or i in self._retimed:
                continue
            ids = None if pol.signals == "all" else list(pol.signals)
            if pol.method == "webster":
                flows = self._flows
                if flows is None:  # retiming in the first year: time it on this year's flows
                    flows = self._assign(links, demand)[0].links["flow"]
                self.plans = self.plans.retime_webster(links, flows, ids)
            else:
                self.plans = self.plans.with_cycle(pol.cycle_s or 90.0, ids)
            self._retimed.add(i)
            self._net = None

    def _timed_network(self, links: pd.DataFrame) -> tuple[pd.DataFrame, Network]:
        """The links in force with their signal timing, and the network built from them.

        Built again only after the links or the plans changed (whatever changes them
        drops ``_net``): the timing is the same in every round and year until then.
        """
        if self._net is None or self._timed is None:
            self._timed = apply_signal_timing(links, self.plans)
            self._net = network_from_links(self._timed, self.city.nodes, self.centroids)
        return self._timed, self._net

    def _assign(
        self, links: pd.DataFrame, demand: np.ndarray, rel_gap: float | None = None
    ) -> tuple[PeakResult, AssignmentResult]:
        """The static equilibrium of ``demand`` and the assignment's own result.

        With the dynamic model on, the result keeps its route mix (warm-started from the
        last one's), the dynamic loading's first routes.
        """
        timed, net = self._timed_network(links)
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
            initial_demand=self._demand if warm is not None else None,
            keep_trees=True,
            keep_mix=self.dynamic is not None,
            initial_mix=self._mix if warm is not None else None,
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
        kpis = link_kpis(frame, length_km, _length_free(links)[1], float(demand.sum()))
        kpis["rel_gap"] = float(res.rel_gap)
        kpis["assignment_iterations"] = float(res.iterations)
        return PeakResult(links=frame, kpis=kpis), res

    def network_times(self, year: int) -> tuple[Network, np.ndarray]:
        """The year's network and link minutes of the last assignment (free flow before one).

        What the demand model skims (:func:`sim.mobility.skims.car_skims`); a link new this
        year starts at its free-flow time.
        """
        timed, net = self._timed_network(self._road_links(year))
        times = self._times if self._dyn_minutes is None else self._dyn_minutes
        if times is None:
            return net, net.fftime
        last = times.reindex(timed.index).to_numpy(dtype=np.float64)
        return net, np.where(np.isfinite(last), last, net.fftime)

    def skim_trees(self, year: int) -> np.ndarray | None:
        """Shortest-path trees of every zone at the link times of :meth:`network_times`.

        They are the last static assignment's (its final search ran at those times'
        generalised cost) while the year's network is the one it ran on and no dynamic
        loading has replaced its times; None otherwise (the skims search the network).
        """
        _, net = self._timed_network(self._road_links(year))
        if self._trees is None or self._trees[0] is not net or self._dyn_minutes is not None:
            return None
        return self._trees[1]

    def with_local_trips(self, year: int, result: PeakResult, load: pd.Series) -> PeakResult:
        """The busiest hour with the car trips inside zones on their local streets.

        ``load`` is vehicles per link id of the trips between two access points of one
        zone (:meth:`sim.mobility.intrazonal.LocalRoutes.link_load`): they drive the
        zone's own streets at the equilibrium's link times, outside the equilibrium (a
        few vehicles per local link), so vkt, vht, delay and congestion count them.
        """
        if load.empty:
            return result
        links = self._road_links(year)
        frame = result.links.copy()
        frame["flow"] = frame["flow"] + load.reindex(frame.index).fillna(0.0)
        cap = frame["capacity"].to_numpy()
        flow = frame["flow"].to_numpy()
        frame["vc"] = np.divide(flow, cap, out=np.zeros_like(cap), where=cap > 0)
        roads = links.loc[frame.index]
        length_km = roads["length_m"].to_numpy() / 1000.0
        free_min = (roads["length_m"] / roads["free_speed_kmh"] * 0.06).to_numpy()
        trips = result.kpis.get("car_trips_peak", 0.0)
        kpis = link_kpis(frame, length_km, free_min, trips)
        for name in ("car_trips_peak", "mean_trip_min"):  # the demand model's (all loaded)
            kpis.pop(name)
        return replace(result, links=frame, kpis={**result.kpis, **kpis})

    def step(self, year: int, demand: np.ndarray, rel_gap: float | None = None) -> PeakResult:
        """Assign this year's peak-hour car demand and return link results and KPIs.

        ``rel_gap`` overrides the scenario's gap (a demand loop's looser inner rounds).
        """
        links = self._road_links(year)
        self._phase_by_volume(links, demand, rel_gap)
        self._retime_signals(year, links, demand)
        result, res = self._assign(links, demand, rel_gap)
        self._keep(links, demand, result, res)
        return result

    def _keep(
        self, links: pd.DataFrame, demand: np.ndarray, result: PeakResult, res: AssignmentResult
    ) -> None:
        """Remember an equilibrium: the next one's warm start, the skims' trees and times."""
        self._trees = (self._timed_network(links)[1], res.trees)
        self._mix = res.mix
        self._flows = result.links["flow"]
        self._demand = np.array(demand, dtype=np.float64)
        self._times = result.links["time_min"]

    def _phase_by_volume(
        self, links: pd.DataFrame, demand: np.ndarray, rel_gap: float | None
    ) -> None:
        """Once a run, before any retiming: give the main phase to the road with more flow.

        Roads of one class through a junction are told apart by volume
        (:func:`~sim.traffic.signals.approach_phases`); until there are flows that is
        lanes × capacity, which on the default city gave the main phase to a road carrying
        under half the flow of a cross road of its class at 17 of 219 junctions. The first
        equilibrium (kept as the next one's warm start) gives the flows; the phasing then
        holds for the run, as a city's plans do.
        """
        if self._phase_flows is not None:
            return
        result, res = self._assign(links, demand, rel_gap)
        self._keep(links, demand, result, res)
        self._phase_flows = result.links["flow"]
        phases = approach_phases(links, self._phase_flows)
        if not phases.equals(self.plans.approach_phase):
            self.plans = replace(self.plans, approach_phase=phases)
            self._net = None

    def _static_seconds(self, links: pd.DataFrame) -> np.ndarray:
        """Link times (s) of the last static equilibrium, in ``links``' order."""
        assert self._times is not None, "step() runs the static warm start first"
        return self._times.reindex(links.index).to_numpy(dtype=np.float64) * 60.0

    def _link_cost_s(self, static: Network) -> np.ndarray:
        """Seconds of tolls and distance per link at the value of time (route choice)."""
        p = self.params
        return 60.0 * (static.toll * p.toll_factor + static.length * p.distance_factor)

    def _last_on(self, static: Network) -> tuple[Network, due.Trips, Vehicles] | None:
        """Last year's trips and swapped routes if on ``static`` (no retiming or closure since)."""
        last = self._last_routes
        return last if last is not None and last[0] is static else None

    def first_routes(self, year: int, static: Network, trips: due.Trips, seed: int) -> Vehicles:
        """The first routes of a year's dynamic loading of ``trips`` on ``static`` (its twin).

        Last year's routes after their swap for the vehicles of an OD pair and departure
        group that drove last year (:func:`sim.traffic.due.inherited_routes`), the static
        equilibrium's route split for the others (:func:`sim.traffic.due.mixed_routes`),
        or, without a mix, their best routes on the static equilibrium's times (and the
        generalised cost of tolls and distance). Call after :meth:`step` of the year.
        """
        links = self._road_links(year)
        first = self._static_seconds(links) + self._link_cost_s(static)
        rng = np.random.default_rng((seed, 1))  # a stream apart from the swaps'
        found = np.zeros(len(trips), dtype=bool)
        routes = None
        last = self._last_on(static)
        if last is not None:  # last year's swapped routes go on
            found, routes = due.inherited_routes(trips, last[1], last[2], rng)
        if self._mix is not None and self._timed_network(links)[0].index.equals(links.index):
            # the static equilibrium's route split, not one tree on its (equal) route times
            return due.mixed_routes(static, trips, self._mix, first, rng, routes, ~found)
        return due.routed_vehicles(static, trips, first, routes, ~found)

    def load_period(self, year: int, trips: due.Trips, peak_bin: int, seed: int) -> PeakResult:
        """Load the AM period's vehicles on the dynamic network and return links and KPIs.

        Call after :meth:`step` of the same year (its static equilibrium gives the first
        routes in the first year; later years start from last year's time-dependent
        link times). ``trips`` leave on the loading's clock (:func:`sim.traffic.due.
        period_trips`: t = 0 at the warm-up's start, :data:`~sim.traffic.due.WARMUP_S`
        before the AM period). ``peak_bin`` is the first 5-minute bin of the busiest hour
        (counted from 06:00), whose vehicles the KPIs describe; ``seed`` draws who swaps
        routes. ``links_t`` and the parking occupancy keep the AM period's bins, counted
        from 06:00 (the warm-up's are left out).

        Raises
        ------
        GridlockError
            The loading stopped in every try (the message names the year and links).
        """
        assert self.dynamic is not None, "the dynamic model is off (parameters.traffic_model)"
        links = self._road_links(year)
        key = (self._key, len(self._retimed))
        if self._dyn is None or self._dyn[0] != key:
            dyn, static = city_network(
                links, self.city.nodes, self.city.signals, self.plans, self.centroids
            )
            self._dyn = (key, dyn, static)
        _, dyn, static = self._dyn
        first = self._static_seconds(links)
        link_cost_s = self._link_cost_s(static)
        # a year that starts from last year's swapped routes goes on swapping from them
        max_iter = self.dynamic.due_iterations
        if self._last_on(static) is not None:
            max_iter = self.dynamic.warm_iterations
        first_routes = self.first_routes(year, static, trips, seed)
        informed = latest_in_force(self.policies, TravellerInformation, year)
        control = TrafficControl(
            dyn,
            "fixed",
            dt=self.dynamic.dt_s,
            max_wait_s=self.dynamic.max_wait_s,
            informed_share=max(self.dynamic.informed_share, informed.share if informed else 0.0),
        )
        # a city without car parks has no parking model: cars park where they arrive
        parking = (
            ParkingSearch.from_city(self.city, links, static, self.policies, year)
            if len(self.city.parking)
            else None
        )
        try:
            eq = due.equilibrate(
                static,
                control,
                trips,
                first,
                gap=self.dynamic.due_gap,
                max_iter=max_iter,
                seed=seed,
                link_cost_s=link_cost_s,
                parking=parking,
                horizon_s=float(np.ceil(trips.depart.max(initial=0.0) / BIN_S)) * BIN_S
                + HORIZON_GRACE_S,
                first_routes=first_routes,
            )
        except GridlockError as err:
            raise GridlockError(
                f"{year}: the dynamic peak model stopped: {err}. Run the scenario with "
                "parameters.traffic_model: static to use the static peak hour instead",
                err.links,
                err.cycle,
            ) from None
        if eq.swapped is not None:
            self._last_routes = (static, trips, eq.swapped)
        am_bin = round(due.WARMUP_S / BIN_S)  # the loading's bin at 06:00
        hour = slice(am_bin + peak_bin, am_bin + peak_bin + round(3600.0 / BIN_S))
        frame = dynamic_link_frame(eq.load, links, hour)
        self._dyn_minutes = frame["time_min"]
        in_hour = (trips.depart >= hour.start * BIN_S) & (trips.depart < hour.stop * BIN_S)
        signal_ids = list(self.plans.greens)
        out = peak_outputs(
            eq.load,
            dyn,
            links,
            self.city.schools,
            signal_ids,
            control="fixed",
            year=year,
            hour=hour,
            tables=self.tables,
            first_bin=am_bin,
        )
        # the whole period's KPIs of sim.traffic.peak_outputs, then the busiest hour's
        # under the names the static model gives them (vkt, vht, delay_vh, ...)
        kpis = {**out.kpis, **dynamic_kpis(eq.load, frame, links, in_hour)}
        kpis["due_gap"] = eq.gap
        kpis["due_iterations"] = float(len(eq.gaps))
        kpis["unfinished_vehicles"] = float(np.isnan(eq.load.arrive).sum())
        kpis["teleported_vehicles"] = float(eq.load.teleported)
        occupancy = None
        if eq.parking is not None:
            kpis.update(eq.parking.kpis())
            occupancy = eq.parking.occupancy
            am = occupancy["bin_start_s"] >= due.WARMUP_S
            occupancy = occupancy[am].reset_index(drop=True)
            occupancy["bin_start_s"] -= due.WARMUP_S
        return PeakResult(frame, kpis, eq.load, dyn, out, occupancy)


def dynamic_link_frame(load: LoadResult, links: pd.DataFrame, hour: slice) -> pd.DataFrame:
    """The busiest hour's link results of a loading, in the static model's columns.

    ``flow`` is the vehicles entering the link in the hour, ``time_min`` their mean
    time on it (free flow on a link nobody left in the hour), ``vc`` the flow over the
    link's capacity.
    """
    cap = links["capacity_vph"].to_numpy(dtype=float)
    length_km, free_min = _length_free(links)
    flow = load.bin_in[:, hour].sum(axis=1).astype(float)
    out = load.bin_out[:, hour].sum(axis=1)
    spent = load.bin_tt[:, hour].sum(axis=1)
    time_min = np.divide(spent, out * 60.0, out=free_min.copy(), where=out > 0)
    return pd.DataFrame(
        {
            "flow": flow,
            "capacity": cap,
            "vc": np.divide(flow, cap, out=np.zeros_like(cap), where=cap > 0),
            "time_min": time_min,
            "speed_kmh": np.divide(
                length_km * 60.0, time_min, out=np.zeros_like(cap), where=time_min > 0
            ),
        },
        index=links.index,
    )


def dynamic_kpis(
    load: LoadResult, frame: pd.DataFrame, links: pd.DataFrame, in_hour: np.ndarray
) -> dict[str, float]:
    """The traffic KPIs of the busiest hour from a dynamic loading.

    Link totals (VKT, VHT, delay, travel-time index, congested links) are those of
    :func:`link_kpis` on the hour's link frame; ``car_trips_peak`` and
    ``mean_trip_min`` are the vehicles departing in the hour and their mean time from
    origin to destination (waiting to enter the network included).
    """
    kpis = link_kpis(frame, *_length_free(links), 0.0)
    done = in_hour & ~np.isnan(load.arrive)
    tt = (load.arrive - load.depart)[done]
    kpis["car_trips_peak"] = float(in_hour.sum())
    kpis["mean_trip_min"] = float(tt.mean() / 60.0) if done.any() else 0.0
    return kpis


def _length_free(links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Length (km) and true free-flow minutes (no signal delay) of each link."""
    km = links["length_m"].to_numpy(dtype=float) / 1000.0
    return km, km / links["free_speed_kmh"].to_numpy(dtype=float) * 60.0


def link_kpis(
    frame: pd.DataFrame, length_km: np.ndarray, free_min: np.ndarray, trips: float
) -> dict[str, float]:
    """VKT, VHT, delay, congestion and travel-time index of one peak hour."""
    flow = frame["flow"].to_numpy(dtype=np.float64)
    vkt = float(dot(flow, length_km))  # summed in link order, not by BLAS threads
    vht = float(dot(flow, frame["time_min"].to_numpy(dtype=np.float64))) / 60.0
    free_vht = float(dot(flow, free_min)) / 60.0
    return {
        "car_trips_peak": trips,
        "vkt": vkt,
        "vht": vht,
        "delay_vh": vht - free_vht,
        "mean_trip_min": vht * 60.0 / trips if trips > 0 else 0.0,
        "congested_links": float((frame["vc"] > CONGESTED_VC).sum()),
        "travel_time_index": vht / free_vht if free_vht > 0 else 1.0,
    }
