"""Task locks: ``OUT/.locks/<task>.lock`` while a worker runs a task.

Two batches never write the same run: a lock is created atomically (a hard link, like
``O_EXCL``) with its holder (host, pid, batch) inside. A lock of a dead process on this
host, or of an earlier attempt of the same batch, is taken over; the temporary folders its
holder left are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

from sim.outputs import TMP_PREFIX, pid_alive

LOCKS = ".locks"


class TaskLock:
    """``OUT/.locks/<task>.lock``, created atomically (hard link) while a worker runs the task."""

    def __init__(self, out: Path, task_id: str, batch_id: str) -> None:
        self.path = lock_path(out, task_id)
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
                    holder = read_holder(self.path)
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

    def _stale(self, holder: dict[str, Any]) -> bool:
        if holder.get("batch") == self.me["batch"]:
            return True  # an earlier attempt of this batch, whose worker died
        return holder.get("host") == self.me["host"] and not pid_alive(int(holder["pid"]))

    def release(self) -> None:
        """Remove the lock if this process holds it."""
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.held = False


def lock_path(out: Path, task_id: str) -> Path:
    """The lock file of a task in a runs folder."""
    return Path(out) / LOCKS / f"{task_id}.lock"


def read_holder(path: Path) -> dict[str, Any] | None:
    """Who holds a lock file (host, pid, batch), or None when there is none."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None  # released meanwhile (a lock is written in full before it is linked)


def held_by_other(out: Path, task_id: str, batch_id: str) -> str | None:
    """Who runs ``task_id`` when a live process of another batch holds its lock."""
    holder = read_holder(lock_path(out, task_id))
    if holder is None or holder.get("batch") == batch_id:
        return None
    if holder.get("host") == socket.gethostname() and not pid_alive(int(holder["pid"])):
        return None
    return f"{holder.get('host')}:{holder.get('pid')} (batch {holder.get('batch')})"


def remove_partial_runs(out: Path, task_id: str, pid: int | str = "*") -> None:
    """Remove the temporary folders a dead worker (``pid``) left while writing a task's run."""
    for tmp in Path(out).glob(f"{TMP_PREFIX}{task_id}-{pid}-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def remove_lock_parts(out: Path, task_id: str, pid: int) -> None:
    """Remove the holder file a worker (``pid``, dead) wrote to take a task's lock.

    It is written before it is linked into place, so a worker stopped in between leaves it.
    """
    for part in (Path(out) / LOCKS).glob(f".{task_id}.lock.{pid}.*"):
        part.unlink(missing_ok=True)


def release_dead(out: Path, task_id: str, pid: int | str = "*") -> None:
    """Drop the lock and partial run folders of a task whose worker process is gone."""
    remove_partial_runs(out, task_id, pid)
    with contextlib.suppress(FileNotFoundError):
        lock_path(out, task_id).unlink()
