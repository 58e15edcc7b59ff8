"""Yearly demography: kernels against their twins, rates, the step, and the plain-Mesa twin."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numba import njit
from scipy import stats
from test_population import fake_city

from sim.errors import GeodataError
from sim.kernels.demography import (
    ADULT_LEFT,
    ADULT_STAYS,
    DIED,
    LEFT,
    MINOR_STAYS,
    MOTHER,
    NEW_HOUSING_INSIDE,
    STAY,
    event_thresholds,
    move_households,
    next_year,
    place_households,
    sex_age_counts,
    uniform,
    vital_events,
)
from sim.population.demography import DemographyRates, sex_age_histogram, step_demography
from sim.population.housing import DWELLING_TYPES, Estate, Estates, outside_households
from sim.population.mesa_twin import PersonsModel
from sim.population.persons import Persons, synthesize
from sim.scenario import Parameters

DEFAULT_CITY = Path(__file__).resolve().parents[1] / "geodata" / "default_city.gpkg"
P_MIN = 1e-3  # significance level of the twin tests


def _random_persons(n: int, n_households: int, n_zones: int, seed: int) -> Persons:
    rng = np.random.default_rng(seed)
    household = rng.integers(0, n_households, n)
    hz = rng.integers(0, n_zones, n_households)
    return Persons.new(rng.integers(0, 101, n), rng.integers(0, 2, n), hz[household], household)


def _setting(city):
    return {
        "dwellings": city.zones["dwellings"].to_numpy(float),
        "attractiveness": city.zones["attractiveness"].to_numpy(float),
    }


# --------------------------------------------------------------------------- kernels vs twins


def _uniform_twin(seed: int, n: int) -> np.ndarray:
    """Numbers 0..n-1 of the SplitMix64 stream of ``seed`` as floats in [0, 1), with numpy."""
    z = np.uint64(seed) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(
        0x9E3779B97F4A7C15
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


@njit
def _uniforms(seed, n):
    return np.array([uniform(seed, i) for i in range(n)])


def test_uniform_matches_splitmix64_and_is_uniform():
    # first output of SplitMix64 seeded with 0 (reference value of the published generator)
    assert _uniform_twin(0, 1)[0] == (0xE220A8397B1DCDAF >> 11) / 2.0**53
    seed = np.uint64(2**63 + 12345)
    got = _uniforms(seed, 200_000)
    np.testing.assert_array_equal(got, _uniform_twin(seed, 200_000))
    assert stats.kstest(got, "uniform").pvalue > P_MIN
    assert stats.pearsonr(got[:-1], got[1:])[0] < 0.01
    assert not np.array_equal(got[:100], _uniforms(np.uint64(1), 100))


def _thresholds_twin_fates(p, qx, asfr, p_out, u):
    q, out = qx[p.sex, p.age], p_out[p.sex, p.age]
    fert = np.where(p.sex == 1, asfr[p.age], 0.0)
    died = u < q
    left = ~died & (u < q + (1 - q) * out)
    mother = ~died & ~left & (u < q + (1 - q) * out + (1 - q) * (1 - out) * fert)
    return np.select([died, left, mother], [DIED, LEFT, MOTHER], STAY)


def _state_twin(fate, age, household, n_ids):
    """Household state bits from the fates, with numpy ufuncs."""
    adult = age >= 20
    stays = (fate == STAY) | (fate == MOTHER)
    state = np.zeros(n_ids, dtype=np.int8)
    for mask, bit in (
        (adult & stays, ADULT_STAYS),
        (adult & (fate == LEFT), ADULT_LEFT),
        (~adult & stays, MINOR_STAYS),
    ):
        np.bitwise_or.at(state, household[mask], np.int8(bit))
    return state


def test_vital_events_matches_numpy_twin():
    p = _random_persons(20_000, 6000, 4, seed=1)
    n_ids = p.next_household_id()
    rng = np.random.default_rng(2)
    qx, p_out = rng.uniform(0, 0.3, (2, 101)), rng.uniform(0, 0.3, (2, 101))
    qx[:, 100] = 1.0
    asfr = rng.uniform(0, 0.3, 101)
    seed = np.uint64(987654321)
    u = _uniform_twin(seed, len(p))
    got, state, zone, mothers = vital_events(
        p.age, p.sex, p.household, p.zone, event_thresholds(qx, asfr, p_out), seed, n_ids, 20
    )
    want = _thresholds_twin_fates(p, qx, asfr, p_out, u)
    np.testing.assert_array_equal(got, want)
    assert set(np.unique(got)) == {STAY, DIED, LEFT, MOTHER}
    assert (got[p.age == 100] == DIED).all()
    assert mothers == (want == MOTHER).sum()
    np.testing.assert_array_equal(state, _state_twin(want, p.age, p.household, n_ids))
    assert len(np.unique(state)) == 8  # every combination of the three bits occurs
    want_zone = np.full(n_ids, -1)
    want_zone[p.household] = p.zone
    np.testing.assert_array_equal(zone, want_zone)
    assert (zone == -1).any()


def test_vital_event_frequencies_match_their_probabilities():
    """One uniform number decides three events: each must keep its own probability."""
    n = 400_000
    age, sex = np.full(n, 30, np.int16), np.ones(n, np.int8)
    household = np.arange(n, dtype=np.int32)
    thresholds = event_thresholds(np.full((2, 101), 0.1), np.full(101, 0.3), np.full((2, 101), 0.2))
    fate = vital_events(age, sex, household, household, thresholds, np.uint64(3), n, 20)[0]
    counts = np.bincount(fate, minlength=4)
    expected = n * np.array([0.9 * 0.8 * 0.7, 0.1, 0.9 * 0.2, 0.9 * 0.8 * 0.3])
    assert stats.chisquare(counts, expected).pvalue > P_MIN


def test_sex_age_counts_matches_bincount():
    p = _random_persons(10_000, 3000, 2, seed=12)
    want = np.bincount(p.sex * 101 + p.age, minlength=202).reshape(2, 101)
    np.testing.assert_array_equal(sex_age_counts(p.sex, p.age, 101), want)
    order = np.lexsort((p.age, p.sex))  # sorted input: runs of one cell
    np.testing.assert_array_equal(sex_age_counts(p.sex[order], p.age[order], 101), want)


def test_next_year_matches_numpy_twin():
    p = _random_persons(5000, 1500, 3, seed=3)
    p.work_zone[:] = np.arange(len(p)) % 7
    n_ids = p.next_household_id()
    rng = np.random.default_rng(4)
    fate = rng.choice([STAY, DIED, LEFT, MOTHER], len(p), p=[0.5, 0.1, 0.3, 0.1]).astype(np.int8)
    state = _state_twin(fate, p.age, p.household, n_ids)
    zone_after = rng.integers(0, 3, n_ids).astype(np.int32)
    n_moms = int((fate == MOTHER).sum())
    u_sex = _uniform_twin(5, n_moms)
    p.birth_month[:] = rng.integers(1, 13, len(p))
    p.estate[:] = rng.integers(-1, 2, len(p))
    p.first_school[:] = rng.integers(-1, 9, len(p))
    p.arrival[:] = rng.integers(0, 4, len(p))
    p.arrival_year[:] = rng.integers(2000, 2024, len(p))
    columns = tuple(getattr(p, f.name) for f in fields(Persons))
    out = tuple(np.full(len(p) + n_moms, 99, dtype=c.dtype) for c in columns)
    counts = next_year(fate, state, zone_after, columns, np.uint64(5), 0.5, 100, 20, 2025, out)

    # twin: minors follow their household's adults (pandas), then stayers and newborns
    frame = pd.DataFrame({"h": p.household, "adult": p.age >= 20, "fate": fate})
    adults = frame[frame["adult"]]
    left = adults[adults["fate"] == LEFT].groupby("h").size()
    stay = adults[adults["fate"].isin([STAY, MOTHER])].groupby("h").size()
    follow = (
        ~frame["adult"]
        & frame["fate"].isin([STAY, MOTHER])
        & frame["h"].map(left).fillna(0).gt(0)
        & frame["h"].map(stay).fillna(0).eq(0)
    ).to_numpy()
    final = np.where(follow, LEFT, fate)
    keep = (final == STAY) | (final == MOTHER)
    moms = final == MOTHER
    n_born = int(moms.sum())
    want = [
        np.concatenate([np.minimum(p.age[keep] + 1, 100), np.zeros(n_born)]),
        np.concatenate([p.sex[keep], (u_sex[:n_born] >= 0.5).astype(int)]),
        np.concatenate([zone_after[p.household[keep]], zone_after[p.household[moms]]]),
        np.concatenate([p.household[keep], p.household[moms]]),
        np.concatenate([p.work_zone[keep], -np.ones(n_born)]),
        np.concatenate([p.school[keep], -np.ones(n_born)]),
    ]
    # a boy's month from u / p_male, a girl's from (u - p_male) / (1 - p_male); p_male = 0.5
    u = u_sex[:n_born]
    v = np.where(u < 0.5, u / 0.5, (u - 0.5) / 0.5)
    want.append(np.concatenate([p.birth_month[keep], 1 + np.minimum(v * 12, 11).astype(int)]))
    moved_kept = zone_after[p.household[keep]] != p.zone[keep]
    moved_born = zone_after[p.household[moms]] != p.zone[moms]
    want.append(
        np.concatenate(
            [np.where(moved_kept, -1, p.estate[keep]), np.where(moved_born, -1, p.estate[moms])]
        )
    )
    want.append(np.concatenate([p.first_school[keep], -np.ones(n_born)]))
    want.append(np.concatenate([np.where(moved_kept, 4, p.arrival[keep]), np.zeros(n_born)]))
    want.append(
        np.concatenate([np.where(moved_kept, 2025, p.arrival_year[keep]), np.full(n_born, 2025)])
    )
    written = len(want[0])
    for got, expected in zip(out, want, strict=True):
        np.testing.assert_array_equal(got[:written], expected)
        assert (got[written:] == 99).all()
    old_zone = np.concatenate([p.zone[keep], p.zone[moms]])
    moved = int((want[2] != old_zone).sum())
    expected_counts = [written, n_born, (final == DIED).sum(), (final == LEFT).sum(), moved]
    np.testing.assert_array_equal(counts, expected_counts)
    assert follow.sum() > 0 and n_born < n_moms  # minor mothers who follow give no birth here
    assert (p.age == 100).any() and out[0][:written].max() == 100


def _place_twin(vacant, weight, u):
    vacant = list(vacant)
    out = []
    for draw in u:
        w = [max(v, 0.0) * a for v, a in zip(vacant, weight, strict=True)]
        if sum(w) <= 0:
            w = list(weight)
        target, acc = draw * sum(w), 0.0
        chosen = max(z for z in range(len(w)) if w[z] > 0)
        for z, wz in enumerate(w):
            if wz > 0:
                acc += wz
                if target < acc:
                    chosen = z
                    break
        out.append(chosen)
        vacant[chosen] -= 1.0
    return out, vacant


def test_place_households_matches_twin_and_fills_vacancies_first():
    vacant = np.array([3.0, 0.0, 5.0, 2.0])
    weight = np.array([1.0, 5.0, 0.5, 0.0])
    u = np.random.default_rng(8).random(30)
    want, left = _place_twin(vacant, weight, u)
    got = place_households(vacant, weight, u)
    assert got.tolist() == want and vacant.tolist() == left
    # the 8 weighted vacancies fill first (zone 3 has weight 0), then by weight alone
    assert sorted(got[:8].tolist()) == [0, 0, 0, 2, 2, 2, 2, 2]
    assert 3 not in got


def test_move_households_matches_twin():
    rng = np.random.default_rng(10)
    n_ids = 1200
    state = rng.integers(0, 8, n_ids).astype(np.int8)
    household_zone = rng.integers(0, 5, n_ids).astype(np.int32)
    dwellings = np.array([300.0, 250, 200, 260, 400])
    weight = np.array([1.0, 2.0, 0.5, 1.0, 1.5])
    u = _uniform_twin(11, n_ids)
    # twin
    exists = ((state & ADULT_STAYS) > 0) | (
        ((state & MINOR_STAYS) > 0) & ((state & ADULT_LEFT) == 0)
    )
    vacant = np.maximum(dwellings - np.bincount(household_zone[exists], minlength=5), 0)
    moving = np.flatnonzero(exists & (u < 0.2))
    vacant += np.bincount(household_zone[moving], minlength=5)
    dest, vacant_left = _place_twin(vacant, weight, u[moving] / 0.2)
    want = household_zone.copy()
    want[moving] = dest
    got, vacant_got = move_households(state, household_zone, dwellings, weight, 0.2, np.uint64(11))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(vacant_got, vacant_left)
    assert (got != household_zone).sum() > 0 and (~exists & (u < 0.2)).any()


# --------------------------------------------------------------------------- rates


def test_rates_apply_scenario_parameters():
    city = fake_city(n_zones=2, persons_per_zone=500)
    base = DemographyRates.from_city(city)
    assert base.tfr(2024) == pytest.approx(1.2)
    params = Parameters(
        tfr=1.5,
        fertility_multiplier=0.8,
        birth_index={2016: 1.0, 2024: 0.6},
        mortality_multiplier=4.0,
    )
    rates = DemographyRates.from_city(city, params)
    assert rates.asfr.sum() == pytest.approx(1.5)
    assert rates.fertility_factor(2020) == pytest.approx(0.8 * 0.8)
    assert rates.fertility_factor(2010) == pytest.approx(0.8)
    assert rates.fertility_factor(2030) == pytest.approx(0.8 * 0.6)
    assert rates.tfr(2030) == pytest.approx(1.5 * 0.48)
    np.testing.assert_allclose(rates.qx, np.minimum(4 * base.qx, 1.0))
    assert rates.qx.max() == 1.0


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [("qx", 1.5, "qx <= 1"), ("asfr", -0.1, ">= 0"), ("sex", "x", "'male'/'female'")],
)
def test_bad_rates_raise_clear_errors(column, value, match):
    city = fake_city(n_zones=1, persons_per_zone=100)
    city.rates.loc[5, column] = value
    with pytest.raises(GeodataError, match=match):
        DemographyRates.from_city(city)


def test_missing_rate_column_is_named():
    city = fake_city(n_zones=1, persons_per_zone=100)
    city.rates = city.rates.drop(columns="migration_profile")
    with pytest.raises(GeodataError, match="migration_profile"):
        DemographyRates.from_city(city)


# --------------------------------------------------------------------------- the step


def test_without_events_the_step_only_ages():
    city = fake_city(n_zones=3, persons_per_zone=2000)
    p = synthesize(city, np.random.default_rng(0))
    params = Parameters(
        fertility_multiplier=0,
        mortality_multiplier=0,
        in_migration_rate=0,
        out_migration_rate=0,
        residential_mobility_rate=0,
    )
    rates = DemographyRates.from_city(city, params)
    q, counts = step_demography(p, rates, 2024, rng=np.random.default_rng(1), **_setting(city))
    assert set(counts.values()) == {0}
    np.testing.assert_array_equal(q.age, np.minimum(p.age + 1, 100))
    for name in ("sex", "zone", "household", "work_zone", "school"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name))


def test_step_is_seeded_and_counts_add_up():
    city = fake_city()
    p = synthesize(city, np.random.default_rng(0))
    rates = DemographyRates.from_city(city)
    kw = {"estates": _estates(city, zone=1, dwellings=400), **_setting(city)}
    a, ca = step_demography(p, rates, 2024, rng=np.random.default_rng(3), **kw)
    b, cb = step_demography(p, rates, 2024, rng=np.random.default_rng(3), **kw)
    assert ca == cb and all(type(v) is int for v in ca.values())
    for f in fields(Persons):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    grown = ca["births"] - ca["deaths"] - ca["out_migrants"]
    from_inside = int((a.arrival == NEW_HOUSING_INSIDE).sum())
    assert from_inside > 0 and ca["new_housing_residents"] > from_inside
    grown += ca["in_migrants"] + ca["new_housing_residents"] - from_inside
    assert len(a) == len(p) + grown
    hz = np.full(a.next_household_id(), -1)
    hz[a.household] = a.zone
    assert (hz[a.household] == a.zone).all()  # a household lives in one zone


def test_event_counts_match_their_expectations():
    city = fake_city(n_zones=8, persons_per_zone=25_000)
    p = synthesize(city, np.random.default_rng(0))
    rates = DemographyRates.from_city(city)
    _, c = step_demography(p, rates, 2024, rng=np.random.default_rng(11), **_setting(city))
    q = rates.qx[p.sex, p.age]
    out = rates.out_probability(sex_age_histogram(p))[p.sex, p.age]
    fert = np.where(p.sex == 1, rates.asfr_for(2024)[p.age], 0.0) * (1 - q) * (1 - out)
    for observed, prob in ((c["deaths"], q), (c["births"], fert)):
        mean, sd = prob.sum(), np.sqrt((prob * (1 - prob)).sum())
        assert abs(observed - mean) < 4 * sd, (observed, mean)
    leave = ((1 - q) * out).sum()
    assert leave - 4 * np.sqrt(leave) < c["out_migrants"] < 1.03 * leave + 4 * np.sqrt(leave)
    arrive = rates.in_migration_rate * len(p)
    assert abs(c["in_migrants"] - arrive) < 4 * np.sqrt(arrive)
    assert c["movers"] > 0.5 * rates.residential_mobility_rate * len(p)


def _estates(city, zone: int, dwellings: float, kind: str = "flat", start: int = 2024) -> Estates:
    estate = Estate("E1", zone, DWELLING_TYPES[kind], start, 1, dwellings)
    return Estates([estate])


def test_new_housing_fills_along_the_ramp_from_inside_and_outside():
    city = fake_city(n_zones=4, persons_per_zone=3000)
    p = synthesize(city, np.random.default_rng(0))
    rates = DemographyRates.from_city(city, Parameters(in_migration_rate=0))
    estates = _estates(city, zone=2, dwellings=1000)
    flat = DWELLING_TYPES["flat"]
    q, c = step_demography(
        p, rates, 2024, estates=estates, rng=np.random.default_rng(2), **_setting(city)
    )
    in_estate = q.estate == 0
    n_hh = len(np.unique(q.household[in_estate]))
    # the handover year fills the ramp's first share only, not 85-95 % of the dwellings
    assert n_hh == round(1000 * flat.ramp[0])
    assert (q.zone[in_estate] == 2).all()
    inside = len(np.unique(q.household[q.arrival == NEW_HOUSING_INSIDE]))
    assert inside == c["new_housing_from_inside"]
    assert abs(inside - n_hh * flat.inside_share) < 4 * np.sqrt(n_hh * 0.25)
    # the vacancy chain: inside movers left their old zone, so it holds fewer households
    moved = np.unique(q.household[q.arrival == NEW_HOUSING_INSIDE])
    assert not np.isin(moved, q.household[(q.zone != 2)]).any()
    assert c["new_housing_residents"] == int(in_estate.sum())
    # next year the ramp's second share: more households, re-lets included
    r, _ = step_demography(
        q, rates, 2025, estates=estates, rng=np.random.default_rng(3), **_setting(city)
    )
    n_next = len(np.unique(r.household[r.estate == 0]))
    assert n_next == round(1000 * flat.ramp[1])


def test_outside_households_follow_their_type():
    estates = Estates(
        [
            Estate("F", 1, DWELLING_TYPES["flat"], 2024, 1, 1.0),
            Estate("H", 2, DWELLING_TYPES["house"], 2024, 1, 1.0, yield_scale=2.0),
        ]
    )
    fam = outside_households(np.array([4000, 4000]), estates, 100, np.random.default_rng(5))
    assert fam.household.min() == 100 and len(np.unique(fam.household)) == 8000
    assert set(np.unique(fam.birth_month)) == set(range(1, 13))
    for k, kind, scale in ((0, "flat", 1.0), (1, "house", 2.0)):
        t = DWELLING_TYPES[kind]
        sel = fam.estate == k
        kids = sel & (fam.age < 18)
        assert kids.sum() / 4000 == pytest.approx(t.children_mean * scale, rel=0.06)
        heads = fam.age[sel & (fam.age >= 18)]
        assert heads.min() >= 18 and np.median(heads) <= t.head_ages[1]
        assert (fam.zone[sel] == estates.items[k].zone).all()


def test_unattractive_zone_receives_nobody():
    city = fake_city(n_zones=4, persons_per_zone=3000)
    city.zones["attractiveness"] = [1.0, 1.0, 1.0, 0.0]
    p = synthesize(city, np.random.default_rng(0))
    rates = DemographyRates.from_city(city, Parameters(residential_mobility_rate=0.3))
    q, c = step_demography(p, rates, 2024, rng=np.random.default_rng(4), **_setting(city))
    assert c["movers"] > 0
    before = set(p.household[p.zone == 3].tolist())
    assert set(q.household[q.zone == 3].tolist()) <= before
    assert (q.zone == 3).sum() < (p.zone == 3).sum()


def test_default_city_year_is_plausible():
    """450k people, Chile's TFR ~1.2: births ~4k (crude birth rate ~8.7 per 1000 in 2023)."""
    if not DEFAULT_CITY.exists():
        pytest.skip("default city not built")
    from sim.city import load_city

    city = load_city(DEFAULT_CITY)
    p = synthesize(city, np.random.default_rng(0))
    rates = DemographyRates.from_city(city)
    setting = {
        "dwellings": city.zones["dwellings"].to_numpy(float),
        "attractiveness": city.zones["attractiveness"].to_numpy(float),
    }
    _, c = step_demography(p, rates, 2024, rng=np.random.default_rng(1), **setting)
    per_1000 = {k: 1000 * v / len(p) for k, v in c.items()}
    assert 6 < per_1000["births"] < 13
    assert 4 < per_1000["deaths"] < 10
    assert 0.5 * rates.in_migration_rate * 1000 < per_1000["in_migrants"] < 20


# --------------------------------------------------------------------------- the Mesa twin

YEARS = 3


def _run_numba(p, rates, city, seed):
    rng = np.random.default_rng(seed)
    totals = dict.fromkeys(("births", "deaths", "out_migrants", "in_migrants", "movers"), 0)
    for year in range(2024, 2024 + YEARS):
        p, c = step_demography(p, rates, year, rng=rng, **_setting(city))
        for key in totals:
            totals[key] += c[key]
    return p, totals


def _run_mesa(p, rates, city, seed):
    model = PersonsModel(p, rates, rng=seed, start_year=2024, **_setting(city))
    for _ in range(YEARS):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == YEARS and frame["population"].iloc[-1] == len(model.agents)
    totals = {k: int(frame[k].sum()) for k in ("births", "deaths", "out_migrants", "in_migrants")}
    totals["movers"] = int(frame["movers"].sum())
    return model.to_persons(), totals


def _same_rate(a: int, b: int) -> float:
    """Two-sided p-value that two Poisson counts with equal exposure share one rate."""
    return stats.binomtest(a, a + b, 0.5).pvalue


def _same_distribution(x: np.ndarray, y: np.ndarray, bins: np.ndarray) -> float:
    table = np.vstack([np.histogram(x, bins)[0], np.histogram(y, bins)[0]])
    table = table[:, table.min(axis=0) > 0]
    return stats.chi2_contingency(table)[1]


@pytest.fixture(scope="module")
def twin_start():
    city = fake_city(n_zones=5, persons_per_zone=5000)
    p = synthesize(city, np.random.default_rng(0))
    return city, p, DemographyRates.from_city(city)


@pytest.fixture(scope="module")
def numba_run(twin_start):
    city, p, rates = twin_start
    return _run_numba(p, rates, city, seed=21)


def test_mesa_twin_gives_the_same_statistics(twin_start, numba_run):
    city, p, rates = twin_start
    fast, fast_counts = numba_run
    slow, slow_counts = _run_mesa(p, rates, city, seed=22)
    for key in ("births", "deaths", "out_migrants", "in_migrants", "movers"):
        assert _same_rate(fast_counts[key], slow_counts[key]) > P_MIN, key
    assert _same_distribution(fast.zone, slow.zone, np.arange(6)) > P_MIN
    assert _same_distribution(fast.sex, slow.sex, np.arange(3)) > P_MIN
    # birth months of everybody and of the newborns (the school entry cut-off reads them)
    assert _same_distribution(fast.birth_month, slow.birth_month, np.arange(1, 14)) > P_MIN
    young_fast, young_slow = fast.birth_month[fast.age < 3], slow.birth_month[slow.age < 3]
    assert _same_distribution(young_fast, young_slow, np.arange(1, 14)) > P_MIN
    assert stats.chisquare(np.bincount(young_fast, minlength=13)[1:]).pvalue > P_MIN


def test_the_twin_test_detects_a_wrong_rate(twin_start, numba_run):
    city, p, rates = twin_start
    _, fast_counts = numba_run
    wrong = replace(rates, asfr=1.4 * rates.asfr, qx=np.minimum(1.5 * rates.qx, 1.0))
    _, slow_counts = _run_mesa(p, wrong, city, seed=22)
    assert _same_rate(fast_counts["births"], slow_counts["births"]) < P_MIN
    assert _same_rate(fast_counts["deaths"], slow_counts["deaths"]) < P_MIN


# With one process switched on, the change between the aged start and the end of the year is
# that process's events by age: independent samples that a chi-square test can compare.
ONE_PROCESS = {
    "deaths": {"mortality_multiplier": 5.0},
    "out_migrants": {"out_migration_rate": 0.1},
    "in_migrants": {"in_migration_rate": 0.1},
}
NOTHING = {
    "fertility_multiplier": 0.0,
    "mortality_multiplier": 0.0,
    "in_migration_rate": 0.0,
    "out_migration_rate": 0.0,
    "residential_mobility_rate": 0.0,
}
AGE_BANDS = np.arange(0, 106, 5)


def _event_ages(start: Persons, end: Persons) -> np.ndarray:
    """Events per single year of age: |end - aged start| (one process at a time)."""
    aged = np.bincount(np.minimum(start.age + 1, 100), minlength=101)
    return np.abs(np.bincount(end.age, minlength=101) - aged)


def _band_table(*event_ages: np.ndarray) -> np.ndarray:
    table = np.vstack([np.add.reduceat(e, AGE_BANDS[:-1]) for e in event_ages])
    return table[:, table.min(axis=0) >= 5]


def _one_year(p, rates, city, seed, mesa):
    if mesa:
        model = PersonsModel(p, rates, rng=seed, start_year=2024, **_setting(city))
        model.step()
        return model.to_persons()
    return step_demography(p, rates, 2024, rng=np.random.default_rng(seed), **_setting(city))[0]


@pytest.mark.parametrize("process", list(ONE_PROCESS))
def test_twin_events_have_the_same_age_distribution(twin_start, process):
    city, p, _ = twin_start
    rates = DemographyRates.from_city(city, Parameters(**{**NOTHING, **ONE_PROCESS[process]}))
    fast = _event_ages(p, _one_year(p, rates, city, 31, mesa=False))
    slow = _event_ages(p, _one_year(p, rates, city, 32, mesa=True))
    assert fast.sum() > 300
    assert _same_rate(int(fast.sum()), int(slow.sum())) > P_MIN
    assert stats.chi2_contingency(_band_table(fast, slow))[1] > P_MIN


def test_the_age_test_detects_a_wrong_profile(twin_start):
    city, p, _ = twin_start
    rates = DemographyRates.from_city(city, Parameters(**{**NOTHING, "out_migration_rate": 0.1}))
    flat = replace(rates, migration_profile=np.ones_like(rates.migration_profile))
    fast = _event_ages(p, _one_year(p, rates, city, 31, mesa=False))
    slow = _event_ages(p, _one_year(p, flat, city, 32, mesa=True))
    assert stats.chi2_contingency(_band_table(fast, slow))[1] < P_MIN
