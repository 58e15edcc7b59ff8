"""Running a scenario: every replication, then the run folder (see :mod:`sim.runs.folder`).

The output folder is checked before the simulation starts, so a run that could not be
saved fails at once. Same scenario and seed give byte-identical tables.
"""

from __future__ import annotations

import logging
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import __version__, settings
from sim.errors import GeodataError, RunCancelled, ScenarioError, UsageError
from sim.outputs import check_output_folder
from sim.runs.catalog import Catalog
from sim.runs.folder import check_run_name, write_run_folder
from sim.scenario import Scenario, load_scenario, scenario_from_dict
from sim.seeds import replication_seeds

if TYPE_CHECKING:
    from sim.city import City
    from sim.model import CityModel

log = logging.getLogger(__name__)

#: Relative cost of a traffic replication-year against a demography-only one (progress).
TRAFFIC_WEIGHT = 6.0


@dataclass
class RunProgress:
    """Where a run is: stage, year, replication and the fraction done."""

    stage: str
    year: int
    replication: int
    fraction: float
    message: str


def prepare_run(
    path: Path,
    *,
    seed: int | None = None,
    years: int | None = None,
    replications: int | None = None,
) -> tuple[Scenario, City]:
    """Load a scenario, apply overrides and check it against its city, loaded once.

    Parameters
    ----------
    path
        The scenario file.
    seed, years, replications
        Replace the scenario's values when given.

    Returns
    -------
    tuple
        The validated scenario and its loaded city (pass it to :func:`run_scenario`).

    Raises
    ------
    UsageError
        An override is out of range (``field`` is its name).
    ScenarioError, GeodataError
        The scenario or its city is invalid (the message starts with ``path``).
    """
    from sim.validate import check_scenario

    overrides = {"seed": seed, "years": years, "replications": replications}
    for name, value in overrides.items():
        least = 0 if name == "seed" else 1
        if value is not None and value < least:
            raise UsageError(f"must be >= {least}", field=name, value=value, allowed=f">= {least}")
    scenario = load_scenario(path)
    changed = {k: v for k, v in overrides.items() if v is not None}
    if changed:
        data = scenario.model_dump(mode="json") | changed
        scenario = scenario_from_dict(data, source=f"{path} (with command-line overrides)")
    try:
        city = check_scenario(scenario)
    except GeodataError as exc:
        raise exc.located(f"{path}: city") from None
    except ScenarioError as exc:
        raise exc.located(str(path)) from None
    return scenario, city


def load_for_run(
    path: Path,
    *,
    seed: int | None = None,
    years: int | None = None,
    replications: int | None = None,
) -> Scenario:
    """The scenario of :func:`prepare_run` alone (its city is checked, then dropped)."""
    return prepare_run(path, seed=seed, years=years, replications=replications)[0]


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
        self.traffic_reps = traffic_replications(scenario)
        reps = scenario.replications
        self.total = scenario.years * (
            TRAFFIC_WEIGHT * self.traffic_reps + reps - self.traffic_reps
        )
        self.total += 1
        self.done = 0.0
        self.replication = 0
        self._year: int | None = None

    def stage(self, year: int, stage: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled("run cancelled; nothing was written")
        if stage != "synthesis" and year != self._year:
            self.done += TRAFFIC_WEIGHT if self.replication < self.traffic_reps else 1.0
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
    city: City | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Simulate every year × replication and write the run folder atomically.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`prepare_run`).
    runs_folder
        Parent folder of run folders (default :data:`sim.settings.runs_folder`).
    city
        The scenario's city as :func:`prepare_run` loaded it; loaded here when None.
    progress
        Called with a :class:`RunProgress` at every stage of every year.
    cancel
        When set, the run stops at the next stage and raises :class:`RunCancelled`.

    Returns
    -------
    Path
        The run folder ``<runs_folder>/<scenario>-<hash>``.

    Raises
    ------
    OutputError
        Before simulating: ``runs_folder`` is not a writable folder with room, or the
        run id is too long for a folder name there. While writing: a write failed (the
        temporary folder is removed).
    """
    from sim.city import load_city
    from sim.model import peak_roads, run_replication

    runs_folder = check_output_folder(Path(runs_folder or settings.runs_folder))
    check_run_name(runs_folder, scenario.run_id())
    t0 = time.perf_counter()
    if city is None:
        city = load_city(scenario.city)
    tracker = _Progress(scenario, progress, cancel)
    models = []
    timings: dict[str, float] = {"load_city": time.perf_counter() - t0}
    with_traffic = traffic_replications(scenario)
    roads = peak_roads(city, scenario) if with_traffic else None  # one for every replication
    for rep, seed in enumerate(replication_seeds(scenario.seed, scenario.replications)):
        tracker.replication = rep
        t = time.perf_counter()
        models.append(
            run_replication(
                scenario,
                city,
                seed,
                traffic=rep < with_traffic,
                on_stage=tracker.stage,
                tables=rep == 0,
                roads=roads,
            )
        )
        timings[f"replication_{rep}"] = time.perf_counter() - t
        log.info("%s: replication %d in %.1f s", scenario.name, rep, timings[f"replication_{rep}"])
    tracker.stage(scenario.end_year, "writing")
    tables = collect_tables(models)
    timings["total"] = time.perf_counter() - t0
    manifest = build_manifest(scenario, city, tables, timings)
    first = models[0]
    run_dir = write_run_folder(
        runs_folder,
        scenario.run_id(),
        tables,
        manifest,
        lambda folder: _write_layers(folder, tables, manifest, city, first),
    )
    Catalog(runs_folder).register(run_dir, manifest)
    tracker.done = tracker.total
    tracker.emit("done", scenario.end_year)
    return run_dir


def _write_layers(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    city: City,
    first: CityModel,
) -> None:
    """The zones layer and the figures of a run folder being written."""
    from sim.runs.figures import write_figures
    from sim.runs.folder import FIGURES, ZONES, ZONES_LAYER
    from sim.runs.outputs import zones_layer

    zones_layer(city, first).to_file(folder / ZONES, layer=ZONES_LAYER, driver="GPKG")
    write_figures(folder / FIGURES, tables, city, manifest)


def collect_tables(models: list[CityModel]) -> dict[str, pd.DataFrame]:
    """The run's tables from the finished replications (link and school tables: the first)."""
    from sim.education.enrollment import summarise_replications
    from sim.population.housing import summarise_yield
    from sim.traffic.parking_plan import parking_table

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
        "housing_yield": summarise_yield(
            pd.concat(
                [
                    m.housing_yield_frame().assign(replication=np.int32(r))
                    for r, m in enumerate(models)
                ],
                ignore_index=True,
            )
        ),
        "enrollment_flows": pd.concat(
            [
                pd.concat(m.flow_rows, ignore_index=True).assign(replication=np.int32(r))
                for r, m in enumerate(models)
            ],
            ignore_index=True,
        ),
        "am_profile": first.profile_frame(),
        "parking": parking_table(first.parking_rows),
        "links_t": first.peak_rows.links_t_frame(),
        "signals": first.peak_rows.signals_frame(),
        "zones_years": pd.concat(first.zone_year_rows, ignore_index=True),
    }


def kpi_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """p10/p50/p90 over replications of every KPI and year (long format).

    A band needs at least two replications: where fewer have the KPI (a 1-replication
    run) p10 and p90 are NaN, not a zero-width band that looks certain;
    p50 is then the one value there is.
    """
    long = kpis.melt(id_vars=["year", "replication"], var_name="kpi", value_name="value")
    grouped = long.groupby(["year", "kpi"], sort=True)["value"]
    out = grouped.quantile([0.1, 0.5, 0.9]).unstack()
    out.columns = ["p10", "p50", "p90"]
    out.loc[grouped.count() < 2, ["p10", "p90"]] = np.nan
    return out.reset_index()


def unbanded_kpis(kpis: pd.DataFrame) -> list[str]:
    """KPIs that only one replication computed in some year (no p10-p90 band there)."""
    counts = kpis.drop(columns=["year", "replication"]).notna().groupby(kpis["year"]).sum()
    return sorted(str(k) for k in counts.columns[(counts == 1).any()])


def traffic_replications(scenario: Scenario) -> int:
    """How many replications (the first ones) run the peak traffic."""
    n = scenario.parameters.traffic_replications
    return scenario.replications if n == "all" else min(int(n), scenario.replications)


def traffic_sampling(scenario: Scenario) -> dict[str, Any]:
    """What the manifest says about the peak model: which model, replications and years.

    Traffic runs in every year of the first ``parameters.traffic_replications``
    replications (``sampled`` when that is not all of them); with ``parameters.traffic_model:
    dynamic`` the dynamic model loads in ``dynamic_years`` (every year unless
    ``parameters.dynamic.every`` samples them) and the static busiest hour stands in for
    the others.
    """
    p = scenario.parameters
    n = traffic_replications(scenario)
    years = list(range(scenario.start_year, scenario.end_year + 1))
    dynamic = (
        p.dynamic.years(scenario.start_year, scenario.years) if p.traffic_model == "dynamic" else []
    )
    return {
        "model": p.traffic_model,
        "replications": "all" if n == scenario.replications else n,
        "years": "all",
        "dynamic_years": dynamic,
        "sampled": n < scenario.replications or (bool(dynamic) and dynamic != years),
    }


def build_manifest(
    scenario: Scenario, city: City, tables: dict[str, pd.DataFrame], timings: dict[str, float]
) -> dict[str, Any]:
    """The run's manifest: scenario, seed, versions, timings and final-year KPIs."""
    import mesa
    import numba

    from sim.education.systems import school_settings
    from sim.traffic.peak_outputs import LINKS_T_NOTE

    school = school_settings(city.settings)  # the preset of school_system + the city's keys
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
        "school_entry_age": int(school["school_entry_age"]),
        "entry_cutoff": str(school["entry_cutoff"]),
        "kpi_names": sorted(summary["kpi"].unique().tolist()),
        "traffic": traffic_sampling(scenario),
        "kpis_without_band": unbanded_kpis(tables["kpis"]),
        "kpis_without_band_note": (
            "computed in fewer than 2 replications (every KPI of a 1-replication run; the "
            "traffic KPIs when parameters.traffic_replications is 1, the default): "
            "kpis_summary p10/p90 are NaN and p50 is the one value"
        ),
        "links_t": LINKS_T_NOTE,
        "final_kpis": {k: (None if pd.isna(v) else float(v)) for k, v in final.items()},
    }
