"""School enrollment: assign school-age children to schools and summarise the outcome.

Children of school age are read from ``Persons.age`` (completed years on 31 December,
i.e. calendar year minus birth year) and ``Persons.birth_month``: the age at the entry
cut-off date is ``age - 1`` for a child born in a month after the cut-off month, else
``age``; grade = age at the cut-off - entry_age + 1, kept when 1 <= grade <= primary +
junior grades. Each child lives at its home zone's centroid. Three assignment policies (kernels in
:mod:`sim.kernels.enrollment`):

``catchment``
    each child applies to its zone's catchment school (学区); catchment children are
    admitted first, in a seeded random order, up to capacity; the rest overflow to the
    nearest school of the level with room.
``nearest``
    as ``catchment`` with the nearest open school teaching the grade as first school.
``choice``
    multinomial logit on distance (km) and quality, utility
    ``choice_distance_km_weight * km + choice_quality_weight * quality``; sequential
    assignment in a seeded random order; a child whose first choice is full draws again
    among the schools with room.

Demand of a school × grade = children whose catchment / nearest / first choice it is;
overflow = those of them admitted elsewhere (or nowhere); unplaced = those of them
admitted nowhere (no school of the level with room in the grade anywhere in the city).
Adding places therefore lowers overflow and unplaced; the children counted in demand
stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.education.schools import SchoolSystem
from sim.errors import ScenarioError
from sim.kernels.enrollment import assign_choice, assign_with_overflow
from sim.runs.folder import ENROLLMENT_COLUMNS
from sim.scenario import Parameters

POLICIES: tuple[str, ...] = ("catchment", "nearest", "choice")


@dataclass
class EnrollmentResult:
    """Enrollment of one year, per school × grade index (arrays of shape (S, G)).

    Attributes
    ----------
    school_id
        School ids (row labels).
    teaches
        bool, the school is open and teaches the grade (the rows reported).
    demand, enrolled, capacity, overflow, unplaced_by_school
        int64 counts; see the module docstring (``unplaced_by_school`` is the per-school
        ``unplaced``).
    distance_km_sum
        float64, summed home-school distance of the enrolled children.
    unplaced
        int64 (G,), children with no school with room anywhere in the city (including
        those whose level has no open school, who count in no school's demand).
    """

    school_id: list[str]
    teaches: np.ndarray
    demand: np.ndarray
    enrolled: np.ndarray
    capacity: np.ndarray
    overflow: np.ndarray
    distance_km_sum: np.ndarray
    unplaced: np.ndarray
    unplaced_by_school: np.ndarray

    @property
    def utilisation(self) -> np.ndarray:
        """Enrolled over capacity (NaN where capacity is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.capacity > 0, self.enrolled / self.capacity, np.nan)

    @property
    def mean_distance_km(self) -> np.ndarray:
        """Mean home-school distance of enrolled children (NaN where none enrolled)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.enrolled > 0, self.distance_km_sum / self.enrolled, np.nan)

    def to_frame(self, year: int) -> pd.DataFrame:
        """One row for each open school and grade it teaches, sorted by school, grade.

        Columns: year, school, grade, demand, enrolled, capacity, utilisation, overflow,
        unplaced, mean_distance_km.
        """
        s, g = np.nonzero(self.teaches)
        ids = np.asarray(self.school_id, dtype=object)
        df = pd.DataFrame(
            {
                "year": np.full(s.size, year, dtype=np.int32),
                "school": ids[s],
                "grade": (g + 1).astype(np.int32),
                "demand": self.demand[s, g],
                "enrolled": self.enrolled[s, g],
                "capacity": self.capacity[s, g],
                "utilisation": self.utilisation[s, g],
                "overflow": self.overflow[s, g],
                "unplaced": self.unplaced_by_school[s, g],
                "mean_distance_km": self.mean_distance_km[s, g],
            }
        )
        return df.sort_values(["school", "grade"], kind="stable").reset_index(drop=True)


def school_age_grades(
    age: np.ndarray, system: SchoolSystem, birth_month: np.ndarray | None = None
) -> np.ndarray:
    """int32 grade index (0 = grade 1) per person; -1 when not of compulsory-school age.

    ``birth_month`` (1..12; None = all born in January) moves a child born after the
    cut-off month one grade down: it had not reached its age by the cut-off date.
    """
    at_cutoff = age.astype(np.int32)
    if birth_month is not None:
        at_cutoff = at_cutoff - (np.asarray(birth_month) > system.cutoff_month)
    grade = at_cutoff - system.entry_age
    return np.where((grade >= 0) & (grade < system.n_grades), grade, -1).astype(np.int32)


def _weight(params: Any, name: str) -> float:
    if params is None:
        params = Parameters()
    value = params[name] if isinstance(params, dict) else getattr(params, name)
    return float(value)


def _first_schools(
    policy: str, system: SchoolSystem, zone: np.ndarray, grade: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """First school per child for the fixed-first policies (catchment, nearest)."""
    if policy == "catchment":
        return system.catchment[system.grade_level()[grade], zone]
    rank = system.zone_rank()
    offered = capacity[rank] > 0  # (Z, S, G): the r-th nearest school teaches grade g
    nearest = rank[np.arange(rank.shape[0])[:, None], offered.argmax(axis=1)]  # (Z, G)
    nearest = np.where(offered.any(axis=1), nearest, -1).astype(np.int32)
    return nearest[zone, grade]


def assign_enrollment(
    persons: Any,
    system: SchoolSystem,
    policy: str,
    params: Any,
    rng: np.random.Generator,
) -> EnrollmentResult:
    """Assign every school-age child to a school and set ``persons.school``.

    Parameters
    ----------
    persons
        A :class:`sim.population.persons.Persons` (uses ``age``, ``birth_month``, ``zone``;
        writes ``school``, the admitted school index, -1 for persons not in compulsory
        school or unplaced, and ``first_school``, the catchment / nearest / first-choice
        school, -1 for persons not in compulsory school).
    system
        The school system of the year (policies already applied).
    policy
        ``"catchment"``, ``"nearest"`` or ``"choice"``.
    params
        The scenario :class:`sim.scenario.Parameters` (or a dict, or None for defaults);
        the choice policy reads ``choice_distance_km_weight`` and ``choice_quality_weight``.
    rng
        Seeded generator: the processing order and the logit draws come from it.

    Returns
    -------
    EnrollmentResult
    """
    if policy not in POLICIES:
        msg = f"enrollment_policy = {policy!r}: allowed: {', '.join(POLICIES)}"
        raise ScenarioError(msg)
    grade_all = school_age_grades(np.asarray(persons.age), system, persons.birth_month)
    idx = np.flatnonzero(grade_all >= 0)
    grade = grade_all[idx]
    zone = np.asarray(persons.zone)[idx].astype(np.int32)
    capacity = system.capacity()
    order = rng.permutation(idx.size)
    dist = system.distance_km()
    if policy == "choice":
        utility = (
            _weight(params, "choice_distance_km_weight") * dist
            + _weight(params, "choice_quality_weight") * system.quality[None, :]
        )
        weights = np.where(system.is_open[None, :], np.exp(utility - utility.max()), 0.0)
        u = rng.random((2, idx.size))
        first, school = assign_choice(zone, grade, order, capacity, weights, u[0], u[1])
    else:
        first = _first_schools(policy, system, zone, grade, capacity)
        school = assign_with_overflow(first, zone, grade, order, capacity, system.zone_rank())
    persons.school[:] = -1
    persons.school[idx] = school
    persons.first_school[:] = -1
    persons.first_school[idx] = first
    return _summarise(system, capacity, dist, zone, grade, first, school)


def _summarise(
    system: SchoolSystem,
    capacity: np.ndarray,
    dist: np.ndarray,
    zone: np.ndarray,
    grade: np.ndarray,
    first: np.ndarray,
    school: np.ndarray,
) -> EnrollmentResult:
    n_s, n_g = capacity.shape
    size = n_s * n_g

    def count(cell: np.ndarray, keep: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[keep]
        return np.bincount(cell[keep], weights=w, minlength=size).reshape(n_s, n_g)

    first_cell = first.astype(np.int64) * n_g + grade
    school_cell = school.astype(np.int64) * n_g + grade
    placed = school >= 0
    km = dist[zone, np.maximum(school, 0)]
    teaches = system.is_open[:, None] & system.teaches()
    return EnrollmentResult(
        school_id=list(system.school_id),
        teaches=teaches,
        demand=count(first_cell, first >= 0).astype(np.int64),
        enrolled=count(school_cell, placed).astype(np.int64),
        capacity=capacity.astype(np.int64),
        overflow=count(first_cell, (first >= 0) & (school != first)).astype(np.int64),
        distance_km_sum=count(school_cell, placed, km).astype(np.float64),
        unplaced=np.bincount(grade[~placed], minlength=n_g).astype(np.int64),
        unplaced_by_school=count(first_cell, (first >= 0) & ~placed).astype(np.int64),
    )


def summarise_replications(df: pd.DataFrame) -> pd.DataFrame:
    """Monte Carlo bands from per-replication enrollment rows.

    Parameters
    ----------
    df
        Rows of :meth:`EnrollmentResult.to_frame` for every replication, with a
        ``replication`` column: replication, year, school, grade, demand, enrolled,
        capacity, utilisation, overflow, mean_distance_km.

    Returns
    -------
    pandas.DataFrame
        One row per year × school × grade, sorted, with the columns of the run's
        ``enrollment.parquet``: year, school, grade, demand (= p50 of demand), capacity,
        utilisation (= demand / capacity), overflow, unplaced and mean_distance_km (p50
        over replications),
        and the demand quantiles p10, p50, p90 (80 % band) and p025, p975 (95 % band).
        Quantiles interpolate linearly between replications.
    """
    keys = ["year", "school", "grade"]
    grouped = df.groupby(keys, sort=True)
    quant = grouped["demand"].quantile([0.1, 0.5, 0.9, 0.025, 0.975]).unstack()
    quant.columns = ["p10", "p50", "p90", "p025", "p975"]
    medians = grouped[["capacity", "overflow", "unplaced", "mean_distance_km"]].median()
    out = medians.join(quant).reset_index()
    out["demand"] = out["p50"]
    out["capacity"] = out["capacity"].round().astype(np.int64)
    # The bureau's pressure figure: demand over places (> 1 means children overflow).
    cap = out["capacity"].to_numpy(dtype=np.float64)
    out["utilisation"] = np.divide(
        out["demand"].to_numpy(), cap, out=np.full_like(cap, np.nan), where=cap > 0
    )
    out["year"] = out["year"].astype(np.int32)
    out["grade"] = out["grade"].astype(np.int32)
    return out[list(ENROLLMENT_COLUMNS)].reset_index(drop=True)
