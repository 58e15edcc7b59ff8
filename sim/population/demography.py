"""One simulated year of demography on the person arrays.

:class:`DemographyRates` holds the city's rates (``demography_rates`` layer) with the
scenario's parameters applied; :func:`step_demography` moves a :class:`Persons`
population through one year: deaths, births, out-migration, ageing, residential mobility
between zones, in-migration and the households that move into newly built dwellings.
The per-person loops are numba kernels in :mod:`sim.kernels.demography`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from sim.errors import GeodataError
from sim.kernels.demography import (
    IN_MIGRANT,
    NEW_HOUSING_INSIDE,
    NEW_HOUSING_OUTSIDE,
    event_thresholds,
    move_households,
    next_year,
    place_households,
    sex_age_counts,
    vital_events,
)
from sim.population.housing import Estates, move_in_from_inside, outside_households
from sim.population.persons import (
    ADULT_AGE,
    MAX_AGE,
    N_SIZES,
    SEXES,
    Persons,
    birth_months,
    fit_households,
    household_table,
    reject_bad_rows,
)
from sim.scenario import Parameters

SEX_RATIO_AT_BIRTH = 1.05
"""Male births per female birth."""

_N_CELLS = 2 * (MAX_AGE + 1)


@dataclass
class DemographyRates:
    """The city's demographic rates with a scenario's parameters applied.

    Attributes
    ----------
    qx
        (2, 101) one-year death probability by sex and age, times the mortality multiplier.
    asfr
        (101,) births per woman-year by age, rescaled to the scenario's TFR when it gives
        one (before the fertility multiplier and birth index, see :meth:`fertility_factor`).
    migration_profile
        (2, 101) relative propensity to migrate by sex and age.
    household_shares
        (6,) share of households by size 1..6+ in the whole city (arriving households).
    fertility_multiplier
        The scenario's constant fertility multiplier.
    birth_index_years, birth_index_values
        The scenario's birth index (fertility multiplier by calendar year), sorted by year.
    in_migration_rate, out_migration_rate, residential_mobility_rate
        Per year: arrivals and departures as shares of the population, and the share of
        households moving zone.
    """

    qx: np.ndarray
    asfr: np.ndarray
    migration_profile: np.ndarray
    household_shares: np.ndarray
    fertility_multiplier: float = 1.0
    birth_index_years: np.ndarray | None = None
    birth_index_values: np.ndarray | None = None
    in_migration_rate: float = 0.012
    out_migration_rate: float = 0.010
    residential_mobility_rate: float = 0.08

    @classmethod
    def from_city(cls, city: Any, params: Parameters | None = None) -> DemographyRates:
        """Rates from ``city.rates`` (and ``city.households``) with ``params`` applied.

        Parameters
        ----------
        city
            A :class:`sim.city.City`.
        params
            Scenario parameters; defaults when omitted.

        Raises
        ------
        GeodataError
            When the rates table lacks a column or holds an impossible value.
        """
        params = params or Parameters()
        qx, asfr, profile = rate_arrays(city.rates)
        if params.tfr is not None:
            if asfr.sum() <= 0:
                msg = "layer 'demography_rates': asfr is zero at every age; cannot rescale to tfr"
                raise GeodataError(msg)
            asfr = asfr * (params.tfr / asfr.sum())
        sizes = household_table(city).sum(axis=0)
        shares = sizes / sizes.sum() if sizes.sum() > 0 else np.full(N_SIZES, 1.0 / N_SIZES)
        years = np.array(sorted(params.birth_index), dtype=np.float64)
        values = np.array([params.birth_index[int(y)] for y in years], dtype=np.float64)
        return cls(
            qx=np.clip(qx * params.mortality_multiplier, 0.0, 1.0),
            asfr=asfr,
            migration_profile=profile,
            household_shares=shares,
            fertility_multiplier=params.fertility_multiplier,
            birth_index_years=years if len(years) else None,
            birth_index_values=values if len(years) else None,
            in_migration_rate=params.in_migration_rate,
            out_migration_rate=params.out_migration_rate,
            residential_mobility_rate=params.residential_mobility_rate,
        )

    def with_multipliers(self, multipliers: dict[str, float]) -> DemographyRates:
        """These rates with a replication's uncertainty multipliers applied.

        The multipliers are ``fertility``, ``in_migration`` and ``out_migration`` (see
        :mod:`sim.population.uncertainty`).
        """
        return replace(
            self,
            fertility_multiplier=self.fertility_multiplier * multipliers["fertility"],
            in_migration_rate=self.in_migration_rate * multipliers["in_migration"],
            out_migration_rate=self.out_migration_rate * multipliers["out_migration"],
        )

    def fertility_factor(self, year: int) -> float:
        """The multiplier on :attr:`asfr` in ``year``: fertility multiplier × birth index.

        The birth index is interpolated linearly between its years and holds the nearest
        value outside them; without one it is 1.
        """
        index = 1.0
        if self.birth_index_years is not None and self.birth_index_values is not None:
            index = float(np.interp(year, self.birth_index_years, self.birth_index_values))
        return self.fertility_multiplier * index

    def asfr_for(self, year: int) -> np.ndarray:
        """(101,) births per woman-year by age in ``year`` (at most 1)."""
        return np.minimum(self.asfr * self.fertility_factor(year), 1.0)

    def tfr(self, year: int) -> float:
        """Total fertility rate in ``year``."""
        return float(self.asfr_for(year).sum())

    def out_probability(self, hist: np.ndarray) -> np.ndarray:
        """(2, 101) departure probability by sex and age for a population with ``hist``.

        Proportional to the migration profile and scaled so the expected departures are
        ``out_migration_rate`` × population.
        """
        mean = (self.migration_profile * hist).sum() / max(hist.sum(), 1)
        if mean <= 0:
            return np.zeros_like(self.migration_profile)
        return np.minimum(self.out_migration_rate * self.migration_profile / mean, 1.0)

    def arrival_shares(self, hist: np.ndarray) -> np.ndarray:
        """(2, 101) sex × age distribution of arrivals: profile × current age structure."""
        w = self.migration_profile * hist
        if w.sum() <= 0:
            w = self.migration_profile.copy()
        return w / w.sum()


def rate_arrays(rates: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(qx (2,101), asfr (101,), migration_profile (2,101)) from a ``demography_rates`` table.

    Raises
    ------
    GeodataError
        Missing column, unknown sex, age outside 0..100, negative value, qx above 1, or
        no migration profile at all.
    """
    cols = ["age", "sex", "asfr", "qx", "migration_profile"]
    missing = [c for c in cols if c not in rates.columns]
    if missing:
        msg = f"layer 'demography_rates': missing columns {missing}; required {cols}"
        raise GeodataError(msg)
    age = rates["age"].to_numpy()
    sex = np.array([SEXES.index(s) if s in SEXES else -1 for s in rates["sex"]])
    bad = (sex < 0) | (age < 0) | (age > MAX_AGE)
    for col in ("asfr", "qx", "migration_profile"):
        bad |= ~(rates[col].to_numpy(dtype=np.float64) >= 0)
    bad |= rates["qx"].to_numpy(dtype=np.float64) > 1
    reject_bad_rows(
        rates,
        bad,
        "demography_rates",
        f"sex must be 'male'/'female', age 0..{MAX_AGE}, asfr/qx/migration_profile >= 0 "
        "and qx <= 1",
    )
    qx = np.zeros((2, MAX_AGE + 1))
    fert = np.zeros((2, MAX_AGE + 1))
    profile = np.zeros((2, MAX_AGE + 1))
    qx[sex, age] = rates["qx"].to_numpy(dtype=np.float64)
    fert[sex, age] = rates["asfr"].to_numpy(dtype=np.float64)
    profile[sex, age] = rates["migration_profile"].to_numpy(dtype=np.float64)
    if profile.sum() <= 0:
        msg = "layer 'demography_rates': migration_profile is zero everywhere"
        raise GeodataError(msg)
    return qx, fert[1], profile


# --------------------------------------------------------------------------- helpers


def sex_age_histogram(persons: Persons) -> np.ndarray:
    """(2, 101) persons by sex and age."""
    return sex_age_counts(persons.sex, persons.age, MAX_AGE + 1)


def arrivals(
    n: int, shares: np.ndarray, rates: DemographyRates, first_id: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``n`` arriving persons, grouped in households by :func:`~.persons.fit_households`.

    Parameters
    ----------
    n
        Persons arriving.
    shares
        (2, 101) sex × age distribution of the arrivals (:meth:`DemographyRates.arrival_shares`).
    rates
        Supplies the household size shares of the city.
    first_id
        First household id; ids are consecutive.
    rng
        Random generator.

    Returns
    -------
    tuple
        ``(age, sex, household, n_households)``; a group of arrivals without any adult
        (only possible for a handful of persons) is headed by its oldest member.
    """
    # persons per sex × age cell, then one person after another in cell order
    p = shares.ravel() / shares.sum()
    cell = np.repeat(np.arange(_N_CELLS), rng.multinomial(n, p))
    age = (cell % (MAX_AGE + 1)).astype(np.int16)
    sex = (cell // (MAX_AGE + 1)).astype(np.int8)
    mean_size = (rates.household_shares * np.arange(1, N_SIZES + 1)).sum()
    targets = rates.household_shares[None, :] * (n / mean_size)
    household = fit_households(np.zeros(n, np.int64), age, targets, rng, first_id)
    n_hh = int(household.max()) + 1 - first_id if n else 0
    return age, sex, household, n_hh


# --------------------------------------------------------------------------- the year


def step_demography(
    persons: Persons,
    rates: DemographyRates,
    year: int,
    *,
    dwellings: np.ndarray,
    attractiveness: np.ndarray,
    estates: Estates | None = None,
    rng: np.random.Generator,
) -> tuple[Persons, dict[str, int]]:
    """Move the population through one simulated year.

    In order: deaths (``qx`` by sex and age); births to women who stay (ASFR of ``year``,
    child in the mother's household, sex ratio 1.05); out-migration by the migration
    profile, minors following when no adult of their household stays; ageing (ages are
    capped at 100); residential mobility of households between zones; in-migration
    (Poisson(rate × population) persons with ages from profile × age structure, formed
    into households and placed by vacant dwellings × attractiveness); and the households
    moving into new housing this year (:mod:`sim.population.housing`: as many as each
    estate's occupancy ramp still misses, from inside the city, who leave a vacant
    dwelling behind, and from outside).

    Parameters
    ----------
    persons
        The population at the reference date of ``year``; not modified.
    rates
        Rates with the scenario's parameters applied.
    year
        The calendar year simulated (selects the birth index).
    dwellings
        (Z,) dwellings per zone index open to in-migrants and movers (the stock without
        new dwellings nobody occupies yet, :meth:`Estates.market_stock`); vacant =
        dwellings - households.
    attractiveness
        (Z,) zone attractiveness (>= 0) for arrivals and movers.
    estates
        The developments (their dwellings handed over up to ``year`` must already be in
        ``dwellings``); None = no new housing.
    rng
        Random generator; the same seed gives identical output.

    Returns
    -------
    tuple[Persons, dict[str, int]]
        The population one year later (stayers in their order, newborns, in-migrants,
        then households moving into new housing from outside), and counts: births,
        deaths, in_migrants, out_migrants, movers (persons whose home zone changed by
        residential mobility), new_housing_residents (persons who moved into an estate
        this year), new_housing_from_inside (of them, households from inside the city).
    """
    n_zones = len(dwellings)
    weight = np.asarray(attractiveness, dtype=np.float64)
    if weight.shape != (n_zones,) or not (weight >= 0).all():
        msg = f"attractiveness must be {n_zones} values >= 0, got {weight!r}"
        raise ValueError(msg)
    if weight.sum() <= 0:
        weight = np.ones(n_zones)
    n = len(persons)
    hist = sex_age_histogram(persons)
    n_ids = persons.next_household_id()
    p = persons

    # deaths, births, departures; then residential mobility of the households that stay
    thresholds = event_thresholds(rates.qx, rates.asfr_for(year), rates.out_probability(hist))
    fate_seed, move_seed, sex_seed = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    fate, state, household_zone, mothers = vital_events(
        p.age, p.sex, p.household, p.zone, thresholds, fate_seed, n_ids, ADULT_AGE
    )
    zone_after, vacant = move_households(
        state,
        household_zone,
        np.asarray(dwellings, dtype=np.float64),
        weight,
        rates.residential_mobility_rate,
        move_seed,
    )

    # in-migration into vacant dwellings
    n_in = int(rng.poisson(rates.in_migration_rate * n))
    age, sex, hh, n_hh = arrivals(n_in, rates.arrival_shares(hist), rates, n_ids, rng)
    hh_zone = place_households(vacant, weight, rng.random(n_hh))
    arrived = Persons.new(
        age,
        sex,
        hh_zone[hh - n_ids],
        hh,
        birth_month=birth_months(n_in, rng),
        arrival=np.full(n_in, IN_MIGRANT, dtype=np.int8),
        arrival_year=np.full(n_in, year, dtype=np.int16),
    )

    # survivors and newborns, then the in-migrants, written once into next year's arrays
    size = n + mothers + len(arrived)
    columns = tuple(getattr(p, f.name) for f in fields(Persons))
    out = tuple(np.empty(size, dtype=column.dtype) for column in columns)
    written, births, deaths, left, movers = next_year(
        fate,
        state,
        zone_after,
        columns,
        sex_seed,
        SEX_RATIO_AT_BIRTH / (1.0 + SEX_RATIO_AT_BIRTH),
        MAX_AGE,
        ADULT_AGE,
        year,
        out,
    )
    end = int(written)
    for column, f in zip(out, fields(Persons), strict=True):
        column[end : end + n_in] = getattr(arrived, f.name)
    q = Persons(*(column[: end + n_in] for column in out))
    stats = {
        "births": int(births),
        "deaths": int(deaths),
        "out_migrants": int(left),
        "movers": int(movers),
        "in_migrants": n_in,
        "new_housing_residents": 0,
        "new_housing_from_inside": 0,
    }
    if estates is None or not len(estates):
        return q, stats
    return new_housing(q, estates, year, n_ids + n_hh, rng, stats)


def new_housing(
    persons: Persons,
    estates: Estates,
    year: int,
    first_id: int,
    rng: np.random.Generator,
    stats: dict[str, int],
) -> tuple[Persons, dict[str, int]]:
    """Households moving into the estates' dwellings in ``year`` (see step_demography).

    Each estate's missing households split binomially by its ``inside_share``; inside
    movers are existing households (:func:`~sim.population.housing.move_in_from_inside`,
    changed in place), a shortfall of them is made up from outside
    (:func:`~sim.population.housing.outside_households`, appended). ``stats`` gains
    new_housing_residents and new_housing_from_inside.
    """
    need = estates.moving_in(year, persons)
    share = np.array([e.dwelling_type.inside_share for e in estates.items])
    inside = rng.binomial(need, share)
    before = persons.estate.copy()
    moved = move_in_from_inside(persons, inside, estates, rng)
    came = (persons.estate >= 0) & (persons.estate != before)
    persons.arrival[came] = NEW_HOUSING_INSIDE
    persons.arrival_year[came] = year
    outside = outside_households(need - moved, estates, first_id, rng)
    outside.arrival[:] = NEW_HOUSING_OUTSIDE
    outside.arrival_year[:] = year
    stats = {
        **stats,
        "new_housing_residents": int(came.sum()) + len(outside),
        "new_housing_from_inside": int(moved.sum()),
    }
    return Persons.concat([persons, outside]), stats
