"""The city model: a Mesa ``Model`` whose yearly step reads like the process it simulates.

Each simulated year: policies of the year take effect → demography (ageing, births,
deaths, migration, moves, new housing) → school enrollment → weekday trips → peak-hour
traffic assignment → the institutions (zones, schools) decide → KPIs are collected.
The first simulated year is the base year: the synthesised population is enrolled and
travels, and demography starts with the second year.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from sim.agents import (
    SchoolAgent,
    ZoneAgent,
    schools_over_capacity,
    schools_persistently_over_capacity,
)
from sim.education.enrollment import assign_enrollment, school_age_grades
from sim.education.explain import FlowRecorder
from sim.education.schools import SchoolSystem
from sim.kpis import KPI_NAMES
from sim.mobility.demand import PROFILE_COLUMNS, WORK, Choices, TravelDemand, TripTable
from sim.mobility.departure import BINS_PER_HOUR, CHOICE_BINS, charged_bins, school_starts
from sim.mobility.loop import equilibrate
from sim.mobility.skims import Skims, car_skims
from sim.mobility.trips import assign_work_zones, zone_distance_km
from sim.policies import CongestionCharge, StaggeredSchoolStart, latest_in_force
from sim.population.demography import DemographyRates, step_demography
from sim.population.housing import YIELD_COLUMNS, Estates
from sim.population.persons import synthesize
from sim.population.uncertainty import draw_multipliers
from sim.runs.outputs import zone_year_frame
from sim.scenario import Scenario
from sim.seeds import process_streams
from sim.traffic.peak_outputs import PeakRecorder

if TYPE_CHECKING:
    from sim.traffic.peak import PeakResult

log = logging.getLogger(__name__)

PRIMARY, JUNIOR = 0, 1


def kpi_value(model: CityModel, name: str) -> float:
    """DataCollector reporter: this year's value of one KPI (NaN when not computed)."""
    return float(model.kpis.get(name, math.nan))


class CityModel(mesa.Model):
    """One replication of a scenario on a city.

    Parameters
    ----------
    scenario
        The validated scenario.
    city
        The loaded :class:`sim.city.City`.
    rng
        Seed or generator of this replication (the replication seed of
        :func:`sim.seeds.replication_seeds`). Every random stream derives from it: the
        Mesa ``Model.rng`` it seeds gives one generator per process
        (:func:`sim.seeds.process_streams`): ``synthesis_rng`` (the base-year
        population), ``demography_rng`` (births, deaths, migration, moves, housing),
        ``enrollment_rng`` (school choice) and ``mobility_rng`` (weekday trips); the
        ``uncertainty`` stream draws :attr:`multipliers` (sim.population.uncertainty). Mesa's
        Python ``Model.random`` is used only by the plain-Mesa twin in
        :mod:`sim.population.mesa_twin`.
    traffic
        Run the peak-hour assignment (in the replications of
        ``parameters.traffic_replications``).
    roads
        The city with its access connectors (:func:`peak_roads`), which every
        replication of a run shares (it depends on the city and scenario alone, and
        building it is the dearest part of a traffic replication's setup); built here
        when None.
    """

    def __init__(
        self,
        scenario: Scenario,
        city: Any,
        *,
        rng: int | np.random.Generator | None = None,
        traffic: bool = True,
        roads: Any | None = None,
    ) -> None:
        super().__init__(rng=rng)
        # One stream per process (common random numbers), see sim.seeds.
        streams = process_streams(self.rng)
        self.synthesis_rng = streams["synthesis"]
        self.demography_rng = streams["demography"]
        self.enrollment_rng = streams["enrollment"]
        self.mobility_rng = streams["mobility"]
        #: This replication's multipliers on the uncertain assumptions.
        self.multipliers = draw_multipliers(
            streams["uncertainty"], scenario.parameters.parameter_uncertainty
        )
        self.scenario = scenario
        self.params = scenario.parameters
        self.city = city
        self.year = scenario.start_year
        self.kpis: dict[str, float] = {}
        self.on_stage: Callable[[int, str], None] | None = None
        self._stage_clock: tuple[int, str, float] | None = None  # (year, stage, start)
        self.enrollment_rows: list[pd.DataFrame] = []
        self.link_rows: list[pd.DataFrame] = []
        self.catchment_rows: list[pd.DataFrame] = []
        self.housing_yield_rows: list[pd.DataFrame] = []
        #: Demand components per school and year (``enrollment_flows.parquet``).
        self.flow_rows: list[pd.DataFrame] = []
        self.flows = FlowRecorder()
        #: Each zone's residents, pupils, households and dwellings at the end of every year
        #: (``zones_years.parquet``, sim.runs.outputs.zone_year_frame).
        self.zone_year_rows: list[pd.DataFrame] = []

        zones = city.zones
        self.n_zones = len(zones)
        self.dwellings = zones["dwellings"].to_numpy(dtype=np.float64).copy()
        self.attractiveness = zones["attractiveness"].to_numpy(dtype=np.float64).copy()
        self.jobs = zones["jobs"].to_numpy(dtype=np.float64)
        centroids = zones.geometry.centroid
        self.zone_x, self.zone_y = centroids.x.to_numpy(), centroids.y.to_numpy()
        self.dist_km = zone_distance_km(self.zone_x, self.zone_y, zones.geometry.area.to_numpy())
        self.rates = DemographyRates.from_city(city, self.params).with_multipliers(self.multipliers)
        self.estates = Estates.of(city, list(scenario.policies)).scaled(
            self.multipliers["pupil_yield"], self.multipliers["takeup"]
        )
        self.schools = SchoolSystem.from_city(city)
        self.persons = synthesize(city, self.synthesis_rng)
        self.zone_households = self._households_per_zone()
        #: Dwellings open to movers: the stock less new dwellings nobody occupies yet.
        self.market_dwellings = self.dwellings.copy()
        self.traffic = _peak_traffic(city, scenario, roads) if traffic else None
        #: The dynamic peak's links_t/signals rows of every year, and its parking occupancy.
        self.peak_rows = PeakRecorder()
        self.parking_rows: list[pd.DataFrame] = []
        self.peak_result: PeakResult | None = None
        p = self.params
        #: Years the dynamic model loads (parameters.traffic_model, parameters.dynamic.every).
        self.dynamic_years = (
            set(p.dynamic.years(scenario.start_year, scenario.years))
            if traffic and p.traffic_model == "dynamic"
            else set()
        )
        #: Departure times inside the bins and route swaps of the dynamic peak model
        #: (spawned from the mobility stream without drawing from it).
        mobility_seq = self.mobility_rng.bit_generator.seed_seq
        assert isinstance(mobility_seq, np.random.SeedSequence)
        self.dynamic_rng = np.random.default_rng(mobility_seq.spawn(1)[0])
        self.demand = TravelDemand(city, self.params, self.dist_km) if traffic else None
        #: AM profile per year: departures and network speed by 15 minutes.
        self.profile_rows: list[pd.DataFrame] = []
        #: Demand and places per school and grade index (S, G) of the last enrollment.
        self.enrollment_total = np.zeros((self.schools.n_schools, self.schools.n_grades))
        self.enrollment_capacity = np.zeros((self.schools.n_schools, self.schools.n_grades))

        ZoneAgent.create_agents(
            self,
            self.n_zones,
            list(range(self.n_zones)),
            list(zones.index),
            list(self.attractiveness),
        )
        self._school_agents_for_new_schools()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(kpi_value, name=name) for name in KPI_NAMES}
        )

    # ------------------------------------------------------------------ the yearly process

    def step(self) -> None:
        """Simulate one year (the base year on the first call)."""
        self.kpis = {}
        self.apply_policies()
        if self.year > self.scenario.start_year:
            self._stage("demography")
            self.demography()
        self._stage("enrollment")
        self.enrollment()
        if self.traffic is not None:
            self._stage("traffic")
            self.weekday_traffic()
        self.agents_by_type[ZoneAgent].do("step")
        self.agents_by_type[SchoolAgent].shuffle_do("step")
        self.kpis["population"] = float(len(self.persons))
        self.kpis["schools_over_capacity"] = float(schools_over_capacity(self))
        self.kpis["schools_over_capacity_3y"] = float(schools_persistently_over_capacity(self))
        self.zone_year_rows.append(zone_year_frame(self.city, self, self.year))
        self.datacollector.collect(self)
        self.year += 1

    def apply_policies(self) -> None:
        """School policies of the year change the school system; traffic reads its own."""
        self.schools.apply_policies(self.scenario.policies, self.year)
        self._school_agents_for_new_schools()

    def demography(self) -> None:
        """Age, births, deaths, migration, moves and new housing for one year.

        The dwellings handed over this year join the stock; households move into them
        along each estate's occupancy ramp (:mod:`sim.population.housing`).
        """
        self.dwellings += self.estates.delivered(self.year, self.n_zones)
        self.persons, stats = step_demography(
            self.persons,
            self.rates,
            self.year,
            dwellings=self.estates.market_stock(self.dwellings, self.year, self.persons),
            attractiveness=self.attractiveness,
            estates=self.estates,
            rng=self.demography_rng,
        )
        self.zone_households = self._households_per_zone()
        self.market_dwellings = self.estates.market_stock(self.dwellings, self.year, self.persons)
        self.kpis.update({k: float(v) for k, v in stats.items() if k in KPI_NAMES})

    def enrollment(self) -> None:
        """Assign school-age children to schools under the scenario's policy."""
        before = (self.persons.school.copy(), self.persons.first_school.copy())
        res = assign_enrollment(
            self.persons,
            self.schools,
            self.params.enrollment_policy,
            self.params,
            self.enrollment_rng,
        )
        flows = self.flows.record(self.year, self.persons, *before, res, self.schools)
        self.flow_rows.append(flows)
        frame = res.to_frame(self.year)
        self.enrollment_rows.append(frame)
        self.catchment_rows.append(self.schools.catchment_frame(self.year))
        # Pressure on a school is its demand (catchment / nearest / first choice) over places,
        # grade by grade: admission is by grade, so one full grade turns children away.
        self.enrollment_total = np.where(res.teaches, res.demand, 0).astype(np.float64)
        self.enrollment_capacity = np.where(res.teaches, res.capacity, 0).astype(np.float64)
        # Pupils are the children of school age, placed or not: capacity moves them from
        # unplaced to enrolled and never changes how many there are.
        level = np.asarray(self.schools.level)
        grade_level = self.schools.grade_level()
        for name, lvl in (("primary", PRIMARY), ("junior", JUNIOR)):
            rows = level == lvl
            unplaced = float(res.unplaced[grade_level == lvl].sum())
            self.kpis[f"pupils_{name}"] = float(res.enrolled[rows].sum()) + unplaced
            self.kpis[f"unplaced_{name}"] = unplaced
            self.kpis[f"capacity_{name}"] = float(self.enrollment_capacity[rows].sum())
        self.kpis["unplaced_pupils"] = float(res.unplaced.sum())
        cap = frame["capacity"].to_numpy(dtype=float)
        pressure = np.divide(frame["demand"].to_numpy(), cap, out=np.zeros_like(cap), where=cap > 0)
        self.kpis["max_utilisation"] = float(pressure.max()) if len(pressure) else 0.0
        self.kpis["overflow_pupils"] = float(res.overflow.sum())
        if len(self.estates):
            grade = school_age_grades(self.persons.age, self.schools, self.persons.birth_month)
            self.housing_yield_rows.append(
                self.estates.yield_frame(
                    self.year, self.persons, grade, self.schools.primary_grades
                )
            )
        enrolled = res.enrolled.sum()
        self.kpis["mean_school_km"] = (
            float(res.distance_km_sum.sum() / enrolled) if enrolled else 0.0
        )

    def weekday_traffic(self) -> None:
        """The AM trips of the persons, their choices and the busiest hour's equilibrium.

        Skims → destinations, modes, departure times → static assignment of the trips
        departing in the busiest hour → skims, iterated by :func:`sim.mobility.loop.equilibrate`
        until the expected car matrix moves less than ``parameters.demand_gap`` (reported
        as ``demand_gap``, with each traffic KPI's ``<kpi>_noise``) or after
        ``parameters.demand_iterations`` rounds.
        """
        assert self.traffic is not None and self.demand is not None
        p = self.params
        skims = self._skims()
        windows = [
            (pol.start, pol.end)
            for pol in self.scenario.policies
            if isinstance(pol, CongestionCharge) and pol.year <= self.year
        ]
        self.demand.charged = charged_bins(windows) if windows else np.ones(CHOICE_BINS)
        if self.demand.asc_car is None:  # first year: mode constants on a first draw of trips
            self.demand.calibrate(self._trip_table(skims), skims)
            self.demand.work_theta = None
        table = self._trip_table(skims)
        loop = equilibrate(
            self.demand,
            table,
            skims,
            self._skims,
            partial(self.traffic.step, self.year),
            p,
        )
        choices = loop.choices
        result = self.traffic.with_local_trips(
            self.year, loop.result, self._local_load(table, choices)
        )
        #: The year's trips, their choices and the busiest hour's car matrix it loaded.
        self.trips, self.choices, self.car_peak = table, choices, loop.od
        self.kpis.update(result.kpis)
        self.kpis.update(choices.kpis)
        if self.year in self.dynamic_years:  # the AM period on the dynamic model
            result = self._dynamic_peak(table, choices)
            self.kpis.update(result.kpis)
            for name in result.kpis:  # the loop's solver noise is the static model's
                self.kpis.pop(f"{name}_noise", None)
            #: The year's dynamic loading (simulate-peak reads load, dyn and outputs).
            self.peak_result = result
            if result.outputs is not None:
                self.peak_rows.add(result.outputs)
            if result.parking is not None:
                self.parking_rows.append(result.parking.assign(year=np.int32(self.year)))
        self.kpis["demand_gap"] = loop.gap
        self.kpis["demand_rounds"] = loop.rounds
        self.kpis.update(loop.noise())
        assert choices.profile is not None
        self.profile_rows.append(choices.profile.assign(year=np.int32(self.year)))
        links = result.links.reset_index(names="link_id")
        links.insert(0, "year", np.int32(self.year))
        self.link_rows.append(links)

    # ------------------------------------------------------------------ helpers

    def _trip_table(self, skims: Skims) -> TripTable:
        """Work zones by the logsum gravity model, then the year's AM trips."""
        assert self.demand is not None
        _, theta, _ = assign_work_zones(
            self.persons,
            self.jobs,
            self.dist_km,
            self.params,
            self.mobility_rng,
            logsum=self.demand.zone_logsum(skims, WORK),
            theta=self.demand.work_theta,
        )
        self.demand.work_theta = theta
        return self.demand.trip_table(
            self.persons,
            self._school_zones(),
            self._school_starts(),
            self._staggered_share(),
            self.mobility_rng,
        )

    def _local_load(self, table: TripTable, choices: Choices) -> pd.Series:
        """Vehicles per link of the busiest hour's car trips inside zones (local streets)."""
        assert self.demand is not None
        local, access = choices.local, self.demand.access
        if local is None or access is None:
            return pd.Series(dtype=float)
        drivers = self.demand.vehicle_trips(table, choices.mode)
        b = choices.bins[drivers]
        peak = choices.peak_start
        rows = local.loaded & (b >= peak) & (b < peak + BINS_PER_HOUR)
        return access.routes.link_load(local.pairs[rows])

    def _dynamic_peak(self, table: TripTable, choices: Choices) -> PeakResult:
        """The AM period's car trips, through traffic and freight on the dynamic model."""
        from sim.traffic.due import period_trips

        assert self.traffic is not None and self.demand is not None
        drivers = self.demand.vehicle_trips(table, choices.mode)
        trips = period_trips(
            table.origin[drivers],
            choices.dest[drivers],
            choices.bins[drivers].astype(np.int64),
            choices.extra_bins,
            self.dynamic_rng,
        )
        seed = int(self.dynamic_rng.integers(2**63))
        return self.traffic.load_period(self.year, trips, choices.peak_start, seed)

    def _skims(self) -> Skims:
        """Car skims of this year's network at the last assignment's link times."""
        assert self.traffic is not None
        a = self.params.assignment
        net, times = self.traffic.network_times(self.year)
        zone_km, zone_min = np.diag(self.dist_km), None
        access = self.demand.access if self.demand is not None else None
        if access is not None:  # a car trip within a zone drives its local streets
            km, zone_min = access.expected()
            zone_km = np.where(np.isfinite(km), km, zone_km)
        return car_skims(
            net,
            times,
            zone_km,
            toll_factor=a.toll_factor,
            distance_factor=a.distance_factor,
            intrazonal_min=zone_min,
            trees=self.traffic.skim_trees(self.year),
        )

    def _stage(self, stage: str) -> None:
        now = time.perf_counter()
        last = self._stage_clock
        if last is not None:  # the stage before this one has ended
            log.debug("%d %s: %.2f s", last[0], last[1], now - last[2])
        self._stage_clock = (self.year, stage, now)
        if self.on_stage is not None:
            self.on_stage(self.year, stage)

    def _staggered_share(self) -> float:
        """Share of pupils starting later under the first form of the staggered start."""
        legacy = [
            pol
            for pol in self.scenario.policies
            if isinstance(pol, StaggeredSchoolStart) and pol.share_shifted is not None
        ]
        pol = latest_in_force(legacy, StaggeredSchoolStart, self.year)
        return 0.0 if pol is None or pol.share_shifted is None else pol.share_shifted

    def _school_starts(self) -> np.ndarray:
        s = self.schools
        return school_starts(
            np.asarray(s.level), list(s.school_id), self.scenario.policies, self.year
        )

    def _school_zones(self) -> np.ndarray:
        s = self.schools
        d2 = (s.x[:, None] - self.zone_x[None, :]) ** 2 + (s.y[:, None] - self.zone_y[None, :]) ** 2
        return np.argmin(d2, axis=1)

    def _households_per_zone(self) -> np.ndarray:
        hh = self.persons.household
        _, first = np.unique(hh, return_index=True)
        return np.bincount(self.persons.zone[first], minlength=self.n_zones).astype(np.float64)

    def _school_agents_for_new_schools(self) -> None:
        known = {a.index for a in self.agents_by_type.get(SchoolAgent, [])}
        for i, sid in enumerate(self.schools.school_id):
            if i not in known:
                SchoolAgent(self, i, sid)

    # ------------------------------------------------------------------ outputs

    def housing_yield_frame(self) -> pd.DataFrame:
        """Every year's rows of the developments (see :meth:`Estates.yield_frame`)."""
        if not self.housing_yield_rows:
            return pd.DataFrame(columns=list(YIELD_COLUMNS))
        return pd.concat(self.housing_yield_rows, ignore_index=True)

    def profile_frame(self) -> pd.DataFrame:
        """The AM profile of every simulated year (see :func:`sim.mobility.demand.am_profile`).

        Columns year, period_start, departures, car_departures, network_speed_kmh; empty
        without traffic.
        """
        if not self.profile_rows:
            return pd.DataFrame(columns=list(PROFILE_COLUMNS))
        return pd.concat(self.profile_rows, ignore_index=True)[list(PROFILE_COLUMNS)]

    def kpi_frame(self) -> pd.DataFrame:
        """One row per simulated year with every KPI."""
        df = self.datacollector.get_model_vars_dataframe()[list(KPI_NAMES)]
        df.insert(
            0, "year", np.arange(self.scenario.start_year, self.scenario.start_year + len(df))
        )
        return df.reset_index(drop=True)


def peak_roads(city: Any, scenario: Scenario) -> Any:
    """``city`` with the access connectors of ``parameters.assignment.access_connectors``.

    The same for every replication of a run (no random draw), so a run builds it once
    and hands it to each :class:`CityModel` (``roads``); nothing changes it in place.
    """
    from sim.mobility.access import with_access_connectors

    return with_access_connectors(city, scenario.parameters.assignment.access_connectors)


def _peak_traffic(city: Any, scenario: Scenario, roads: Any | None = None) -> Any:
    from sim.traffic.peak import PeakTraffic

    p = scenario.parameters
    dynamic = p.dynamic if p.traffic_model == "dynamic" else None
    if roads is None:
        roads = peak_roads(city, scenario)
    return PeakTraffic(roads, scenario.policies, p.assignment, dynamic)


def run_replication(
    scenario: Scenario,
    city: Any,
    seed: int,
    *,
    traffic: bool,
    on_stage: Callable[[int, str], None] | None = None,
    tables: bool = True,
    roads: Any | None = None,
) -> CityModel:
    """Run one replication over all simulated years and return the finished model.

    ``on_stage(year, stage)`` is called before each stage; raising from it stops the run.
    ``tables=False`` skips the dynamic peak's links_t/signals rows (KPIs unchanged).
    ``roads``: the run's :func:`peak_roads`, shared by its replications (built when None).
    """
    if on_stage is not None:
        on_stage(scenario.start_year, "synthesis")
    model = CityModel(scenario, city, rng=seed, traffic=traffic, roads=roads)
    if model.traffic is not None:
        model.traffic.tables = tables
    model.on_stage = on_stage
    for _ in range(scenario.years):
        model.step()
    return model
