"""Running batch tasks on a dask.distributed cluster (the ``dask`` extra).

The scheduler reschedules a task whose worker died (``distributed.scheduler.allowed-failures``,
which :func:`local_dask_cluster` sets to ``retries``); a ``KilledWorker`` marks the task
failed. Out-of-range or unreachable clusters are usage errors about the ``scheduler``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.batch.locks import release_dead
from sim.batch.sweep import SweepTask
from sim.batch.tasks import Runner, execute_task
from sim.batch.tracker import Tracker
from sim.errors import UsageError

log = logging.getLogger(__name__)

#: The extra that provides Dask, named in the error when it is missing.
EXTRA = "dask"


def require_dask() -> None:
    """UsageError naming the extra to install when dask.distributed is missing."""
    from importlib.util import find_spec

    try:
        found = find_spec("distributed") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        found = False
    if not found:
        msg = f"Dask is not installed; pip install 'citysandbox[{EXTRA}]' (the {EXTRA} extra)"
        raise UsageError(msg, field="scheduler")


def run_dask(
    tasks: Sequence[SweepTask],
    out: Path,
    batch_id: str,
    scheduler: str,
    runner: Runner | None,
    tracker: Tracker,
) -> None:
    """Run ``tasks`` on the Dask cluster at ``scheduler``, recording each with ``tracker``."""
    require_dask()
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        msg = f"cannot reach a Dask scheduler there ({exc})"
        raise UsageError(msg, field="scheduler", value=scheduler) from None
    futures = {}
    try:
        _check_workers(client, scheduler)
        for task in tasks:
            if not tracker.queued(task, 0):
                continue  # another live batch runs it
            fut = client.submit(
                execute_task, task, str(out), batch_id, runner, key=f"{task.task_id}-{batch_id}"
            )
            futures[fut] = task
        for fut in as_completed(futures):
            task = futures.pop(fut)
            try:
                tracker.record(fut.result())
            except Exception as exc:  # KilledWorker after the scheduler's allowed failures
                release_dead(out, task.task_id, tracker.store.worker_pid(task.task_id) or "*")
                tracker.fail(task.task_id, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        client.cancel(list(futures))
        for task in futures.values():
            tracker.release(task.task_id)
        raise
    finally:
        client.close()


def _check_workers(client: Any, scheduler: str) -> None:
    """Fail early when the cluster has no worker, or workers that cannot import ``sim``."""
    try:
        client.wait_for_workers(1, timeout=30)
    except TimeoutError:
        msg = "no Dask worker joined within 30 s (start `dask worker`)"
        raise UsageError(msg, field="scheduler", value=scheduler) from None

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
            f"{', '.join(lacking)} cannot import CitySandbox's sim package; start "
            "`dask scheduler` and `dask worker` in the repository with PYTHONPATH=$PWD, "
            "or pip install -e ."
        )
        raise UsageError(msg, field="scheduler", value=scheduler)


def local_dask_cluster(workers: int, retries: int = 2) -> Any:
    """A ``distributed.LocalCluster`` of single-threaded worker processes for batch runs.

    ``retries`` becomes the scheduler's ``allowed-failures``: how often a task whose worker
    died is rescheduled before it is reported as ``KilledWorker``.
    """
    require_dask()
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never "8787 already in use" on a shared host
        )
