"""Running batch tasks on a local process pool (``concurrent.futures``, fork-server workers).

A worker that dies (killed, segfault, out of memory) breaks the pool: the tasks whose
worker died on its own are charged one attempt, the others are resubmitted free of charge,
and a new pool starts. Ctrl-C asks the running tasks to stop (SIGINT sets their cancel
event), gives them :data:`CANCEL_GRACE_S` to do so, then terminates the workers that did
not, removes what they left and puts their tasks back to pending, so the batch exits
within about two seconds even when a task is deep in a long stage or the machine is busy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from sim.batch.locks import (
    lock_path,
    read_holder,
    release_dead,
    remove_lock_parts,
    remove_partial_runs,
)
from sim.batch.pool import pool_context
from sim.batch.sweep import SweepTask
from sim.batch.tasks import Runner, execute_task, init_local_worker
from sim.batch.tracker import Tracker
from sim.errors import RunError

log = logging.getLogger(__name__)

#: After Ctrl-C, how long running tasks may take to stop by themselves before termination.
CANCEL_GRACE_S = 0.5


def run_local(
    tasks: Sequence[SweepTask],
    out: Path,
    batch_id: str,
    workers: int,
    retries: int,
    runner: Runner | None,
    tracker: Tracker,
) -> None:
    """Run ``tasks`` on ``workers`` local processes, recording each with ``tracker``."""
    queue = deque(tasks)
    attempts: dict[str, int] = {}
    # fork-server workers that start with the batch's modules imported
    context = pool_context(["sim.batch.tasks", "sim.runs.run", "sim.model", "sim.city"])
    fruitless = 0  # pools in a row that broke without finishing or blaming any task
    while queue:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=init_local_worker)
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
                release_dead(out, task.task_id, pid)
            if cause is None:
                queue.appendleft(task)
                continue
            attempts[task.task_id] = attempts.get(task.task_id, 0) + 1
            tracker.store.update(
                task.task_id, of_batch=tracker.batch_id, attempts=attempts[task.task_id]
            )
            if attempts[task.task_id] > retries:
                tracker.fail(
                    task.task_id,
                    f"worker died ({cause}) on every one of {attempts[task.task_id]} attempts",
                )
            else:
                queue.appendleft(task)


def _drive_pool(
    pool: ProcessPoolExecutor,
    workers: int,
    queue: deque[SweepTask],
    running: dict[Future, SweepTask],
    attempts: dict[str, int],
    out: Path,
    batch_id: str,
    runner: Runner | None,
    tracker: Tracker,
) -> list[SweepTask]:
    """Feed the pool one task per free worker; return the tasks lost when it breaks."""
    broken: list[SweepTask] = []
    while queue or running:
        while queue and len(running) < workers and not broken:
            task = queue.popleft()
            if not tracker.queued(task, attempts.get(task.task_id, 0)):
                continue  # another live batch runs it
            try:
                with _held_interrupts():  # a task submitted is a task Ctrl-C can stop
                    running[pool.submit(execute_task, task, str(out), batch_id, runner)] = task
            except BrokenProcessPool:
                broken.append(task)
        done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
        for fut in done:
            with _held_interrupts():  # a result is recorded whole (catalog and counts) or not
                task = running.pop(fut)
                try:
                    tracker.record(fut.result())
                except BrokenProcessPool:
                    broken.append(task)
        if broken and not running:
            return broken
    return broken


@contextlib.contextmanager
def _held_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT, and SIGTERM when the CLI maps it) until the block has run.

    Python raises KeyboardInterrupt between any two bytecodes; inside the block that
    would leave a task submitted but not known, or recorded done but not counted.
    Signal handlers belong to the main thread: elsewhere (the desktop) this holds nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, _: caught.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for signum in caught[:1]:
            signal.raise_signal(signum)  # now to the handler it was meant for


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
    pool: ProcessPoolExecutor, running: dict[Future, SweepTask], tracker: Tracker
) -> None:
    """Ctrl-C: stop running tasks (SIGINT, then terminate), record those that finished anyway."""
    log.debug("batch %s: Ctrl-C, stopping %d tasks", tracker.batch_id, len(running))
    for fut in running:
        fut.cancel()
    for task in running.values():
        pid = tracker.store.worker_pid(task.task_id)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # the worker sets its cancel event
    done, _ = wait(running, timeout=CANCEL_GRACE_S)
    log.debug("batch %s: %d tasks stopped by themselves", tracker.batch_id, len(done))
    worker_pids = _stop_workers(pool)
    for fut, task in running.items():
        if fut in done and not fut.cancelled() and fut.exception() is None:
            tracker.record(fut.result())
            continue
        # Every worker is dead now, so nothing writes after this: drop what the task's
        # worker left (its lock names it even when it died before recording "running").
        holder = read_holder(lock_path(tracker.out, task.task_id))
        if holder is not None and holder.get("batch") == tracker.batch_id:
            release_dead(tracker.out, task.task_id, holder["pid"])
        for pid in worker_pids:  # one stopped while taking the lock left only its parts
            remove_partial_runs(tracker.out, task.task_id, pid)
            remove_lock_parts(tracker.out, task.task_id, pid)
        tracker.release(task.task_id)
    pool.shutdown(wait=False, cancel_futures=True)
    log.info("batch %s: stopped after Ctrl-C", tracker.batch_id)


def _stop_workers(pool: ProcessPoolExecutor) -> list[int]:
    """Terminate the pool's workers still in a task, wait until every one is gone; their pids.

    A worker still alive when its task is put back to pending could record ``running``
    over it; one that ignores SIGTERM (blocked in a system call) is killed.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:  # those still in a task: stopped now, not in 30 s
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return [proc.pid for proc in processes]
