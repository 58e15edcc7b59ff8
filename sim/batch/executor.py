"""Batch runs: sweep tasks on a local process pool or a Dask cluster, with a crash-safe catalog.

Every :class:`~sim.batch.sweep.SweepTask` is independent. :func:`run_batch` runs them on a
``concurrent.futures.ProcessPoolExecutor`` (default) or on an existing dask.distributed
cluster (``scheduler="tcp://host:8786"``) and keeps one row per task in the
``batch_tasks`` table of ``OUT/catalog.sqlite`` (SQLite, WAL mode): variant, parameters,
seed, status, attempts, worker, timings, end-year KPIs and error.

Guarantees
----------
* Run folders are written atomically by the runner (``sim.runs.run.run_scenario``: a temporary
  folder, renamed when complete), so a killed worker never leaves a half-written run; the
  batch removes the temporary folder it left. A complete folder left by an interrupted
  batch is reused instead of recomputed.
* A worker that dies (killed, segfault, out of memory) costs its task one attempt; after
  ``retries`` more attempts the task is marked failed with the cause. On the local pool
  the other tasks running at that moment are resubmitted free of charge; on Dask the
  scheduler reschedules (``distributed.scheduler.allowed-failures``, which this module
  sets to ``retries`` for clusters it starts) and a ``KilledWorker`` marks the task failed.
* Ctrl-C (SIGINT) cancels the running tasks within about a second, records every
  finished one and returns with ``interrupted=True``; ``resume=True`` then skips
  finished tasks.
* Two batch processes never write the same run: a worker holds ``OUT/.locks/<task>.lock``
  (created atomically, like ``O_EXCL``) while it runs a task; a lock of a dead process on
  this host, or of an earlier attempt of the same batch, is taken over. A task another
  batch finished meanwhile is adopted from its run folder, not recomputed.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import settings
from sim.batch.sweep import SweepTask
from sim.errors import RunError, UsageError
from sim.scenario import Scenario

TASKS_TABLE = "batch_tasks"
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""The environment of local pool workers: that of Dask workers (``pre-spawn-environ``)."""
FINAL = ("done", "failed")
Runner = Callable[..., Path]
"""``runner(scenario, runs_folder, cancel=threading.Event) -> run folder``."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TASKS_TABLE} (
    task_id TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    variant TEXT NOT NULL,
    replication INTEGER NOT NULL,
    parameters TEXT NOT NULL,
    seed INTEGER NOT NULL,
    years INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    batch TEXT,
    worker TEXT,
    worker_pid INTEGER,
    started REAL,
    finished REAL,
    seconds REAL,
    timings TEXT,
    kpis TEXT,
    error TEXT,
    run_dir TEXT
)
"""


# --------------------------------------------------------------------------- task store


class TaskStore:
    """The ``batch_tasks`` table of a runs folder's catalog (one short connection per call).

    Parameters
    ----------
    out
        The runs folder; the table lives in ``out / settings.catalog_name``.
    """

    def __init__(self, out: Path, *, create: bool = True) -> None:
        self.path = Path(out) / settings.catalog_name
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=60)
        # WAL + NORMAL: commits survive a crashed process (not a power cut, where resume
        # re-adopts the complete run folders) without an fsync each
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with conn:  # one transaction: committed, or rolled back on any exception
                yield conn
        finally:
            conn.close()

    def add(self, tasks: Sequence[SweepTask]) -> None:
        """Insert a pending row for every task not yet in the table."""
        rows = [
            (
                t.task_id,
                t.sweep,
                t.variant,
                t.replication,
                json.dumps(t.parameters, sort_keys=True),
                t.seed,
                t.scenario.years,
            )
            for t in tasks
        ]
        with self._connect() as conn:
            conn.executemany(
                f"INSERT OR IGNORE INTO {TASKS_TABLE} (task_id, sweep, variant, replication, "
                "parameters, seed, years, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                rows,
            )

    def status(self, task_ids: Sequence[str]) -> dict[str, str]:
        """The status of each given task that has a row."""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT task_id, status FROM {TASKS_TABLE}").fetchall()
        wanted = set(task_ids)
        return {tid: st for tid, st in rows if tid in wanted}

    def update(self, task_id: str, **values: Any) -> None:
        """Set columns of one task's row (dicts are stored as JSON)."""
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as conn:
            conn.execute(
                f"UPDATE {TASKS_TABLE} SET {cols} WHERE task_id = ?", [*values.values(), task_id]
            )

    def worker_pid(self, task_id: str) -> int | None:
        """The pid of the worker process running the task's current attempt, if it started."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT worker_pid FROM {TASKS_TABLE} WHERE task_id = ?", (task_id,)
            ).fetchone()
        return row[0] if row else None

    def frame(self) -> pd.DataFrame:
        """Every row, with ``parameters``, ``timings`` and ``kpis`` decoded from JSON."""
        with self._connect() as conn:
            df = pd.read_sql_query(f"SELECT * FROM {TASKS_TABLE} ORDER BY task_id", conn)
        for col in ("parameters", "timings", "kpis"):
            df[col] = [json.loads(v) if isinstance(v, str) else {} for v in df[col]]
        return df


def tasks_frame(out: Path) -> pd.DataFrame:
    """The batch tasks recorded in a runs folder (one row per task)."""
    if not (Path(out) / settings.catalog_name).exists():
        msg = f"{out}: no {settings.catalog_name} here; is this the --out folder of a batch?"
        raise RunError(msg)
    return TaskStore(out).frame()


# --------------------------------------------------------------------------- worker side


@dataclass
class TaskResult:
    """What a worker reports back for one task."""

    task_id: str
    status: str  # "done" | "failed" | "cancelled" | "locked"
    worker: str
    seconds: float = 0.0
    run_dir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None


_CANCEL = threading.Event()
"""Set by SIGINT in a local pool worker: the running task stops within about a second."""


def _init_local_worker() -> None:
    signal.signal(signal.SIGINT, lambda *_: _CANCEL.set())


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
    worker = _worker_name()
    out_dir = Path(out)
    lock = _TaskLock(out_dir, task.task_id, batch_id)
    holder = lock.acquire()
    if holder is not None:
        return TaskResult(task.task_id, "locked", worker, error=f"being run by {holder}")
    try:
        TaskStore(out_dir, create=False).update(
            task.task_id,
            status="running",
            worker=worker,
            worker_pid=os.getpid(),
            started=time.time(),
        )
        run_dir = out_dir / task.task_id
        if not is_complete_run(run_dir):
            _CANCEL.clear()
            run_dir = Path((runner or _default_runner())(task.scenario, out_dir, cancel=_CANCEL))
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        return TaskResult(
            task.task_id,
            "done",
            worker,
            time.perf_counter() - t0,
            str(run_dir),
            dict(manifest.get("timings") or {}),
            end_year_kpis(run_dir),
        )
    except Exception as exc:  # reported to the parent, which records it in the catalog
        status = "cancelled" if _CANCEL.is_set() else "failed"
        error = f"{type(exc).__name__}: {exc}"
        return TaskResult(task.task_id, status, worker, time.perf_counter() - t0, error=error)
    finally:
        lock.release()


def _default_runner() -> Runner:
    from sim.runs.run import run_scenario

    return run_scenario


def is_complete_run(run_dir: Path) -> bool:
    """Whether a run folder is complete (runs are renamed into place only when written)."""
    return (run_dir / "manifest.json").is_file() and (run_dir / "kpis.parquet").is_file()


def end_year_kpis(run_dir: Path) -> dict[str, float | None]:
    """The KPIs of the last simulated year, averaged over the run's replications."""
    kpis = pd.read_parquet(Path(run_dir) / "kpis.parquet")
    last = kpis[kpis["year"] == kpis["year"].max()].drop(columns=["year", "replication"])
    means = last.select_dtypes("number").mean()
    return {k: (None if math.isnan(v) else float(v)) for k, v in means.items()}


class _TaskLock:
    """``OUT/.locks/<task>.lock``, created atomically (hard link) while a worker runs the task."""

    def __init__(self, out: Path, task_id: str, batch_id: str) -> None:
        self.path = out / ".locks" / f"{task_id}.lock"
        self.task_id = task_id
        self.me = {"host": socket.gethostname(), "pid": os.getpid(), "batch": batch_id}
        self.held = False

    def acquire(self) -> str | None:
        """Take the lock; return None, or who holds it when that holder is alive."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write the holder first, then link it into place: link() fails when the lock
        # exists (like O_EXCL) and a lock is never seen without its holder.
        mine = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        mine.write_text(json.dumps(self.me), encoding="utf-8")
        try:
            for _ in range(2):
                try:
                    os.link(mine, self.path)
                except FileExistsError:
                    holder = self._holder()
                    if holder is not None and not self._stale(holder):
                        return f"{holder['host']}:{holder['pid']} (batch {holder['batch']})"
                    if holder is not None:
                        remove_partial_runs(self.path.parent.parent, self.task_id, holder["pid"])
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                self.held = True
                return None
            return "another process (lock contended)"
        finally:
            mine.unlink()

    def _holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None  # released meanwhile

    def _stale(self, holder: dict[str, Any]) -> bool:
        if holder.get("batch") == self.me["batch"]:
            return True  # an earlier attempt of this batch, whose worker died
        return holder.get("host") == self.me["host"] and not _pid_alive(int(holder["pid"]))

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.held = False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    log_writes: bool = False
    """Append each run id it writes to ``runs_folder/.synthetic-writes.log`` (for tests)."""

    def __call__(
        self, scenario: Scenario, runs_folder: Path, *, cancel: threading.Event | None = None
    ) -> Path:
        from sim.runs.run import RunCancelled

        run_id = scenario.run_id()
        tmp = Path(runs_folder) / f".tmp-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)  # like run_scenario: a worker killed now leaves only this
        deadline = time.monotonic() + self.seconds_per_year * scenario.years
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                shutil.rmtree(tmp)
                raise RunCancelled("run cancelled; nothing was written")
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        _synthetic_kpis(scenario).to_parquet(tmp / "kpis.parquet", index=False)
        manifest = {"run_id": run_id, "seed": scenario.seed, "timings": {"total": 0.0}}
        (tmp / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        final = Path(runs_folder) / run_id
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        if self.log_writes:
            with open(Path(runs_folder) / ".synthetic-writes.log", "a", encoding="utf-8") as fh:
                fh.write(f"{run_id}\n")
        return final


def _synthetic_kpis(scenario: Scenario) -> pd.DataFrame:
    rng = np.random.default_rng(scenario.seed)
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


def remove_partial_runs(out: Path, task_id: str, pid: int | str = "*") -> None:
    """Remove the temporary folders a dead worker (``pid``) left while writing a task's run."""
    for tmp in Path(out).glob(f".tmp-{task_id}-{pid}-*"):
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- parent side


@dataclass
class BatchSummary:
    """The outcome of :func:`run_batch`."""

    out: Path
    total: int
    skipped: int = 0
    """Finished in an earlier batch (``resume``)."""
    done: int = 0
    failed: int = 0
    locked: int = 0
    """Being run by another batch process, so left alone."""
    interrupted: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """Tasks neither finished nor failed."""
        return self.total - self.skipped - self.done - self.failed - self.locked


class _Tracker:
    """Records results in the catalog and drives the progress bar."""

    def __init__(
        self, store: TaskStore, summary: BatchSummary, batch_id: str, n: int, show: bool
    ) -> None:
        from tqdm.auto import tqdm

        self.store = store
        self.batch_id = batch_id
        self.log = not show  # without a bar (not a terminal, CI, logs) print a line per task
        self.summary = summary
        self.bar = tqdm(total=n, unit="task", disable=not show, desc="batch", dynamic_ncols=True)
        self._advance(0)

    def _advance(self, n: int, task_id: str = "", what: str = "") -> None:
        s = self.summary
        self.bar.set_postfix(done=s.done, failed=s.failed, remaining=s.remaining, refresh=False)
        self.bar.update(n)
        if self.log and n:
            left = f"{s.done} done, {s.failed} failed, {s.remaining} remaining"
            print(f"batch: {task_id} {what} ({left})", file=sys.stderr, flush=True)

    def queued(self, task: SweepTask, attempts: int) -> None:
        self.store.update(
            task.task_id, status="queued", attempts=attempts, batch=self.batch_id, worker_pid=None
        )

    def record(self, result: TaskResult) -> None:
        """Record a final result (done or failed); others leave the task pending."""
        if result.status == "done":
            self.store.update(
                result.task_id,
                status="done",
                finished=time.time(),
                seconds=result.seconds,
                timings=result.timings,
                kpis=result.kpis,
                run_dir=result.run_dir,
                error=None,
            )
            self.summary.done += 1
            self._advance(1, result.task_id, f"done in {result.seconds:.1f} s")
        elif result.status == "failed":
            self.fail(result.task_id, result.error or "failed")
            return
        elif result.status == "locked":
            self.summary.locked += 1  # its row belongs to the batch running it
            self._advance(1, result.task_id, f"skipped: {result.error}")
        else:
            self.store.update(result.task_id, status="pending", error=result.error)
            self._advance(1, result.task_id, "cancelled")

    def fail(self, task_id: str, error: str) -> None:
        self.store.update(task_id, status="failed", finished=time.time(), error=error)
        self.summary.failed += 1
        self.summary.errors[task_id] = error
        self._advance(1, task_id, f"failed: {error}")

    def close(self) -> None:
        self.bar.close()


def run_batch(
    tasks: Sequence[SweepTask],
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    retries: int = 2,
    runner: Runner | None = None,
    progress: bool | None = None,
) -> BatchSummary:
    """Run sweep tasks in parallel and record each in ``out``'s catalog.

    Parameters
    ----------
    tasks
        The tasks (from :func:`sim.batch.sweep.expand_sweep`).
    out
        The runs folder: run folders, ``catalog.sqlite`` and task locks go here. With
        ``scheduler`` it must be on a file system every Dask worker sees at the same path.
    workers
        Processes of the local pool (ignored with ``scheduler``).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); None = local pool.
    resume
        Skip tasks finished in an earlier batch into ``out``; without it, a folder that
        already holds finished tasks of these is refused.
    retries
        Extra attempts for a task whose worker process died.
    runner
        ``runner(scenario, runs_folder, cancel=event) -> run folder`` (picklable);
        default :func:`sim.runs.run.run_scenario`.
    progress
        Show a progress bar; default ``sim.settings.progress``.

    Returns
    -------
    BatchSummary
        Counts of done, failed, skipped and locked tasks; ``interrupted`` after Ctrl-C.

    Raises
    ------
    UsageError
        For a bad ``workers``/``retries`` value or finished tasks in ``out`` without ``resume``.
    """
    if workers < 1 or retries < 0:
        msg = f"workers must be >= 1 (got {workers}) and retries >= 0 (got {retries})"
        raise UsageError(msg)
    out = Path(out).resolve()
    store = TaskStore(out)
    store.add(tasks)
    status = store.status([t.task_id for t in tasks])
    finished = {tid for tid, st in status.items() if st == "done" and is_complete_run(out / tid)}
    if finished and not resume:
        msg = (
            f"{out}: {len(finished)} of {len(tasks)} tasks of this sweep are already finished "
            "here; pass --resume to skip them, or choose another --out"
        )
        raise UsageError(msg)
    todo = [t for t in tasks if t.task_id not in finished]
    summary = BatchSummary(out, len(tasks), skipped=len(finished))
    show = settings.progress if progress is None else progress
    batch_id = uuid.uuid4().hex[:12]
    tracker = _Tracker(store, summary, batch_id, len(todo), show)
    try:
        if scheduler is None:
            _run_local(todo, out, batch_id, workers, retries, runner, tracker)
        else:
            _run_dask(todo, out, batch_id, scheduler, runner, tracker)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        tracker.close()
    return summary


def _run_local(
    tasks: Sequence[SweepTask],
    out: Path,
    batch_id: str,
    workers: int,
    retries: int,
    runner: Runner | None,
    tracker: _Tracker,
) -> None:
    queue = deque(tasks)
    attempts: dict[str, int] = {}
    context = _pool_context()
    fruitless = 0  # pools in a row that broke without finishing or blaming any task
    while queue:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_local_worker)
        running: dict[Future, SweepTask] = {}
        finished_before = tracker.summary.done + tracker.summary.failed
        try:
            broken = _drive_pool(
                pool, workers, queue, running, attempts, out, batch_id, runner, tracker
            )
        except KeyboardInterrupt:
            _cancel_local(pool, running, tracker)
            raise
        # When a worker died the pool broke: charge the tasks whose worker died on its
        # own (not terminated by the pool's teardown); resubmit the others free.
        processes = dict(getattr(pool, "_processes", None) or {})
        pool.shutdown(wait=True)
        pids = [tracker.store.worker_pid(t.task_id) for t in broken]
        causes = [_death_cause(pid, processes) for pid in pids]
        progressed = tracker.summary.done + tracker.summary.failed > finished_before
        fruitless = 0 if progressed or any(causes) else fruitless + 1
        if fruitless >= 3:
            msg = f"{out}: the local pool's worker processes die before running any task"
            raise RunError(msg)
        for task, pid, cause in reversed(list(zip(broken, pids, causes, strict=True))):
            if pid is not None:  # it started, so its worker held the lock; it is dead now
                _release_dead(out, task.task_id, pid)
            if cause is None:
                queue.appendleft(task)
                continue
            attempts[task.task_id] = attempts.get(task.task_id, 0) + 1
            tracker.store.update(task.task_id, attempts=attempts[task.task_id])
            if attempts[task.task_id] > retries:
                tracker.fail(
                    task.task_id,
                    f"worker died ({cause}) on every one of {attempts[task.task_id]} attempts",
                )
            else:
                queue.appendleft(task)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork-server workers where available: fork-safe, and they start with sim imported.

    Workers get one BLAS/OpenMP thread each, as Dask's nanny gives its workers, so both
    executors sum in the same order and give bit-identical results (and N single-threaded
    processes do not oversubscribe N cores).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        os.environ.update(WORKER_ENV)  # spawned children inherit it; the parent's BLAS is set
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.batch.executor", "sim.runs.run", "sim.model", "sim.city"])
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        forkserver.ensure_running()  # started once per process, with this environment
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    return context


def _drive_pool(
    pool: ProcessPoolExecutor,
    workers: int,
    queue: deque[SweepTask],
    running: dict[Future, SweepTask],
    attempts: dict[str, int],
    out: Path,
    batch_id: str,
    runner: Runner | None,
    tracker: _Tracker,
) -> list[SweepTask]:
    """Feed the pool one task per free worker; return the tasks lost when it breaks."""
    broken: list[SweepTask] = []
    while queue or running:
        while queue and len(running) < workers and not broken:
            task = queue.popleft()
            tracker.queued(task, attempts.get(task.task_id, 0))
            try:
                running[pool.submit(execute_task, task, str(out), batch_id, runner)] = task
            except BrokenProcessPool:
                broken.append(task)
        done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
        for fut in done:
            task = running.pop(fut)
            try:
                tracker.record(fut.result())
            except BrokenProcessPool:
                broken.append(task)
        if broken and not running:
            return broken
    return broken


def _release_dead(out: Path, task_id: str, pid: int | str = "*") -> None:
    """Drop the lock and partial run folders of a task whose worker process is gone."""
    remove_partial_runs(out, task_id, pid)
    with contextlib.suppress(FileNotFoundError):
        (out / ".locks" / f"{task_id}.lock").unlink()


def _death_cause(pid: int | None, processes: dict[int, Any]) -> str | None:
    """Why a task's worker died, or None when the task is not to blame."""
    if pid is None:
        return None  # the task had not started
    proc = processes.get(pid)
    if proc is None:
        return "worker process gone"
    proc.join(timeout=5)
    if proc.exitcode == -signal.SIGTERM:
        return None  # stopped by the pool after another worker died
    if proc.exitcode is not None and proc.exitcode < 0:
        return f"killed by signal {signal.Signals(-proc.exitcode).name}"
    return f"exit code {proc.exitcode}"


def _cancel_local(
    pool: ProcessPoolExecutor, running: dict[Future, SweepTask], tracker: _Tracker
) -> None:
    """Ctrl-C: cancel queued tasks, stop running ones, record those that finished anyway."""
    for fut in running:
        fut.cancel()
    for task in running.values():
        pid = tracker.store.worker_pid(task.task_id)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # the worker sets its cancel event
    done, _ = wait(running, timeout=30)
    for fut, task in running.items():
        if fut in done and not fut.cancelled() and fut.exception() is None:
            tracker.record(fut.result())
        else:
            tracker.store.update(task.task_id, status="pending")
    pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(
    tasks: Sequence[SweepTask],
    out: Path,
    batch_id: str,
    scheduler: str,
    runner: Runner | None,
    tracker: _Tracker,
) -> None:
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        msg = f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})"
        raise UsageError(msg) from None
    futures = {}
    try:
        _check_workers(client, scheduler)
        for task in tasks:
            tracker.queued(task, 0)
            fut = client.submit(
                execute_task, task, str(out), batch_id, runner, key=f"{task.task_id}-{batch_id}"
            )
            futures[fut] = task
        for fut in as_completed(futures):
            task = futures.pop(fut)
            try:
                tracker.record(fut.result())
            except Exception as exc:  # KilledWorker after the scheduler's allowed failures
                _release_dead(out, task.task_id, tracker.store.worker_pid(task.task_id) or "*")
                tracker.fail(task.task_id, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        client.cancel(list(futures))
        for task in futures.values():
            tracker.store.update(task.task_id, status="pending")
        raise
    finally:
        client.close()


def _check_workers(client: Any, scheduler: str) -> None:
    """Fail early when the cluster has no worker, or workers that cannot import ``sim``."""
    try:
        client.wait_for_workers(1, timeout=30)
    except TimeoutError:
        msg = f"--scheduler {scheduler}: no Dask worker joined within 30 s (start `dask worker`)"
        raise UsageError(msg) from None

    def has_sim() -> bool:  # nested, so it is pickled by value: it must run without sim
        from importlib.util import find_spec

        return find_spec("sim") is not None

    # the scheduler unpickles task graphs too, so it needs the package as well as the workers
    found = client.run(has_sim)
    lacking = sorted(addr for addr, ok in found.items() if not ok)
    if not client.run_on_scheduler(has_sim):
        lacking.insert(0, "the scheduler")
    if lacking:
        msg = (
            f"--scheduler {scheduler}: {', '.join(lacking)} cannot import CitySandbox's sim "
            "package; start `dask scheduler` and `dask worker` in the repository with "
            "PYTHONPATH=$PWD, or pip install -e ."
        )
        raise UsageError(msg)


def local_dask_cluster(workers: int, retries: int = 2):
    """A ``distributed.LocalCluster`` of single-threaded worker processes for batch runs.

    ``retries`` becomes the scheduler's ``allowed-failures``: how often a task whose worker
    died is rescheduled before it is reported as ``KilledWorker``.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
