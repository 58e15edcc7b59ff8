"""Re-simulate a run's scenario (with extra policies) and score a school plan on it.

:func:`simulate_level` steps the scenario's replications without traffic (enrollment does
not depend on it) and keeps, per year, what planning needs for one school level: the
level's children by home zone, the catchments and each school's places. :func:`score`
turns the enrollment rows into the two figures a plan is judged on: seats short
(pupil-years) and the mean home-school distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.education.enrollment import school_age_grades, summarise_replications
from sim.education.schools import LEVELS
from sim.errors import UsageError
from sim.scenario import Scenario, scenario_from_dict


def level_index(level: str) -> int:
    """Index of ``level`` in :data:`sim.education.schools.LEVELS`; UsageError otherwise."""
    if level not in LEVELS:
        msg = f"unknown school level; allowed: {', '.join(LEVELS)}"
        raise UsageError(msg, field="level", value=level, allowed=", ".join(LEVELS))
    return LEVELS.index(level)


@dataclass
class Outcome:
    """One school level of a scenario, simulated year by year.

    Attributes
    ----------
    years
        Simulated years, shape ``(T,)``.
    demand
        Children of the level by replication, year and home zone ``(R, T, Z)``.
    catchment
        Catchment school index of each zone by year ``(T, Z)`` (replication 0).
    capacity
        Places of each school (all grades) by year ``(T, S)``; S counts every school of the
        final system, open or not.
    school_id, level, x, y
        The final school system's ids, level index and position (city CRS metres).
    zone_x, zone_y
        Zone centroids (city CRS metres).
    rows
        Enrollment rows of every replication (``EnrollmentResult.to_frame`` plus
        ``replication``).
    """

    years: np.ndarray
    demand: np.ndarray
    catchment: np.ndarray
    capacity: np.ndarray
    school_id: list[str]
    level: np.ndarray
    x: np.ndarray
    y: np.ndarray
    zone_x: np.ndarray
    zone_y: np.ndarray
    rows: pd.DataFrame = field(repr=False)


def with_policies(scenario: Scenario, policies: list[dict[str, Any]]) -> Scenario:
    """The scenario with ``policies`` (plain dicts, as in a YAML file) appended, validated."""
    data = scenario.model_dump(mode="json")
    data["policies"] = [*data.get("policies", []), *policies]
    return scenario_from_dict(data, source=f"{scenario.name} with the plan's policies")


def simulate_level(scenario: Scenario, city: Any, level: str) -> Outcome:
    """Step every replication of ``scenario`` and keep the level's zone demand and rows."""
    from sim.model import CityModel
    from sim.runs.run import replication_seeds

    lvl = level_index(level)
    demand, rows = [], []
    catchment: list[np.ndarray] = []
    capacity: list[np.ndarray] = []
    model = None
    for rep, seed in enumerate(replication_seeds(scenario.seed, scenario.replications)):
        model = CityModel(scenario, city, rng=seed, traffic=False)
        per_year = []
        for _ in range(scenario.years):
            model.step()
            system = model.schools
            persons = model.persons
            grade = school_age_grades(persons.age, system, getattr(persons, "birth_month", None))
            child = grade >= 0
            child[child] = system.grade_level()[grade[child]] == lvl
            per_year.append(np.bincount(persons.zone[child], minlength=model.n_zones))
            if rep == 0:
                catchment.append(system.catchment[lvl].copy())
                capacity.append(system.capacity().sum(axis=1))
        demand.append(np.array(per_year))
        rows.append(pd.concat(model.enrollment_rows, ignore_index=True).assign(replication=rep))
    assert model is not None
    n_s = len(model.schools.school_id)
    system = model.schools
    return Outcome(
        years=np.arange(scenario.start_year, scenario.start_year + scenario.years),
        demand=np.array(demand, dtype=np.float64),
        catchment=np.array(catchment),
        capacity=np.array([np.pad(c, (0, n_s - len(c))) for c in capacity], dtype=np.float64),
        school_id=list(system.school_id),
        level=np.asarray(system.level),
        x=np.asarray(system.x, dtype=np.float64),
        y=np.asarray(system.y, dtype=np.float64),
        zone_x=np.asarray(system.zone_x, dtype=np.float64),
        zone_y=np.asarray(system.zone_y, dtype=np.float64),
        rows=pd.concat(rows, ignore_index=True),
    )


def seats_short(enrollment: pd.DataFrame, schools: set[str]) -> float:
    """Σ over years and ``schools`` of max(0, demand - capacity), summed over grades.

    ``enrollment`` has the columns of ``enrollment.parquet`` (demand = p50 over
    replications); the result is in pupil-years.
    """
    rows = enrollment[enrollment["school"].isin(schools)]
    per = rows.groupby(["year", "school"])[["demand", "capacity"]].sum()
    return float(np.maximum(per["demand"] - per["capacity"], 0.0).sum())


def score(outcome: Outcome, level: str) -> dict[str, float]:
    """``seats_short`` (pupil-years) and ``mean_km`` (enrolled pupils) of the level."""
    lvl = level_index(level)
    ids = {s for s, v in zip(outcome.school_id, outcome.level, strict=True) if v == lvl}
    rows = outcome.rows
    at = rows[rows["school"].isin(ids) & (rows["enrolled"] > 0)]
    km = float((at["enrolled"] * at["mean_distance_km"]).sum() / max(at["enrolled"].sum(), 1))
    return {
        "seats_short": seats_short(summarise_replications(rows), ids),
        "mean_km": round(km, 4),
    }
