"""Running a scenario: every replication, then the run folder (see :mod:`sim.runs.folder`).

The output folder is checked before the simulation starts, so a run that could not be
saved fails at once. Same scenario and seed give byte-identical tables.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import platform
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
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
#: How often (s) a run on worker processes looks at their progress and at ``cancel``.
POOL_POLL_S = 0.2


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
        self._years: dict[int, int | None] = {}  # the year each replication is in

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled("run cancelled; nothing was written")

    def stage(self, year: int, stage: str, replication: int | None = None) -> None:
        """A replication (the last one named when None) starts a stage of a year."""
        self.check_cancel()
        if replication is not None:
            self.replication = replication
        rep = self.replication
        if stage != "synthesis" and year != self._years.get(rep):
            self.done += TRAFFIC_WEIGHT if rep < self.traffic_reps else 1.0
        self._years[rep] = year if stage != "synthesis" else None
        self.emit(stage, year)

    def emit(self, stage: str, year: int) -> None:
        if self.callback is None:
            return
        n = self.scenario.replications
        fraction = min(self.done / self.total, 1.0)
        message = f"{year} · replication {self.replication + 1}/{n} · {stage}"
        self.callback(RunProgress(stage, year, self.replication, fraction, message))


@dataclass
class ReplicationOutput:
    """What a run keeps of one finished replication (what a worker process sends back).

    ``first`` holds replication 0's own tables (links, schools, catchments, am_profile,
    parking, links_t, signals, zones_years) and ``zone_counts`` its zones at the end
    (:func:`sim.runs.outputs.zone_counts`, the zones layer); both empty for the others.
    """

    kpis: pd.DataFrame
    enrollment: pd.DataFrame
    housing_yield: pd.DataFrame
    flows: pd.DataFrame
    seconds: float
    first: dict[str, pd.DataFrame] = field(default_factory=dict)
    zone_counts: dict[str, np.ndarray] = field(default_factory=dict)


def replication_output(model: CityModel, seconds: float, first: bool) -> ReplicationOutput:
    """The tables of a finished replication (``first``: with replication 0's own)."""
    from sim.runs.outputs import zone_counts
    from sim.traffic.parking_plan import parking_table

    out = ReplicationOutput(
        kpis=model.kpi_frame(),
        enrollment=pd.concat(model.enrollment_rows, ignore_index=True),
        housing_yield=model.housing_yield_frame(),
        flows=pd.concat(model.flow_rows, ignore_index=True),
        seconds=seconds,
    )
    if first:
        out.first = {
            "links": (
                pd.concat(model.link_rows, ignore_index=True) if model.link_rows else pd.DataFrame()
            ),
            "schools": model.schools.schools_frame(),
            "catchments": pd.concat(model.catchment_rows, ignore_index=True),
            "am_profile": model.profile_frame(),
            "parking": parking_table(model.parking_rows),
            "links_t": model.peak_rows.links_t_frame(),
            "signals": model.peak_rows.signals_frame(),
            "zones_years": pd.concat(model.zone_year_rows, ignore_index=True),
        }
        out.zone_counts = zone_counts(len(model.city.zones), model)
    return out


def replication_workers(scenario: Scenario, cores: int | None = None) -> int:
    """Processes a run spreads its replications over (1: they run here, one after another).

    Replications are independent given their seeds, so when at least two of them run the
    peak traffic (seconds a year each, against the pool's few seconds to start) they share
    the ``cores`` (default: those this process may use) in as few rounds as keep every
    core busy: ``ceil(n / floor(n / cores))`` workers for ``n`` replications (5 on 2
    cores: 3 workers, two rounds, rather than 2 and a third round on one core). Inside a
    worker process (a batch's) a run stays in its process: the batch spreads its runs.
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    n = scenario.replications
    if cores < 2 or traffic_replications(scenario) < 2 or multiprocessing.parent_process():
        return 1
    return n if n <= cores else math.ceil(n / (n // cores))


def run_scenario(
    scenario: Scenario,
    runs_folder: Path | None = None,
    *,
    city: City | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
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
    workers
        Worker processes to run the replications on (default
        :func:`replication_workers`; 1: in this process). The tables are the same
        either way: each replication depends on its seed alone.

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
    from sim.model import peak_roads

    runs_folder = check_output_folder(Path(runs_folder or settings.runs_folder))
    check_run_name(runs_folder, scenario.run_id())
    t0 = time.perf_counter()
    if city is None:
        city = load_city(scenario.city)
    tracker = _Progress(scenario, progress, cancel)
    timings: dict[str, float] = {"load_city": time.perf_counter() - t0}
    roads = peak_roads(city, scenario) if traffic_replications(scenario) else None  # shared
    seeds = replication_seeds(scenario.seed, scenario.replications)
    workers = replication_workers(scenario) if workers is None else workers
    if workers > 1:
        outputs = _run_on_workers(scenario, city, roads, seeds, tracker, workers)
    else:
        outputs = [
            _run_one(scenario, city, roads, rep, seed, partial(tracker.stage, replication=rep))
            for rep, seed in enumerate(seeds)
        ]
    for rep, out in enumerate(outputs):
        timings[f"replication_{rep}"] = out.seconds
        log.info("%s: replication %d in %.1f s", scenario.name, rep, out.seconds)
    tracker.stage(scenario.end_year, "writing")
    tables = collect_tables(outputs)
    timings["total"] = time.perf_counter() - t0
    manifest = build_manifest(scenario, city, tables, timings)
    counts = outputs[0].zone_counts
    run_dir = write_run_folder(
        runs_folder,
        scenario.run_id(),
        tables,
        manifest,
        lambda folder: _write_layers(folder, tables, manifest, city, counts),
    )
    Catalog(runs_folder).register(run_dir, manifest)
    tracker.done = tracker.total
    tracker.emit("done", scenario.end_year)
    return run_dir


def _run_one(
    scenario: Scenario,
    city: City,
    roads: Any | None,
    rep: int,
    seed: int,
    on_stage: Callable[[int, str], None],
) -> ReplicationOutput:
    """Run replication ``rep`` and keep its tables."""
    from sim.model import run_replication

    t = time.perf_counter()
    model = run_replication(
        scenario,
        city,
        seed,
        traffic=rep < traffic_replications(scenario),
        on_stage=on_stage,
        tables=rep == 0,
        roads=roads,
    )
    return replication_output(model, time.perf_counter() - t, first=rep == 0)


#: A worker process's run: scenario, city, roads, its progress queue and the stop event.
_WORKER: dict[str, Any] = {}


def _init_worker(scenario: Scenario, city: City, roads: Any, events: Any, stop: Any) -> None:
    """Pool initializer: the run's inputs, once per worker; numba on one thread.

    The pool has a worker per core (or more), so the kernels' own threads would only
    oversubscribe the cores; their results do not depend on the thread count.
    """
    import numba

    numba.set_num_threads(1)
    _WORKER.update(scenario=scenario, city=city, roads=roads, events=events, stop=stop)


def _worker_stage(rep: int, year: int, stage: str) -> None:
    if _WORKER["stop"].is_set():
        raise RunCancelled("run cancelled; nothing was written")
    _WORKER["events"].put((rep, year, stage))


def _run_in_worker(rep: int, seed: int) -> ReplicationOutput:
    w = _WORKER
    return _run_one(w["scenario"], w["city"], w["roads"], rep, seed, partial(_worker_stage, rep))


def _run_on_workers(
    scenario: Scenario,
    city: City,
    roads: Any | None,
    seeds: list[int],
    tracker: _Progress,
    workers: int,
) -> list[ReplicationOutput]:
    """Every replication on a pool of ``workers`` processes; their outputs in order.

    Progress comes back through a queue (:meth:`_Progress.stage` per replication); a
    cancel or an error stops the workers at their next stage.
    """
    from sim.batch.pool import pool_context

    context = pool_context(["sim.runs.run", "sim.model", "sim.city"])
    events = context.Queue()
    stop = context.Event()

    def drain() -> None:
        while not events.empty():
            rep, year, stage = events.get()
            tracker.stage(year, stage, replication=rep)

    init = (scenario, city, roads, events, stop)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=init
    ) as pool:
        futures: dict[Future[ReplicationOutput], int] = {
            pool.submit(_run_in_worker, rep, seed): rep for rep, seed in enumerate(seeds)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=POOL_POLL_S, return_when=FIRST_COMPLETED)
                drain()
                tracker.check_cancel()
                for future in done:
                    future.result()  # a replication's error stops the run here
        except BaseException:
            stop.set()
            for future in pending:
                future.cancel()
            raise
        drain()
    outputs = {futures[f]: f.result() for f in futures}
    return [outputs[rep] for rep in range(len(seeds))]


def _write_layers(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    city: City,
    zone_counts: dict[str, np.ndarray],
) -> None:
    """The zones layer and the figures of a run folder being written."""
    from sim.runs.figures import write_figures
    from sim.runs.folder import FIGURES, ZONES, ZONES_LAYER
    from sim.runs.outputs import zones_layer

    zones_layer(city, zone_counts).to_file(folder / ZONES, layer=ZONES_LAYER, driver="GPKG")
    write_figures(folder / FIGURES, tables, city, manifest)


def collect_tables(outputs: list[ReplicationOutput]) -> dict[str, pd.DataFrame]:
    """The run's tables from the finished replications (link and school tables: the first)."""
    from sim.education.enrollment import summarise_replications
    from sim.population.housing import summarise_yield

    def stacked(name: str) -> pd.DataFrame:
        return pd.concat(
            [getattr(o, name).assign(replication=np.int32(r)) for r, o in enumerate(outputs)],
            ignore_index=True,
        )

    kpis = stacked("kpis")
    kpis = kpis[
        ["year", "replication", *[c for c in kpis.columns if c not in ("year", "replication")]]
    ]
    first = outputs[0].first
    return {
        "kpis": kpis,
        "kpis_summary": kpi_summary(kpis),
        "enrollment": summarise_replications(stacked("enrollment")),
        "links": first["links"],
        "schools": first["schools"],
        "catchments": first["catchments"],
        "housing_yield": summarise_yield(stacked("housing_yield")),
        "enrollment_flows": stacked("flows"),
        "am_profile": first["am_profile"],
        "parking": first["parking"],
        "links_t": first["links_t"],
        "signals": first["signals"],
        "zones_years": first["zones_years"],
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
