"""Weekday trips from the simulated persons: home→work and home→school, by zone.

Workers get a work zone from a doubly-constrained gravity model whose deterrence is
calibrated to an observed mean trip length (or from the radiation model); pupils travel
to the school the enrollment step gave them. The morning-peak-hour car OD matrix is what
the traffic step loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import InputDataError, ScenarioError
from sim.mobility.od import calibrate_gravity, radiation
from sim.population.persons import Persons
from sim.scenario import Parameters

#: Road distance over straight-line distance between zone centroids (a usual urban detour).
DETOUR_FACTOR = 1.3
#: Working ages (inclusive).
WORK_AGES = (18, 64)
#: Share of school trips that start in the modelled morning peak hour.
SCHOOL_PEAK_SHARE = 0.7
#: Junior pupils are escorted by car half as often as primary pupils.
JUNIOR_ESCORT_RATIO = 0.5


@dataclass
class Trips:
    """The weekday trips of one simulated year.

    Attributes
    ----------
    car_peak
        Car trips in the morning peak hour, zone × zone (index order of ``city.zones``).
    workers
        Workers per home zone.
    work_trips, school_trips
        All daily home→work and home→school trips.
    mean_work_km
        Mean home→work trip length of the OD model (km, network-equivalent).
    gravity_beta
        The calibrated gravity deterrence parameter (NaN for the radiation model).
    """

    car_peak: np.ndarray
    workers: np.ndarray
    work_trips: float
    school_trips: float
    mean_work_km: float
    gravity_beta: float


def zone_distance_km(x: np.ndarray, y: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Network-equivalent distance between zone centroids; intra-zone = half a zone width."""
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) / 1000.0 * DETOUR_FACTOR
    np.fill_diagonal(d, np.sqrt(area_m2) / 2000.0)
    return d


def assign_work_zones(
    persons: Persons,
    jobs: np.ndarray,
    dist_km: np.ndarray,
    params: Parameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float, float]:
    """Choose who works and where; fills ``persons.work_zone``.

    Returns the workers per zone, the calibrated gravity parameter and the mean trip km.
    """
    n_zones = len(jobs)
    lo, hi = WORK_AGES
    working_age = (persons.age >= lo) & (persons.age <= hi)
    works = working_age & (rng.random(len(persons)) < params.employment_rate)
    persons.work_zone[:] = -1
    workers = np.bincount(persons.zone[works], minlength=n_zones).astype(np.float64)
    od, beta = work_od(workers, jobs, np.bincount(persons.zone, minlength=n_zones), dist_km, params)
    idx = np.flatnonzero(works)
    home = persons.zone[idx]
    order = np.argsort(home, kind="stable")
    idx, home = idx[order], home[order]
    bounds = np.searchsorted(home, np.arange(n_zones + 1))
    for z in range(n_zones):
        a, b = bounds[z], bounds[z + 1]
        row = od[z]
        if b > a and row.sum() > 0:
            persons.work_zone[idx[a:b]] = rng.choice(n_zones, size=b - a, p=row / row.sum())
    mean_km = float((od * dist_km).sum() / max(od.sum(), 1e-9))
    return workers, beta, mean_km


def work_od(
    workers: np.ndarray,
    jobs: np.ndarray,
    residents: np.ndarray,
    dist_km: np.ndarray,
    params: Parameters,
) -> tuple[np.ndarray, float]:
    """Expected home→work flows by the scenario's OD model, and its calibrated parameter."""
    if params.od_model == "radiation":
        return radiation(residents, jobs, dist_km, workers), float("nan")
    attractions = jobs / max(jobs.sum(), 1.0) * workers.sum()
    try:
        od, fit = calibrate_gravity(
            workers, attractions, dist_km, deterrence="exp", target_mean_cost=params.mean_trip_km
        )
    except InputDataError as exc:
        msg = f"parameters.mean_trip_km = {params.mean_trip_km}: {exc}"
        raise ScenarioError(msg) from None
    return od, float(fit.get("beta", np.nan))


def weekday_trips(
    persons: Persons,
    school_zone: np.ndarray,
    school_level: np.ndarray,
    jobs: np.ndarray,
    dist_km: np.ndarray,
    params: Parameters,
    rng: np.random.Generator,
    *,
    staggered_share: float = 0.0,
) -> Trips:
    """Build the year's work and school trips and the peak-hour car OD matrix.

    Parameters
    ----------
    persons
        The population after enrollment (``persons.school`` set).
    school_zone, school_level
        Zone index and level (0 primary, 1 junior) of each school index.
    jobs
        Jobs per zone.
    dist_km
        Zone-to-zone distance matrix (km).
    params
        Scenario parameters (car share, escort share, peak-hour factor, mean trip length).
    rng
        Seeded random generator.
    staggered_share
        Share of school trips moved out of the peak by staggered start times.
    """
    n_zones = len(jobs)
    workers, beta, mean_km = assign_work_zones(persons, jobs, dist_km, params, rng)
    w = persons.work_zone >= 0
    work_trips = np.zeros((n_zones, n_zones))
    np.add.at(work_trips, (persons.zone[w], persons.work_zone[w]), 1.0)

    pupils = persons.school >= 0
    dest = school_zone[persons.school[pupils]]
    junior = school_level[persons.school[pupils]] == 1
    escort = np.where(junior, params.escort_share * JUNIOR_ESCORT_RATIO, params.escort_share)
    school_od = np.zeros((n_zones, n_zones))
    np.add.at(school_od, (persons.zone[pupils], dest), escort)

    car = work_trips * params.car_share * params.peak_hour_factor
    car += school_od * SCHOOL_PEAK_SHARE * (1.0 - staggered_share)
    return Trips(
        car_peak=car,
        workers=workers,
        work_trips=float(w.sum()),
        school_trips=float(pupils.sum()),
        mean_work_km=mean_km,
        gravity_beta=beta,
    )
