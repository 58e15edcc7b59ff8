"""Every child counted, capacity per grade, school-system presets and the entry cut-off."""

from __future__ import annotations

import numpy as np
import pytest
from test_enrollment import children, fake_city, new_school

from sim.education.enrollment import assign_enrollment, school_age_grades
from sim.education.schools import SchoolSystem
from sim.education.systems import SYSTEMS, cutoff_month, preset, school_settings
from sim.errors import GeodataError, ScenarioError
from sim.policies import ResizeSchool, check_policies
from sim.population.persons import Persons


def _enrol(system: SchoolSystem, persons: Persons):
    return assign_enrollment(persons, system, "catchment", None, np.random.default_rng(0))


def test_new_school_lowers_unplaced_not_the_children_counted():
    # 20 first-graders, 2 + 2 places: 16 children have no place anywhere
    system = SchoolSystem.from_city(fake_city())
    persons = children({0: 10, 3: 10})
    before = _enrol(system, persons)
    kids = int((school_age_grades(persons.age, system, persons.birth_month) >= 0).sum())
    assert before.unplaced[0] == 16 and before.unplaced_by_school[:, 0].sum() == 16
    assert before.enrolled.sum() + before.unplaced.sum() == kids == 20
    system.apply_policies(
        [new_school(xy=(280_500.0, 6_680_500.0), classes_per_grade=3, class_size=2)], 2026
    )
    after = _enrol(system, persons)
    # the same 20 children; 6 more places: 6 fewer unplaced, 6 more enrolled
    assert after.demand.sum() == before.demand.sum() == 20
    assert after.unplaced.sum() == 10 and after.enrolled.sum() == before.enrolled.sum() + 6
    assert after.overflow.sum() <= before.overflow.sum()  # nobody newly turned away
    frame = after.to_frame(2026)
    assert frame["unplaced"].sum() == 10  # every unplaced child is in its first school's row


def test_admission_honours_classes_per_grade():
    system = SchoolSystem.from_city(fake_city(class_size=3))
    pol = ResizeSchool(
        type="resize_school", school="P1", classes_per_grade=[2, 1, 0, 1, 1, 1], year=2025
    )
    system.apply_policies([pol], 2025)
    np.testing.assert_array_equal(system.capacity()[0], [6, 3, 0, 3, 3, 3, 0, 0, 0])
    # five 6-year-olds (grade 1) and five 7-year-olds (grade 2) in P1's zone; P2 has 3 + 3
    persons = Persons.concat([children({0: 5}, age=6), children({0: 5}, age=7)])
    res = _enrol(system, persons)
    assert res.enrolled[0, 0] == 5 and res.enrolled[0, 1] == 3
    assert res.enrolled[1, 1] == 2  # grade 2 overflows to the other school's grade 2


def test_classes_by_grade_of_the_wrong_length_is_refused():
    city = fake_city()
    pol = ResizeSchool(type="resize_school", school="P1", classes_per_grade=[1, 2], year=2025)
    with pytest.raises(ScenarioError, match="classes_by_grade"):
        check_policies(city, [pol])
    city.schools["classes_by_grade"] = ["1,2", "", ""]
    with pytest.raises(GeodataError, match="classes_by_grade"):
        SchoolSystem.from_city(city)


def test_presets_follow_the_national_systems():
    # China: 6-year primary + 3-year junior, 6 by 31 August, classes of 45 and 50
    # (《城市普通中小学校校舍建设标准》 2002); Chile: 8 años básica + 4 media, 6 by
    # 31 March (Mineduc, Decreto 1126/2017).
    china, chile = preset("china"), preset("chile")
    assert (china.primary_grades, china.junior_grades, china.entry_cutoff) == (6, 3, "08-31")
    assert (china.class_size_primary, china.class_size_junior) == (45, 50)
    assert (chile.primary_grades, chile.junior_grades, chile.entry_cutoff) == (8, 4, "03-31")
    assert set(SYSTEMS) == {"china", "chile"}
    with pytest.raises(ValueError, match="allowed: china, chile"):
        preset("atlantis")
    # a city's explicit keys win over its preset
    assert school_settings({"school_system": "chile", "class_size_primary": 30}) == {
        **chile.settings(),
        "class_size_primary": 30,
    }
    assert cutoff_month("03-31") == 3
    with pytest.raises(ValueError, match="MM-DD"):
        cutoff_month("31/08")


def test_entry_cut_off_acts_on_birth_month():
    # born in May and in October of the same year, both "6" (calendar year - birth year)
    age = np.array([6, 6, 7, 7])
    month = np.array([5, 10, 5, 10])
    china = SchoolSystem.from_city(fake_city())  # 31 August
    city = fake_city()
    city.settings = {"school_system": "chile"}  # 31 March, 8 + 4 grades
    chile = SchoolSystem.from_city(city)
    assert chile.n_grades == 12 and chile.cutoff_month == 3
    # China: May-born is 6 by 31 August (grade 1); October-born is not yet (next year)
    np.testing.assert_array_equal(school_age_grades(age, china, month), [0, -1, 1, 0])
    # Chile: neither is 6 by 31 March; the 7s are, the May-born 7 only just
    np.testing.assert_array_equal(school_age_grades(age, chile, month), [-1, -1, 0, 0])


def test_enrollment_reads_the_birth_month():
    system = SchoolSystem.from_city(fake_city(class_size=20))
    persons = children({0: 12})
    persons.birth_month[:12] = np.arange(1, 13)  # one six-year-old born in each month
    res = _enrol(system, persons)
    assert res.enrolled[:, 0].sum() == 8  # January..August are in grade 1
    assert (persons.first_school[:8] == 0).all() and (persons.first_school[8:12] == -1).all()


@pytest.mark.slow
def test_capacity_changes_unplaced_not_pupils_in_the_model():
    """Closing a primary school's places in the base year: its children become unplaced
    or overflow, the pupils counted (children of school age) stay the same."""
    from _support import ROOT

    from sim.city import load_city
    from sim.model import CityModel
    from sim.scenario import load_scenario, scenario_from_dict

    data = load_scenario(ROOT / "scenarios" / "default.yaml").model_dump(mode="json")
    data |= {"years": 1, "replications": 1}
    base = scenario_from_dict(data, source="test")
    city = load_city(base.city)
    cut = [
        {"type": "resize_school", "school": s, "classes_per_grade": 0, "year": base.start_year}
        for s in [f"P{k:02d}" for k in range(1, 21)]  # 20 of the 52 primary schools
    ]
    fewer = scenario_from_dict({**data, "policies": cut}, source="test")
    kpis = []
    for scenario in (base, fewer):
        model = CityModel(scenario, city, rng=5, traffic=False)
        model.step()
        kpis.append(model.kpis)
    assert kpis[1]["pupils_primary"] == kpis[0]["pupils_primary"]
    assert kpis[1]["capacity_primary"] < kpis[0]["capacity_primary"]
    assert kpis[1]["unplaced_primary"] > kpis[0]["unplaced_primary"]
    assert kpis[1]["overflow_pupils"] > kpis[0]["overflow_pupils"]


def test_bad_classes_and_school_settings_are_one_clear_error():
    from pathlib import Path

    city = fake_city()
    city.path = Path("/data/city.gpkg")
    city.schools["classes_by_grade"] = ["1,600000000000000,1,1,1,1", "", ""]  # int32 overflow
    with pytest.raises(GeodataError, match=r"^/data/city\.gpkg: .*classes_by_grade.*0\.\.40"):
        SchoolSystem.from_city(city)
    for key, value in (("school_system", "japan"), ("primary_grades", "six")):
        city = fake_city()
        city.settings = {**city.settings, key: value}
        with pytest.raises(GeodataError, match=f"{key} = '{value}'"):
            SchoolSystem.from_city(city)


def test_validate_reads_the_school_and_housing_layers_as_a_run_does():
    from _support import DEFAULT_CITY

    from sim.city import load_city
    from sim.validate import check_school_and_housing_layers

    city = load_city(DEFAULT_CITY)
    check_school_and_housing_layers(city)  # the shipped city is fine
    city.settings = {**city.settings, "school_system": "japan"}
    with pytest.raises(GeodataError, match="school_system = 'japan': allowed: china, chile"):
        check_school_and_housing_layers(city)
    city = load_city(DEFAULT_CITY)
    city.sites = city.sites.assign(yield_scale=["much", *[1.0] * (len(city.sites) - 1)])
    with pytest.raises(GeodataError, match=r"site DEV1: yield_scale = 'much'; allowed: 0\.\.5"):
        check_school_and_housing_layers(city)


def test_hostile_classes_lists_are_refused_once():
    from pydantic import ValidationError

    from sim.policies import NewSchool

    base = {"type": "new_school", "id": "N", "level": "primary", "xy": [0, 0], "year": 2025}
    for classes, where in (
        ([True, 4, 4, 4, 4, 4], "classes_by_grade.0"),  # a boolean is not a class count
        ([4, 4, 4_000_000_000_000, 4, 4, 4], "classes_by_grade.2"),
        ([0, 0, 0, 0, 0, 0], "a new school needs a class"),
    ):
        with pytest.raises(ValidationError) as err:
            NewSchool(**base, classes_per_grade=classes)
        assert err.value.error_count() == 1 and where in str(err.value), str(err.value)
    ok = NewSchool(**base, classes_per_grade=[2, 0, 0, 0, 0, 0])  # opening with grade 1 only
    assert ok.classes_by_grade == [2, 0, 0, 0, 0, 0] and ok.classes_per_grade == 2


def test_cut_off_is_rounded_to_the_nearest_month_end():
    # "6 before 1 September" is the 31 August rule; a 1 January cut-off takes only the
    # children born in the calendar year before (ages as calendar year - birth year)
    assert [cutoff_month(c) for c in ("08-31", "09-01", "08-14", "02-29", "01-01")] == [
        8,
        8,
        7,
        2,
        0,
    ]
    for bad in ("02-30", "04-31", "00-10", "13-01"):
        with pytest.raises(ValueError, match="MM-DD"):
            cutoff_month(bad)
    city = fake_city()
    city.settings = {**city.settings, "entry_cutoff": "01-01"}
    system = SchoolSystem.from_city(city)
    age, month = np.array([6, 6, 7, 7]), np.array([1, 12, 1, 12])
    np.testing.assert_array_equal(school_age_grades(age, system, month), [-1, -1, 0, 0])


def test_a_city_naming_its_school_system_may_leave_the_school_keys_out(tmp_path):
    import shutil

    import pyogrio
    from _support import DEFAULT_CITY

    from sim.city import load_city

    path = tmp_path / "chile.gpkg"
    shutil.copy(DEFAULT_CITY, path)
    settings = pyogrio.read_dataframe(DEFAULT_CITY, layer="city_settings")
    keys = set(SYSTEMS["chile"].settings())
    settings = settings[~settings["key"].isin(keys)].copy()
    settings.loc[settings["key"] == "school_system", "value"] = '"chile"'
    pyogrio.write_dataframe(settings, path, layer="city_settings", driver="GPKG")
    city = load_city(path)
    assert not keys & set(city.settings)
    system = SchoolSystem.from_city(city)
    # Chile: 8 + 4 grades, entry at 6 by 31 March (Decreto 1126/2017)
    assert (system.primary_grades, system.junior_grades, system.entry_cutoff) == (8, 4, "03-31")
