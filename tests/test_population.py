"""Persons arrays and their synthesis from zone marginals (sim/population.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.errors import GeodataError
from sim.kernels.households import bucket_order, fit_sizes, household_sizes, match_households
from sim.population.persons import (
    ADULT_AGE,
    Persons,
    fit_households,
    household_table,
    population_table,
    random_round,
    synthesize,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CITY = ROOT / "geodata" / "default_city.gpkg"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks" / "demography"


def fake_city(n_zones: int = 6, persons_per_zone: int = 4000, seed: int = 0) -> SimpleNamespace:
    """A City-like object with the tables synthesis and demography read.

    Ages follow a smooth Chile-like shape; rates are a Gompertz life table, a bell-shaped
    ASFR with TFR 1.2 and a migration profile peaking at 27.
    """
    rng = np.random.default_rng(seed)
    ages = np.arange(101)
    shape = np.exp(-(((ages - 35) / 30.0) ** 2)) + 0.3 * (ages < 60)
    shares = np.array([0.18, 0.25, 0.23, 0.2, 0.09, 0.05])
    per_household = (shares * np.array([1, 2, 3, 4, 5, 6.5])).sum()
    pop_rows, hh_rows = [], []
    for z in range(1, n_zones + 1):
        for sex in ("male", "female"):
            w = shape * rng.uniform(0.8, 1.2, ages.size)
            counts = rng.multinomial(persons_per_zone // 2, w / w.sum())
            pop_rows += [(z, sex, a, c) for a, c in enumerate(counts)]
        n_hh = persons_per_zone / per_household
        hh_rows += [(z, k + 1, round(n_hh * s)) for k, s in enumerate(shares)]
    asfr = np.where((ages >= 15) & (ages < 50), np.exp(-(((ages - 30) / 6.0) ** 2)), 0.0)
    asfr *= 1.2 / asfr.sum()
    qx_male = np.minimum(0.0003 * np.exp(0.085 * np.maximum(ages - 20, 0)) + 0.004 * (ages == 0), 1)
    profile = np.exp(-(((ages - 27) / 9.0) ** 2)) + 0.3 * np.exp(-(((ages - 3) / 4.0) ** 2)) + 0.05
    rates = pd.DataFrame(
        {
            "age": np.tile(ages, 2),
            "sex": ["male"] * 101 + ["female"] * 101,
            "asfr": np.concatenate([np.zeros(101), asfr]),
            "qx": np.concatenate([qx_male, 0.6 * qx_male]),
            "migration_profile": np.tile(profile, 2),
        }
    )
    zones = pd.DataFrame(
        {
            "population": persons_per_zone,
            "dwellings": round(persons_per_zone / 2.9),
            "attractiveness": rng.uniform(0.5, 1.5, n_zones),
        },
        index=pd.Index(np.arange(1, n_zones + 1), name="zone_id"),
    )
    return SimpleNamespace(
        zones=zones,
        population=pd.DataFrame(pop_rows, columns=["zone_id", "sex", "age", "persons"]),
        households=pd.DataFrame(hh_rows, columns=["zone_id", "size", "households"]),
        rates=rates,
    )


def _sizes(persons: Persons) -> np.ndarray:
    """Households by size 1..6+ (index 0 = size 1)."""
    per_hh = np.bincount(persons.household)
    per_hh = np.minimum(per_hh[per_hh > 0], 6)
    return np.bincount(per_hh, minlength=7)[1:]


# --------------------------------------------------------------------------- Persons


def test_persons_dtypes_take_concat():
    p = Persons.new([5, 40, 70], [0, 1, 1], [0, 2, 1], [0, 0, 1])
    assert (p.age.dtype, p.sex.dtype, p.zone.dtype, p.household.dtype) == (
        np.int16,
        np.int8,
        np.int32,
        np.int32,
    )
    assert p.work_zone.tolist() == [-1, -1, -1] and p.school.tolist() == [-1, -1, -1]
    assert len(p) == 3 and p.next_household_id() == 2
    q = p.take(np.array([True, False, True]))
    assert q.age.tolist() == [5, 70] and q.zone.tolist() == [0, 1]
    r = Persons.concat([q, p.take(np.array([1]))])
    assert r.age.tolist() == [5, 70, 40] and r.household.tolist() == [0, 1, 0]
    assert len(Persons.concat([])) == 0 and Persons.empty().next_household_id() == 0
    with pytest.raises(ValueError, match="shape"):
        Persons(np.zeros(2), np.zeros(3), *(np.zeros(2) for _ in range(9)))


# --------------------------------------------------------------------------- fit_sizes kernel


def _fit_sizes_twin(sizes, n_households, persons):
    out = list(sizes)
    start = 0
    for h, target in zip(n_households, persons, strict=True):
        block = out[start : start + h]
        i = 0
        while sum(block) < target:
            block[i % h] += 1
            i += 1
        i = 0
        while sum(block) > target:
            if block[i % h] > 1:
                block[i % h] -= 1
            i += 1
        out[start : start + h] = block
        start += h
    return out


def test_fit_sizes_matches_twin():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n_hh = rng.integers(0, 30, size=4)
        sizes = np.concatenate([np.sort(rng.integers(1, 7, size=h))[::-1] for h in n_hh])
        persons = n_hh + rng.integers(0, 120, size=4) * (n_hh > 0)
        got = fit_sizes(sizes.astype(np.int32), n_hh.astype(np.int64), persons.astype(np.int64))
        assert got.tolist() == _fit_sizes_twin(sizes.tolist(), n_hh.tolist(), persons.tolist())
        starts = np.concatenate(([0], np.cumsum(n_hh)))
        for g in range(4):
            if n_hh[g]:
                assert got[starts[g] : starts[g + 1]].sum() == persons[g]
        assert (got >= 1).all()


def _household_sizes_twin(size_targets, persons, adults):
    """household_sizes with numpy ufuncs over all groups at once."""
    shares = size_targets.sum(axis=0)
    fallback = shares / shares.sum() if shares.sum() > 0 else np.eye(6)[2]
    total = size_targets.sum(axis=1)
    share = np.where(
        total[:, None] > 0, size_targets / np.maximum(total, 1e-300)[:, None], fallback
    )
    cap = np.maximum(np.minimum(adults, persons), 1)
    n_hh = np.where(persons > 0, np.clip(np.round(total), 1, cap), 0).astype(np.int64)
    exact = share * n_hh[:, None]
    base = np.floor(exact).astype(np.int64)
    rank = np.argsort(np.argsort(base - exact, axis=1, kind="stable"), axis=1, kind="stable")
    counts = base + (rank < (n_hh - base.sum(axis=1))[:, None])
    sizes = np.repeat(np.tile(np.arange(6, 0, -1), len(persons)), counts[:, ::-1].ravel())
    return n_hh, _fit_sizes_twin(sizes.tolist(), n_hh.tolist(), persons.tolist())


def test_household_sizes_matches_numpy_twin():
    rng = np.random.default_rng(15)
    targets = rng.uniform(0, 40, (7, 6))
    targets[2] = 0.0  # no targets: the shares of all groups
    persons = rng.integers(50, 400, 7)
    persons[4] = 0
    adults = persons // 2
    adults[5] = 3  # at most one household per adult
    n_hh, sizes = household_sizes(targets, persons, adults)
    want_n, want_sizes = _household_sizes_twin(targets, persons, adults)
    np.testing.assert_array_equal(n_hh, want_n)
    assert sizes.tolist() == want_sizes
    assert n_hh[4] == 0 and n_hh[5] == 3 and n_hh[2] == 1
    starts = np.concatenate(([0], np.cumsum(n_hh)))
    for g in range(7):
        assert sizes[starts[g] : starts[g + 1]].sum() == persons[g]


# --------------------------------------------------------------------------- household matching


def _steps(key, lo, hi):
    """Keys clipped to [lo, hi] in steps of 1/16 (the kernel's bucket sort keys)."""
    return np.floor((np.clip(key, lo, hi) - lo) * 16.0)


def _match_twin(group, age, n_hh, sizes, head_draw, size_noise, place_noise, member_noise):
    """match_households with numpy: stable lexsorts over all groups at once (first id 0)."""
    n, adult = len(age), age >= ADULT_AGE
    weight = np.clip((age - 17.0) / 18.0, 0.05, 1.0)
    key = np.where(adult, head_draw / weight / 1000.0, 2.0 - age / 1000.0)
    by_key = np.lexsort((key, group))
    starts = np.searchsorted(group[by_key], np.arange(len(n_hh)))
    rank = np.arange(n) - starts[group[by_key]]
    heads = by_key[rank < n_hh[group[by_key]]]
    head_key = np.abs(age[heads] - 40.0) + size_noise
    heads = heads[np.lexsort((_steps(head_key, -60, 140), group[heads]))]
    household = np.full(n, -1)
    household[heads] = np.arange(len(heads))
    places = np.repeat(np.arange(len(heads)), sizes - 1)
    place_key = age[heads][places] + place_noise
    places = places[np.lexsort((_steps(place_key, -60, 200), group[heads][places]))]
    members = np.flatnonzero(household < 0)
    m_age = age[members]
    m_key = np.where(m_age < ADULT_AGE, m_age + 28.0, m_age) + member_noise[members]
    members = members[np.lexsort((_steps(m_key, -60, 200), group[members]))]
    household[members] = places
    return household


def test_match_households_matches_numpy_twin():
    rng = np.random.default_rng(13)
    n = 3000
    group = rng.integers(0, 4, n)
    age = rng.integers(0, 95, n).astype(np.int16)
    age[group == 3] = rng.integers(0, 20, (group == 3).sum())  # a group of minors only
    persons = np.bincount(group, minlength=4)
    n_hh = np.maximum(persons // 3, 1)
    sizes = np.concatenate([np.sort(rng.integers(1, 7, h))[::-1] for h in n_hh])
    sizes = fit_sizes(sizes.astype(np.int32), n_hh, persons)
    n_heads = int(n_hh.sum())
    draws = (
        rng.standard_exponential(n),
        rng.normal(0, 8, n_heads),
        rng.normal(0, 4, n - n_heads),
        rng.normal(0, 4, n),
    )
    got = match_households(group, age, n_hh, sizes, *draws, 7, ADULT_AGE, 28.0)
    want = _match_twin(group, age, n_hh, sizes, *draws)
    np.testing.assert_array_equal(got, want + 7)
    np.testing.assert_array_equal(np.bincount(want), sizes)  # household ids in size order


def test_bucket_order_matches_stable_argsort():
    key = np.random.default_rng(14).normal(50, 60, 5000)
    want = np.argsort(_steps(key, -60, 200), kind="stable")
    np.testing.assert_array_equal(bucket_order(key, -60.0, 200.0, 16.0), want)


# --------------------------------------------------------------------------- synthesis


def test_synthesis_matches_age_sex_exactly_and_households_approximately():
    city = fake_city()
    p = synthesize(city, np.random.default_rng(1))
    table = population_table(city)
    got = np.zeros_like(table)
    np.add.at(got, (p.zone, p.sex, p.age), 1)
    np.testing.assert_array_equal(got, table)

    target = household_table(city).sum(axis=0)
    sizes = _sizes(p)
    assert abs(sizes.sum() - target.sum()) <= 0.01 * target.sum()
    np.testing.assert_allclose(sizes[:5], target[:5], rtol=0.05)

    # one zone per household, an adult in every household
    hh_zone = np.full(p.next_household_id(), -1)
    hh_zone[p.household] = p.zone
    assert (hh_zone[p.household] == p.zone).all()
    oldest = np.zeros(p.next_household_id(), dtype=int)
    np.maximum.at(oldest, p.household, p.age)
    assert (oldest[np.unique(p.household)] >= ADULT_AGE).all()


def test_children_live_with_adults_of_parenting_age():
    p = synthesize(fake_city(), np.random.default_rng(2))
    oldest = np.zeros(p.next_household_id(), dtype=int)
    np.maximum.at(oldest, p.household, p.age)
    child = p.age < 10
    gap = oldest[p.household[child]] - p.age[child]
    assert 22 <= np.median(gap) <= 40
    # most children share their household with someone within a parent's age range
    assert np.mean((gap >= 18) & (gap <= 50)) > 0.8


def test_synthesis_is_seeded():
    city = fake_city(n_zones=3, persons_per_zone=2000)
    a = synthesize(city, np.random.default_rng(5))
    b = synthesize(city, np.random.default_rng(5))
    c = synthesize(city, np.random.default_rng(6))
    for name in ("age", "sex", "zone", "household", "birth_month"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.household, c.household)


def test_synthesis_gives_uniform_birth_months_and_no_history():
    from scipy import stats

    p = synthesize(fake_city(n_zones=3, persons_per_zone=4000), np.random.default_rng(2))
    counts = np.bincount(p.birth_month, minlength=13)
    assert counts[0] == 0 and counts[1:].min() > 0
    assert stats.chisquare(counts[1:]).pvalue > 1e-3
    assert (p.estate == -1).all() and (p.first_school == -1).all()
    assert (p.arrival == 0).all() and (p.arrival_year == -1).all()


def test_scale_replicates_the_city():
    city = fake_city(n_zones=3, persons_per_zone=2000)
    p = synthesize(city, np.random.default_rng(1), scale=3.0)
    got = np.zeros((3, 2, 101), dtype=np.int64)
    np.add.at(got, (p.zone, p.sex, p.age), 1)
    np.testing.assert_array_equal(got, 3 * population_table(city))
    target = 3 * household_table(city).sum(axis=0)
    assert abs(_sizes(p).sum() - target.sum()) <= 0.01 * target.sum()
    half = synthesize(city, np.random.default_rng(1), scale=0.5)
    assert abs(len(half) - 3000) < 100


def test_random_round_is_exact_on_whole_numbers_and_unbiased_otherwise():
    rng = np.random.default_rng(3)
    whole = np.array([[0.0, 5.0], [12.0, 7.0]])
    np.testing.assert_array_equal(random_round(whole, rng), whole.astype(np.int64))
    got = random_round(np.full(40_000, 2.25), rng)
    assert set(np.unique(got)) == {2, 3}
    assert abs(got.mean() - 2.25) < 0.01  # about 4.6 standard errors


def test_zone_without_adults_still_gets_a_head():
    group = np.zeros(5, dtype=np.int64)
    age = np.array([3, 9, 12, 15, 1], dtype=np.int16)
    hh = fit_households(group, age, np.array([[0, 0, 0, 0, 2.0, 0]]), np.random.default_rng(0))
    assert hh.tolist() == [0] * 5  # one household, headed by the oldest


@pytest.mark.parametrize(
    ("layer", "column", "value", "match"),
    [
        ("population", "persons", -1, "persons >= 0"),
        ("population", "sex", "other", "sex 'male'/'female'"),
        ("population", "zone_id", 999, "zone_id must be a zone"),
        ("households", "size", 7, "size 1..6"),
    ],
)
def test_bad_tables_raise_clear_errors(layer, column, value, match):
    city = fake_city(n_zones=2, persons_per_zone=500)
    frame = getattr(city, layer)
    frame.loc[3, column] = value
    with pytest.raises(GeodataError, match=match):
        synthesize(city, np.random.default_rng(0))


def test_missing_column_is_named():
    city = fake_city(n_zones=2, persons_per_zone=500)
    city.population = city.population.drop(columns="persons")
    with pytest.raises(GeodataError, match=r"zone_population.*\['persons'\]"):
        synthesize(city, np.random.default_rng(0))


def test_ine_coquimbo_age_structure_is_reproduced():
    """Real single-age INE estimates (La Serena, 2024) as a one-zone city: exact by age and sex."""
    path = BENCHMARKS / "chile_ine_pop_estimates_coquimbo_single_age.csv"
    if not path.exists():
        pytest.skip("shared benchmark data not available")
    ine = pd.read_csv(path)
    ine = ine[ine["geography"].str.contains("La Serena") & (ine["year"] == 2024)]
    if ine.empty:
        pytest.skip("La Serena 2024 rows not found")
    city = fake_city(n_zones=1, persons_per_zone=10)
    city.population = pd.DataFrame(
        {"zone_id": 1, "sex": ine["sex"], "age": ine["age"], "persons": ine["population"]}
    )
    n = int(ine["population"].sum())
    city.households["households"] = np.round(
        n / 3.0 * np.array([0.15, 0.26, 0.27, 0.19, 0.08, 0.05])
    ).astype(int)
    p = synthesize(city, np.random.default_rng(3))
    assert len(p) == n
    for sex_code, sex in enumerate(("male", "female")):
        want = ine[ine["sex"] == sex].set_index("age")["population"].sort_index()
        got = np.bincount(p.age[p.sex == sex_code], minlength=101)[want.index]
        np.testing.assert_array_equal(got, want.to_numpy())


def test_default_city_synthesis():
    if not DEFAULT_CITY.exists():
        pytest.skip("default city not built")
    from sim.city import load_city

    city = load_city(DEFAULT_CITY)
    p = synthesize(city, np.random.default_rng(0))
    assert len(p) == int(city.zones["population"].sum())
    per_zone = np.bincount(p.zone, minlength=len(city.zones))
    np.testing.assert_array_equal(per_zone, city.zones["population"].to_numpy())
    target = household_table(city).sum(axis=0)
    assert abs(_sizes(p).sum() - target.sum()) <= 0.02 * target.sum()


def test_ipf_matches_both_margins_and_keeps_cross_product_ratios() -> None:
    from sim.population.persons import ipf

    seed = np.array([[40.0, 10.0, 5.0], [20.0, 30.0, 10.0]])
    rows = np.array([70.0, 50.0])
    cols = np.array([50.0, 45.0, 25.0])
    fitted = ipf(seed, rows, cols)
    np.testing.assert_allclose(fitted.sum(axis=1), rows, rtol=1e-8)
    np.testing.assert_allclose(fitted.sum(axis=0), cols, rtol=1e-8)

    def odds(t):  # IPF changes margins only: every 2x2 cross-product ratio is kept
        return t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]), t[0, 1] * t[1, 2] / (t[0, 2] * t[1, 1])

    np.testing.assert_allclose(odds(fitted), odds(seed), rtol=1e-8)


def test_household_sizes_are_reconciled_with_zone_persons() -> None:
    from sim.population.persons import reconcile_household_sizes

    households = np.array([[10.0, 10, 5, 5, 0, 0], [0, 0, 0, 0, 0, 0], [2, 4, 4, 2, 1, 1]])
    persons = np.array([100.0, 30.0, 60.0])  # the middle zone has no household table
    fitted = reconcile_household_sizes(households, persons)
    size = np.arange(1, 7)
    np.testing.assert_allclose((fitted * size).sum(axis=1), persons, rtol=1e-8)
    city_mix = (households * size).sum(axis=0)
    np.testing.assert_allclose(
        (fitted * size).sum(axis=0) / persons.sum(), city_mix / city_mix.sum(), rtol=1e-8
    )
    assert fitted[1].sum() > 0 and (fitted[0, 4:] == 0).all()
