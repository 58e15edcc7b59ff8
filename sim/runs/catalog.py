"""The runs catalog: one SQLite file indexing the run folders of a runs folder.

The GUI lists runs from it, ``compare`` resolves scenario names through it and
``batch --resume`` skips what it already holds. WAL mode lets several processes
read while one writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd

from sim import settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    scenario  TEXT NOT NULL,
    path      TEXT NOT NULL,
    seed      INTEGER,
    status    TEXT NOT NULL,
    created   REAL NOT NULL,
    seconds   REAL,
    kpis_json TEXT
)
"""


#: The columns of the runs table, in order (an empty catalog has them too).
_COLUMNS = ["run_id", "scenario", "path", "seed", "status", "created", "seconds", "kpis_json"]


def connect(db_path: Path) -> sqlite3.Connection:
    """Open a catalog database in WAL mode, creating the runs table if needed."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(_SCHEMA)
    return con


class Catalog:
    """The catalog of a runs folder (``<runs_folder>/catalog.sqlite``)."""

    def __init__(self, runs_folder: Path | None = None) -> None:
        self.runs_folder = Path(runs_folder or settings.runs_folder)
        self.path = self.runs_folder / settings.catalog_name

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
            con.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?)", row)

    def runs(self) -> pd.DataFrame:
        """All runs whose folder still exists, newest first."""
        if not self.path.exists():
            return pd.DataFrame(columns=_COLUMNS)
        with closing(connect(self.path)) as con:
            df = pd.read_sql_query("SELECT * FROM runs ORDER BY created DESC", con)
        return df[[Path(p).is_dir() for p in df["path"]]].reset_index(drop=True)

    def latest(self, scenario: str | None = None) -> Path | None:
        """The newest finished run, of one scenario when given."""
        df = self.runs()
        df = df[df["status"] == "done"]
        if scenario is not None:
            df = df[df["scenario"] == scenario]
        return Path(df["path"].iloc[0]) if len(df) else None
