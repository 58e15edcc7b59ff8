"""The runs catalog: the ``runs`` table of a runs folder's SQLite file, one row per run.

The GUI lists runs from it, ``compare`` resolves scenario names through it and a resumed
batch skips what it already holds. A second table, ``run_labels``, keeps the names and
notes a user gives runs (:meth:`Catalog.set_label`, :meth:`Catalog.labels`);
:meth:`Catalog.delete` removes a run's row, label and folder. The connection, the table's
schema and the fast read-only lookup of the newest run live in :mod:`sim.runs.folder`.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.runs.folder import RUNS_COLUMNS, RUNS_SCHEMA, catalog_path, connect, newest_finished

if TYPE_CHECKING:
    import pandas as pd

LABELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_labels (
    run_id TEXT PRIMARY KEY,
    name   TEXT NOT NULL DEFAULT '',
    notes  TEXT NOT NULL DEFAULT ''
)
"""


class Catalog:
    """The catalog of a runs folder (``<runs_folder>/catalog.sqlite``)."""

    def __init__(self, runs_folder: Path | None = None) -> None:
        self.path = catalog_path(runs_folder)
        self.runs_folder = self.path.parent

    def register(self, run_dir: Path, manifest: dict[str, Any], status: str = "done") -> None:
        """Insert or replace the row of one run folder."""
        row = (
            manifest["run_id"],
            manifest["scenario"]["name"],
            str(Path(run_dir).resolve()),
            manifest.get("seed"),
            status,
            time.time(),
            manifest.get("timings", {}).get("total"),
            json.dumps(manifest.get("final_kpis", {}), sort_keys=True),
        )
        with closing(connect(self.path)) as con, con:
            con.execute(RUNS_SCHEMA)
            con.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?)", row)

    def runs(self) -> pd.DataFrame:
        """All runs whose folder still exists, newest first."""
        import pandas as pd

        if not self.path.exists():
            return pd.DataFrame(columns=list(RUNS_COLUMNS))
        with closing(connect(self.path)) as con:
            con.execute(RUNS_SCHEMA)
            df = pd.read_sql_query("SELECT * FROM runs ORDER BY created DESC", con)
        return df[[Path(p).is_dir() for p in df["path"]]].reset_index(drop=True)

    def latest(self, scenario: str | None = None) -> Path | None:
        """The newest finished run, of one scenario when given."""
        return newest_finished(self.runs_folder, scenario)

    def set_label(self, run_id: str, *, name: str | None = None, notes: str | None = None) -> None:
        """Give run ``run_id`` a name and/or notes (None keeps the current one)."""
        old = self.labels().get(run_id, {"name": "", "notes": ""})
        name = old["name"] if name is None else name
        notes = old["notes"] if notes is None else notes
        row = (run_id, name, notes)
        with closing(connect(self.path)) as con, con:
            con.execute(LABELS_SCHEMA)
            con.execute("INSERT OR REPLACE INTO run_labels VALUES (?,?,?)", row)

    def labels(self) -> dict[str, dict[str, str]]:
        """Run id -> {"name", "notes"} for the runs a user has named or annotated."""
        if not self.path.exists():
            return {}
        with closing(connect(self.path)) as con:
            con.execute(LABELS_SCHEMA)
            rows = con.execute("SELECT run_id, name, notes FROM run_labels").fetchall()
        return {r: {"name": n, "notes": t} for r, n, t in rows}

    def delete(self, run_id: str) -> None:
        """Remove run ``run_id``: its catalog row, its label and its folder (if in this folder).

        A folder outside the runs folder is left on disk; only its catalog entry goes.
        """
        with closing(connect(self.path)) as con, con:
            con.execute(RUNS_SCHEMA)
            con.execute(LABELS_SCHEMA)
            found = con.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            con.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            con.execute("DELETE FROM run_labels WHERE run_id = ?", (run_id,))
        if found is not None:
            folder = Path(found[0]).resolve()
            if folder.parent == self.runs_folder.resolve() and folder.is_dir():
                shutil.rmtree(folder)
