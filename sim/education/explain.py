"""Why a school's demand is what it is: the flows of children that add up to it.

Every simulated year after the base year, :class:`FlowRecorder` splits each school's
demand (children whose catchment / nearest / first-choice school it is, as in
``enrollment.parquet``) into

``carried_from_grade_below``
    last year's pupils of the school whose next grade it teaches (the stock);
``entry_cohort``
    children of the city entering the level: not of school age last year (births,
    ageing) or in the level below (primary to junior), wherever in the city they live;
``net_migration``
    children who arrived from outside the city into an existing dwelling (entering the
    level or not), minus pupils of the stock who left the city (or died);
``new_housing``
    children who moved into new housing this year (from outside or inside the city),
    entering the level or not;
``moves_within_city``
    children who moved home within the city into the school's demand, minus pupils of the
    stock who moved away;
``catchment_or_policy_change``
    children whose home did not change but whose first school did (a catchment edit, a new
    or closed school, a grade change, a new draw under school choice), in minus out;
``overflow``
    children who wanted the school last year but were seated elsewhere (back in its
    demand), minus pupils seated here last year by overflow whose demand is elsewhere.

The components of a school and year add up to its demand exactly, in every replication.
In the base year the whole demand is ``base_year``. :func:`explain` reads the run's
``enrollment_flows.parquet`` and reports them for one school and year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.education.enrollment import EnrollmentResult, school_age_grades
from sim.education.schools import SchoolSystem
from sim.errors import RunError, UsageError
from sim.kernels.demography import IN_MIGRANT, MOVED, NEW_HOUSING_INSIDE, NEW_HOUSING_OUTSIDE

COMPONENTS: tuple[str, ...] = (
    "carried_from_grade_below",
    "entry_cohort",
    "net_migration",
    "new_housing",
    "moves_within_city",
    "catchment_or_policy_change",
    "overflow",
)
BASE_YEAR = "base_year"
FLOW_COLUMNS: tuple[str, ...] = ("year", "school", "component", "pupils")
ADJUSTMENT = "median_vs_mean"
"""The part of the run's demand (median over replications) that the mean flows miss."""

_CARRIED, _ENTRY, _MIGRATION, _HOUSING, _MOVES, _CATCHMENT, _OVERFLOW = range(len(COMPONENTS))


class FlowRecorder:
    """Records one replication's demand components year after year."""

    def __init__(self) -> None:
        self._enrolled: np.ndarray | None = None

    def record(
        self,
        year: int,
        persons: Any,
        prev_school: np.ndarray,
        prev_first: np.ndarray,
        res: EnrollmentResult,
        system: SchoolSystem,
    ) -> pd.DataFrame:
        """The year's components per school (rows of :data:`FLOW_COLUMNS`).

        ``prev_school`` / ``prev_first`` are ``persons.school`` / ``persons.first_school``
        as they were before this year's assignment (last year's admitted and first
        school); ``res`` is this year's assignment.
        """
        n_s = len(res.school_id)
        ids = np.asarray(res.school_id, dtype=object)
        demand = res.demand.sum(axis=1)
        prev_enrolled, self._enrolled = self._enrolled, res.enrolled.copy()
        if prev_enrolled is None:
            return pd.DataFrame(
                {"year": year, "school": ids, "component": BASE_YEAR, "pupils": demand}
            )
        counts = np.zeros((n_s, len(COMPONENTS)), dtype=np.int64)
        first = np.asarray(persons.first_school)
        grade = school_age_grades(persons.age, system, persons.birth_month)
        arrived = np.asarray(persons.arrival_year) == year
        code = np.where(arrived, np.asarray(persons.arrival), -1)
        level = np.asarray(system.level)
        ps, pf = prev_school, prev_first

        def same_level(prev: np.ndarray, now: np.ndarray) -> np.ndarray:
            return (prev >= 0) & (level[np.maximum(prev, 0)] == level[np.maximum(now, 0)])

        # children in a school's demand now, by where they were last year
        kid = first >= 0
        s = first[kid]
        p_s, p_f, c = ps[kid], pf[kid], code[kid]
        comp = np.select(
            [
                p_s == s,
                np.isin(c, (NEW_HOUSING_OUTSIDE, NEW_HOUSING_INSIDE)),
                c == IN_MIGRANT,
                ~same_level(p_s, s) & ~same_level(p_f, s),
                c == MOVED,
                p_f == s,
            ],
            [_CARRIED, _HOUSING, _MIGRATION, _ENTRY, _MOVES, _OVERFLOW],
            _CATCHMENT,
        )
        inflow = comp != _CARRIED
        np.add.at(counts, (s[inflow], comp[inflow]), 1)
        # the stock: last year's pupils whose next grade the school teaches now
        teaches_prev = np.zeros((n_s, res.teaches.shape[1]), dtype=bool)
        teaches_prev[:, :-1] = res.teaches[:, 1:]
        stock = np.zeros(n_s, dtype=np.int64)
        rows = min(len(prev_enrolled), n_s)
        stock[:rows] = (prev_enrolled[:rows] * teaches_prev[:rows]).sum(axis=1)
        counts[:, _CARRIED] = stock
        # survivors of the stock: still here, or gone to another school's demand
        g_ok = grade >= 0
        survivor = (ps >= 0) & g_ok
        survivor[survivor] = res.teaches[ps[survivor], grade[survivor]]
        left = stock - np.bincount(ps[survivor], minlength=n_s)
        counts[:, _MIGRATION] -= left
        out = survivor & (first != ps)
        out_comp = np.select(
            [np.isin(code[out], (NEW_HOUSING_INSIDE, MOVED)), pf[out] == ps[out]],
            [_MOVES, _CATCHMENT],
            _OVERFLOW,
        )
        np.subtract.at(counts, (ps[out], out_comp), 1)
        frame = pd.DataFrame(counts, columns=list(COMPONENTS))
        frame.insert(0, "school", ids)
        long = frame.melt(id_vars="school", var_name="component", value_name="pupils")
        long.insert(0, "year", year)
        return long[list(FLOW_COLUMNS)]


def explain(run_dir: Path, school: str, year: int) -> dict[str, Any]:
    """``{"school", "year", "demand", "components": {name: pupils}, ...}`` of one run.

    ``demand`` is ``enrollment.parquet``'s demand summed over the school's grades (the
    median over replications per grade); the components are the mean over replications
    of the recorded flows, plus :data:`ADJUSTMENT` (median vs mean; 0 with one
    replication), so they add up to ``demand``.
    """
    path = run_dir / "enrollment_flows.parquet"
    if not path.is_file():
        msg = f"{run_dir}: this run has no enrollment_flows.parquet (made by an older version)"
        raise RunError(msg)
    enrollment = pd.read_parquet(run_dir / "enrollment.parquet")
    rows = enrollment[(enrollment["school"] == school) & (enrollment["year"] == year)]
    if rows.empty:
        _unknown(enrollment, school, year)
    flows = pd.read_parquet(path)
    mine = flows[(flows["school"] == school) & (flows["year"] == year)]
    n_rep = max(int(mine["replication"].nunique()), 1)
    mean = mine.groupby("component", sort=False)["pupils"].sum() / n_rep
    order = [c for c in (BASE_YEAR, *COMPONENTS) if c in mean.index]
    components = {c: round(float(mean[c]), 2) for c in order}
    demand = float(rows["demand"].sum())
    components[ADJUSTMENT] = round(demand - sum(components.values()), 2)
    return {
        "school": school,
        "year": int(year),
        "demand": demand,
        "components": components,
        "capacity": int(rows["capacity"].sum()),
        "overflow_out": float(rows["overflow"].sum()),
        "replications": n_rep,
    }


def _unknown(enrollment: pd.DataFrame, school: str, year: int) -> None:
    schools = sorted(enrollment["school"].unique())
    if school not in schools:
        shown = ", ".join(schools[:8]) + (", ..." if len(schools) > 8 else "")
        raise UsageError("unknown school in this run", field="school", value=school, allowed=shown)
    years = sorted(int(y) for y in enrollment.loc[enrollment["school"] == school, "year"].unique())
    allowed = f"{years[0]}..{years[-1]}" if years else "none"
    raise UsageError(
        "the run has no such year for this school", field="year", value=year, allowed=allowed
    )
