"""New housing by development stage: sale, handover, an occupancy ramp, who moves in.

An *estate* is one development: a site of the city's ``sites`` layer or a scenario's
``housing_development`` policy. Its dwellings are sold ``SALE_LEAD_YEARS`` before they are
handed over; ``start_year`` is the year the first dwellings are handed over, and
``dwellings_per_year`` are handed over in each of ``n_years`` years. From handover a
cohort of dwellings fills along the dwelling type's occupancy ramp (the cumulative share
occupied by years since handover), so an estate fills over several years rather than in
its first one. Each year the households still missing to the ramp's target move in
(re-lets of dwellings left by households that moved on included):

* a share ``inside_share`` from inside the city: existing households whose oldest member
  is of the type's head ages (for flats 22–34: young households, many with pre-school
  children) move into the estate and leave a vacant dwelling in their old zone (the
  vacancy chain: that dwelling takes an in-migrant or mover in a later year);
* the rest from outside: households drawn from the dwelling type's household mix
  (:class:`DwellingType`: head ages, couples, children and how young they are).

Pupils per dwelling then follow from the households: few at handover (new estates hold
many pre-school children), rising as they age into school and are born, then settling as
the first children leave and the stock turns over. Every person of a household that
moved into an estate carries its index in ``Persons.estate`` until the household moves.
Defaults and their sources: ``geodata/README.md`` (section *Housing by development
stage*).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import GeodataError
from sim.inputs import preview
from sim.policies.housing import HousingDevelopment
from sim.population.persons import ADULT_AGE, Persons, birth_months

SALE_LEAD_YEARS = 2
"""Pre-sale (期房) comes this many years before handover."""


@dataclass(frozen=True)
class DwellingType:
    """How dwellings of one type fill and who moves in from outside the city.

    Attributes
    ----------
    name
        ``flat`` (market flats), ``house`` or ``affordable`` (affordable / resettlement
        housing, 安置房).
    ramp
        Cumulative share of a cohort's dwellings occupied by years since its handover
        (0 = the handover year); the last value holds afterwards.
    inside_share
        Share of households moving in that come from inside the city.
    head_ages
        Range of the household head's age (outside movers), and of the oldest member of
        households moving in from inside the city.
    partner_share
        Share of couples.
    household_size
        Mean household size; children per household are Poisson with the mean the head
        and partners leave (``household_size - 1 - partner_share``).
    child_age_mean, child_max_age
        Children's ages: exponential with this mean (new estates hold young children),
        cut at the maximum and at head age - 18.
    """

    name: str
    ramp: tuple[float, ...]
    inside_share: float
    head_ages: tuple[int, int]
    partner_share: float
    household_size: float
    child_age_mean: float
    child_max_age: int

    @property
    def children_mean(self) -> float:
        """Mean children per household moving in from outside."""
        return max(self.household_size - 1.0 - self.partner_share, 0.0)


DWELLING_TYPES: dict[str, DwellingType] = {
    "flat": DwellingType("flat", (0.45, 0.75, 0.88, 0.93), 0.5, (22, 34), 0.8, 2.4, 3.0, 14),
    "house": DwellingType("house", (0.6, 0.85, 0.93, 0.95), 0.4, (24, 36), 0.9, 2.7, 3.5, 15),
    "affordable": DwellingType("affordable", (0.8, 0.95, 0.97), 0.9, (20, 90), 0.8, 3.0, 6.0, 16),
}


@dataclass
class Estate:
    """One development: where, what, when, and how it fills.

    ``yield_scale`` multiplies the children of households moving in from outside and
    ``takeup`` the occupancy ramp (both 1 by default; the replication's uncertainty draws
    multiply them too).
    """

    name: str
    zone: int
    dwelling_type: DwellingType
    start_year: int
    n_years: int
    dwellings_per_year: float
    yield_scale: float = 1.0
    takeup: float = 1.0

    def handed_over(self, year: int) -> float:
        """Dwellings handed over up to and including ``year``."""
        years = min(max(year - self.start_year + 1, 0), self.n_years)
        return self.dwellings_per_year * years

    def delivered(self, year: int) -> float:
        """Dwellings handed over in ``year``."""
        return self.dwellings_per_year if self.start_year <= year < self.end_year else 0.0

    @property
    def end_year(self) -> int:
        """The year after the last handover."""
        return self.start_year + self.n_years

    def target_occupied(self, year: int) -> float:
        """Dwellings the ramp has occupied by ``year`` (each cohort from its handover)."""
        ramp = np.minimum(np.asarray(self.dwelling_type.ramp) * self.takeup, 1.0)
        total = 0.0
        for cohort in range(self.start_year, min(self.end_year, year + 1)):
            total += self.dwellings_per_year * ramp[min(year - cohort, ramp.size - 1)]
        return total


@dataclass
class Estates:
    """The city's and the scenario's developments, in a fixed order (``Persons.estate``)."""

    items: list[Estate] = field(default_factory=list)

    @classmethod
    def of(cls, city: Any, policies: list[Any]) -> Estates:
        """Sites of the city, then the ``housing_development`` policies in one of its zones.

        A site's ``occupancy`` is the settled share occupied and ``household_size`` the
        mean size of households from outside; optional columns ``dwelling_type``,
        ``inside_share`` and ``yield_scale`` default to the type's (``flat``) and 1.
        """
        pos = {z: i for i, z in enumerate(city.zones.index)}
        items = []
        sites = city.sites
        for sid, site in sites.iterrows():
            try:
                _check_site(sid, site)
            except GeodataError as exc:
                path = getattr(city, "path", None)
                raise (exc.located(str(path)) if path else exc) from None
            kind = _dwelling_type(
                site.get("dwelling_type"),
                inside_share=site.get("inside_share"),
                occupancy=site.get("occupancy"),
                household_size=site.get("household_size"),
            )
            items.append(
                Estate(
                    str(sid),
                    pos[site["zone_id"]],
                    kind,
                    int(site["start_year"]),
                    int(site["n_years"]),
                    float(site["dwellings_per_year"]),
                    _number(site.get("yield_scale"), 1.0),
                )
            )
        for pol in policies:
            if isinstance(pol, HousingDevelopment):
                zone = city.zone_at(*pol.city_xy(city.crs))
                if zone is None:
                    continue
                kind = _dwelling_type(
                    pol.dwelling_type,
                    inside_share=pol.inside_share,
                    ramp=pol.occupancy_ramp,
                    occupancy=pol.occupancy,
                    household_size=pol.household_size,
                )
                items.append(
                    Estate(
                        pol.id,
                        pos[zone],
                        kind,
                        pol.year,
                        pol.n_years,
                        float(pol.dwellings_per_year),
                        pol.yield_scale,
                    )
                )
        return cls(items)

    def __len__(self) -> int:
        return len(self.items)

    def delivered(self, year: int, n_zones: int) -> np.ndarray:
        """(Z,) dwellings handed over in ``year`` per zone index."""
        out = np.zeros(n_zones)
        for e in self.items:
            out[e.zone] += e.delivered(year)
        return out

    def market_stock(self, dwellings: np.ndarray, year: int, persons: Persons) -> np.ndarray:
        """Dwellings open to in-migrants and movers (Z,).

        The stock without the estates' dwellings nobody occupies yet (those fill along
        the ramp only).
        """
        out = np.asarray(dwellings, dtype=np.float64).copy()
        occupied = occupied_households(persons, len(self))
        for k, e in enumerate(self.items):
            out[e.zone] -= max(e.handed_over(year) - occupied[k], 0.0)
        return out

    def scaled(self, yield_scale: float, takeup: float) -> Estates:
        """The estates with their yield and take-up multiplied (a replication's draws)."""
        return Estates(
            [
                replace(e, yield_scale=e.yield_scale * yield_scale, takeup=e.takeup * takeup)
                for e in self.items
            ]
        )

    def moving_in(self, year: int, persons: Persons) -> np.ndarray:
        """int64 (E,) households still missing to each estate's ramp target in ``year``."""
        occupied = occupied_households(persons, len(self))
        target = np.array([e.target_occupied(year) for e in self.items])
        return np.maximum(np.rint(target - occupied), 0).astype(np.int64)

    def yield_frame(self, year: int, persons: Persons, grade: np.ndarray, n_primary: int) -> Any:
        """The rows of ``housing_yield.parquet`` of ``year`` (estates sold by then).

        Columns: site, year, years_since_handover (negative while only sold),
        dwellings_sold, dwellings_handed_over, dwellings_occupied, pupils_primary,
        pupils_junior, pupils_per_100_dwellings (primary + junior per 100 occupied).
        """
        n = len(self)
        occupied = occupied_households(persons, n)
        tagged = persons.estate >= 0
        est = persons.estate[tagged].astype(np.int64)
        g = grade[tagged]
        primary = np.bincount(est[(g >= 0) & (g < n_primary)], minlength=n)
        junior = np.bincount(est[g >= n_primary], minlength=n)
        rows = []
        for k, e in enumerate(self.items):
            since = year - e.start_year
            if since < -SALE_LEAD_YEARS:
                continue
            sold = e.handed_over(year + SALE_LEAD_YEARS)
            pupils = primary[k] + junior[k]
            rows.append(
                (
                    e.name,
                    year,
                    since,
                    sold,
                    e.handed_over(year),
                    int(occupied[k]),
                    int(primary[k]),
                    int(junior[k]),
                    100.0 * pupils / occupied[k] if occupied[k] > 0 else np.nan,
                )
            )
        return pd.DataFrame(rows, columns=list(YIELD_COLUMNS)).astype(_YIELD_DTYPES)


YIELD_COLUMNS = (
    "site",
    "year",
    "years_since_handover",
    "dwellings_sold",
    "dwellings_handed_over",
    "dwellings_occupied",
    "pupils_primary",
    "pupils_junior",
    "pupils_per_100_dwellings",
)
_YIELD_DTYPES = {
    "site": object,
    "year": np.int32,
    "years_since_handover": np.int32,
    "dwellings_sold": np.float64,
    "dwellings_handed_over": np.float64,
    "dwellings_occupied": np.int64,
    "pupils_primary": np.int64,
    "pupils_junior": np.int64,
    "pupils_per_100_dwellings": np.float64,
}


def summarise_yield(rows: pd.DataFrame) -> pd.DataFrame:
    """``housing_yield.parquet`` from every replication's rows (with ``replication``).

    One row per site × year: the counts are medians over replications,
    ``pupils_per_100_dwellings`` is recomputed from them, and ``p10`` / ``p90`` are the
    10th / 90th percentiles of the per-replication pupils per 100 dwellings.
    """
    keys = ["site", "year", "years_since_handover"]
    if rows.empty:
        return pd.DataFrame(columns=[*YIELD_COLUMNS, "p10", "p90"])
    grouped = rows.groupby(keys, sort=True)
    counts = [c for c in YIELD_COLUMNS if c not in (*keys, "pupils_per_100_dwellings")]
    out = grouped[counts].median()
    band = grouped["pupils_per_100_dwellings"].quantile([0.1, 0.9]).unstack()
    out[["p10", "p90"]] = band.to_numpy()
    out = out.reset_index()
    pupils = out["pupils_primary"] + out["pupils_junior"]
    occupied = out["dwellings_occupied"].to_numpy(dtype=np.float64)
    out["pupils_per_100_dwellings"] = np.divide(
        100.0 * pupils.to_numpy(dtype=np.float64),
        occupied,
        out=np.full(len(out), np.nan),
        where=occupied > 0,
    )
    return out[[*YIELD_COLUMNS, "p10", "p90"]].astype({"year": np.int32})


def _number(value: Any, default: float) -> float:
    return float(value) if _given(value) else default


_SITE_RANGES = {
    "inside_share": (0.0, 1.0),
    "occupancy": (0.0, 1.0),
    "household_size": (1.0, 10.0),
    "yield_scale": (0.0, 5.0),
}


def _check_site(sid: Any, site: pd.Series) -> None:
    """One clear GeodataError for a site's bad dwelling type or out-of-range value."""
    kind = site.get("dwelling_type")
    if _given(kind) and str(kind) not in DWELLING_TYPES:
        msg = (
            f"layer 'sites', site {sid}: dwelling_type = {kind!r}; "
            f"allowed: {', '.join(DWELLING_TYPES)}"
        )
        raise GeodataError(msg)
    for column, (lo, hi) in _SITE_RANGES.items():
        value = site.get(column)
        if not _given(value):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not lo <= number <= hi:
            msg = f"layer 'sites', site {sid}: {column} = {preview(value)}; allowed: {lo:g}..{hi:g}"
            raise GeodataError(msg)


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _dwelling_type(
    name: Any,
    *,
    inside_share: Any = None,
    ramp: list[float] | None = None,
    occupancy: Any = None,
    household_size: Any = None,
) -> DwellingType:
    """The preset of ``name`` (default ``flat``) with the values a site or policy gives.

    ``occupancy`` (the settled share) rescales the ramp so that its last value is it.
    """
    kind = DWELLING_TYPES[str(name) if _given(name) else "flat"]
    if _given(inside_share):
        kind = replace(kind, inside_share=float(inside_share))
    if ramp:
        kind = replace(kind, ramp=tuple(float(r) for r in ramp))
    if _given(occupancy):
        kind = replace(kind, ramp=tuple(r * float(occupancy) / kind.ramp[-1] for r in kind.ramp))
    if _given(household_size):
        kind = replace(kind, household_size=float(household_size))
    return kind


def occupied_households(persons: Persons, n_estates: int) -> np.ndarray:
    """int64 (E,) households living in each estate."""
    tagged = persons.estate >= 0
    hh = np.unique(np.stack([persons.household[tagged], persons.estate[tagged]]), axis=1)
    return np.bincount(hh[1].astype(np.int64), minlength=n_estates)


def outside_households(
    n_households: np.ndarray,
    estates: Estates,
    first_id: int,
    rng: np.random.Generator,
) -> Persons:
    """Households moving into estates from outside the city, by each type's mix.

    Parameters
    ----------
    n_households
        int (E,) households per estate.
    estates
        Their zones, dwelling types and yield scales.
    first_id
        First household id; ids are consecutive.
    rng
        Random generator.

    Returns
    -------
    Persons
        Heads, then partners, then children, tagged with their estate.
    """
    est = np.repeat(np.arange(len(estates)), n_households)
    k = est.size
    items = estates.items
    lo = np.array([e.dwelling_type.head_ages[0] for e in items])[est]
    hi = np.array([e.dwelling_type.head_ages[1] for e in items])[est]
    partner = np.array([e.dwelling_type.partner_share for e in items])[est]
    kids_mean = np.array([e.dwelling_type.children_mean * e.yield_scale for e in items])[est]
    age_mean = np.array([e.dwelling_type.child_age_mean for e in items])[est]
    age_max = np.array([e.dwelling_type.child_max_age for e in items])[est]
    zone = np.array([e.zone for e in items], dtype=np.int32)[est]
    ids = np.arange(first_id, first_id + k, dtype=np.int32)
    head_age = np.floor(lo + rng.random(k) * (hi - lo + 1)).astype(np.int64)
    head_sex = rng.integers(0, 2, size=k)
    couple = rng.random(k) < partner
    partner_age = np.maximum(head_age + np.rint(rng.normal(0.0, 3.0, k)), ADULT_AGE)[couple]
    n_kids = rng.poisson(kids_mean)
    kid_of = np.repeat(np.arange(k), n_kids)
    kid_cap = np.minimum(age_max[kid_of], head_age[kid_of] - 18)
    kid_age = np.minimum(np.floor(rng.exponential(age_mean[kid_of])), kid_cap)
    n = k + int(couple.sum()) + kid_of.size
    return Persons.new(
        np.concatenate([head_age, partner_age, kid_age]),
        np.concatenate([head_sex, 1 - head_sex[couple], rng.integers(0, 2, kid_of.size)]),
        np.concatenate([zone, zone[couple], zone[kid_of]]),
        np.concatenate([ids, ids[couple], ids[kid_of]]),
        birth_month=birth_months(n, rng),
        estate=np.concatenate([est, est[couple], est[kid_of]]),
    )


def move_in_from_inside(
    persons: Persons, n_households: np.ndarray, estates: Estates, rng: np.random.Generator
) -> np.ndarray:
    """Move existing households into estates (in place); returns int64 (E,) moved.

    Candidates are households outside every estate and outside the estate's zone whose
    oldest member is of the estate's dwelling type's ``head_ages``; each estate draws its
    households without replacement (seeded), fewer when candidates run out. A household
    that moves takes the estate's zone and index; the dwelling it leaves is vacant from
    next year.
    """
    moved = np.zeros(len(estates), dtype=np.int64)
    if not n_households.any() or not len(persons):
        return moved
    hh = persons.household
    n_ids = int(hh.max()) + 1
    oldest = np.zeros(n_ids, dtype=np.int64)
    np.maximum.at(oldest, hh, persons.age)
    tagged = np.zeros(n_ids, dtype=bool)
    tagged[hh[persons.estate >= 0]] = True
    home = np.full(n_ids, -1, dtype=np.int64)
    home[hh] = persons.zone
    free = ~tagged & (home >= 0)
    dest_zone = np.full(n_ids, -1, dtype=np.int64)
    dest_estate = np.full(n_ids, -1, dtype=np.int64)
    for k, e in enumerate(estates.items):
        lo, hi = e.dwelling_type.head_ages
        pool = np.flatnonzero(free & (home != e.zone) & (oldest >= lo) & (oldest <= hi))
        take = rng.choice(pool, size=min(int(n_households[k]), pool.size), replace=False)
        free[take] = False
        dest_zone[take] = e.zone
        dest_estate[take] = k
        moved[k] = take.size
    going = dest_zone[hh] >= 0
    persons.zone[going] = dest_zone[hh[going]]
    persons.estate[going] = dest_estate[hh[going]]
    return moved
