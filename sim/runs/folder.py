"""The run-folder contract: file names, table columns, reading, writing, finding runs.

A runs folder holds run folders ``<scenario>-<hash>/`` and the catalog
``catalog.sqlite`` (:data:`sim.settings.catalog_name`). A run folder holds:

- ``manifest.json``        run_id, scenario (dict), seed, versions, timings, start_year,
                           end_year, crs, kpi_names, final_kpis, …
- ``kpis.parquet``         year, replication, one column per KPI
- ``kpis_summary.parquet`` year, kpi, p10, p50, p90
- ``enrollment.parquet``   :data:`ENROLLMENT_COLUMNS`
- ``links.parquet``        the peak-hour link flows of each year
- ``schools.parquet``      :data:`SCHOOL_COLUMNS`
- ``catchments.parquet``   :data:`CATCHMENT_COLUMNS`
- ``housing_yield.parquet`` pupils per 100 dwellings of each development by years since
                           handover (:func:`sim.population.housing.summarise_yield`)
- ``enrollment_flows.parquet`` replication, year, school, component, pupils: the flows of
                           children that add up to each school's demand
                           (:mod:`sim.education.explain`)
- ``am_profile.parquet``   year, period_start, departures, car_departures,
                           network_speed_kmh: the morning peak by 15 minutes (replication
                           0, the one with traffic; :func:`sim.mobility.demand.am_profile`)
- ``parking.parquet``      year, kind (lot, kerb), place (car park id, zone id),
                           bin_start_s, occupied, capacity: spaces taken by 5 minutes of the
                           AM period in the dynamic model's years (replication 0;
                           :func:`sim.traffic.parking_plan.parking_table`)
- ``links_t.parquet``      year, link, bin_start_s, inflow, outflow, mean_speed_kmh, queue,
                           occupancy: the dynamic peak by 5-minute bins (replication 0,
                           links with traffic in a bin; :mod:`sim.traffic.peak_outputs`)
- ``signals.parquet``      year, signal, phases, phase, cycle_s, green_s,
                           degree_of_saturation, control: each signal's plan as the dynamic
                           peak ran it (replication 0)
- ``zones.gpkg``           layer ``zones`` (zone_id, …, geometry in the city CRS)
- ``zones_years.parquet``  :data:`ZONE_YEAR_COLUMNS`: residents, pupils, households and
                           dwellings of each zone at the end of every year (replication
                           0); optional (:data:`OPTIONAL_TABLES`: runs before it lack it)
- ``figures/``             PNG figures

It is written into a temporary folder beside it and renamed when complete, so a crash
leaves no half run. This module imports only the standard library at import time, so
the fast ``enroll-query`` path stays fast; pandas and geopandas load when tables are read
or written.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import settings
from sim.errors import OutputError, RunError
from sim.outputs import check_name, clean_stale_temps, tmp_name, tmp_reserve

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ZONES = "zones.gpkg"
ZONES_LAYER = "zones"
FIGURES = "figures"
#: The tables of a run folder, each ``<name>.parquet``.
TABLES: tuple[str, ...] = (
    "kpis",
    "kpis_summary",
    "enrollment",
    "links",
    "schools",
    "catchments",
    "housing_yield",
    "enrollment_flows",
    "am_profile",
    "parking",
    "links_t",
    "signals",
)
#: Tables a run folder may have (written when the run gives them, read when present).
OPTIONAL_TABLES: tuple[str, ...] = ("zones_years",)
#: ``zones_years.parquet``: one row per year × zone (:func:`sim.runs.outputs.zone_year_frame`).
ZONE_YEAR_COLUMNS: tuple[str, ...] = (
    "year",
    "zone_id",
    "population",
    "pupils",
    "households",
    "dwellings",
)
#: Every file a complete run folder has.
RUN_FILES: tuple[str, ...] = (MANIFEST, *(f"{t}.parquet" for t in TABLES), ZONES)

#: ``enrollment.parquet``: one row per year × school × grade, bands over replications.
ENROLLMENT_COLUMNS: tuple[str, ...] = (
    "year",
    "school",
    "grade",
    "demand",
    "capacity",
    "utilisation",
    "overflow",
    "unplaced",
    "mean_distance_km",
    "p10",
    "p50",
    "p90",
    "p025",
    "p975",
)
#: ``schools.parquet``: one row per school.
SCHOOL_COLUMNS: tuple[str, ...] = (
    "school_id",
    "name",
    "level",
    "x",
    "y",
    "grade_lo",
    "grade_hi",
    "classes_by_grade",
    "opens",
    "closes",
)
#: ``catchments.parquet``: the catchment school of every zone and level, every year.
CATCHMENT_COLUMNS: tuple[str, ...] = ("year", "zone_id", "level", "school_id")


# --------------------------------------------------------------------------- the catalog

#: The ``runs`` table of the catalog: one row per run folder (see :mod:`sim.runs.catalog`).
RUNS_SCHEMA = """
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
#: The columns of the ``runs`` table, in order.
RUNS_COLUMNS: tuple[str, ...] = (
    "run_id",
    "scenario",
    "path",
    "seed",
    "status",
    "created",
    "seconds",
    "kpis_json",
)


def catalog_path(runs_folder: Path | None = None) -> Path:
    """The catalog file of a runs folder (default :data:`sim.settings.runs_folder`)."""
    return Path(runs_folder or settings.runs_folder) / settings.catalog_name


def connect(db_path: Path, *, readonly: bool = False, timeout: float = 30) -> sqlite3.Connection:
    """Open a catalog database: WAL mode, ``synchronous=NORMAL``.

    WAL lets several processes read while one writes; with NORMAL, commits survive a
    crashed process (not a power cut, where ``batch --resume`` re-adopts the complete run
    folders) without an fsync each. ``readonly`` opens an existing file without creating
    or changing it.
    """
    if readonly:
        return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=timeout)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path, timeout=timeout)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def newest_finished(runs_folder: Path, scenario: str | None = None) -> Path | None:
    """The newest finished run of the catalog (of one scenario when given) still on disk."""
    db = catalog_path(runs_folder)
    if not db.is_file():
        return None
    sql = "SELECT path FROM runs WHERE status = 'done'"
    params: tuple[str, ...] = ()
    if scenario is not None:
        sql += " AND scenario = ?"
        params = (scenario,)
    try:
        con = connect(db, readonly=True)
        try:
            rows = con.execute(f"{sql} ORDER BY created DESC", params).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    for (path,) in rows:
        if (Path(path) / MANIFEST).is_file():
            return Path(path)
    return None


# --------------------------------------------------------------------------- finding a run


def is_complete(run_dir: Path) -> bool:
    """Whether a run folder is complete (runs are renamed into place only when written)."""
    return (run_dir / MANIFEST).is_file() and (run_dir / "kpis.parquet").is_file()


def _newest_folder(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    manifests = [p for p in folder.glob(f"*/{MANIFEST}") if not p.parent.name.startswith(".")]
    if not manifests:
        return None
    return max(manifests, key=lambda p: p.stat().st_mtime_ns).parent


def resolve_run(
    ref: str | Path | None = None, runs_folder: Path | None = None, *, field: str = "run"
) -> Path:
    """The run folder that ``ref`` names.

    Parameters
    ----------
    ref
        A run folder; a run id inside ``runs_folder``; a scenario name (its newest
        finished run in the catalog); or None: the newest finished run of the catalog,
        else the newest run folder of ``runs_folder``.
    runs_folder
        Defaults to :data:`sim.settings.runs_folder`.
    field
        The argument ``ref`` came from (named in the error).

    Raises
    ------
    RunError
        Nothing matches.
    """
    folder = Path(runs_folder or settings.runs_folder)
    if ref is None:
        found = newest_finished(folder) or _newest_folder(folder)
        if found is None:
            msg = f"no finished run in {folder}; run a scenario first or name a run folder"
            raise RunError(msg, field=field)
        return found
    for cand in (Path(ref), folder / str(ref)):
        if (cand / MANIFEST).is_file():
            return cand
    found = newest_finished(folder, str(ref))
    if found is None:
        msg = (
            f"not a run folder, a run id in {folder} or a scenario with a finished run in "
            f"{catalog_path(folder)}"
        )
        raise RunError(msg, field=field, value=ref)
    return found


# --------------------------------------------------------------------------- reading


@dataclass
class RunData:
    """The tables of a finished run folder."""

    path: Path
    manifest: dict[str, Any]
    kpis: pd.DataFrame
    kpis_summary: pd.DataFrame
    enrollment: pd.DataFrame
    links: pd.DataFrame
    schools: pd.DataFrame
    catchments: pd.DataFrame
    housing_yield: pd.DataFrame
    enrollment_flows: pd.DataFrame
    am_profile: pd.DataFrame
    parking: pd.DataFrame
    links_t: pd.DataFrame
    signals: pd.DataFrame
    zones: Any
    zones_years: pd.DataFrame | None = None  # None: a run written before the table


def read_manifest(run_dir: Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A run's manifest; RunError when unreadable or missing one of ``required``."""
    path = Path(run_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: not a readable manifest ({exc})"
        raise RunError(msg) from None
    missing = [k for k in required if k not in manifest]
    if missing:
        msg = f"{path}: missing key(s) {', '.join(missing)}"
        raise RunError(msg)
    return dict(manifest)


def read_run(run_dir: Path | str) -> RunData:
    """Read a finished run folder.

    Raises
    ------
    RunError
        The folder is not a complete run folder, or one of its files is unreadable.
    """
    import geopandas as gpd
    import pandas as pd

    run_dir = Path(run_dir)
    missing = [f for f in RUN_FILES if not (run_dir / f).exists()]
    if missing:
        msg = f"{run_dir}: not a complete run folder (missing {', '.join(missing)})"
        raise RunError(msg)
    try:
        tables = {name: pd.read_parquet(run_dir / f"{name}.parquet") for name in TABLES}
        tables |= read_optional(run_dir)
        return RunData(
            path=run_dir,
            manifest=json.loads((run_dir / MANIFEST).read_text()),
            zones=gpd.read_file(run_dir / ZONES, layer=ZONES_LAYER),
            **tables,
        )
    except (OSError, ValueError, RuntimeError) as exc:  # pyarrow, json, pyogrio read errors
        msg = f"{run_dir}: a run file is unreadable ({exc})"
        raise RunError(msg) from None


def read_optional(run_dir: Path) -> dict[str, pd.DataFrame]:
    """The :data:`OPTIONAL_TABLES` a run folder has, by name."""
    import pandas as pd

    paths = {name: Path(run_dir) / f"{name}.parquet" for name in OPTIONAL_TABLES}
    return {name: pd.read_parquet(path) for name, path in paths.items() if path.is_file()}


# --------------------------------------------------------------------------- writing


def check_run_name(runs_folder: Path, run_id: str) -> None:
    """Refuse a run id that does not fit in a folder name of ``runs_folder``."""
    check_name(runs_folder, run_id, "name", reserve=tmp_reserve())


def write_run_folder(
    runs_folder: Path,
    run_id: str,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    write_extra: Callable[[Path], None],
) -> Path:
    """Write a run folder into a temporary folder, then rename it into place.

    Parameters
    ----------
    runs_folder, run_id
        The run folder becomes ``runs_folder / run_id``; an older one is replaced.
    tables
        One frame per name in :data:`TABLES`, and any of :data:`OPTIONAL_TABLES`.
    manifest
        Written as ``manifest.json`` (last, so a folder with one is complete).
    write_extra
        Writes the zones layer and the figures into the folder it is given.

    Raises
    ------
    OutputError
        A file could not be written; the temporary folder is removed.
    """
    clean_stale_temps(runs_folder)
    final = runs_folder / run_id
    tmp = runs_folder / tmp_name(run_id)
    try:
        runs_folder.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        for name in TABLES:
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        for name in OPTIONAL_TABLES:
            if name in tables:
                tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        write_extra(tmp)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        _replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        msg = f"writing the run folder failed ({exc.strerror or exc}); nothing was kept"
        raise OutputError(msg, field="out", value=runs_folder) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote run folder %s", final)
    return final


def _replace(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``, replacing an older run of the same id."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
