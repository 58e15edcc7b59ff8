"""Running a scenario: every replication, then the run folder, written atomically.

A run folder ``<runs>/<scenario>-<hash>/`` holds ``manifest.json``, ``kpis.parquet``,
``kpis_summary.parquet``, ``enrollment.parquet``, ``links.parquet``, ``schools.parquet``,
``catchments.parquet``, ``zones.gpkg`` and ``figures/``. It is written to a temporary
folder beside it and renamed when complete, so a crash leaves no half run. Same scenario
and seed give byte-identical tables.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__, settings
from sim.runs.catalog import Catalog
from sim.errors import CitySandboxError, GeodataError, RunError, ScenarioError, UsageError
from sim.scenario import Scenario, load_scenario

#: Relative cost of a traffic replication-year against a demography-only one (progress).
TRAFFIC_WEIGHT = 6.0
RUN_FILES = (
    "manifest.json",
    "kpis.parquet",
    "kpis_summary.parquet",
    "enrollment.parquet",
    "links.parquet",
    "schools.parquet",
    "catchments.parquet",
    "zones.gpkg",
)


@dataclass
class RunProgress:
    """Where a run is: stage, year, replication and the fraction done."""

    stage: str
    year: int
    replication: int
    fraction: float
    message: str


class RunCancelled(CitySandboxError):
    """The run was cancelled; nothing was written."""


@dataclass
class RunData:
    """The tables of a finished run folder."""

    path: Path
    manifest: dict[str, Any]
    kpis: pd.DataFrame
    kpis_summary: pd.DataFrame
    enrollment: pd.DataFrame
    links: pd.DataFrame
    schools: pd.DataFrame
    catchments: pd.DataFrame
    zones: Any


def load_for_run(
    path: Path,
    *,
    seed: int | None = None,
    years: int | None = None,
    replications: int | None = None,
) -> Scenario:
    """Load a scenario, apply command-line overrides and check it against its city."""
    from sim.scenario import scenario_from_dict
    from sim.validate import check_scenario

    overrides = {"seed": seed, "years": years, "replications": replications}
    for flag, value in overrides.items():
        if value is not None and value < (0 if flag == "seed" else 1):
            msg = f"--{flag} {value}: must be {'>= 0' if flag == 'seed' else '>= 1'}"
            raise UsageError(msg)
    scenario = load_scenario(path)
    changed = {k: v for k, v in overrides.items() if v is not None}
    if changed:
        data = scenario.model_dump(mode="json") | changed
        scenario = scenario_from_dict(data, source=f"{path} (with command-line overrides)")
    try:
        check_scenario(scenario)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except GeodataError as exc:
        raise GeodataError(f"{path}: city: {exc}") from None
    return scenario


def replication_seeds(seed: int, n: int) -> list[int]:
    """Independent, reproducible seeds of the replications of a scenario seed."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


class _Progress:
    """Turns model stage callbacks into :class:`RunProgress` and checks for cancel."""

    def __init__(
        self,
        scenario: Scenario,
        callback: Callable[[RunProgress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        self.scenario = scenario
        self.callback = callback
        self.cancel = cancel
        self.total = scenario.years * (TRAFFIC_WEIGHT + scenario.replications - 1) + 1
        self.done = 0.0
        self.replication = 0
        self._year: int | None = None

    def stage(self, year: int, stage: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled("run cancelled; nothing was written")
        if stage != "synthesis" and year != self._year:
            self.done += TRAFFIC_WEIGHT if self.replication == 0 else 1.0
        self._year = year if stage != "synthesis" else None
        self.emit(stage, year)

    def emit(self, stage: str, year: int) -> None:
        if self.callback is None:
            return
        n = self.scenario.replications
        fraction = min(self.done / self.total, 1.0)
        message = f"{year} · replication {self.replication + 1}/{n} · {stage}"
        self.callback(RunProgress(stage, year, self.replication, fraction, message))


def run_scenario(
    scenario: Scenario,
    runs_folder: Path | None = None,
    *,
    progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Simulate every year × replication and write the run folder atomically.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`load_for_run`).
    runs_folder
        Parent folder of run folders (default :data:`sim.settings.runs_folder`).
    progress
        Called with a :class:`RunProgress` at every stage of every year.
    cancel
        When set, the run stops at the next stage and raises :class:`RunCancelled`.

    Returns
    -------
    Path
        The run folder ``<runs_folder>/<scenario>-<hash>``.
    """
    from sim.city import load_city
    from sim.model import run_replication

    runs_folder = Path(runs_folder or settings.runs_folder)
    t0 = time.perf_counter()
    city = load_city(scenario.city)
    tracker = _Progress(scenario, progress, cancel)
    models = []
    timings: dict[str, float] = {"load_city": time.perf_counter() - t0}
    for rep, seed in enumerate(replication_seeds(scenario.seed, scenario.replications)):
        tracker.replication = rep
        t = time.perf_counter()
        models.append(
            run_replication(scenario, city, seed, traffic=rep == 0, on_stage=tracker.stage)
        )
        timings[f"replication_{rep}"] = time.perf_counter() - t
    tracker.stage(scenario.end_year, "writing")
    tables = collect_tables(models)
    timings["total"] = time.perf_counter() - t0
    manifest = build_manifest(scenario, city, tables, timings)
    run_dir = write_run_folder(runs_folder, scenario.run_id(), tables, manifest, city, models[0])
    Catalog(runs_folder).register(run_dir, manifest)
    tracker.done = tracker.total
    tracker.emit("done", scenario.end_year)
    return run_dir


def collect_tables(models: list[Any]) -> dict[str, pd.DataFrame]:
    """The run's tables from the finished replications (the first one carries traffic)."""
    from sim.education.enrollment import summarise_replications

    kpis = pd.concat(
        [m.kpi_frame().assign(replication=np.int32(r)) for r, m in enumerate(models)],
        ignore_index=True,
    )
    kpis = kpis[
        ["year", "replication", *[c for c in kpis.columns if c not in ("year", "replication")]]
    ]
    summary = kpi_summary(kpis)
    enrollment = pd.concat(
        [
            pd.concat(m.enrollment_rows, ignore_index=True).assign(replication=np.int32(r))
            for r, m in enumerate(models)
        ],
        ignore_index=True,
    )
    first = models[0]
    links = pd.concat(first.link_rows, ignore_index=True) if first.link_rows else pd.DataFrame()
    return {
        "kpis": kpis,
        "kpis_summary": summary,
        "enrollment": summarise_replications(enrollment),
        "links": links,
        "schools": first.schools.schools_frame(),
        "catchments": pd.concat(first.catchment_rows, ignore_index=True),
    }


def kpi_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """p10/p50/p90 over replications of every KPI and year (long format)."""
    long = kpis.melt(id_vars=["year", "replication"], var_name="kpi", value_name="value")
    grouped = long.groupby(["year", "kpi"], sort=True)["value"]
    out = grouped.quantile([0.1, 0.5, 0.9]).unstack()
    out.columns = ["p10", "p50", "p90"]
    return out.reset_index()


def build_manifest(
    scenario: Scenario, city: Any, tables: dict[str, pd.DataFrame], timings: dict[str, float]
) -> dict[str, Any]:
    """The run's manifest: scenario, seed, versions, timings and final-year KPIs."""
    import mesa
    import numba

    summary = tables["kpis_summary"]
    final = summary[summary["year"] == scenario.end_year].set_index("kpi")["p50"]
    return {
        "run_id": scenario.run_id(),
        "scenario": scenario.model_dump(mode="json"),
        "city": str(scenario.city),
        "city_name": city.name,
        "crs": city.crs.to_string(),
        "seed": scenario.seed,
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "years": scenario.years,
        "replications": scenario.replications,
        "versions": {
            "citysandbox": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "mesa": mesa.__version__,
            "numba": numba.__version__,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "school_entry_age": int(city.settings.get("school_entry_age", 6)),
        "entry_cutoff": str(city.settings.get("entry_cutoff", "08-31")),
        "kpi_names": sorted(summary["kpi"].unique().tolist()),
        "final_kpis": {k: (None if pd.isna(v) else float(v)) for k, v in final.items()},
    }


def write_run_folder(
    runs_folder: Path,
    run_id: str,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    city: Any,
    first_model: Any,
) -> Path:
    """Write every file into a temporary folder, then rename it into place."""
    from sim.runs.figures import write_figures
    from sim.runs.outputs import zones_layer

    runs_folder.mkdir(parents=True, exist_ok=True)
    final = runs_folder / run_id
    tmp = runs_folder / f".tmp-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, table in tables.items():
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        zones_layer(city, first_model).to_file(tmp / "zones.gpkg", layer="zones", driver="GPKG")
        write_figures(tmp / "figures", tables, city, manifest)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        _replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _replace(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``, replacing an older run of the same id."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_run(run_dir: Path | str) -> RunData:
    """Read a finished run folder.

    Raises
    ------
    RunError
        The folder is not a complete run folder, or one of its files is unreadable.
    """
    import geopandas as gpd

    run_dir = Path(run_dir)
    missing = [f for f in RUN_FILES if not (run_dir / f).exists()]
    if missing:
        msg = f"{run_dir}: not a complete run folder (missing {', '.join(missing)})"
        raise RunError(msg)
    try:
        tables = {
            f.removesuffix(".parquet"): pd.read_parquet(run_dir / f)
            for f in RUN_FILES
            if f.endswith(".parquet")
        }
        return RunData(
            path=run_dir,
            manifest=json.loads((run_dir / "manifest.json").read_text()),
            zones=gpd.read_file(run_dir / "zones.gpkg", layer="zones"),
            **tables,
        )
    except (OSError, ValueError, RuntimeError) as exc:  # pyarrow, json, pyogrio read errors
        msg = f"{run_dir}: a run file is unreadable ({exc})"
        raise RunError(msg) from None


def resolve_run(ref: str | Path, runs_folder: Path | None = None) -> Path:
    """A run folder from a path or a scenario name (its newest run in the catalog)."""
    path = Path(ref)
    if (path / "manifest.json").exists():
        return path
    found = Catalog(runs_folder).latest(str(ref))
    if found is None:
        msg = (
            f"{ref}: not a run folder and no run of a scenario named '{ref}' in "
            f"{Path(runs_folder or settings.runs_folder) / settings.catalog_name}"
        )
        raise RunError(msg)
    return found
