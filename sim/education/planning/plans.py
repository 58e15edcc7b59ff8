"""From a finished run to a school plan: ``site-schools`` and ``optimise-catchments``.

Both re-simulate the run's scenario (:mod:`sim.education.planning.simulate`) to get the
level's children by home zone and year, solve their MILP, write the plan as scenario
policies (``new_school`` / ``catchment_edit``) and, with ``verify``, simulate the scenario
again with the plan and with a simple rule of thumb, so every reported figure is
simulated, not the optimiser's own estimate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.education.planning import catchments, siting
from sim.education.planning.simulate import (
    Outcome,
    level_index,
    score,
    simulate_level,
    with_policies,
)
from sim.errors import InputDataError, UsageError
from sim.scenario import Scenario, scenario_from_dict

ROBUST = ("mean", "p90")


def run_scenario_and_city(run_dir: Path) -> tuple[Scenario, Any]:
    """The scenario a run folder was made from, validated, and its loaded city."""
    from sim.runs.folder import read_manifest
    from sim.validate import check_scenario

    manifest = read_manifest(run_dir, ("scenario",))
    scenario = scenario_from_dict(manifest["scenario"], source=f"{run_dir}/manifest.json")
    return scenario, check_scenario(scenario)


def plan_year(scenario: Scenario, year: int | None) -> int:
    """The year a plan takes effect: ``year``, or the year after the base year."""
    first = scenario.start_year + 1
    last = scenario.start_year + scenario.years - 1
    year = first if year is None else year
    if not first <= year <= last:
        msg = f"a plan must take effect in a simulated year after the base year: {first}..{last}"
        raise UsageError(msg, field="year", value=year, allowed=f"{first}..{last}")
    return year


def zone_demand(outcome: Outcome, years: np.ndarray, robust: str) -> np.ndarray:
    """Children by plan year and zone: mean over replications, or their p90."""
    if robust not in ROBUST:
        msg = "unknown robustness; allowed: p90 (or leave it out for the mean)"
        raise UsageError(msg, field="robust", value=robust, allowed="p90")
    d = outcome.demand[:, np.isin(outcome.years, years)]
    return np.quantile(d, 0.9, axis=0) if robust == "p90" else d.mean(axis=0)


def _km(zx: np.ndarray, zy: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.hypot(zx[:, None] - x[None, :], zy[:, None] - y[None, :]) / 1000.0


def candidates(city: Any, path: Path | None) -> pd.DataFrame:
    """Candidate sites (``id, x, y`` in the city CRS).

    Default: the city's development sites and every zone centroid. A CSV has ``x,y``
    (city CRS metres) or ``lon,lat`` (degrees), and optionally ``id``.
    """
    if path is None:
        sites = city.sites
        cent = city.zones.geometry.centroid
        return pd.DataFrame(
            {
                "id": [*map(str, sites.index), *(f"zone {z}" for z in city.zones.index)],
                "x": [*sites.geometry.x, *cent.x],
                "y": [*sites.geometry.y, *cent.y],
            }
        )
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{path}: cannot read the candidates CSV ({exc})"
        raise InputDataError(msg) from None
    cols = {c.strip().lower(): c for c in df.columns}
    if {"x", "y"} <= set(cols):
        x, y = df[cols["x"]], df[cols["y"]]
    elif {"lon", "lat"} <= set(cols):
        import geopandas as gpd

        pts = gpd.GeoSeries(gpd.points_from_xy(df[cols["lon"]], df[cols["lat"]]), crs=4326)
        pts = pts.to_crs(city.crs)
        x, y = pts.x, pts.y
    else:
        msg = f"{path}: the candidates CSV needs columns x,y (city CRS metres) or lon,lat"
        raise InputDataError(msg)
    x, y = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any() or df.empty:
        line = int(np.flatnonzero(bad)[0]) + 2 if bad.any() else 2
        msg = f"{path}: line {line}: a candidate needs numeric coordinates"
        raise InputDataError(msg)
    ids = df[cols["id"]].astype(str) if "id" in cols else [f"C{i + 1}" for i in range(len(df))]
    return pd.DataFrame({"id": list(ids), "x": x.to_numpy(), "y": y.to_numpy()})


def _level_schools(outcome: Outcome, lvl: int, years: np.ndarray) -> np.ndarray:
    """Schools of the level open (with places) in every plan year."""
    t = np.isin(outcome.years, years)
    return np.flatnonzero((outcome.level == lvl) & (outcome.capacity[t] > 0).all(axis=0))


def _verify(
    scenario: Scenario, city: Any, level: str, plan: list[dict], rule: list[dict], base: Outcome
) -> dict[str, Any]:
    from sim.validate import check_scenario

    b = score(base, level)
    out = {"seats_short_baseline": b["seats_short"], "mean_km_baseline": b["mean_km"]}
    for name, policies in (("plan", plan), ("heuristic", rule)):
        sc = with_policies(scenario, policies)
        check_scenario(sc, city)
        s = score(simulate_level(sc, city, level), level)
        out[f"seats_short_{name}"] = s["seats_short"]
        out[f"mean_km_{name}"] = s["mean_km"]
    return out


def siting_problem(
    base: Outcome,
    city: Any,
    level: str,
    year: int,
    cand: pd.DataFrame,
    budget: int,
    *,
    robust: str = "mean",
    max_km: float | None = None,
) -> siting.SitingProblem:
    """The siting MILP's data from a simulated level, for plans taking effect in ``year``."""
    from sim.education.schools import SchoolSystem

    lvl = level_index(level)
    years = base.years[base.years >= year]
    t = np.isin(base.years, years)
    schools = _level_schools(base, lvl, years)
    pos = {s: i for i, s in enumerate(schools)}
    cur = np.vectorize(lambda s: pos.get(int(s), -1))(base.catchment[t])
    system = SchoolSystem.from_city(city)
    grades = system.primary_grades if lvl == 0 else system.junior_grades
    class_size = int(system.default_class_size[lvl])
    return siting.SitingProblem(
        demand=zone_demand(base, years, robust),
        current=cur,
        capacity=base.capacity[t][:, schools],
        km_current=_km(base.zone_x, base.zone_y, base.x[schools], base.y[schools]),
        km_candidate=_km(base.zone_x, base.zone_y, cand["x"].to_numpy(), cand["y"].to_numpy()),
        places=np.array(siting.SIZES, dtype=float) * class_size * grades,
        budget=budget,
        max_km=max_km,
    )


def site_schools(
    run_dir: Path,
    level: str,
    budget: int,
    *,
    candidates_file: Path | None = None,
    robust: str = "mean",
    max_km: float | None = None,
    year: int | None = None,
    verify: bool = False,
    time_limit: float = 60.0,
) -> dict[str, Any]:
    """Choose up to ``budget`` new schools of ``level``; the ``site-schools`` JSON object.

    The heuristic of ``verify`` puts the same number of schools, of the plan's sizes, at
    the development sites with the most dwellings (each takes the zones it becomes the
    nearest school for).
    """
    if budget < 1:
        raise UsageError("must be >= 1", field="budget", value=budget, allowed=">= 1")
    lvl = level_index(level)
    scenario, city = run_scenario_and_city(run_dir)
    year = plan_year(scenario, year)
    base = simulate_level(scenario, city, level)
    cand = candidates(city, candidates_file)
    problem = siting_problem(base, city, level, year, cand, budget, robust=robust, max_km=max_km)
    places = problem.places
    t0 = time.perf_counter()
    sol = siting.solve(problem, time_limit=time_limit)
    seconds = time.perf_counter() - t0
    zone_ids = np.asarray(city.zones.index)
    prefix = "NP" if lvl == 0 else "NJ"
    ids = fresh_ids(prefix, 2 * len(sol.opened), set(base.school_id))
    plan = [
        {
            "type": "new_school",
            "id": ids[i],
            "name": f"Planned {level} school {i + 1} ({cand['id'].iloc[j]})",
            "level": level,
            "xy": [round(float(cand["x"].iloc[j]), 1), round(float(cand["y"].iloc[j]), 1)],
            "classes_per_grade": int(siting.SIZES[k]),
            "year": int(year),
            "zones": [int(zone_ids[z]) for z in zones],
        }
        for i, ((j, k), zones) in enumerate(zip(sol.opened, sol.zones, strict=True))
    ]
    sites = city.sites.assign(total=city.sites["dwellings_per_year"] * city.sites["n_years"])
    largest = sites.sort_values("total", ascending=False).head(len(plan))
    rule = [
        {
            "type": "new_school",
            "id": ids[len(plan) + i],
            "name": f"Rule-of-thumb {level} school at {sid}",
            "level": level,
            "xy": [round(float(g.x), 1), round(float(g.y), 1)],
            "classes_per_grade": p["classes_per_grade"],
            "year": int(year),
        }
        for i, (sid, g, p) in enumerate(zip(largest.index, largest.geometry, plan, strict=False))
    ]
    out: dict[str, Any] = {
        "level": level,
        "budget": budget,
        "year": int(year),
        "robust": robust,
        "n_candidates": len(cand),
        "sites": [
            {
                "id": p["id"],
                "candidate": str(cand["id"].iloc[j]),
                "xy": p["xy"],
                "classes_per_grade": p["classes_per_grade"],
                "places": int(places[k]),
                "zones": p["zones"],
            }
            for p, (j, k) in zip(plan, sol.opened, strict=True)
        ],
        "objective": round(sol.objective, 3),
        "optimality_gap": sol.gap,
        "solve_seconds": round(seconds, 3),
    }
    b = score(base, level)
    out |= {"seats_short_baseline": b["seats_short"], "mean_km_baseline": b["mean_km"]}
    if verify and plan:
        out |= _verify(scenario, city, level, plan, rule, base)
    elif verify:  # nothing worth building: the plan is the baseline
        out |= {"seats_short_plan": b["seats_short"], "mean_km_plan": b["mean_km"]}
        out |= {"seats_short_heuristic": None, "mean_km_heuristic": None}
    out["policies"] = plan
    return out


def fresh_ids(prefix: str, n: int, taken: set[str]) -> list[str]:
    """``n`` school ids ``<prefix>1, <prefix>2, ...`` that no school of the run has."""
    out: list[str] = []
    k = 1
    while len(out) < n:
        if f"{prefix}{k}" not in taken:
            out.append(f"{prefix}{k}")
        k += 1
    return out


def optimise_catchments(
    run_dir: Path,
    level: str,
    *,
    contiguous: bool = False,
    max_km: float | None = None,
    year: int | None = None,
    verify: bool = False,
    time_limit: float = 60.0,
) -> dict[str, Any]:
    """Redraw the level's catchments; the ``optimise-catchments`` JSON object.

    The heuristic of ``verify`` gives every zone its nearest open school of the level.
    """
    lvl = level_index(level)
    scenario, city = run_scenario_and_city(run_dir)
    year = plan_year(scenario, year)
    base = simulate_level(scenario, city, level)
    years = base.years[base.years >= year]
    t = np.isin(base.years, years)
    schools = _level_schools(base, lvl, years)
    pos = {s: i for i, s in enumerate(schools)}
    current = np.array([pos.get(int(s), -1) for s in base.catchment[t][0]])
    km = _km(base.zone_x, base.zone_y, base.x[schools], base.y[schools])
    problem = catchments.CatchmentProblem(
        demand=zone_demand(base, years, "mean"),
        current=current,
        capacity=base.capacity[t][:, schools],
        km=km,
        adjacency=catchments.adjacency(city.zones.geometry) if contiguous else None,
        max_km=max_km,
    )
    t0 = time.perf_counter()
    sol = catchments.solve(problem, time_limit=time_limit)
    seconds = time.perf_counter() - t0
    plan = edits(sol.school, current, schools, base, city, year)
    rule = edits(np.argmin(km, axis=1), current, schools, base, city, year)
    out: dict[str, Any] = {
        "level": level,
        "year": int(year),
        "contiguous": contiguous,
        "zones_moved": int(((sol.school != current) & (current >= 0)).sum()),
        "objective": round(sol.objective, 3),
        "optimality_gap": sol.gap,
        "solve_seconds": round(seconds, 3),
    }
    b = score(base, level)
    out |= {"seats_short_baseline": b["seats_short"], "mean_km_baseline": b["mean_km"]}
    if verify:
        out |= _verify(scenario, city, level, plan, rule, base)
    out["policies"] = plan
    return out


def edits(
    school: np.ndarray,
    current: np.ndarray,
    schools: np.ndarray,
    base: Outcome,
    city: Any,
    year: int,
) -> list[dict[str, Any]]:
    """``catchment_edit`` policies that move the zones whose school changes."""
    zone_ids = np.asarray(city.zones.index)
    moved = (school != current) & (school >= 0)
    out = []
    for s in np.unique(school[moved]):
        zones = [int(z) for z in zone_ids[moved & (school == s)]]
        sid = base.school_id[int(schools[s])]
        out.append({"type": "catchment_edit", "school": sid, "zones": zones, "year": int(year)})
    return out


def write_plan(path: Path, policies: list[dict[str, Any]], what: str) -> None:
    """Write ``policies:`` as YAML (ready to paste into, or ``extends`` from, a scenario)."""
    import yaml

    text = f"# {what}\n" + yaml.safe_dump(
        {"policies": policies}, sort_keys=False, allow_unicode=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
