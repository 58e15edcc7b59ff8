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
from sim.kernels.demography import fit_sizes

MAX_AGE = 100
"""Ages are capped here (100 = 100 and over)."""
N_SIZES = 6
"""Household size classes 1..6 (6 = 6 and more)."""
ADULT_AGE = 20
"""Every household has at least one member this old (its reference person)."""
SEXES = ("male", "female")

_CHILD_PARENT_GAP = 28.0  # typical age gap between a child and the household head
_MATCH_NOISE_SD = 4.0  # years of noise when matching members to households
_SIZE_NOISE_SD = 8.0  # years of noise when giving household sizes to heads


@dataclass
class Persons:
    """One element per living person, one array per attribute.

    Attributes
    ----------
    age
        int16, completed years at 31 August of the current simulated year.
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
    """

    age: np.ndarray
    sex: np.ndarray
    zone: np.ndarray
    household: np.ndarray
    work_zone: np.ndarray
    school: np.ndarray

    _DTYPES: ClassVar[dict[str, type]] = {
        "age": np.int16,
        "sex": np.int8,
        "zone": np.int32,
        "household": np.int32,
        "work_zone": np.int32,
        "school": np.int32,
    }

    def __post_init__(self) -> None:
        n = len(self.age)
        for name, dtype in self._DTYPES.items():
            arr = np.asarray(getattr(self, name), dtype=dtype)
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
    ) -> Persons:
        """Persons with ``work_zone`` and ``school`` set to -1 unless given."""
        n = len(age)
        none = np.full(n, -1, dtype=np.int32)
        return cls(
            age,
            sex,
            zone,
            household,
            none if work_zone is None else work_zone,
            none.copy() if school is None else school,
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


def _headship_weight(age: np.ndarray) -> np.ndarray:
    """Relative chance that an adult heads a household: rises from 20 to about 35, then flat."""
    return np.clip((age.astype(np.float64) - 17.0) / 18.0, 0.05, 1.0)


def _rank_within(group: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of each element of ``order`` within its group (order sorted by group)."""
    return np.arange(len(order)) - starts[group[order]]


def _sort_within(group: np.ndarray, key: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices sorting by group, then key (keys clipped to [lo, hi]).

    One argsort of ``group + scaled key`` is several times faster than ``np.lexsort``.
    """
    return np.argsort(group + np.clip((key - lo) / (hi - lo), 0.0, 0.999))


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _household_counts(
    size_targets: np.ndarray, persons: np.ndarray, adults: np.ndarray
) -> np.ndarray:
    """Integer households per group and size class, at most one per adult (or 1 if none).

    Largest-remainder rounding of each group's size shares keeps its household total exact;
    a group without targets uses the size shares of all groups.
    """
    shares = size_targets.sum(axis=0)
    fallback = shares / shares.sum() if shares.sum() > 0 else np.eye(N_SIZES)[2]
    total = size_targets.sum(axis=1)
    share = np.where(
        total[:, None] > 0, size_targets / np.maximum(total, 1e-300)[:, None], fallback
    )
    cap = np.maximum(np.minimum(adults, persons), 1)
    n_hh = np.where(persons > 0, np.clip(np.round(total), 1, cap), 0).astype(np.int64)
    exact = share * n_hh[:, None]
    base = np.floor(exact).astype(np.int64)
    short = n_hh - base.sum(axis=1)
    rank = np.argsort(np.argsort(base - exact, axis=1, kind="stable"), axis=1, kind="stable")
    return base + (rank < short[:, None])


def fit_households(
    group: np.ndarray,
    age: np.ndarray,
    size_targets: np.ndarray,
    rng: np.random.Generator,
    first_id: int = 0,
) -> np.ndarray:
    """Group persons into households, separately within each group (zone).

    A seeded household-fitting procedure (a sorting analogue of matching households to
    persons, vectorised over all groups at once):

    1. Households per group = the target count (``size_targets`` row sum), but at most one
       per adult aged ``ADULT_AGE``+; size classes split it by largest-remainder rounding,
       then sizes are raised or lowered round-robin (largest first) until they add up to the
       group's persons exactly (:func:`sim.kernels.demography.fit_sizes`).
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
    household = np.empty(n, dtype=np.int32)
    if n == 0:
        return household
    n_groups = size_targets.shape[0]
    adult = age >= ADULT_AGE
    persons = np.bincount(group, minlength=n_groups)
    adults = np.bincount(group[adult], minlength=n_groups)
    counts = _household_counts(size_targets, persons, adults)
    n_hh = counts.sum(axis=1)

    # 1. household sizes per group, descending, adjusted to add up to the group's persons
    sizes = np.repeat(np.tile(np.arange(N_SIZES, 0, -1), n_groups), counts[:, ::-1].ravel())
    sizes = fit_sizes(sizes.astype(np.int32), n_hh.astype(np.int64), persons.astype(np.int64))
    hh_group = np.repeat(np.arange(n_groups), n_hh)

    # 2. heads: top-k Efraimidis-Spirakis keys per group (log keys lie in [-750, 0])
    key = rng.standard_exponential(n) / _headship_weight(age) / 1000.0
    key[~adult] = 1.0 + (MAX_AGE + 1 - age[~adult]) / 1000.0  # oldest first, after adults
    by_key = _sort_within(group, key, 0.0, 2.0)
    rank = _rank_within(group, by_key, _group_starts(persons))
    heads = by_key[rank < n_hh[group[by_key]]]

    # 3. sizes to heads: heads nearest age 40 get the largest households
    head_key = np.abs(age[heads] - 40.0) + rng.normal(0.0, _SIZE_NOISE_SD, len(heads))
    heads = heads[_sort_within(group[heads], head_key, -60.0, 140.0)]
    hh_ids = np.arange(first_id, first_id + len(heads), dtype=np.int64)
    household[heads] = hh_ids

    # 4. members fill the remaining places by sorted matching on age
    is_head = np.zeros(n, dtype=bool)
    is_head[heads] = True
    members = np.flatnonzero(~is_head)
    places = np.repeat(np.arange(len(heads)), sizes - 1)
    place_key = age[heads][places] + rng.normal(0.0, _MATCH_NOISE_SD, len(places))
    places = places[_sort_within(hh_group[places], place_key, -60.0, 200.0)]
    m_age = age[members].astype(np.float64)
    m_key = np.where(m_age < ADULT_AGE, m_age + _CHILD_PARENT_GAP, m_age)
    m_key += rng.normal(0.0, _MATCH_NOISE_SD, len(members))
    members = members[_sort_within(group[members], m_key, -60.0, 200.0)]
    household[members] = hh_ids[places]
    return household


# --------------------------------------------------------------------------- synthesis


def _zone_table(frame: pd.DataFrame, layer: str, cols: list[str]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        msg = f"layer '{layer}': missing columns {missing}; required {cols}"
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
    if bad.any():
        row = pop[bad].iloc[0].to_dict()
        msg = (
            f"layer 'zone_population': bad row {row}; zone_id must be a zone, sex "
            f"'male'/'female', age 0..{MAX_AGE}, persons >= 0"
        )
        raise GeodataError(msg)
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
    if bad.any():
        row = hh[bad].iloc[0].to_dict()
        msg = (
            f"layer 'zone_households': bad row {row}; zone_id must be a zone, size "
            f"1..{N_SIZES}, households >= 0"
        )
        raise GeodataError(msg)
    table = np.zeros((len(zone_ids), N_SIZES), dtype=np.float64)
    np.add.at(table, (z, k - 1), n.astype(np.float64))
    return table


def _scaled_counts(table: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Counts × scale with unbiased random rounding (exact when scale is a whole number)."""
    exact = table * scale
    base = np.floor(exact)
    frac = exact - base
    return (base + (rng.random(table.shape) < frac)).astype(np.int64)


def synthesize(city: Any, rng: np.random.Generator, scale: float = 1.0) -> Persons:
    """Synthesise the base-year persons in households from the city's zone marginals.

    Persons by zone × age × sex match ``city.population`` exactly (times ``scale``);
    households by size match ``city.households`` approximately (see
    :func:`fit_households` for the procedure); every household has an adult aged 20+.

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
        Ordered by zone, sex and age; ``work_zone`` and ``school`` are -1.
    """
    if not scale > 0:
        msg = f"synthesize: scale must be > 0, got {scale}"
        raise ValueError(msg)
    table = _scaled_counts(population_table(city), scale, rng)
    n_zones = table.shape[0]
    cells = table.ravel()
    cell = np.repeat(np.arange(cells.size, dtype=np.int32), cells)
    zone = (cell // (2 * (MAX_AGE + 1))).astype(np.int32)
    sex = ((cell // (MAX_AGE + 1)) % 2).astype(np.int8)
    age = (cell % (MAX_AGE + 1)).astype(np.int16)
    del cell
    size_targets = household_table(city) * scale
    if size_targets.shape[0] != n_zones:
        msg = "zone_households and zone_population disagree on the zones"
        raise GeodataError(msg)
    household = fit_households(zone, age, size_targets, rng)
    return Persons.new(age, sex, zone, household)
