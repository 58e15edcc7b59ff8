"""The worker side of a batch: one sweep task run in a worker process, and a stand-in run.

:func:`execute_task` runs on a local pool worker or a Dask worker. It holds the task's
lock (:mod:`sim.batch.locks`) while it runs, records ``running`` in the catalog, adopts a
complete run folder another batch left instead of recomputing it, and reports a
:class:`TaskResult`; it never raises for a task's own errors. The ``sim`` log lines the
task wrote (INFO and above) travel with a failure into the catalog's ``error`` column,
so a failure on a remote Dask worker can be read where the batch was started.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.locks import TaskLock
from sim.batch.store import TaskStore
from sim.batch.sweep import SweepTask
from sim.errors import RunCancelled
from sim.outputs import tmp_name
from sim.runs.folder import MANIFEST, is_complete, read_manifest
from sim.scenario import Scenario
from sim.seeds import synthetic_rng

log = logging.getLogger(__name__)

Runner = Callable[..., Path]
"""``runner(scenario, runs_folder, cancel=threading.Event) -> run folder``."""
#: How many of a task's last log lines a failure carries into the catalog.
LOG_LINES = 20


@dataclass
class TaskResult:
    """What a worker reports back for one task."""

    task_id: str
    status: str  # "done" | "failed" | "cancelled" | "locked" | "finished" (by another batch)
    worker: str
    seconds: float = 0.0
    run_dir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None


_CANCEL = threading.Event()
"""Set by SIGINT in a local pool worker: the running task stops within about a second."""


def init_local_worker() -> None:
    """Pool initializer: SIGINT sets the cancel event of the running task."""
    signal.signal(signal.SIGINT, lambda *_: _CANCEL.set())


@contextmanager
def _captured_log() -> Iterator[deque[str]]:
    """The ``sim`` log lines (INFO and above) written while the block runs."""
    lines: deque[str] = deque(maxlen=LOG_LINES)

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    logger = logging.getLogger("sim")
    handler = _Keep(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    if level == logging.NOTSET or level > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def execute_task(
    task: SweepTask, out: str, batch_id: str, runner: Runner | None = None
) -> TaskResult:
    """Run one task in a worker process and report its result (never raises for task errors).

    Parameters
    ----------
    task
        The task; its scenario is run with ``runner``.
    out
        The runs folder (shared by every worker).
    batch_id
        The batch this attempt belongs to (a lock of an earlier attempt of it is taken over).
    runner
        ``runner(scenario, runs_folder, cancel=event) -> run folder``; default
        :func:`sim.runs.run.run_scenario`.
    """
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    out_dir = Path(out)
    # Cleared before "running" is recorded: a Ctrl-C the parent sends once it reads that
    # record is never lost.
    _CANCEL.clear()
    lock = TaskLock(out_dir, task.task_id, batch_id)
    holder = lock.acquire()
    if holder is not None:
        return TaskResult(task.task_id, "locked", worker, error=f"being run by {holder}")
    try:
        with _captured_log() as lines:
            try:
                return _run_task(task, out_dir, batch_id, runner, worker, t0)
            except Exception as exc:  # reported to the parent, which records it in the catalog
                status = "cancelled" if _CANCEL.is_set() else "failed"
                error = f"{type(exc).__name__}: {exc}"
                if status == "failed" and lines:
                    error += "\nworker log:\n" + "\n".join(lines)
                log.warning("task %s %s: %s: %s", task.task_id, status, type(exc).__name__, exc)
                seconds = time.perf_counter() - t0
                return TaskResult(task.task_id, status, worker, seconds, error=error)
    finally:
        lock.release()


def _run_task(
    task: SweepTask, out_dir: Path, batch_id: str, runner: Runner | None, worker: str, t0: float
) -> TaskResult:
    """Record ``running``, run (or adopt) the task's run folder and report it done.

    A task another batch finished and recorded between this batch's claim and now is
    reported ``finished`` and its row (batch, worker) left to the batch that wrote it.
    """
    store = TaskStore(out_dir, create=False)
    run_dir = out_dir / task.task_id
    if store.finished([task.task_id]):
        return TaskResult(task.task_id, "finished", worker, time.perf_counter() - t0)
    store.update(
        task.task_id,
        status="running",
        batch=batch_id,
        worker=worker,
        worker_pid=os.getpid(),
        started=time.time(),
    )
    log.info("task %s started on %s", task.task_id, worker)
    if not is_complete(run_dir):
        run_dir = Path((runner or _default_runner())(task.scenario, out_dir, cancel=_CANCEL))
    manifest = read_manifest(run_dir)
    seconds = time.perf_counter() - t0
    log.info("task %s done in %.1f s", task.task_id, seconds)
    return TaskResult(
        task.task_id,
        "done",
        worker,
        seconds,
        str(run_dir),
        dict(manifest.get("timings") or {}),
        end_year_kpis(run_dir),
    )


def _default_runner() -> Runner:
    from sim.runs.run import run_scenario

    return run_scenario


def end_year_kpis(run_dir: Path) -> dict[str, float | None]:
    """The KPIs of the last simulated year, averaged over the run's replications."""
    kpis = pd.read_parquet(Path(run_dir) / "kpis.parquet")
    last = kpis[kpis["year"] == kpis["year"].max()].drop(columns=["year", "replication"])
    means = last.select_dtypes("number").mean()
    return {k: (None if math.isnan(v) else float(v)) for k, v in means.items()}


# --------------------------------------------------------------------------- a stand-in run


@dataclass(frozen=True)
class SyntheticRunner:
    """A stand-in for ``run_scenario`` that writes a tiny valid run folder.

    Used to measure executor overhead (bench/batch.py) and to test executors without
    the model: KPIs are a deterministic function of the scenario's seed and parameters.

    Parameters
    ----------
    seconds_per_year
        Simulated work per scenario-year (sleeps in short steps, honouring ``cancel``).
    """

    seconds_per_year: float = 0.0
    honour_cancel: bool = True
    """Stop when ``cancel`` is set; False stands for a task deep in a stage that cannot stop."""
    log_writes: bool = False
    """Append ``<run id> <pid>`` per run it writes to ``runs_folder/.synthetic-writes.log``."""

    def __call__(
        self, scenario: Scenario, runs_folder: Path, *, cancel: threading.Event | None = None
    ) -> Path:
        """Write the stand-in run folder of ``scenario`` into ``runs_folder``."""
        run_id = scenario.run_id()
        tmp = Path(runs_folder) / tmp_name(run_id)
        tmp.mkdir(parents=True)  # like run_scenario: a worker killed now leaves only this
        deadline = time.monotonic() + self.seconds_per_year * scenario.years
        while time.monotonic() < deadline:
            if self.honour_cancel and cancel is not None and cancel.is_set():
                shutil.rmtree(tmp)
                raise RunCancelled("run cancelled; nothing was written")
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        _synthetic_kpis(scenario).to_parquet(tmp / "kpis.parquet", index=False)
        manifest = {"run_id": run_id, "seed": scenario.seed, "timings": {"total": 0.0}}
        (tmp / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        final = Path(runs_folder) / run_id
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        if self.log_writes:
            with open(Path(runs_folder) / ".synthetic-writes.log", "a", encoding="utf-8") as fh:
                fh.write(f"{run_id} {os.getpid()}\n")
        return final


def _synthetic_kpis(scenario: Scenario) -> pd.DataFrame:
    rng = synthetic_rng(scenario.seed)
    p = scenario.parameters
    years = np.arange(scenario.start_year, scenario.end_year + 1)
    growth = 1 + 0.02 * (p.fertility_multiplier - 1) * (years - scenario.start_year)
    population = 10_000 * growth + rng.normal(0, 50, years.size)
    return pd.DataFrame(
        {
            "year": years,
            "replication": 0,
            "population": population,
            "pupils_primary": 0.08 * population * p.fertility_multiplier,
            "vkt": p.car_share * population * 6 + rng.normal(0, 100, years.size),
        }
    )
