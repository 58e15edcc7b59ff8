"""Where persons work (sim.mobility.trips): zone distances and the gravity work zones."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mobility.trips import (
    DETOUR_FACTOR,
    WORK_AGES,
    assign_work_zones,
    zone_distance_km,
)
from sim.population.persons import Persons
from sim.scenario import Parameters


def test_zone_distance_three_zones_by_hand() -> None:
    # centroids (0,0), (3 km,0), (0,4 km): a 3-4-5 triangle; areas 1, 4 and 0.25 km²
    d = zone_distance_km(
        np.array([0.0, 3000.0, 0.0]), np.array([0.0, 0.0, 4000.0]), np.array([1e6, 4e6, 0.25e6])
    )
    f = DETOUR_FACTOR
    expected = np.array(
        [
            [0.5, 3.0 * f, 4.0 * f],
            [3.0 * f, 1.0, 5.0 * f],
            [4.0 * f, 5.0 * f, 0.25],
        ]
    )  # diagonal: half the width of a square zone of that area
    np.testing.assert_allclose(d, expected)


# ------------------------------------------------------------------ a synthetic grid city

GRID = 5  # 5 × 5 zones, 2 km apart


def _grid_distances() -> np.ndarray:
    gx, gy = np.meshgrid(np.arange(GRID) * 2000.0, np.arange(GRID) * 2000.0)
    return zone_distance_km(gx.ravel(), gy.ravel(), np.full(GRID * GRID, 4e6))


def _persons(n: int, rng: np.random.Generator) -> Persons:
    n_zones = GRID * GRID
    age = rng.integers(0, 90, n)
    school = np.where((age >= 6) & (age <= 14), rng.integers(0, 3, n), -1)  # 3 schools
    return Persons.new(
        age=age,
        sex=rng.integers(0, 2, n),
        zone=rng.integers(0, n_zones, n),
        household=np.arange(n),
        school=school,
    )


@pytest.fixture(scope="module")
def grid_trips():
    rng = np.random.default_rng(7)
    persons = _persons(30_000, rng)
    jobs = rng.integers(50, 2_000, GRID * GRID).astype(float)
    params = Parameters()
    dist = _grid_distances()
    workers, _, _ = assign_work_zones(persons, jobs, dist, params, np.random.default_rng(1))
    return persons, workers, jobs, dist, params


def test_every_worker_gets_a_work_zone(grid_trips) -> None:
    persons, workers, *_ = grid_trips
    lo, hi = WORK_AGES
    working = persons.work_zone >= 0
    assert workers.sum() == working.sum()
    assert (persons.age[working] >= lo).all() and (persons.age[working] <= hi).all()
    # workers per home zone are the persons who work, zone by zone
    np.testing.assert_array_equal(
        workers, np.bincount(persons.zone[working], minlength=GRID * GRID)
    )
    # about employment_rate of working-age residents work
    share = working.sum() / ((persons.age >= lo) & (persons.age <= hi)).sum()
    assert share == pytest.approx(Parameters().employment_rate, abs=0.02)


def test_work_destinations_follow_jobs(grid_trips) -> None:
    persons, _, jobs, *_ = grid_trips
    working = persons.work_zone >= 0
    arrivals = np.bincount(persons.work_zone[working], minlength=GRID * GRID)
    # doubly constrained: arrivals ∝ jobs (up to sampling noise)
    expected = jobs / jobs.sum() * working.sum()
    assert np.abs(arrivals - expected).max() < 5 * np.sqrt(expected.max()) + 5


@pytest.mark.parametrize("target", [3.0, 4.5, 6.0])
def test_gravity_reproduces_the_target_trip_length(target: float) -> None:
    rng = np.random.default_rng(3)
    persons = _persons(20_000, rng)
    jobs = rng.integers(50, 2_000, GRID * GRID).astype(float)
    dist = _grid_distances()
    params = Parameters(mean_trip_km=target)
    _, beta, mean_km = assign_work_zones(persons, jobs, dist, params, np.random.default_rng(2))
    assert mean_km == pytest.approx(target, rel=0.05)
    # and the sampled work zones of the persons themselves travel that far on average
    w = persons.work_zone >= 0
    sampled = dist[persons.zone[w], persons.work_zone[w]].mean()
    assert sampled == pytest.approx(target, rel=0.05)
    assert beta > 0


def test_shorter_target_means_stronger_deterrence() -> None:
    rng = np.random.default_rng(3)
    persons = _persons(5_000, rng)
    jobs = rng.integers(50, 2_000, GRID * GRID).astype(float)
    dist = _grid_distances()
    betas = [
        assign_work_zones(
            persons, jobs, dist, Parameters(mean_trip_km=t), np.random.default_rng(0)
        )[1]
        for t in (3.0, 5.0)
    ]
    assert betas[0] > betas[1]


def test_same_seed_same_work_zones() -> None:
    dist = _grid_distances()
    jobs = np.linspace(100, 1000, GRID * GRID)
    out = []
    for _ in range(2):
        persons = _persons(3_000, np.random.default_rng(5))
        assign_work_zones(persons, jobs, dist, Parameters(), np.random.default_rng(9))
        out.append(persons.work_zone.copy())
    np.testing.assert_array_equal(out[0], out[1])


def test_logsum_gravity_with_a_distance_logsum_is_the_distance_gravity() -> None:
    # logsum = -km makes exp(theta * logsum) the exponential distance deterrence: the
    # destination choice on the logsum must give the calibrated distance gravity itself
    from sim.mobility.trips import logsum_gravity, work_od

    rng = np.random.default_rng(4)
    dist = _grid_distances()
    workers = rng.integers(100, 900, GRID * GRID).astype(float)
    jobs = rng.integers(50, 2_000, GRID * GRID).astype(float)
    params = Parameters(mean_trip_km=4.5)
    gravity, beta = work_od(workers, jobs, workers, dist, params)
    od, theta = logsum_gravity(workers, jobs, -dist, dist, 4.5)
    assert theta == pytest.approx(beta, rel=1e-3)
    np.testing.assert_allclose(od, gravity, rtol=1e-3, atol=1e-6 * od.max())
    # a fixed theta is kept (not recalibrated): a costlier trip from zone 1 to zone 0
    # sends zone 1's workers elsewhere
    worse = -dist.copy()
    worse[1, 0] -= 1.0
    moved, same = logsum_gravity(workers, jobs, worse, dist, 4.5, theta)
    assert same == theta
    assert moved[1, 0] < od[1, 0]
