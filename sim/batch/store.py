"""The ``batch_tasks`` table of a runs folder's catalog: one row per sweep task.

Columns: task_id, sweep, variant, replication, parameters (JSON), seed, years, status
(pending → queued → running → done | failed), attempts, batch (the batch process that
queued or runs the task), worker, worker_pid, started, finished, seconds, timings (JSON),
kpis (JSON, end-year KPIs), error (the cause of a failure, with the worker's last log
lines) and run_dir. The connection comes from :func:`sim.runs.folder.connect`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.batch.sweep import SweepTask
from sim.errors import RunError
from sim.runs.folder import catalog_path, connect, is_complete

if TYPE_CHECKING:
    import pandas as pd

TASKS_TABLE = "batch_tasks"
#: Statuses a task ends in.
FINAL = ("done", "failed")

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


class TaskStore:
    """The ``batch_tasks`` table of a runs folder's catalog (one short connection per call).

    Parameters
    ----------
    out
        The runs folder; the table lives in ``out / settings.catalog_name``.
    """

    def __init__(self, out: Path, *, create: bool = True) -> None:
        self.out = Path(out)
        self.path = catalog_path(self.out)
        if create:
            with self._connect() as conn:
                conn.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.path, timeout=60)
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

    def finished(self, task_ids: Sequence[str]) -> set[str]:
        """The given tasks recorded ``done`` whose run folder is complete (by any batch)."""
        status = self.status(task_ids)
        return {t for t, st in status.items() if st == "done" and is_complete(self.out / t)}

    def update(self, task_id: str, *, of_batch: str | None = None, **values: Any) -> bool:
        """Set columns of one task's row (dicts are stored as JSON).

        With ``of_batch``, only while the row belongs to that batch (so one batch never
        overwrites what another batch running the task recorded). Returns whether a row
        changed.
        """
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
        cols = ", ".join(f"{k} = ?" for k in values)
        sql = f"UPDATE {TASKS_TABLE} SET {cols} WHERE task_id = ?"
        params = [*values.values(), task_id]
        if of_batch is not None:
            sql += " AND batch IS ?"
            params.append(of_batch)
        with self._connect() as conn:
            return conn.execute(sql, params).rowcount > 0

    def worker_pid(self, task_id: str) -> int | None:
        """The pid of the worker process running the task's current attempt, if it started."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT worker_pid FROM {TASKS_TABLE} WHERE task_id = ?", (task_id,)
            ).fetchone()
        return row[0] if row else None

    def frame(self) -> pd.DataFrame:
        """Every row, with ``parameters``, ``timings`` and ``kpis`` decoded from JSON."""
        import pandas as pd

        with self._connect() as conn:
            df = pd.read_sql_query(f"SELECT * FROM {TASKS_TABLE} ORDER BY task_id", conn)
        for col in ("parameters", "timings", "kpis"):
            df[col] = [json.loads(v) if isinstance(v, str) else {} for v in df[col]]
        return df


def tasks_frame(out: Path) -> pd.DataFrame:
    """The batch tasks recorded in a runs folder (one row per task)."""
    if not catalog_path(Path(out)).exists():
        msg = f"no {catalog_path(Path(out)).name} here; is this the output folder of a batch?"
        raise RunError(msg, field="out", value=out)
    return TaskStore(out).frame()
