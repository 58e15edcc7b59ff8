"""The parent side's record of a batch: results into the catalog, the progress bar, counts.

Every write names the batch that makes it (``of_batch``), so a second batch started into
the same folder never overwrites what the batch running a task recorded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.batch.locks import held_by_other
from sim.batch.store import TaskStore
from sim.batch.sweep import SweepTask
from sim.batch.tasks import TaskResult
from sim.progress import Progress

log = logging.getLogger(__name__)


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


class Tracker:
    """Records results in the catalog and drives the progress bar."""

    def __init__(
        self, store: TaskStore, summary: BatchSummary, batch_id: str, n: int, show: bool
    ) -> None:
        self.store = store
        self.out = store.path.parent
        self.batch_id = batch_id
        self.summary = summary
        self.bar = Progress("batch", n, "task", show=show)
        self._advance(0)

    def _advance(self, n: int, task_id: str = "", what: str = "") -> None:
        s = self.summary
        left = f"{s.done} done, {s.failed} failed, {s.remaining} remaining"
        self.bar.advance(n, left)
        if n:  # without a bar (not a terminal, CI, logs) a line per task
            self.bar.note(f"{task_id} {what} ({left})")

    def queued(self, task: SweepTask, attempts: int) -> bool:
        """Claim a task for this batch; False (and counted) when another live batch runs it."""
        holder = held_by_other(self.out, task.task_id, self.batch_id)
        if holder is not None:
            self.record(TaskResult(task.task_id, "locked", "", error=f"being run by {holder}"))
            return False
        if self.store.finished([task.task_id]):
            # another batch wrote and recorded it since this one started: its row stays
            self.record(TaskResult(task.task_id, "finished", ""))
            return False
        self.store.update(
            task.task_id, status="queued", attempts=attempts, batch=self.batch_id, worker_pid=None
        )
        return True

    def release(self, task_id: str) -> None:
        """A task this batch stopped before it finished: pending again, if still ours."""
        self.store.update(task_id, of_batch=self.batch_id, status="pending")

    def record(self, result: TaskResult) -> None:
        """Record a final result (done or failed); others leave the task pending."""
        if result.status == "done":
            self.store.update(
                result.task_id,
                of_batch=self.batch_id,
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
        elif result.status == "finished":
            self.summary.skipped += 1  # its row belongs to the batch that wrote it
            self._advance(1, result.task_id, "skipped: finished by another batch")
        elif result.status == "locked":
            self.summary.locked += 1  # its row belongs to the batch running it
            self._advance(1, result.task_id, f"skipped: {result.error}")
        else:
            self.store.update(
                result.task_id, of_batch=self.batch_id, status="pending", error=result.error
            )
            self._advance(1, result.task_id, "cancelled")

    def fail(self, task_id: str, error: str) -> None:
        """Record a task as failed with its cause."""
        self.store.update(
            task_id, of_batch=self.batch_id, status="failed", finished=time.time(), error=error
        )
        log.warning("task %s failed: %s", task_id, error.splitlines()[0])
        self.summary.failed += 1
        self.summary.errors[task_id] = error
        self._advance(1, task_id, f"failed: {error.splitlines()[0]}")

    def close(self) -> None:
        """Finish the progress bar."""
        self.bar.close()
