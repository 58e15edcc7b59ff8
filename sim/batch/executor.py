"""Batch runs: sweep tasks on a local process pool or a Dask cluster, with a crash-safe catalog.

This module is the entry (:func:`run_batch`); the mechanisms live beside it: the catalog
table (:mod:`sim.batch.store`), the worker side (:mod:`sim.batch.tasks`), task locks
(:mod:`sim.batch.locks`), the parent's record (:mod:`sim.batch.tracker`), the local pool
(:mod:`sim.batch.local`) and Dask (:mod:`sim.batch.dask_cluster`).

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
* Ctrl-C (SIGINT) cancels the running tasks within about two seconds (those that do not
  stop in time are terminated), records every finished one and returns with
  ``interrupted=True``; ``resume=True`` then skips finished tasks.
* Two batch processes never write the same run: a worker holds ``OUT/.locks/<task>.lock``
  (created atomically, like ``O_EXCL``) while it runs a task; a lock of a dead process on
  this host, or of an earlier attempt of the same batch, is taken over. A task another
  batch finished meanwhile is adopted from its run folder, not recomputed, and a task
  another live batch runs is left to it: its row (batch, worker, status) is not touched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from sim import settings
from sim.batch.dask_cluster import require_dask, run_dask
from sim.batch.local import run_local
from sim.batch.store import TaskStore
from sim.batch.sweep import SweepTask
from sim.batch.tasks import Runner
from sim.batch.tracker import BatchSummary, Tracker
from sim.errors import UsageError
from sim.outputs import check_output_folder, clean_stale_temps

log = logging.getLogger(__name__)


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
    if workers < 1:
        raise UsageError("must be >= 1", field="workers", value=workers, allowed=">= 1")
    if retries < 0:
        raise UsageError("must be >= 0", field="retries", value=retries, allowed=">= 0")
    if scheduler is not None:
        require_dask()
    out = check_output_folder(Path(out).resolve())
    clean_stale_temps(out)
    store = TaskStore(out)
    store.add(tasks)
    finished = store.finished([t.task_id for t in tasks])
    if finished and not resume:
        msg = (
            f"{len(finished)} of {len(tasks)} tasks of this sweep are already finished in "
            f"{out}; give it to skip them, or choose another output folder"
        )
        raise UsageError(msg, field="resume")
    todo = [t for t in tasks if t.task_id not in finished]
    summary = BatchSummary(out, len(tasks), skipped=len(finished))
    show = settings.progress if progress is None else progress
    batch_id = uuid.uuid4().hex[:12]
    tracker = Tracker(store, summary, batch_id, len(todo), show)
    log.info(
        "batch %s: %d tasks (%d finished before) into %s", batch_id, len(todo), len(finished), out
    )
    try:
        if scheduler is None:
            run_local(todo, out, batch_id, workers, retries, runner, tracker)
        else:
            run_dask(todo, out, batch_id, scheduler, runner, tracker)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        tracker.close()
    log.info("batch %s: %d done, %d failed", batch_id, summary.done, summary.failed)
    return summary
