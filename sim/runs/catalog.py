"""The runs catalog: the ``runs`` table of a runs folder's SQLite file, one row per run.

The GUI lists runs from it, ``compare`` resolves scenario names through it and a resumed
batch skips what it already holds. The connection, the table's schema and the fast
read-only lookup of the newest run live in :mod:`sim.runs.folder`.
"""

from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.runs.folder import RUNS_COLUMNS, RUNS_SCHEMA, catalog_path, connect, newest_finished

if TYPE_CHECKING:
    import pandas as pd


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
