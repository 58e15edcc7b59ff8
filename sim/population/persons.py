"""The person population: a structure of arrays, and its synthesis from zone marginals.

Persons are never Python objects: :class:`Persons` holds one numpy array per attribute,
one element per living person. :func:`synthesize` builds the base-year population from
the city's zone tables (persons by zone × age × sex, households by zone × size) and
groups it into households with :func:`fit_households`, which the yearly demography step
reuses for arriving households.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.errors import GeodataError
from sim.kernels.demography import (
    BORN,
    IN_MIGRANT,
    MOVED,
    NEW_HOUSING_INSIDE,
    NEW_HOUSING_OUTSIDE,
)
from sim.kernels.households import household_sizes, match_households

MAX_AGE = 100
"""Ages are capped here (100 = 100 and over)."""
N_SIZES = 6
"""Household size classes 1..6 (6 = 6 and more)."""
ADULT_AGE = 20
"""Every household has at least one member this old (its reference person)."""
SEXES = ("male", "female")

ARRIVAL_CODES = {
    BORN: "base population or born in the city",
    IN_MIGRANT: "in-migrant",
    NEW_HOUSING_OUTSIDE: "moved into new housing from outside the city",
    NEW_HOUSING_INSIDE: "moved into new housing from inside the city",
    MOVED: "moved within the city to an existing dwelling",
}
"""``Persons.arrival`` codes (the explain breakdown reads them)."""

_CHILD_PARENT_GAP = 28.0  # typical age gap between a child and the household head
_MATCH_NOISE_SD = 4.0  # years of noise when matching members to households
_SIZE_NOISE_SD = 8.0  # years of noise when giving household sizes to heads


@dataclass
class Persons:
    """One element per living person, one array per attribute.

    Attributes
    ----------
    age
        int16, completed years on 31 December of the current simulated year (calendar
        year minus birth year); with ``birth_month`` it gives the age on any date, e.g.
        the school-entry cut-off.
    sex
        int8, 0 = male, 1 = female.
    zone
        int32, home zone index (position in ``city.zones``, not the zone_id).
    household
        int32, household id, unique within the population.
    work_zone
        int32, zone index of the workplace, -1 = not working.
    school
        int32, school index, -1 = none.
    birth_month
        int8, 1..12.
    estate
        int16, the housing development (index into the model's estates) whose new
        dwelling the person's household moved into, -1 = none; lost when the household
        moves.
    first_school
        int32, the school the child applied to first this year (catchment, nearest or
        first choice; set by enrollment), -1 = none.
    arrival
        int8, how the person came to live where it does: one of :data:`ARRIVAL_CODES`.
    arrival_year
        int16, the year of that arrival (birth, move); -1 = in the base population.
    """

    age: np.ndarray
    sex: np.ndarray
    zone: np.ndarray
    household: np.ndarray
    work_zone: np.ndarray
    school: np.ndarray
    birth_month: np.ndarray
    estate: np.ndarray
    first_school: np.ndarray
    arrival: np.ndarray
    arrival_year: np.ndarray

    _DTYPES: ClassVar[dict[str, type]] = {
        "age": np.int16,
        "sex": np.int8,
        "zone": np.int32,
        "household": np.int32,
        "work_zone": np.int32,
        "school": np.int32,
        "birth_month": np.int8,
        "estate": np.int16,
        "first_school": np.int32,
        "arrival": np.int8,
        "arrival_year": np.int16,
    }

    def __post_init__(self) -> None:
        n = len(self.age)
        for name, dtype in self._DTYPES.items():
            arr: np.ndarray = np.asarray(getattr(self, name), dtype=dtype)
            if arr.shape != (n,):
                msg = f"Persons.{name} has shape {arr.shape}, expected ({n},)"
                raise ValueError(msg)
            setattr(self, name, arr)

    def __len__(self) -> int:
        return len(self.age)

    @classmethod
    def new(
        cls,
        age: Any,
        sex: Any,
        zone: Any,
        household: Any,
        work_zone: Any = None,
        school: Any = None,
        birth_month: Any = None,
        estate: Any = None,
        arrival: Any = None,
        arrival_year: Any = None,
    ) -> Persons:
        """Persons with the optional fields at their defaults unless given.

        ``work_zone``, ``school``, ``estate``, ``first_school`` and ``arrival_year`` are -1,
        ``arrival`` 0 and ``birth_month`` 1 (January: the age on any date of the year is
        ``age``).
        """
        n = len(age)
        none = np.full(n, -1, dtype=np.int32)
        return cls(
            age,
            sex,
            zone,
            household,
            none if work_zone is None else work_zone,
            none.copy() if school is None else school,
            np.ones(n, dtype=np.int8) if birth_month is None else birth_month,
            none.copy() if estate is None else estate,
            none.copy(),
            np.zeros(n, dtype=np.int8) if arrival is None else arrival,
            none.copy() if arrival_year is None else arrival_year,
        )

    @classmethod
    def empty(cls) -> Persons:
        """A population of nobody."""
        return cls.new(*(np.empty(0, dtype=d) for d in (np.int16, np.int8, np.int32, np.int32)))

    def take(self, mask_or_index: np.ndarray) -> Persons:
        """The persons selected by a boolean mask or an index array (copies)."""
        return Persons(*(getattr(self, f.name)[mask_or_index] for f in fields(self)))

    @classmethod
    def concat(cls, parts: Iterable[Persons]) -> Persons:
        """Stack populations one after another."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def next_household_id(self) -> int:
        """A household id larger than every id in use."""
        return int(self.household.max()) + 1 if len(self) else 0

    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


# --------------------------------------------------------------------------- households


def fit_households(
    group: np.ndarray,
    age: np.ndarray,
    size_targets: np.ndarray,
    rng: np.random.Generator,
    first_id: int = 0,
) -> np.ndarray:
    """Group persons into households, separately within each group (zone).

    A seeded household-fitting procedure (a sorting analogue of matching households to
    persons; steps 2-4 are the kernel :func:`sim.kernels.households.match_households`):

    1. Households per group = the target count (``size_targets`` row sum), but at most one
       per adult aged ``ADULT_AGE``+; size classes split it by largest-remainder rounding,
       then sizes are raised or lowered round-robin (largest first) until they add up to the
       group's persons exactly (:func:`sim.kernels.households.household_sizes`).
    2. Heads: one adult per household, drawn without replacement with a headship weight
       rising from age 20 to 35 (Efraimidis–Spirakis keys). A group without adults gets
       its oldest person as head.
    3. Sizes go to heads by closeness of the head's age to 40 (plus noise): families with
       children get heads of parenting age, single-person households the youngest and
       oldest heads.
    4. The other persons fill the remaining places by sorted matching: places sorted by
       their head's age, persons by a target age (own age for adults, age + 28 for
       children), both with noise, then paired in order. So children live with adults of
       parenting age and partners with heads of about their age.

    Parameters
    ----------
    group
        Group (zone) index of each person, 0..G-1.
    age
        Age of each person.
    size_targets
        (G, 6) target households by size class 1..6 (6 = 6+), need not be integers.
    rng
        Random generator (all draws come from it).
    first_id
        The first household id to use; ids are consecutive from there.

    Returns
    -------
    np.ndarray
        int32 household id of each person.
    """
    n = len(age)
    if n == 0:
        return np.empty(0, dtype=np.int32)
    n_groups = size_targets.shape[0]
    persons = np.bincount(group, minlength=n_groups)
    adults = np.bincount(group[age >= ADULT_AGE], minlength=n_groups)
    n_hh, sizes = household_sizes(
        np.asarray(size_targets, dtype=np.float64), persons.astype(np.int64), adults
    )
    n_heads = int(n_hh.sum())
    return match_households(
        group,
        age,
        n_hh,
        sizes,
        rng.standard_exponential(n),
        rng.normal(0.0, _SIZE_NOISE_SD, n_heads),
        rng.normal(0.0, _MATCH_NOISE_SD, n - n_heads),
        rng.normal(0.0, _MATCH_NOISE_SD, n),
        first_id,
        ADULT_AGE,
        _CHILD_PARENT_GAP,
    )


# --------------------------------------------------------------------------- synthesis


def _zone_table(frame: pd.DataFrame, layer: str, cols: list[str]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        msg = f"layer '{layer}': missing columns {missing}; required {cols}"
        raise GeodataError(msg)


def reject_bad_rows(frame: pd.DataFrame, bad: np.ndarray, layer: str, allowed: str) -> None:
    """Raise a GeodataError naming the layer, the first bad row and what is allowed."""
    if bad.any():
        row = frame[bad].iloc[0].to_dict()
        msg = f"layer '{layer}': bad row {row}; {allowed}"
        raise GeodataError(msg)


def population_table(city: Any) -> np.ndarray:
    """Persons by zone index × sex × age, shape (Z, 2, 101), from ``city.population``."""
    pop = city.population
    _zone_table(pop, "zone_population", ["zone_id", "sex", "age", "persons"])
    zone_ids = city.zones.index.to_numpy()
    z = pd.Index(zone_ids).get_indexer(pop["zone_id"])
    s = pd.Index(SEXES).get_indexer(pop["sex"])
    a = pop["age"].to_numpy()
    n = pop["persons"].to_numpy()
    bad = (z < 0) | (s < 0) | (a < 0) | (a > MAX_AGE) | (n < 0)
    reject_bad_rows(
        pop,
        bad,
        "zone_population",
        f"zone_id must be a zone, sex 'male'/'female', age 0..{MAX_AGE}, persons >= 0",
    )
    table = np.zeros((len(zone_ids), 2, MAX_AGE + 1), dtype=np.int64)
    np.add.at(table, (z, s, a), n.astype(np.int64))
    return table


def household_table(city: Any) -> np.ndarray:
    """Households by zone index × size class 1..6, shape (Z, 6), from ``city.households``."""
    hh = city.households
    _zone_table(hh, "zone_households", ["zone_id", "size", "households"])
    zone_ids = city.zones.index.to_numpy()
    z = pd.Index(zone_ids).get_indexer(hh["zone_id"])
    k = hh["size"].to_numpy()
    n = hh["households"].to_numpy()
    bad = (z < 0) | (k < 1) | (k > N_SIZES) | (n < 0)
    reject_bad_rows(
        hh, bad, "zone_households", f"zone_id must be a zone, size 1..{N_SIZES}, households >= 0"
    )
    table = np.zeros((len(zone_ids), N_SIZES), dtype=np.float64)
    np.add.at(table, (z, k - 1), n.astype(np.float64))
    return table


def ipf(
    seed: np.ndarray,
    row_targets: np.ndarray,
    col_targets: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> np.ndarray:
    """Iterative proportional fitting of a 2-D table to row and column totals.

    Alternately scales rows and columns of ``seed`` (Deming–Stephan) until both margins
    match within ``tol`` (relative); the result keeps the seed's cross-product ratios.

    Parameters
    ----------
    seed
        (R, C) non-negative prior table; a row or column of zeros stays zero.
    row_targets, col_targets
        (R,) and (C,) totals with equal sums.

    Returns
    -------
    np.ndarray
        The fitted (R, C) table.
    """
    table = np.asarray(seed, dtype=np.float64).copy()
    rows = np.asarray(row_targets, dtype=np.float64)
    cols = np.asarray(col_targets, dtype=np.float64)
    scale = max(rows.sum(), 1.0)
    for _ in range(max_iter):
        r = table.sum(axis=1)
        table *= np.divide(rows, r, out=np.ones_like(r), where=r > 0)[:, None]
        c = table.sum(axis=0)
        table *= np.divide(cols, c, out=np.ones_like(c), where=c > 0)[None, :]
        if np.abs(table.sum(axis=1) - rows).max() <= tol * scale:
            break
    return table


def reconcile_household_sizes(households: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Households by zone × size made consistent with the zones' persons, by IPF.

    Persons living in each size class (households × size, 6+ counted as 6) are fitted to
    the zones' person totals (rows) and to the city's mix of persons by household size
    (columns), so a household table from another source or year still adds up to the
    age × sex marginals. A zone with persons but no households takes the city's mix.

    Parameters
    ----------
    households
        (Z, 6) households by size class 1..6.
    persons
        (Z,) persons per zone.

    Returns
    -------
    np.ndarray
        (Z, 6) household targets (not integers) for :func:`fit_households`.
    """
    size = np.arange(1, N_SIZES + 1, dtype=np.float64)
    in_size = np.asarray(households, dtype=np.float64) * size
    mix = in_size.sum(axis=0)
    if mix.sum() <= 0:
        return np.asarray(households, dtype=np.float64)
    mix = mix / mix.sum()
    empty = (in_size.sum(axis=1) <= 0) & (persons > 0)
    in_size[empty] = mix
    fitted = ipf(in_size, persons, mix * persons.sum())
    return fitted / size


def random_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unbiased random rounding to int64: up with probability equal to the fraction.

    Whole numbers stay as they are (one uniform draw per element is still taken).
    """
    base = np.floor(x)
    return (base + (rng.random(np.shape(x)) < x - base)).astype(np.int64)


def synthesize(city: Any, rng: np.random.Generator, scale: float = 1.0) -> Persons:
    """Synthesise the base-year persons in households from the city's zone marginals.

    Persons by zone × age × sex match ``city.population`` × ``scale`` (exactly for a whole
    ``scale``, else randomly rounded per cell). The household-size table is first made
    consistent with those persons by IPF (:func:`reconcile_household_sizes`); persons are
    then fitted into households (:func:`fit_households`), so households by size match it
    approximately and every household has an adult aged 20+.

    Parameters
    ----------
    city
        A :class:`sim.city.City` (uses ``zones``, ``population`` and ``households``).
    rng
        Random generator; the same seed gives the identical population.
    scale
        Replicate the city: 10.0 gives ten times the persons and households (benchmarks).

    Returns
    -------
    Persons
        Ordered by zone, sex and age; birth months uniform; ``work_zone``, ``school`` and
        ``estate`` are -1.
    """
    if not scale > 0:
        msg = f"synthesize: scale must be > 0, got {scale}"
        raise ValueError(msg)
    table = random_round(population_table(city) * scale, rng)
    cells = table.ravel()
    cell = np.repeat(np.arange(cells.size, dtype=np.int32), cells)
    zone = (cell // (2 * (MAX_AGE + 1))).astype(np.int32)
    sex = ((cell // (MAX_AGE + 1)) % 2).astype(np.int8)
    age = (cell % (MAX_AGE + 1)).astype(np.int16)
    del cell
    targets = reconcile_household_sizes(household_table(city) * scale, table.sum(axis=(1, 2)))
    household = fit_households(zone, age, targets, rng)
    return Persons.new(age, sex, zone, household, birth_month=birth_months(len(age), rng))


def birth_months(n: int, rng: np.random.Generator) -> np.ndarray:
    """Birth months, int8 (n,), uniform over 1..12.

    Seasonality is small next to the cut-off's effect: one month shifts 1/12 of a cohort.
    """
    return rng.integers(1, 13, size=n).astype(np.int8)
