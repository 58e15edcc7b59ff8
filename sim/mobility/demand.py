"""Travel demand of the AM period from the persons: trips, modes, departure times, car matrix.

One :class:`TripTable` per year holds every resident's AM trip: commutes (work zones from
the gravity model, :func:`sim.mobility.trips.assign_work_zones`), school trips (each
pupil to the school enrollment gave it, at that school's start time) and other trips
(shopping, errands, care) by adults who do not work, at :data:`OTHER_RATE`.
:meth:`TravelDemand.choose` then gives each trip a mode (:mod:`sim.mobility.modes`), a
departure bin (:mod:`sim.mobility.departure`) and, for other trips, a destination by a
logit on the zones' jobs and the mode-choice logsum. A pupil driven to school makes a
car-driver trip of a parent (one per household and school). Through traffic between the
two ends of the city's main trunk road (the default city's Ruta 5) and freight
(:data:`FREIGHT_SHARE` of road vehicles, :data:`FREIGHT_PCE` cars each; leaving evenly
over the AM period but away from a charged window, :mod:`sim.mobility.freight`) join the roads.

Sources: other-purpose rate — SECTRA, *Encuesta Origen Destino Santiago 2012*: adults
outside work make about 1.9 trips a day, a fifth of them before 10:00 (≈ 0.35 AM trips
each); freight — OECD (2003) *Delivering the Goods*: goods vehicles are 10–15 % of urban
road traffic; PCE 1.5 for trucks on level terrain — HCM 2010 Exhibit 11-10.

The trips departing in the busiest hour are what the static assignment loads
(:attr:`Choices.car_peak`); :attr:`Choices.bins` and :attr:`Choices.mode` per trip are the
interface a time-dependent model can take instead. A trip's bin may be one of the warm-up
before 06:00 (negative, :mod:`sim.mobility.departure`): its vehicle is not in the AM
period's departures (:attr:`Choices.vehicles`), busiest hour or profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.city import City
from sim.kernels import choice
from sim.mobility import departure as dep
from sim.mobility import modes as md
from sim.mobility.calibrate import read_od_adjustment
from sim.mobility.freight import freight_bins
from sim.mobility.gtfs import city_bus_service
from sim.mobility.intrazonal import LocalTrips, TripAccess, trips_within_zones
from sim.mobility.skims import Skims
from sim.policies.traffic import LEGACY_SHIFT_MIN
from sim.population.persons import Persons
from sim.scenario import Parameters

WORK, SCHOOL, OTHER = 0, 1, 2
#: AM-period trips (06:00-10:00) for other purposes per adult who does not work.
OTHER_RATE = 0.35
FREIGHT_SHARE, FREIGHT_PCE = 0.10, 1.5
#: Utility weight of the mode-choice logsum in the destination choice of other trips.
DEST_LOGSUM_COEF = 1.0
#: Road classes whose two farthest-apart nodes are the city's through-traffic gateways.
TRUNK_CLASSES = ("motorway", "trunk")
#: Value of time (money per minute) when the route choice gives tolls no weight.
FALLBACK_MONEY_PER_MIN = 100.0


@dataclass
class TripTable:
    """The residents' AM trips of one year, one entry per trip."""

    origin: np.ndarray
    dest: np.ndarray
    purpose: np.ndarray
    age: np.ndarray
    household: np.ndarray
    school: np.ndarray
    desired: np.ndarray
    draws: np.ndarray  # (n, 3) uniforms: mode, departure, destination

    def __len__(self) -> int:
        return len(self.origin)


@dataclass
class Choices:
    """What the trips chose under one set of skims."""

    mode: np.ndarray
    bins: np.ndarray
    dest: np.ndarray
    logsum: np.ndarray
    car_peak: np.ndarray  # vehicles (PCU) per OD in the busiest hour
    vehicles: np.ndarray  # road vehicles (PCU) departing per bin of the AM period
    peak_start: int
    #: The expectations of ``car_peak`` and ``vehicles`` over the choice probabilities
    #: (smooth in the skims: what the demand-supply loop averages, see sim.mobility.loop).
    expected_peak: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    expected_vehicles: np.ndarray = field(default_factory=lambda: np.zeros(dep.N_BINS))
    #: Through and freight PCU per OD and departure bin (``(n, n, N_BINS)``).
    extra_bins: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, dep.N_BINS)))
    kpis: dict[str, float] = field(default_factory=dict)
    profile: pd.DataFrame | None = None
    #: The vehicle trips' own street points; which of those within one zone load.
    local: LocalTrips | None = None


class TravelDemand:
    """The demand model of one run: its calibrated constants and departure profile.

    Parameters
    ----------
    city
        The loaded city (zones, parking lots, links and nodes for the gateways).
    params
        Scenario parameters (prices, calibration targets, through traffic).
    dist_km
        Zone-to-zone walking/cycling distance (km).
    """

    def __init__(self, city: City, params: Parameters, dist_km: np.ndarray) -> None:
        self.params = params
        self.dist_km = dist_km
        zones = city.zones
        self.n_zones = len(zones)
        self.jobs = zones["jobs"].to_numpy(dtype=np.float64)
        lots = city.parking
        paid = zones.index.isin(lots["zone_id"]) if len(lots) else np.zeros(self.n_zones, bool)
        self.paid_parking = np.asarray(paid, dtype=bool)
        self.gateways = through_gateways(city)
        toll_factor = params.assignment.toll_factor
        self.money_per_min = 1.0 / toll_factor if toll_factor > 0 else FALLBACK_MONEY_PER_MIN
        self.asc_car: float | None = None
        #: Logsum coefficient of the work destination choice (set in the first year).
        self.work_theta: float | None = None
        self.asc_escort = 0.0
        self.freight: np.ndarray | None = None
        self.departures = np.zeros(dep.N_BINS)
        #: Calibration factors on the loaded busiest-hour matrix (``parameters.od_adjustment``).
        self.od_factor = (
            None
            if params.od_adjustment is None
            else read_od_adjustment(params.od_adjustment, zones.index)
        )
        #: 1 for the departure bins in which the network's tolls are charged (the
        #: departure choice's :data:`~sim.mobility.departure.CHOICE_BINS`, warm-up first).
        self.charged = np.ones(dep.CHOICE_BINS)
        #: Access points: a car trip within a zone between two of them loads (local streets).
        self.access = TripAccess.of(city) if "is_centroid" in city.nodes else None
        #: The bus of a GTFS feed (``parameters.gtfs``); None = the simple bus along the roads.
        self.bus = city_bus_service(city, params.gtfs)

    # ------------------------------------------------------------------ trips

    def trip_table(
        self,
        persons: Persons,
        school_zone: np.ndarray,
        school_start: np.ndarray,
        shift_share: float,
        rng: np.random.Generator,
    ) -> TripTable:
        """The year's AM trips (``persons.work_zone`` and ``persons.school`` set).

        ``shift_share`` of pupils (drawn per pupil) start :data:`LEGACY_SHIFT_MIN` later.
        """
        p = persons
        work = np.flatnonzero(p.work_zone >= 0)
        pupils = np.flatnonzero(p.school >= 0)
        adults = (p.age >= md.DRIVING_AGE) & (p.work_zone < 0)
        other = np.flatnonzero(adults & (rng.random(len(p.age)) < OTHER_RATE))
        school = p.school[pupils]
        late = rng.random(len(pupils)) < shift_share
        school_arrive = school_start[school] - dep.SCHOOL_MARGIN_MIN + late * LEGACY_SHIFT_MIN
        desired = np.concatenate(
            [
                dep.work_arrivals(len(work), rng),
                school_arrive,
                dep.other_arrivals(len(other), rng),
            ]
        )
        who = np.concatenate([work, pupils, other])
        dest = np.concatenate([p.work_zone[work], school_zone[school], p.zone[other]])
        purpose = np.repeat(
            np.array([WORK, SCHOOL, OTHER], np.int8), [len(work), len(pupils), len(other)]
        )
        school_of = np.concatenate([np.full(len(work), -1), school, np.full(len(other), -1)])
        return TripTable(
            origin=p.zone[who].astype(np.int64),
            dest=dest.astype(np.int64),
            purpose=purpose,
            age=p.age[who].astype(np.int64),
            household=p.household[who].astype(np.int64),
            school=school_of.astype(np.int64),
            desired=desired.astype(np.float64),
            draws=rng.random((len(who), 3)),
        )

    # ------------------------------------------------------------------ choices

    def _level_of_service(self, t: TripTable, dest: np.ndarray, skims: Skims) -> md.LevelOfService:
        o = t.origin
        ratio = dep.delay_ratio(self.departures)
        free = skims.free_minutes[o, dest]
        delay = skims.minutes[o, dest] - free
        leave = (t.desired - free - dep.CHOICE_START) // dep.BIN_MIN
        leave_bin = np.clip(leave, 0, dep.CHOICE_BINS - 1).astype(np.int64)  # choice column
        return md.LevelOfService(
            car_min=free + delay * ratio[leave_bin],
            car_km=skims.km[o, dest],
            toll=skims.toll[o, dest] * self.charged[leave_bin],
            dist_km=self.dist_km[o, dest],
            parking=np.where(self.paid_parking[dest], self.params.parking_cost, 0.0),
            bus=None if self.bus is None else self.bus.generalised[o, dest],
        )

    def _utilities(
        self, t: TripTable, los: md.LevelOfService, *, reference: bool = False
    ) -> np.ndarray:
        p = self.params
        defaults = Parameters()
        return md.utilities(
            los,
            t.age,
            t.purpose == SCHOOL,
            cost_per_km=defaults.car_cost_per_km if reference else p.car_cost_per_km,
            bus_fare=defaults.bus_fare if reference else p.bus_fare,
            money_per_min=self.money_per_min,
            asc_car=0.0 if reference else float(self.asc_car or 0.0),
            asc_escort=0.0 if reference else self.asc_escort,
            shift=None if reference else p.mode_constants.model_dump(),
        )

    def calibrate(self, t: TripTable, skims: Skims) -> None:
        """Set the car-driver and escort constants to the observed shares (once per run).

        At the reference prices (the parameter defaults) on ``skims`` without tolls, so a
        scenario's prices and tolls move the shares away from the observed ones.
        """
        free = Skims(skims.free_minutes, skims.km, np.zeros_like(skims.toll), skims.free_minutes)
        los = self._level_of_service(t, t.dest, free)
        util = self._utilities(t, los, reference=True)
        commute = (t.purpose == WORK).astype(float)
        self.asc_car = md.calibrate_constant(util, md.CAR, self.params.car_share, commute)
        primary = ((t.purpose == SCHOOL) & (t.age < 12)).astype(float)
        self.asc_escort = md.calibrate_constant(
            util, md.PASSENGER, self.params.escort_share, primary
        )

    def zone_logsum(self, skims: Skims, purpose: int = OTHER) -> np.ndarray:
        """``(n, n)`` mode-choice logsum of a 40-year-old adult between zones.

        At 08:30 for commutes (:data:`WORK`), mid-window for other purposes.
        """
        n = self.n_zones
        o, d = np.divmod(np.arange(n * n), n)
        when = 8 * 60 + 30 if purpose == WORK else float(np.mean(dep.OTHER_WINDOW))
        probe = TripTable(
            origin=o,
            dest=d,
            purpose=np.full(n * n, purpose, np.int8),
            age=np.full(n * n, 40),
            household=np.zeros(n * n, np.int64),
            school=np.full(n * n, -1),
            desired=np.full(n * n, float(when)),
            draws=np.zeros((n * n, 3)),
        )
        util = self._utilities(probe, self._level_of_service(probe, d, skims))
        top = util.max(axis=1)
        return (top + np.log(np.exp(util - top[:, None]).sum(axis=1))).reshape(n, n)

    def _other_destinations(self, t: TripTable, skims: Skims) -> np.ndarray:
        """Destinations of other trips: logit on log(jobs) + logsum of an adult's modes."""
        n = self.n_zones
        logsum = self.zone_logsum(skims)
        with np.errstate(divide="ignore"):
            v = np.log(self.jobs)[None, :] + DEST_LOGSUM_COEF * logsum
        v -= v.max(axis=1, keepdims=True)
        cdf = np.cumsum(np.exp(v), axis=1)
        cdf /= cdf[:, -1:]
        dest = t.dest.copy()
        rows = np.flatnonzero(t.purpose == OTHER)
        pick = (cdf[t.origin[rows]] <= t.draws[rows, 2][:, None]).sum(axis=1)
        dest[rows] = np.minimum(pick, n - 1)
        return dest

    def choose(self, t: TripTable, skims: Skims, dest: np.ndarray | None = None) -> Choices:
        """Destinations (other trips), modes and departure bins under ``skims``.

        ``dest`` keeps the destinations of an earlier choice (the demand-supply loop draws
        other trips' destinations once per year, so its later rounds can settle).
        """
        if self.asc_car is None:
            self.calibrate(t, skims)
        if dest is None:
            dest = self._other_destinations(t, skims)
        los = self._level_of_service(t, dest, skims)
        util = self._utilities(t, los)
        mode, logsum = choice.logit_choice(np.ascontiguousarray(util), t.draws[:, 0].copy())
        free, delay = self._mode_times(t, dest, mode, los, skims)
        ratio = dep.delay_ratio(self.departures)
        toll = skims.toll[t.origin, dest]
        toll_min = np.select([mode == md.CAR, mode == md.PASSENGER], [toll, 0.5 * toll], 0.0)
        bins = dep.choose_bins(
            t.desired,
            free,
            delay,
            ratio,
            t.draws[:, 1],
            toll_min / self.money_per_min,
            self.charged,
        )
        drivers = self.vehicle_trips(t, mode)
        o, d, b = t.origin[drivers], dest[drivers], bins[drivers].astype(np.int64)
        # a trip within its zone loads when its two points differ (sim.mobility.intrazonal)
        traveller = t.household[drivers] * 128 + t.age[drivers]
        local = trips_within_zones(
            self.access, o, d, t.household[drivers], traveller, t.school[drivers]
        )
        loaded = (o != d) | local.loaded
        am = loaded & (b >= 0)  # the warm-up's vehicles leave before the AM period
        vehicles = np.bincount(b[am], minlength=dep.N_BINS).astype(float)
        trucks, through = self._extra_bins(t, dest, mode, skims)
        extra = trucks + through
        vehicles += extra.sum(axis=(0, 1))
        peak = dep.peak_hour(vehicles)
        in_peak = loaded & (b >= peak) & (b < peak + dep.BINS_PER_HOUR)
        car_peak = np.zeros((self.n_zones, self.n_zones))
        zonal = in_peak & (o != d)  # local trips use the zone's streets, not the zone OD
        np.add.at(car_peak, (o[zonal], d[zonal]), 1.0)
        car_peak += extra[:, :, peak : peak + dep.BINS_PER_HOUR].sum(axis=2)
        out = Choices(mode, bins, dest, logsum, car_peak, vehicles, peak, extra_bins=extra)
        out.expected_peak, out.expected_vehicles = self._expected_peak(
            t, dest, md.probabilities(util), skims, ratio, extra
        )
        column = bins.astype(np.int64) + dep.WARMUP_BINS
        minutes = free + delay * ratio[column]
        km = los.car_km.copy()
        minutes[drivers[local.loaded]] = local.minutes[local.loaded] + md.CAR_ACCESS_MIN
        km[drivers[local.loaded]] = local.km[local.loaded]
        out.local = local
        on_road = drivers[loaded]
        out.kpis = {
            "car_trips": float(loaded.sum()),
            "car_trips_intrazonal": float((~loaded).sum()),
            "car_trips_peak": float(in_peak.sum()),
            "toll_revenue": self._toll_revenue(
                (toll * self.charged[column])[on_road], trucks / FREIGHT_PCE + through, skims
            ),
            "mean_trip_min": float(minutes[on_road].mean()) if len(on_road) else 0.0,
            "peak_hour_start": (dep.AM_START + peak * dep.BIN_MIN) / 60.0,
            "school_car_trips_peak": float((in_peak & (t.purpose[drivers] == SCHOOL)).sum()),
            "school_area_arrivals_15min": school_area_arrivals(t, dest, on_road, bins, minutes),
            **self._shares(out),
        }
        out.profile = am_profile(bins, bins[on_road], minutes[on_road], km[on_road])
        return out

    def _mode_times(
        self, t: TripTable, dest: np.ndarray, mode: np.ndarray, los: md.LevelOfService, skims: Skims
    ) -> tuple[np.ndarray, np.ndarray]:
        """Free-flow minutes and peak delay of each trip by its chosen mode."""
        free_car = skims.free_minutes[t.origin, dest] + md.CAR_ACCESS_MIN
        delay_car = skims.minutes[t.origin, dest] - skims.free_minutes[t.origin, dest]
        speed = {md.WALK: md.WALK_KMH, md.BICYCLE: md.BICYCLE_KMH, md.EBIKE: md.EBIKE_KMH}
        free = free_car.copy()
        delay = delay_car.copy()
        bus = mode == md.BUS
        free[bus] = (free_car[bus] - md.CAR_ACCESS_MIN) * md.BUS_TIME_FACTOR
        free[bus] += md.BUS_ACCESS_MIN + md.BUS_HEADWAY_MIN / 2.0
        delay[bus] *= md.BUS_TIME_FACTOR
        if self.bus is not None:  # the timetable's door-to-door minutes
            free[bus] = self.bus.minutes[t.origin, dest][bus]
            delay[bus] = 0.0
        for m, kmh in speed.items():
            rows = mode == m
            free[rows] = los.dist_km[rows] / kmh * 60.0
            delay[rows] = 0.0
        return free, delay

    def _expected_peak(
        self,
        t: TripTable,
        dest: np.ndarray,
        prob: np.ndarray,
        skims: Skims,
        ratio: np.ndarray,
        extra: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected busiest-hour car matrix and vehicles per bin over the choice probabilities.

        Each trip drives with its car-driver probability; a pupil's escort vehicle is
        expected with the probability that the pupil is driven and no earlier pupil of the
        household to the same school is (the sampled rule of :meth:`vehicle_trips`); each
        leaves by the departure-bin probabilities of a car trip (passengers pay half the
        toll). Through traffic and freight as in :meth:`choose`.
        """
        o = t.origin
        loaded = o != dest
        free = skims.free_minutes[o, dest] + md.CAR_ACCESS_MIN
        delay = skims.minutes[o, dest] - skims.free_minutes[o, dest]
        toll = skims.toll[o, dest] / self.money_per_min
        n = self.n_zones
        pair, group = np.unique(o * n + dest, return_inverse=True)
        order = np.lexsort((t.desired, group))  # trips alike in a row: their probabilities once
        trips = np.zeros((len(pair), dep.N_BINS))  # expected vehicles per OD pair and AM bin
        for weight, share in (
            (prob[:, md.CAR] * loaded, 1.0),
            (escort_weights(t, prob[:, md.PASSENGER]) * loaded, 0.5),
        ):
            args = dep.schedule_arguments(t.desired, free, delay, ratio, share * toll, self.charged)
            w = np.ascontiguousarray(weight, dtype=np.float64)
            trips += choice.expected_departures(args, w, group, len(pair), dep.WARMUP_BINS, order)
        vehicles = extra.sum(axis=(0, 1)) + trips.sum(axis=0)
        peak = dep.peak_hour(vehicles)
        matrix = extra[:, :, peak : peak + dep.BINS_PER_HOUR].sum(axis=2).ravel()
        matrix[pair] += trips[:, peak : peak + dep.BINS_PER_HOUR].sum(axis=1)
        return matrix.reshape(n, n), vehicles

    def vehicle_trips(self, t: TripTable, mode: np.ndarray) -> np.ndarray:
        """Trips that put a car on the road: drivers, and one per household and school driven."""
        drive = np.flatnonzero(mode == md.CAR)
        escorted = np.flatnonzero((mode == md.PASSENGER) & (t.purpose == SCHOOL))
        key = t.household[escorted] * (int(t.school.max(initial=-1)) + 2) + t.school[escorted]
        _, first = np.unique(key, return_index=True)
        return np.sort(np.concatenate([drive, escorted[first]]))

    def _through_and_freight(self, t: TripTable, dest: np.ndarray, mode: np.ndarray) -> np.ndarray:
        """Through and freight PCU of the AM period per OD (freight fixed in the first year)."""
        n = self.n_zones
        if self.freight is None:
            car = np.zeros((n, n))
            rows = (mode == md.CAR) & (t.origin != dest)
            np.add.at(car, (t.origin[rows], dest[rows]), 1.0)
            self.freight = car * FREIGHT_SHARE / (1.0 - FREIGHT_SHARE) * FREIGHT_PCE
        extra = self.freight.copy()
        if self.gateways is not None:
            a, b = self.gateways
            per_direction = self.params.through_trips_peak * dep.N_BINS / dep.BINS_PER_HOUR / 2.0
            extra[a, b] += per_direction
            extra[b, a] += per_direction
        return extra

    def _extra_bins(
        self, t: TripTable, dest: np.ndarray, mode: np.ndarray, skims: Skims
    ) -> tuple[np.ndarray, np.ndarray]:
        """Freight and through PCU per OD and departure bin (:mod:`sim.mobility.freight`).

        Through traffic leaves evenly over the AM period; freight avoids charged bins.
        """
        total = self._through_and_freight(t, dest, mode)
        assert self.freight is not None
        # freight leaves within the AM period
        trucks = freight_bins(self.freight, skims.toll, self.am_charged, self.money_per_min)
        return trucks, (total - self.freight)[:, :, None] / dep.N_BINS * np.ones(dep.N_BINS)

    @property
    def am_charged(self) -> np.ndarray:
        """:attr:`charged` of the AM period's bins (the warm-up's left out), ``(N_BINS,)``."""
        return self.charged[dep.WARMUP_BINS :]

    def _toll_revenue(self, resident_tolls: np.ndarray, extra: np.ndarray, skims: Skims) -> float:
        """Tolls paid in the AM period by residents' cars, through traffic and freight.

        ``extra`` holds the through and freight vehicles per OD and bin (trucks, not PCU);
        those leaving in a charged bin pay.
        """
        paying = (extra * self.am_charged[None, None, :]).sum(axis=2)
        return float(resident_tolls.sum() + (paying * skims.toll).sum())

    def _shares(self, c: Choices) -> dict[str, float]:
        """Mode shares of the residents' trips and their mean logsum in money."""
        share = np.bincount(c.mode[c.mode >= 0], minlength=len(md.MODES)) / max(len(c.mode), 1)
        money = -md.TIME_COEF / self.money_per_min  # utility per money unit
        finite = np.isfinite(c.logsum)
        return {
            "mode_share_car": float(share[md.CAR] + share[md.PASSENGER]),
            "mode_share_pt": float(share[md.BUS]),
            "mode_share_walk": float(share[md.WALK]),
            "mode_share_bike": float(share[md.BICYCLE] + share[md.EBIKE]),
            "accessibility_logsum": float(c.logsum[finite].mean() / money) if finite.any() else 0.0,
        }


#: Minutes per row of the AM profile, and its columns in a run's table.
PROFILE_MIN = 15
PROFILE_COLUMNS = ("year", "period_start", "departures", "car_departures", "network_speed_kmh")


def am_profile(
    bins: np.ndarray, car_bins: np.ndarray, car_min: np.ndarray, car_km: np.ndarray
) -> pd.DataFrame:
    """Departures and network speed by 15 minutes over the AM period.

    Columns ``period_start`` (HH:MM), ``departures`` (residents' trips, every mode),
    ``car_departures`` (cars loaded on the network) and ``network_speed_kmh`` (their
    km over their minutes; NaN in a quarter without cars). Trips leaving in the warm-up
    (negative bins) are not in it.
    """
    per = PROFILE_MIN // dep.BIN_MIN
    n = dep.N_BINS // per
    car = np.asarray(car_bins) >= 0
    every = np.asarray(bins, dtype=np.int64)
    q_all = every[every >= 0] // per
    q_car = np.asarray(car_bins, dtype=np.int64)[car] // per
    car_min, car_km = np.asarray(car_min)[car], np.asarray(car_km)[car]
    minutes = np.bincount(q_car, car_min, n)
    km = np.bincount(q_car, car_km, n)
    speed = np.divide(km * 60.0, minutes, out=np.full(n, np.nan), where=minutes > 0)
    return pd.DataFrame(
        {
            "period_start": [dep.bin_label(q * per) for q in range(n)],
            "departures": np.bincount(q_all, minlength=n).astype(np.int64),
            "car_departures": np.bincount(q_car, minlength=n).astype(np.int64),
            "network_speed_kmh": speed,
        }
    )


def school_area_arrivals(
    t: TripTable, dest: np.ndarray, cars: np.ndarray, bins: np.ndarray, minutes: np.ndarray
) -> float:
    """The most cars arriving in the zones with a school in any 15 minutes.

    ``cars`` are the trips that put a car on the road; each arrives at its departure bin's
    midpoint plus its minutes. Every car ending in such a zone counts (school runs and the
    commuters and shoppers who meet them at the gates), in quarters of :data:`PROFILE_MIN`:
    staggered school hours lower it where schools shared the same quarter.
    """
    near = cars[np.isin(dest[cars], t.dest[t.purpose == SCHOOL])]
    if not len(near):
        return 0.0
    # minutes after the warm-up's start (CHOICE_START, a whole number of quarters earlier)
    arrive = (bins[near] + dep.WARMUP_BINS + 0.5) * dep.BIN_MIN + minutes[near]
    return float(np.bincount((arrive // PROFILE_MIN).astype(np.int64)).max())


def escort_weights(t: TripTable, driven: np.ndarray) -> np.ndarray:
    """Per trip, the probability that it is its household's escort vehicle to its school.

    ``driven`` is each trip's probability of being driven; a pupil's trip is the vehicle
    when it is driven and no earlier trip (table order) of the same household and school
    is: ``p_i * prod_{j < i} (1 - p_j)``. Trips not to school get 0.
    """
    out = np.zeros(len(t))
    idx = np.flatnonzero(t.purpose == SCHOOL)
    if not len(idx):
        return out
    key = t.household[idx] * (int(t.school.max()) + 2) + t.school[idx]
    order = np.argsort(key, kind="stable")
    k, p = key[order], driven[idx][order]
    with np.errstate(divide="ignore"):
        log_q = np.log(np.clip(1.0 - p, 0.0, 1.0))
    log_q = np.maximum(log_q, -700.0)  # exp(-700) ~ 0: a sure escort leaves no chance after it
    before = np.cumsum(log_q) - log_q
    first = np.r_[True, k[1:] != k[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(k)), 0))
    out[idx[order]] = p * np.exp(before - before[start])
    return out


def through_gateways(city: City) -> tuple[int, int] | None:
    """Zone indices nearest the two farthest-apart ends of the trunk roads (None: no trunk).

    The default city's trunk is Ruta 5, so its through traffic enters at the north end
    of La Serena and leaves at the south end of Coquimbo (and back).
    """
    links = city.links
    trunk = links[links["link_type"].isin(TRUNK_CLASSES)]
    if trunk.empty:
        return None
    ids = np.unique(trunk[["a_node", "b_node"]].to_numpy())
    pts = city.nodes.geometry.loc[ids]
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    axis = xy - xy.mean(axis=0)
    direction = np.linalg.svd(axis, full_matrices=False)[2][0]
    along = axis @ direction
    ends = xy[[int(np.argmin(along)), int(np.argmax(along))]]
    cent = city.zones.geometry.centroid
    zxy = np.column_stack([cent.x.to_numpy(), cent.y.to_numpy()])
    a, b = (int(np.argmin(((zxy - e) ** 2).sum(axis=1))) for e in ends)
    return (a, b) if a != b else None
