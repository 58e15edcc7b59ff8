"""Travel demand (sim.mobility.demand) on a synthetic 5 × 5 grid city: what each lever moves."""

from __future__ import annotations

import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from sim.mobility import modes as md
from sim.mobility.demand import SCHOOL, WORK, TravelDemand
from sim.mobility.skims import Skims
from sim.mobility.trips import assign_work_zones, zone_distance_km
from sim.population.persons import Persons
from sim.scenario import Parameters

GRID = 5
CENTRE = 12
SCHOOL_ZONE = np.array([0, 12, 24])  # primary, primary, junior
SCHOOL_LEVEL = np.array([0, 0, 1])


def _city() -> SimpleNamespace:
    xy = [(2000.0 * (i % GRID), 2000.0 * (i // GRID)) for i in range(GRID * GRID)]
    jobs = np.full(GRID * GRID, 300.0)
    jobs[CENTRE] = 5000.0
    zones = gpd.GeoDataFrame(
        {"jobs": jobs},
        geometry=[Point(x, y) for x, y in xy],
        index=pd.Index(np.arange(1, GRID * GRID + 1), name="zone_id"),
    )
    no_trunk = pd.DataFrame({"a_node": [], "b_node": [], "link_type": []})
    return SimpleNamespace(
        zones=zones,
        parking=pd.DataFrame({"zone_id": [CENTRE + 1]}),
        links=no_trunk,
        nodes=gpd.GeoDataFrame(geometry=[]),
    )


def _dist() -> np.ndarray:
    gx, gy = np.meshgrid(np.arange(GRID) * 2000.0, np.arange(GRID) * 2000.0)
    return zone_distance_km(gx.ravel(), gy.ravel(), np.full(GRID * GRID, 4e6))


def _skims(congestion: float = 1.0, toll: float = 0.0) -> Skims:
    km = _dist()
    free = km / 30.0 * 60.0
    tolls = np.zeros_like(km)
    tolls[:, CENTRE] = toll
    tolls[CENTRE, CENTRE] = 0.0
    return Skims(minutes=free * congestion, km=km, toll=tolls, free_minutes=free)


def _persons(n: int, seed: int) -> Persons:
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 80, n)
    school = np.full(n, -1, dtype=np.int32)
    primary, junior = (age >= 6) & (age <= 11), (age >= 12) & (age <= 14)
    school[primary] = rng.integers(0, 2, primary.sum())
    school[junior] = 2
    return Persons.new(
        age=age,
        sex=rng.integers(0, 2, n),
        zone=rng.integers(0, GRID * GRID, n),
        household=np.arange(n) // 3,
        school=school,
    )


def _table(demand: TravelDemand, starts=(480.0, 480.0, 480.0), shift_share=0.0, seed=3):
    persons = _persons(12_000, 1)
    rng = np.random.default_rng(seed)
    jobs = demand.jobs
    assign_work_zones(persons, jobs, demand.dist_km, demand.params, rng)
    return demand.trip_table(persons, SCHOOL_ZONE, np.array(starts), shift_share, rng)


@pytest.fixture(scope="module")
def base():
    demand = TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    choices = demand.choose(table, _skims(congestion=1.0))
    return demand, table, choices


def test_commute_car_share_is_the_observed_one(base) -> None:
    _, table, choices = base
    work = table.purpose == WORK
    share = (choices.mode[work] == md.CAR).mean()
    assert share == pytest.approx(Parameters().car_share, abs=0.015)
    primary = (table.purpose == SCHOOL) & (table.age < 12)
    driven = (choices.mode[primary] == md.PASSENGER).mean()
    assert driven == pytest.approx(Parameters().escort_share, abs=0.03)


def test_car_trip_elasticity_to_operating_cost_is_in_the_published_range(base) -> None:
    # Goodwin, Dargay & Hanly (2004), Transport Reviews 24(3): fuel-price elasticity of
    # traffic -0.1 (short run) to -0.3 (long run); car trips respond less than car-km,
    # Litman (2023, VTPI Transportation Elasticities) gives -0.1..-0.3 for vehicle travel.
    demand, table, _ = base
    skims = _skims(congestion=1.2)
    trips = []
    for cost in (120.0, 132.0):
        demand.params = Parameters(car_cost_per_km=cost)
        trips.append(demand.choose(table, skims).kpis["car_trips"])
    demand.params = Parameters()
    elasticity = math.log(trips[1] / trips[0]) / math.log(1.1)
    assert -0.35 <= elasticity <= -0.03


def test_staggered_start_moves_school_trips_in_time_not_away() -> None:
    demand = TravelDemand(_city(), Parameters(), _dist())
    skims = _skims(congestion=1.3)
    before = _table(demand)
    c0 = demand.choose(before, skims)
    demand.departures = c0.vehicles.copy()
    c0 = demand.choose(before, skims)
    after = _table(demand, starts=(480.0, 480.0, 540.0))  # the junior school an hour later
    c1 = demand.choose(after, skims)
    junior = before.school == 2
    np.testing.assert_array_equal(junior, after.school == 2)  # same pupils, same draws
    moved = c1.bins[junior].astype(float).mean() - c0.bins[junior].astype(float).mean()
    assert moved == pytest.approx(12.0, abs=1.0)  # 60 minutes = 12 five-minute bins
    others = ~junior
    assert (c1.bins[others] != c0.bins[others]).mean() < 0.05
    assert abs(c1.kpis["car_trips"] / c0.kpis["car_trips"] - 1.0) < 0.01
    assert c1.kpis["car_trips_peak"] < c0.kpis["car_trips_peak"]


def test_first_form_shifts_that_share_of_pupils_an_hour() -> None:
    demand = TravelDemand(_city(), Parameters(), _dist())
    base = _table(demand)
    half = _table(demand, shift_share=0.5)
    pupils = base.purpose == SCHOOL
    later = half.desired[pupils] - base.desired[pupils]
    assert set(np.unique(later)) == {0.0, 60.0}
    assert (later > 0).mean() == pytest.approx(0.5, abs=0.03)
    assert len(half) == len(base)  # trips move, none deleted


def test_cordon_toll_shifts_modes_and_destinations_and_collects_revenue() -> None:
    demand = TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    demand.choose(table, _skims())  # calibrates at free flow
    demand.freight = np.zeros((GRID * GRID, GRID * GRID))  # residents only: exact revenue
    toll = 1000.0
    c0 = demand.choose(table, _skims())
    c1 = demand.choose(table, _skims(toll=toll))
    into = [(c.dest == CENTRE) & (table.origin != CENTRE) for c in (c0, c1)]
    car = [c.mode == md.CAR for c in (c0, c1)]
    assert (into[1] & car[1]).sum() < 0.8 * (into[0] & car[0]).sum()  # mode + destination
    fixed = into[0] & (table.purpose != 2)  # commutes and school trips keep their destination
    assert (c1.mode[fixed] == md.CAR).mean() < (c0.mode[fixed] == md.CAR).mean()
    assert (c1.mode[fixed] == md.BUS).mean() > (c0.mode[fixed] == md.BUS).mean()
    other = table.purpose == 2
    assert (c1.dest[other] == CENTRE).sum() < (c0.dest[other] == CENTRE).sum()
    # residents' revenue: the toll times the drivers entering the cordon (pupils' escorts
    # included); nothing from outside the cordon's entries
    escorts = _escort_trips_into_centre(table, c1)
    assert c1.kpis["toll_revenue"] == pytest.approx(toll * ((into[1] & car[1]).sum() + escorts))
    assert c0.kpis["toll_revenue"] == 0.0


def _escort_trips_into_centre(table, c) -> int:
    rows = (c.mode == md.PASSENGER) & (table.purpose == SCHOOL)
    rows &= (c.dest == CENTRE) & (table.origin != CENTRE)
    return len(set(zip(table.household[rows].tolist(), table.school[rows].tolist(), strict=True)))


def test_consumer_surplus_loss_is_bounded_by_the_toll_on_drivers() -> None:
    # logit: -toll * P_before <= change of expected surplus <= -toll * P_after (per trip
    # facing it), so the mean per trip lies between the tolled car shares before and after
    demand = TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    toll = 500.0
    c0 = demand.choose(table, _skims())
    c1 = demand.choose(table, _skims(toll=toll))
    fixed = table.purpose != 2
    assert c1.kpis["accessibility_logsum"] < c0.kpis["accessibility_logsum"]
    tolled = (table.dest == CENTRE) & (table.origin != CENTRE) & fixed
    p0 = ((c0.mode == md.CAR) & tolled).mean()
    p1 = ((c1.mode == md.CAR) & tolled).mean()
    loss = c0.kpis["accessibility_logsum"] - c1.kpis["accessibility_logsum"]
    assert toll * p1 * 0.9 <= loss  # other trips re-choose destinations: only a lower bound
    assert loss <= toll * p0 * 1.1 + toll * ((table.purpose == 2).mean())


def test_intrazonal_car_trips_are_reported_apart_and_never_loaded(base) -> None:
    demand, table, c = base
    assert np.diag(c.car_peak).sum() == 0.0
    drivers = (c.mode == md.CAR).sum()
    escorts = len(
        {
            (h, s)
            for h, s, m, p in zip(table.household, table.school, c.mode, table.purpose, strict=True)
            if m == md.PASSENGER and p == SCHOOL
        }
    )
    assert c.kpis["car_trips"] + c.kpis["car_trips_intrazonal"] == drivers + escorts
    intra = ((c.mode == md.CAR) & (table.origin == c.dest)).sum()
    assert c.kpis["car_trips_intrazonal"] >= intra > 0
    # the AM profile counts 06:00-10:00; trips leaving in the warm-up before it are apart
    cars = demand.vehicle_trips(table, c.mode)
    assert c.local is not None
    loaded = (table.origin[cars] != c.dest[cars]) | c.local.loaded
    early = int((c.bins[cars][loaded] < 0).sum())
    assert early > 0
    assert c.profile["car_departures"].sum() + early == c.kpis["car_trips"]
    assert c.profile["departures"].sum() + (c.bins < 0).sum() == len(table)


def test_same_seed_same_choices() -> None:
    runs = []
    for _ in range(2):
        demand = TravelDemand(_city(), Parameters(), _dist())
        table = _table(demand, seed=11)
        c = demand.choose(table, _skims(congestion=1.2))
        runs.append((c.mode, c.bins, c.dest, c.car_peak))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_school_start_shifts_by_level_or_list_latest_wins() -> None:
    from sim.mobility.departure import school_starts
    from sim.policies import StaggeredSchoolStart

    def pol(**kw):
        return StaggeredSchoolStart(type="staggered_school_start", **kw)

    level = np.array([0, 0, 1])
    ids = ["P1", "P2", "J1"]
    policies = [
        pol(level="junior", shift_min=30, year=2025),
        pol(schools=["P2", "J1"], shift_min=-15, year=2026),
        pol(share_shifted=0.5, year=2025),  # the first form moves pupils, not schools
    ]
    assert school_starts(level, ids, policies, 2024).tolist() == [480.0, 480.0, 480.0]
    assert school_starts(level, ids, policies, 2025).tolist() == [480.0, 480.0, 510.0]
    assert school_starts(level, ids, policies, 2026).tolist() == [480.0, 465.0, 465.0]
    with pytest.raises(ValueError, match="one of level or schools"):
        pol(level="junior", schools=["J1"], shift_min=10, year=2025)
    with pytest.raises(ValueError, match="a form of its own"):
        pol(share_shifted=0.2, shift_min=10, level="junior", year=2025)


def test_through_traffic_enters_and_leaves_at_the_trunk_road_ends() -> None:
    from sim.mobility.demand import through_gateways

    city = _city()
    # a trunk road running up the grid's west column (zones 0, 5, ..., 20), nodes 100..104
    ys = [2000.0 * r for r in range(GRID)]
    city.nodes = gpd.GeoDataFrame(
        geometry=[Point(-300.0, y) for y in ys], index=pd.Index(range(100, 105), name="node_id")
    )
    city.links = pd.DataFrame(
        {"a_node": range(100, 104), "b_node": range(101, 105), "link_type": ["trunk"] * 4}
    )
    assert sorted(through_gateways(city)) == [0, GRID * (GRID - 1)]
    demand = TravelDemand(city, Parameters(through_trips_peak=400.0), _dist())
    table = _table(demand)
    c = demand.choose(table, _skims())
    demand_freight = demand.freight
    assert demand_freight is not None
    # 400 an hour, half each way, on top of residents and freight
    through = c.car_peak - _resident_and_freight_peak(table, c, demand_freight)
    assert through[0, 20] == pytest.approx(200.0) and through[20, 0] == pytest.approx(200.0)
    through[0, 20] = through[20, 0] = 0.0
    assert np.abs(through).max() < 1e-9


def _resident_and_freight_peak(table, c, freight) -> np.ndarray:
    from sim.mobility.departure import BINS_PER_HOUR, N_BINS

    out = freight * (BINS_PER_HOUR / N_BINS)
    rows = (c.mode == md.CAR) & (table.origin != c.dest)
    b = c.bins[rows]
    inside = (b >= c.peak_start) & (b < c.peak_start + BINS_PER_HOUR)
    escorted = (c.mode == md.PASSENGER) & (table.purpose == SCHOOL) & (table.origin != c.dest)
    seen = set()
    for i in np.flatnonzero(escorted):
        key = (table.household[i], table.school[i])
        if key in seen:
            continue
        seen.add(key)
        if c.peak_start <= c.bins[i] < c.peak_start + BINS_PER_HOUR:
            out[table.origin[i], c.dest[i]] += 1.0
    np.add.at(out, (table.origin[rows][inside], c.dest[rows][inside]), 1.0)
    return out


def test_am_profile_figure_draws_each_run_side_by_side(base) -> None:
    from sim.runs.figures import am_profile_figure

    _, _, c = base
    a = c.profile.assign(year=2025)
    b = a.assign(car_departures=a["car_departures"] // 2)
    fig = am_profile_figure({"default": pd.concat([a.assign(year=2024), a]), "variant": b})
    axes = fig.get_axes()
    assert len(axes) == 3 and all(len(ax.get_lines()) == 2 for ax in axes)
    cars = axes[1].get_lines()
    np.testing.assert_array_equal(cars[1].get_ydata(), b["car_departures"])
