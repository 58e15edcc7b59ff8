"""School system, enrollment assignment, school policies and Monte Carlo bands."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from sim.education.enrollment import (
    EnrollmentResult,
    assign_enrollment,
    school_age_grades,
    summarise_replications,
)
from sim.education.schools import SchoolSystem
from sim.errors import ScenarioError
from sim.policies import CatchmentEdit, CloseSchool, NewSchool, ResizeSchool, check_policies
from sim.population.persons import Persons
from sim.runs.folder import ENROLLMENT_COLUMNS
from sim.scenario import Parameters

X0, Y0 = 280_000.0, 6_680_000.0  # near La Serena in UTM 19S
CRS = pyproj.CRS("EPSG:32719")


# --------------------------------------------------------------------------- a fake city


def fake_city(n_zones: int = 4, class_size: int = 2) -> SimpleNamespace:
    """Zones 10, 20, ... in a row of 1 km squares; primary P1 (west), P2 (east); junior J1."""
    zone_ids = [10 * (k + 1) for k in range(n_zones)]
    boxes = [shapely.box(X0 + 1000 * k, Y0, X0 + 1000 * (k + 1), Y0 + 1000) for k in range(n_zones)]
    half = n_zones // 2
    zones = gpd.GeoDataFrame(
        {
            "catchment_primary": ["P1"] * half + ["P2"] * (n_zones - half),
            "catchment_junior": ["J1"] * n_zones,
        },
        index=pd.Index(zone_ids, name="zone_id"),
        geometry=[shapely.MultiPolygon([b]) for b in boxes],
        crs=CRS,
    )
    east = X0 + 1000 * n_zones - 500
    schools = gpd.GeoDataFrame(
        {
            "name": ["West primary", "East primary", "Central junior"],
            "level": ["primary", "primary", "junior"],
            "grade_lo": [1, 1, 7],
            "grade_hi": [6, 6, 9],
            "classes_per_grade": [1, 1, 2],
            "class_size": [class_size] * 3,
            "quality": [0.5, -0.5, 0.0],
            "zone_id": [zone_ids[0], zone_ids[-1], zone_ids[half]],
        },
        index=pd.Index(["P1", "P2", "J1"], name="school_id"),
        geometry=shapely.points([[X0 + 500, Y0 + 500], [east, Y0 + 500], [X0 + 1000 * half, Y0]]),
        crs=CRS,
    )

    def zone_at(x: float, y: float) -> int | None:
        hits = [
            z
            for z, g in zip(zone_ids, zones.geometry, strict=True)
            if g.covers(shapely.Point(x, y))
        ]
        return hits[0] if hits else None

    to_ll = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return SimpleNamespace(
        zones=zones,
        schools=schools,
        settings={"school_entry_age": "6", "primary_grades": "6", "junior_grades": "3"},
        crs=CRS,
        zone_at=zone_at,
        to_lonlat=to_ll.transform,
    )


def children(zone_counts: dict[int, int], age: int = 6) -> Persons:
    """Children of one age living in the given zone indices (plus two adults)."""
    zone = np.concatenate([np.full(n, z) for z, n in zone_counts.items()] + [np.array([0, 1])])
    ages = np.full(zone.size, age)
    ages[-2:] = 40
    return Persons.new(ages, np.zeros(zone.size), zone, np.arange(zone.size))


# --------------------------------------------------------------------------- school system


def test_school_system_from_city():
    system = SchoolSystem.from_city(fake_city())
    assert system.school_id == ["P1", "P2", "J1"]
    np.testing.assert_array_equal(system.catchment, [[0, 0, 1, 1], [2, 2, 2, 2]])
    cap = system.capacity()
    assert cap.shape == (3, 9)
    np.testing.assert_array_equal(cap[0], [2] * 6 + [0] * 3)
    np.testing.assert_array_equal(cap[2], [0] * 6 + [4] * 3)
    np.testing.assert_allclose(system.distance_km()[0], [0.0, 3.0, np.hypot(1.5, 0.5)])
    assert system.entry_age == 6 and system.n_grades == 9


def test_school_age_grades():
    system = SchoolSystem.from_city(fake_city())
    ages = np.array([4, 5, 6, 7, 11, 12, 14, 15, 30])
    np.testing.assert_array_equal(school_age_grades(ages, system), [-1, -1, 0, 1, 5, 6, 8, -1, -1])


def test_catchment_assignment_demand_overflow_and_distance():
    system = SchoolSystem.from_city(fake_city(class_size=3))
    persons = children({0: 4, 1: 1, 3: 1})  # P1 catchment: 5 children, P2: 1; capacity 3 each
    res = assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))
    assert res.demand[0, 0] == 5 and res.demand[1, 0] == 1
    assert res.enrolled[0, 0] == 3 and res.enrolled[1, 0] == 3
    assert res.overflow[0, 0] == 2 and res.overflow[1, 0] == 0
    assert res.unplaced.sum() == 0
    assert (persons.school[-2:] == -1).all()
    assert (persons.school[:-2] >= 0).all()
    # the zone-3 child walks 0 km; two zone-0/1 children travel 3 or 2 km to P2
    at_p2 = persons.school[:-2] == 1
    expected = np.abs(np.array([0.5] * 4 + [1.5, 3.5]) - 3.5)[at_p2].mean()
    assert res.mean_distance_km[1, 0] == pytest.approx(expected)
    assert res.utilisation[0, 0] == 1.0
    frame = res.to_frame(2025)
    assert len(frame) == 6 + 6 + 3
    row = frame[(frame.school == "P1") & (frame.grade == 1)].iloc[0]
    assert (row.demand, row.enrolled, row.capacity, row.overflow) == (5, 3, 3, 2)


def test_assignment_is_deterministic_for_a_seed():
    system = SchoolSystem.from_city(fake_city(class_size=3))
    runs = []
    for seed in (7, 7, 8):
        persons = children({0: 6, 1: 3, 2: 2, 3: 1})
        assign_enrollment(persons, system, "catchment", None, np.random.default_rng(seed))
        runs.append(persons.school.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_nearest_policy_uses_nearest_school_teaching_the_grade():
    system = SchoolSystem.from_city(fake_city(class_size=50))
    persons = children({0: 1, 1: 1, 2: 1, 3: 1})
    res = assign_enrollment(persons, system, "nearest", None, np.random.default_rng(0))
    np.testing.assert_array_equal(persons.school[:4], [0, 0, 1, 1])
    persons = children({0: 2, 3: 1}, age=13)  # grade 8: only J1
    assign_enrollment(persons, system, "nearest", None, np.random.default_rng(0))
    np.testing.assert_array_equal(persons.school[:3], [2, 2, 2])
    assert res.demand[:, 0].tolist() == [2, 2, 0]


def test_choice_policy_uses_scenario_weights():
    system = SchoolSystem.from_city(fake_city(class_size=20_000))
    persons = children({0: 10_000})
    params = Parameters(choice_distance_km_weight=0.0, choice_quality_weight=1.0)
    res = assign_enrollment(persons, system, "choice", params, np.random.default_rng(3))
    share = res.enrolled[0, 0] / 10_000
    assert share == pytest.approx(np.exp(0.5) / (np.exp(0.5) + np.exp(-0.5)), abs=0.015)
    far = assign_enrollment(
        persons,
        system,
        "choice",
        {"choice_distance_km_weight": -5.0, "choice_quality_weight": 0.0},
        np.random.default_rng(3),
    )
    assert far.enrolled[0, 0] / 10_000 > 0.99


def test_unknown_policy_is_rejected():
    system = SchoolSystem.from_city(fake_city())
    with pytest.raises(ScenarioError, match="allowed: catchment, nearest, choice"):
        assign_enrollment(children({0: 1}), system, "lottery", None, np.random.default_rng(0))


# --------------------------------------------------------------------------- policies


def new_school(**kw) -> NewSchool:
    base = {
        "type": "new_school",
        "id": "P3",
        "level": "primary",
        "classes_per_grade": 2,
        "year": 2026,
    }
    return NewSchool(**{**base, **kw})


def test_new_school_with_zones_takes_their_catchment():
    system = SchoolSystem.from_city(fake_city())
    pol = new_school(xy=(X0 + 1500, Y0 + 500), zones=[20, 30])
    system.apply_policies([pol], 2025)  # not yet
    assert system.n_schools == 3
    system.apply_policies([pol], 2026)
    s = system.index_of("P3")
    np.testing.assert_array_equal(system.catchment[0], [0, s, s, 1])
    assert system.capacity()[s].tolist() == [90] * 6 + [0] * 3  # city default class size 45
    persons = children({1: 3, 2: 1})
    res = assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))
    assert res.demand[s, 0] == 4 and res.enrolled[s, 0] == 4
    assert system.schools_frame().set_index("school_id").loc["P3", "opens"] == 2026


def test_new_school_without_zones_takes_zones_it_is_nearest_to():
    system = SchoolSystem.from_city(fake_city())
    system.apply_policies([new_school(xy=(X0 + 1400, Y0 + 500), class_size=30)], 2026)
    # zone 20's centroid is 0.1 km from P3; zone 30's is 1.1 km from P3 but 1.0 km from P2
    np.testing.assert_array_equal(system.catchment[0], [0, 3, 1, 1])
    assert system.class_size[3] == 30


def test_new_school_by_lonlat_is_projected():
    city = fake_city()
    lon, lat = city.to_lonlat(X0 + 2500, Y0 + 500)
    system = SchoolSystem.from_city(city)
    system.apply_policies([new_school(lonlat=(lon, lat), zones=[30])], 2026)
    assert system.x[3] == pytest.approx(X0 + 2500, abs=0.01)
    assert system.y[3] == pytest.approx(Y0 + 500, abs=0.01)


def test_close_school_sends_its_zones_to_nearest_open_school():
    system = SchoolSystem.from_city(fake_city())
    system.apply_policies([CloseSchool(type="close_school", school="P2", year=2027)], 2027)
    np.testing.assert_array_equal(system.catchment[0], [0, 0, 0, 0])
    assert system.capacity()[1].sum() == 0
    persons = children({3: 2})
    res = assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))
    assert res.enrolled[0, 0] == 2 and not res.teaches[1].any()
    assert "P2" not in set(res.to_frame(2027).school)
    assert system.schools_frame().set_index("school_id").loc["P2", "closes"] == 2027


def test_resize_and_catchment_edit():
    system = SchoolSystem.from_city(fake_city())
    system.apply_policies(
        [
            ResizeSchool(type="resize_school", school="P1", classes_per_grade=5, year=2025),
            CatchmentEdit(type="catchment_edit", school="P1", zones=[30], year=2025),
        ],
        2025,
    )
    assert system.capacity()[0, 0] == 10
    np.testing.assert_array_equal(system.catchment[0], [0, 0, 0, 1])
    persons = children({2: 4})
    assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))
    assert (persons.school[:4] == 0).all()
    cf = system.catchment_frame(2025)
    assert cf.query("zone_id == 30 and level == 'primary'").school_id.item() == "P1"
    assert len(cf) == 8


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            CloseSchool(type="close_school", school="P9", year=2025),
            r"policies.0.school = 'P9': unknown school",
        ),
        (
            ResizeSchool(type="resize_school", school="Q", classes_per_grade=1, year=2025),
            "unknown school id",
        ),
        (
            CatchmentEdit(type="catchment_edit", school="P1", zones=[10, 99], year=2025),
            r"policies.0.zones = \[99\]",
        ),
        (
            new_school(id="P1", xy=(X0 + 10, Y0 + 10)),
            r"policies.0.id = 'P1': a school with this id already exists",
        ),
        (
            new_school(xy=(X0 - 5000, Y0 + 10)),
            r"policies.0.xy = \[275000.0, 6680010.0\]: .* outside the city",
        ),
        (new_school(xy=(X0 + 10, Y0 + 10), zones=[5]), r"policies.0.zones = \[5\]: unknown zone"),
    ],
)
def test_bad_policy_references(policy, message):
    with pytest.raises(ScenarioError, match=message):
        check_policies(fake_city(), [policy])


def test_policy_references_follow_the_years():
    city = fake_city()
    opened = new_school(xy=(X0 + 10, Y0 + 10), year=2027)
    early = ResizeSchool(type="resize_school", school="P3", classes_per_grade=1, year=2026)
    with pytest.raises(ScenarioError, match=r"policies.1.school = 'P3': that school opens in 2027"):
        check_policies(city, [opened, early])
    closed = CloseSchool(type="close_school", school="P1", year=2025)
    edit = CatchmentEdit(type="catchment_edit", school="P1", zones=[10], year=2026)
    with pytest.raises(ScenarioError, match="is closed from 2025"):
        check_policies(city, [edit, closed])
    late = ResizeSchool(type="resize_school", school="P3", classes_per_grade=1, year=2028)
    check_policies(city, [late, opened])  # fine: P3 exists by 2028


def test_apply_rejects_unknown_school():
    system = SchoolSystem.from_city(fake_city())
    with pytest.raises(ScenarioError, match="unknown school id"):
        system.apply_policies([CloseSchool(type="close_school", school="nope", year=2025)], 2025)


# --------------------------------------------------------------------------- bands


def test_summarise_replications_quantiles():
    rng = np.random.default_rng(5)
    rows = []
    for rep in range(40):
        for year in (2025, 2026):
            for school, grade in (("B", 1), ("A", 1), ("A", 2)):
                demand = int(rng.poisson(50))
                rows.append(
                    (
                        rep,
                        year,
                        school,
                        grade,
                        demand,
                        min(demand, 45),
                        45,
                        min(demand, 45) / 45,
                        max(demand - 45, 0),
                        max(demand - 48, 0),
                        rng.random(),
                    )
                )
    df = pd.DataFrame(
        rows,
        columns=[
            "replication",
            "year",
            "school",
            "grade",
            "demand",
            "enrolled",
            "capacity",
            "utilisation",
            "overflow",
            "unplaced",
            "mean_distance_km",
        ],
    )
    out = summarise_replications(df.sample(frac=1.0, random_state=1))
    assert list(out.columns) == list(ENROLLMENT_COLUMNS)
    keys = list(zip(out.year, out.school, out.grade, strict=True))
    assert keys == sorted(keys)
    assert len(out) == 6
    for _, row in out.iterrows():
        sel = df[(df.year == row.year) & (df.school == row.school) & (df.grade == row.grade)]
        d = sel.demand.to_numpy()
        np.testing.assert_allclose(
            [row.p10, row.p50, row.p90, row.p025, row.p975],
            np.quantile(d, [0.1, 0.5, 0.9, 0.025, 0.975]),
        )
        assert row.demand == row.p50 and row.capacity == 45
        assert row.utilisation == pytest.approx(row.p50 / 45)  # demand over places
        assert row.overflow == pytest.approx(np.median(sel.overflow))
        assert row.unplaced == pytest.approx(np.median(sel.unplaced))
        assert row.p025 <= row.p10 <= row.p50 <= row.p90 <= row.p975


def test_result_rows_feed_the_summary():
    system = SchoolSystem.from_city(fake_city(class_size=3))
    frames = []
    for rep in range(3):
        persons = children({0: 5, 3: 1})
        res = assign_enrollment(persons, system, "catchment", None, np.random.default_rng(rep))
        assert isinstance(res, EnrollmentResult)
        frames.append(res.to_frame(2025).assign(replication=rep))
    out = summarise_replications(pd.concat(frames))
    assert out.set_index(["school", "grade"]).loc[("P1", 1), "p50"] == 5


# --------------------------------------------------------------------------- the real city


def test_default_city_school_system():
    from sim import settings

    if not Path(settings.default_city).exists():
        pytest.skip("geodata/default_city.gpkg not built yet")
    from sim.city import load_city
    from sim.population.persons import synthesize

    city = load_city(settings.default_city)
    system = SchoolSystem.from_city(city)
    assert (system.catchment >= 0).all()
    assert (system.level[system.catchment[0]] == 0).all()
    assert (system.level[system.catchment[1]] == 1).all()
    persons = synthesize(city, np.random.default_rng(0), scale=0.05)
    res = assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))
    n_kids = int((school_age_grades(persons.age, system, persons.birth_month) >= 0).sum())
    assert res.enrolled.sum() + res.unplaced.sum() == n_kids == res.demand.sum()
    assert (res.enrolled <= res.capacity).all()


@pytest.mark.parametrize("policy", ["catchment", "nearest", "choice"])
def test_accounting_identities(policy):
    system = SchoolSystem.from_city(fake_city(n_zones=6, class_size=4))
    rng = np.random.default_rng(11)
    n = 3000
    persons = Persons.new(
        rng.integers(0, 20, n), rng.integers(0, 2, n), rng.integers(0, 6, n), np.arange(n)
    )
    res = assign_enrollment(persons, system, policy, None, np.random.default_rng(1))
    grade = school_age_grades(persons.age, system, persons.birth_month)
    kids = grade >= 0
    assert res.demand.sum() == kids.sum() == res.enrolled.sum() + res.unplaced.sum()
    assert (res.enrolled <= res.capacity).all()
    assert (res.demand - res.overflow <= res.enrolled).all()  # who got their first school
    np.testing.assert_array_equal(np.bincount(grade[kids], minlength=9), res.demand.sum(axis=0))
    placed = persons.school >= 0
    assert (placed <= kids).all()
    assert (np.bincount(persons.school[placed], minlength=3) == res.enrolled.sum(axis=1)).all()
    # a school can teach the grade of each of its pupils
    s, g = persons.school[placed], grade[placed] + 1
    assert ((system.grade_lo[s] <= g) & (g <= system.grade_hi[s])).all()
