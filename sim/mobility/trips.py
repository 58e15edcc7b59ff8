"""Where the simulated persons work: zone distances and the home→work distribution.

Workers get a work zone from a doubly-constrained gravity model whose deterrence is
calibrated to an observed mean trip length (or from the radiation model). The trips,
their modes and departure times are :mod:`sim.mobility.demand`'s.
"""

from __future__ import annotations

import numpy as np

from sim.errors import InputDataError, ScenarioError
from sim.mobility.od import calibrate_gravity, furness, radiation
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
    *,
    logsum: np.ndarray | None = None,
    theta: float | None = None,
) -> tuple[np.ndarray, float, float]:
    """Choose who works and where; fills ``persons.work_zone``.

    With a zone-to-zone mode-choice ``logsum`` the gravity model's deterrence is
    ``exp(theta * logsum)`` (a destination choice on the logsum, doubly constrained),
    ``theta`` calibrated to ``params.mean_trip_km`` when not given; without it, the
    deterrence is ``exp(-beta * km)``. Returns the workers per zone, the gravity parameter
    (beta, or theta with a logsum) and the mean trip km.
    """
    n_zones = len(jobs)
    lo, hi = WORK_AGES
    working_age = (persons.age >= lo) & (persons.age <= hi)
    works = working_age & (rng.random(len(persons)) < params.employment_rate)
    persons.work_zone[:] = -1
    workers = np.bincount(persons.zone[works], minlength=n_zones).astype(np.float64)
    residents = np.bincount(persons.zone, minlength=n_zones)
    if logsum is not None and params.od_model == "gravity":
        od, beta = logsum_gravity(workers, jobs, logsum, dist_km, params.mean_trip_km, theta)
    else:
        od, beta = work_od(workers, jobs, residents, dist_km, params)
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


#: Bisection range and steps of the logsum coefficient of the work destination choice.
THETA_RANGE, THETA_STEPS = (0.0, 20.0), 40


def logsum_gravity(
    workers: np.ndarray,
    jobs: np.ndarray,
    logsum: np.ndarray,
    dist_km: np.ndarray,
    target_km: float,
    theta: float | None = None,
) -> tuple[np.ndarray, float]:
    """Doubly-constrained home→work flows with deterrence ``exp(theta * logsum)``.

    ``theta`` is found by bisection so the mean trip is ``target_km`` when not given (the
    mean falls as theta grows); a target beyond the reachable range gets the end value.
    """
    attractions = jobs / max(jobs.sum(), 1.0) * workers.sum()
    rel = logsum - logsum.max()

    def flows(th: float) -> np.ndarray:
        return furness(workers, attractions, np.exp(th * rel))[0]

    def mean_km(od: np.ndarray) -> float:
        return float((od * dist_km).sum() / max(od.sum(), 1e-12))

    if theta is None:
        lo, hi = THETA_RANGE
        for _ in range(THETA_STEPS):
            mid = 0.5 * (lo + hi)
            if mean_km(flows(mid)) > target_km:
                lo = mid
            else:
                hi = mid
        theta = 0.5 * (lo + hi)
    return flows(theta), float(theta)


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
