"""Where the simulated persons work: zone distances and the home→work distribution.

Workers get a work zone from a doubly-constrained gravity model whose deterrence is
calibrated to an observed mean trip length (or from the radiation model). The trips,
their modes and departure times are :mod:`sim.mobility.demand`'s.
"""

from __future__ import annotations

import numpy as np

from sim.errors import InputDataError, ScenarioError
from sim.mobility.od import calibrate_gravity, radiation
from sim.population.persons import Persons
from sim.scenario import Parameters

#: Road distance over straight-line distance between zone centroids (a usual urban detour).
DETOUR_FACTOR = 1.3
#: Working ages (inclusive).
WORK_AGES = (18, 64)


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
