"""The demand-supply loop (sim.mobility.loop) and the expected demand it averages."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
from test_demand import _city, _dist, _skims, _table

from sim.mobility import departure as dep
from sim.mobility.demand import SCHOOL, TravelDemand, TripTable, escort_weights
from sim.mobility.loop import SRA_DOWN, SRA_UP, equilibrate
from sim.scenario import Parameters


def _school_trips(household: list[int], school: list[int]) -> TripTable:
    n = len(household)
    return TripTable(
        origin=np.zeros(n, np.int64),
        dest=np.ones(n, np.int64),
        purpose=np.full(n, SCHOOL, np.int8),
        age=np.full(n, 8),
        household=np.array(household),
        school=np.array(school),
        desired=np.full(n, 475.0),
        draws=np.zeros((n, 3)),
    )


def test_escort_weights_are_the_chance_of_being_the_first_driven_pupil() -> None:
    # household 0: two pupils to school 0 (driven with 0.5 and 0.4), one to school 1 (0.3);
    # household 1: one pupil driven surely. By hand: 0.5, 0.4 * (1 - 0.5), 0.3, 1.
    t = _school_trips([0, 0, 0, 1], [0, 0, 1, 0])
    w = escort_weights(t, np.array([0.5, 0.4, 0.3, 1.0]))
    np.testing.assert_allclose(w, [0.5, 0.2, 0.3, 1.0])
    # expected vehicles per household and school: 1 - (1 - 0.5)(1 - 0.4) = 0.7
    assert w[:2].sum() == pytest.approx(0.7)


def test_expected_demand_is_the_mean_of_the_drawn_demand() -> None:
    demand = TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    skims = _skims(congestion=1.3)
    first = demand.choose(table, skims)
    rng = np.random.default_rng(7)
    vehicles = []
    for _ in range(40):
        redrawn = dataclasses.replace(table, draws=rng.random(table.draws.shape))
        vehicles.append(demand.choose(redrawn, skims, first.dest).vehicles)
    # 40 draws of ~2,000 cars: per 5-minute bin (~40 cars) the mean's error is ~3 %
    mean = np.mean(vehicles, axis=0)
    assert first.expected_vehicles.sum() == pytest.approx(mean.sum(), rel=0.01)
    np.testing.assert_allclose(first.expected_vehicles, mean, rtol=0.1, atol=1.0)
    # the expected busiest hour holds its bins' expected vehicles (+ nothing else)
    start = dep.peak_hour(first.expected_vehicles)
    hour = first.expected_vehicles[start : start + dep.BINS_PER_HOUR].sum()
    assert first.expected_peak.sum() == pytest.approx(hour, rel=1e-9)


class _ToyDemand:
    """A smooth response ``R(x) = a - b * x`` (fixed point ``a / (1 + b)``) per OD cell."""

    def __init__(self, a: np.ndarray, b: float) -> None:
        self.a, self.b = a, b
        self.departures = np.zeros(dep.N_BINS)
        self.od_factor = None
        self.x = np.zeros_like(a)

    def choose(self, table, skims, dest=None):
        target = np.maximum(self.a - self.b * self.x, 0.0)
        return SimpleNamespace(
            expected_peak=target,
            expected_vehicles=np.full(dep.N_BINS, target.sum() / dep.N_BINS),
            dest=np.zeros(1),
            kpis={"car_trips": float(target.sum())},
        )


def _toy_loop(b: float, gap: float, rounds: int):
    a = np.array([[0.0, 300.0], [150.0, 0.0]])
    toy = _ToyDemand(a, b)

    def assign(od, rel_gap):
        toy.x = od
        return SimpleNamespace(kpis={"vkt": float(od.sum()) * 5.0})

    params = Parameters(demand_gap=gap, demand_iterations=rounds)
    return a, toy, equilibrate(toy, None, None, lambda: None, assign, params)


def test_the_loop_settles_on_the_fixed_point_and_reports_its_gap() -> None:
    a, _, loop = _toy_loop(b=0.5, gap=0.002, rounds=50)
    fixed = a / 1.5
    gaps = [r["gap"] for r in loop.trace]
    assert math.isnan(gaps[0])
    assert loop.gap == gaps[-1] <= 0.002
    assert all(g > 0.002 for g in gaps[1:-1])  # it stops at the first round under the gap
    assert len(loop.trace) < 50
    np.testing.assert_allclose(loop.od, fixed, rtol=0.01)
    # the noise of vkt is its change over the last round: 5 x the matrix change
    change = abs(loop.trace[-1]["vkt"] - loop.trace[-2]["vkt"])
    assert loop.noise()["vkt_noise"] == pytest.approx(change)
    assert change < 0.01 * loop.trace[-1]["vkt"]
    assert math.isnan(loop.noise()["delay_vh_noise"])  # not in the trace: unknown


def test_steps_are_self_regulated() -> None:
    # R(x) = a - 1.5 x overshoots: plain MSA steps 1/k oscillate; the step denominator
    # grows by SRA_UP after a round whose gap rose and by SRA_DOWN after one that fell
    _, _, loop = _toy_loop(b=1.5, gap=1e-9, rounds=12)
    eta = [1.0 / r["step"] for r in loop.trace]
    gaps = [r["gap"] for r in loop.trace]
    assert eta[:2] == [1.0, 2.0]
    for k in range(2, len(eta)):
        grow = SRA_UP if gaps[k] >= gaps[k - 1] else SRA_DOWN
        assert eta[k] == pytest.approx(eta[k - 1] + grow)
    assert gaps[-1] < 0.05 * gaps[1]


def test_one_round_reports_no_gap_and_no_noise() -> None:
    _, _, loop = _toy_loop(b=0.5, gap=0.01, rounds=1)
    assert len(loop.trace) == 1 and math.isnan(loop.gap)
    assert math.isnan(loop.noise()["vkt_noise"])


def test_demand_rounds_counts_the_assignments_the_loop_ran() -> None:
    from sim.kpis import KPIS

    a = np.array([[0.0, 300.0], [150.0, 0.0]])
    calls: list[float | None] = []

    def assign(od, rel_gap):
        toy.x = od
        calls.append(rel_gap)
        return SimpleNamespace(kpis={})

    for cap in (1, 3, 50):
        toy = _ToyDemand(a, 0.5)
        calls.clear()
        params = Parameters(demand_gap=0.002, demand_iterations=cap)
        loop = equilibrate(toy, None, None, lambda: None, assign, params)
        assert loop.rounds == len(calls) <= cap
    assert 3 < loop.rounds < 50  # uncapped: it settles on its own
    assert next(k for k in KPIS if k.name == "demand_rounds").diagnostic
