"""A run's tables as a package safe to share: small counts suppressed, every column described.

``main.py export RUN --out DIR [--min-cell K] [--format parquet|csv|gpkg]`` writes the
run's tables and zones layer to ``DIR`` with ``data_dictionary.csv`` (table, column,
meaning, unit, type) and ``README.txt``. Person data never leaves: a run folder holds
only aggregates, and figures (which may show any cell) are not exported.

Suppression (数据脱敏), per table (:data:`SPECS`):

- **primary**: every count below K (default: the city's ``privacy_min_cell``, else 10)
  is set to null; its derived columns (a share, a mean over the same people) too;
- **complementary**: the counts of a table are laid out as sub-tables (one per
  ``slice`` value, e.g. a year) of ``row`` x ``column`` cells whose row and column
  totals are public or computable (a school's pupils over its grades, a grade over the
  schools, a zone measure over the city). A suppressed cell can be recovered by
  subtraction exactly when it is the only unknown of some chain of such totals; in
  graph terms, when its edge in the bipartite graph of suppressed cells (rows x
  columns) is a bridge, on no cycle. Each bridge is closed into a cycle by also
  suppressing the cheapest rectangle of cells around it, until no bridge is left. A
  single column (``column`` None) needs 0 or at least 2 suppressed cells per total. A
  cell alone in its row or column (a junior school that is the only one teaching its
  grades) is that line's total: the rest of its row and column are suppressed with it,
  and that total must not be published elsewhere.
- one flag per table row, ``suppressed`` (true where its counts are null), or one per
  column, ``<column>_suppressed``, in wide tables (``kpis``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from sim.errors import UsageError
from sim.kpis import KPIS
from sim.runs.folder import TABLES, ZONES, ZONES_LAYER, read_manifest

FORMATS = ("parquet", "csv", "gpkg")
DEFAULT_MIN_CELL = 10
PERSON_UNITS = frozenset({"persons", "persons/year", "pupils"})
"""KPI units that count people (their values are suppressed below K)."""


@dataclass(frozen=True)
class Spec:
    """How one table is suppressed."""

    counts: tuple[str, ...]
    derived: tuple[str, ...] = ()
    """Columns computed from the counts of the same row (nulled with them)."""
    slices: tuple[str, ...] = ()
    row: str | None = None
    column: str | None = None
    per_column: bool = False
    """Flag (and suppress) each count column on its own, without complementary cells."""
    only: dict[str, frozenset[str]] = field(default_factory=dict)
    """Suppress only the rows whose column has one of these values."""


PUBLIC = frozenset({"schools", "catchments", "links_t", "signals"})
"""Tables without counts of people (links_t and signals count vehicles), exported as they
are. A run table neither here nor in :data:`SPECS` is withheld (named in README.txt)
until it has a suppression rule."""
_PERSON_KPIS = frozenset(k.name for k in KPIS if k.unit in PERSON_UNITS)
SPECS: dict[str, Spec] = {
    "zones": Spec(
        counts=(
            "population_start",
            "population_end",
            "pupils_end",
            "households_end",
            "dwellings_end",
            "jobs",
        ),
        derived=("growth_pct",),
        row="zone_id",
    ),
    "enrollment": Spec(
        counts=("demand", "overflow", "unplaced", "p10", "p50", "p90", "p025", "p975"),
        derived=("utilisation", "mean_distance_km"),
        slices=("year",),
        row="school",
        column="grade",
    ),
    "links": Spec(
        counts=("flow",), derived=("vc", "time_min", "speed_kmh"), slices=("year",), row="link_id"
    ),
    "housing_yield": Spec(
        counts=(
            "dwellings_sold",
            "dwellings_handed_over",
            "dwellings_occupied",
            "pupils_primary",
            "pupils_junior",
            "p10",
            "p90",
        ),
        derived=("pupils_per_100_dwellings",),
        row="site",
        column="year",
    ),
    "enrollment_flows": Spec(
        counts=("pupils",), slices=("replication", "year"), row="school", column="component"
    ),
    "parking": Spec(counts=("occupied",), slices=("year", "kind", "bin_start_s"), row="place"),
    "kpis": Spec(counts=tuple(sorted(_PERSON_KPIS)), per_column=True),
    "kpis_summary": Spec(counts=("p10", "p50", "p90"), only={"kpi": _PERSON_KPIS}),
}


# --------------------------------------------------------------------------- suppression


def suppress_cells(values: np.ndarray, k: float) -> np.ndarray:
    """Primary and complementary suppression of one ``rows x columns`` table of counts.

    Parameters
    ----------
    values
        Counts; NaN marks a cell that does not exist (known to be absent, not secret).
    k
        Counts below ``k`` are suppressed.

    Returns
    -------
    numpy.ndarray of bool
        True where the cell is suppressed; no suppressed cell is determined by the row
        and column totals and the published cells.
    """
    v = np.asarray(values, dtype=float)
    grid = v[:, None] if v.ndim == 1 else v
    present = ~np.isnan(grid)
    grid = np.abs(grid)  # a flow of -3 is as small as one of 3
    mask = present & (grid < k)
    if grid.shape[1] == 1:
        mask[:, 0] = _one_total(grid[:, 0], mask[:, 0])
    elif grid.shape[0] == 1:
        mask[0, :] = _one_total(grid[0, :], mask[0, :])
    else:
        stuck: set[tuple[int, int]] = set()
        while (bridge := _first_bridge(mask, stuck)) is not None:
            if not _close(grid, present, mask, *bridge):
                stuck.add(bridge)  # a lone cell of its row and column: nothing can hide it
    return mask[:, 0] if v.ndim == 1 else mask


def _one_total(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A list with one total: 0 or at least 2 suppressed (the next smallest joins)."""
    mask = mask.copy()
    if mask.sum() == 1:
        free = np.where(mask | np.isnan(v), np.inf, v)
        if np.isfinite(free).any():
            mask[int(np.argmin(free))] = True
    return mask


def _first_bridge(mask: np.ndarray, stuck: set[tuple[int, int]]) -> tuple[int, int] | None:
    """A suppressed cell on no cycle of suppressed cells (so its totals reveal it)."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    graph = nx.Graph()
    graph.add_edges_from((("r", int(r)), ("c", int(c))) for r, c in zip(rows, cols, strict=True))
    for a, b in nx.bridges(graph):
        (_, i), (_, j) = (a, b) if a[0] == "r" else (b, a)
        if (int(i), int(j)) not in stuck:
            return int(i), int(j)
    return None


def _close(v: np.ndarray, present: np.ndarray, mask: np.ndarray, r: int, c: int) -> bool:
    """Suppress the cheapest rectangle (r, c2), (r2, c), (r2, c2) of existing cells.

    Without one, the rest of the cell's row and column; False when nothing was added.
    """
    cost = np.where(mask, 0.0, np.where(present, v, np.inf))
    total = cost[r, :][None, :] + cost[:, c][:, None] + cost
    total[r, :] = np.inf
    total[:, c] = np.inf
    before = int(mask.sum())
    if not np.isfinite(total).any():
        mask[r, :] |= present[r, :]
        mask[:, c] |= present[:, c]
    else:
        r2, c2 = np.unravel_index(int(np.argmin(total)), total.shape)
        for i, j in ((r, c2), (r2, c), (r2, c2)):
            mask[i, j] = True
    return int(mask.sum()) > before


def suppress_table(frame: pd.DataFrame, spec: Spec, k: float) -> pd.DataFrame:
    """The table with small counts (and what they reveal) nulled and flag column(s)."""
    out = frame.copy()
    counts = [c for c in spec.counts if c in out.columns]
    derived = [c for c in spec.derived if c in out.columns]
    if spec.per_column:
        for col in counts:
            flag = out[col].notna() & (out[col].abs() < k)
            out[col] = _nullable(out[col]).where(~flag)
            out[f"{col}_suppressed"] = flag
        return out
    eligible = np.ones(len(out), dtype=bool)
    for col, allowed in spec.only.items():
        eligible &= out[col].isin(allowed).to_numpy()
    cell = np.zeros(len(out), dtype=bool)
    for col in counts:
        cell |= _column_mask(out, col, spec, k) & eligible
    for col in counts + derived:
        out[col] = _nullable(out[col]).where(~cell)
    out["suppressed"] = cell
    return out


def _nullable(series: pd.Series) -> pd.Series:
    """The column in a dtype that holds nulls and keeps integers integers."""
    return series.astype("Int64" if pd.api.types.is_integer_dtype(series) else "Float64")


def _column_mask(frame: pd.DataFrame, col: str, spec: Spec, k: float) -> np.ndarray:
    """Suppressed rows of one count column, sub-table by sub-table."""
    mask = np.zeros(len(frame), dtype=bool)
    if spec.row is None:
        return frame[col].notna().to_numpy() & (frame[col].abs() < k).to_numpy()
    groups = (
        frame.groupby(list(spec.slices)).indices if spec.slices else {(): np.arange(len(frame))}
    )
    for idx in groups.values():
        part = frame.iloc[idx]
        rows = pd.Index(part[spec.row].unique())
        cols = pd.Index(part[spec.column].unique()) if spec.column else pd.Index([0])
        ri = rows.get_indexer(part[spec.row])
        ci = cols.get_indexer(part[spec.column]) if spec.column else np.zeros(len(part), int)
        grid = np.full((len(rows), len(cols)), np.nan)
        grid[ri, ci] = part[col].to_numpy(dtype=float)
        hidden = suppress_cells(grid, k)
        mask[idx] = hidden[ri, ci]
    return mask


# --------------------------------------------------------------------------- dictionary

_MEANINGS: dict[str, tuple[str, str]] = {
    # column: (meaning, unit)
    "year": ("simulated year", "year"),
    "replication": ("Monte Carlo replication number", ""),
    "zone_id": ("zone id of the city", ""),
    "name": ("name", ""),
    "population_start": ("residents in the base year", "persons"),
    "population_end": ("residents at the end of the run", "persons"),
    "pupils_end": ("pupils living in the zone at the end of the run", "pupils"),
    "households_end": ("households at the end of the run", "households"),
    "dwellings_end": ("dwellings at the end of the run", "dwellings"),
    "jobs": ("jobs located in the zone", "jobs"),
    "growth_pct": ("population change over the run", "%"),
    "school": ("school id", ""),
    "school_id": ("school id", ""),
    "grade": ("grade (1 = first primary grade)", ""),
    "demand": (
        "children of the grade seeking a place at the school (mean of replications)",
        "pupils",
    ),
    "capacity": (
        "places (classes x class size); for links: capacity; for parking: spaces",
        "places, veh/h or spaces",
    ),
    "utilisation": ("demand / capacity", ""),
    "overflow": ("pupils placed outside their catchment school", "pupils"),
    "unplaced": ("pupils without a school place", "pupils"),
    "mean_distance_km": ("mean home-school distance of the pupils", "km"),
    "p10": ("10th percentile over replications", "as the measure"),
    "p50": ("median over replications", "as the measure"),
    "p90": ("90th percentile over replications", "as the measure"),
    "p025": ("2.5th percentile over replications", "as the measure"),
    "p975": ("97.5th percentile over replications", "as the measure"),
    "link_id": ("road link id of the city", ""),
    "kind": ("parking place: lot (a car park) or kerb (a zone's kerbside spaces)", ""),
    "place": ("car park id (kind lot) or zone id (kind kerb)", ""),
    "bin_start_s": ("start of the 5-minute bin, seconds after 06:00", "s"),
    "occupied": ("spaces taken at the end of the bin", "spaces"),
    "flow": ("peak-hour vehicle flow", "veh/h"),
    "vc": ("volume / capacity", ""),
    "time_min": ("congested travel time", "min"),
    "speed_kmh": ("congested speed", "km/h"),
    "level": ("school level (primary, junior)", ""),
    "x": ("x coordinate in the city CRS", "m"),
    "y": ("y coordinate in the city CRS", "m"),
    "grade_lo": ("first grade taught", ""),
    "grade_hi": ("last grade taught", ""),
    "classes_by_grade": ("classes per grade taught, comma-separated", "classes"),
    "opens": ("year the school opens (policy), empty if not set", "year"),
    "closes": ("year the school closes (policy), empty if not set", "year"),
    "kpi": ("KPI name (see the kpis table's columns)", ""),
    "component": ("part of the change in a school's pupils (see sim/education/explain.py)", ""),
    "pupils": ("pupils in this component (negative: leaving)", "pupils"),
    "site": ("development site id", ""),
    "years_since_handover": ("years since the dwellings were handed over", "years"),
    "dwellings_sold": ("dwellings sold", "dwellings"),
    "dwellings_handed_over": ("dwellings handed over", "dwellings"),
    "dwellings_occupied": ("dwellings occupied", "dwellings"),
    "pupils_primary": ("primary pupils", "pupils"),
    "pupils_junior": ("junior pupils", "pupils"),
    "pupils_per_100_dwellings": ("pupils per 100 occupied dwellings", "pupils/100 dwellings"),
    "link": ("road link id of the city (link_id)", ""),
    "inflow": ("vehicles entering the link in the bin", "veh"),
    "outflow": ("vehicles leaving the link in the bin", "veh"),
    "mean_speed_kmh": ("link length over the mean time of the vehicles leaving in the bin", "km/h"),
    "queue": ("largest queue at the link's stop line in the bin", "veh"),
    "occupancy": ("mean vehicles on the link in the bin", "veh"),
    "signal": ("signal id of the city", ""),
    "phases": ("phases of the signal's plan", ""),
    "phase": ("phase of the plan (0 = main road, the last = cross road)", ""),
    "cycle_s": ("cycle of the plan", "s"),
    "green_s": ("mean effective green of the phase per cycle, as the loading ran it", "s"),
    "degree_of_saturation": (
        "busiest hour's flow over capacity of the phase's most loaded approach",
        "",
    ),
    "control": ("signal control (fixed, webster, actuated, max-pressure)", ""),
    "suppressed": ("true where this row's counts are suppressed (below K, or to protect one)", ""),
    "geometry": ("zone polygon in the city CRS (WKT in CSV)", "m"),
}


def _type(series: pd.Series) -> str:
    if isinstance(series.dtype, gpd.array.GeometryDtype):
        return "geometry"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "text"


def data_dictionary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per exported column: table, column, meaning, unit, type."""
    kpis = {k.name: (k.label, k.unit) for k in KPIS}
    rows = []
    for table, frame in tables.items():
        for col in frame.columns:
            base = col.removesuffix("_suppressed")
            if col.endswith("_suppressed"):
                meaning, unit = (f"true where {base} is suppressed", "")
            elif table == "kpis" and col in kpis:
                meaning, unit = kpis[col]
            else:
                meaning, unit = _MEANINGS.get(col, ("", ""))
            if table == "links" and col == "capacity":
                meaning, unit = ("link capacity", "veh/h")
            elif table == "enrollment" and col == "capacity":
                meaning, unit = ("places of the grade (classes x class size)", "places")
            rows.append(
                {
                    "table": table,
                    "column": col,
                    "meaning": meaning or "(undocumented)",
                    "unit": unit,
                    "type": _type(frame[col]),
                }
            )
    return pd.DataFrame(rows, columns=["table", "column", "meaning", "unit", "type"])


# --------------------------------------------------------------------------- the package


def city_min_cell(manifest: dict[str, Any]) -> int:
    """The city's ``privacy_min_cell`` (import config), else :data:`DEFAULT_MIN_CELL`."""
    city = Path(str(manifest.get("city", "")))
    if city.is_file():
        import pyogrio

        try:
            settings = pyogrio.read_dataframe(city, layer="city_settings")
        except Exception:  # an unreadable city only loses the default
            return DEFAULT_MIN_CELL
        row = settings[settings["key"] == "privacy_min_cell"]
        if len(row):
            return int(json.loads(row["value"].iloc[0]))
    return DEFAULT_MIN_CELL


def export_run(
    run_dir: Path, out: Path, min_cell: int | None = None, fmt: str = "parquet"
) -> dict[str, Any]:
    """Write the shareable package of ``run_dir`` to ``out``; return a summary.

    Raises
    ------
    UsageError
        An unknown format, K < 1, or ``out`` is a non-empty folder not made by export.
    """
    if fmt not in FORMATS:
        raise UsageError(f"allowed: {', '.join(FORMATS)}", field="format", value=fmt)
    manifest = read_manifest(run_dir)
    k = city_min_cell(manifest) if min_cell is None else int(min_cell)
    if k < 1:
        raise UsageError("must be >= 1", field="min_cell", value=k)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "data_dictionary.csv").is_file():
        raise UsageError("is a non-empty folder; give a new one", field="out", value=out)
    tables = _tables(run_dir, k)
    withheld = [n for n in TABLES if n not in tables and (run_dir / f"{n}.parquet").is_file()]
    summary = {
        "withheld": withheld,
        "min_cell": k,
        "format": fmt,
        "tables": {n: len(t) for n, t in tables.items()},
        "suppressed": {n: _n_suppressed(t) for n, t in tables.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(tables, tmp, fmt)
        data_dictionary(tables).to_csv(tmp / "data_dictionary.csv", index=False)
        (tmp / "README.txt").write_text(_readme(manifest, summary), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _tables(run_dir: Path, k: int) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    zones = gpd.read_file(run_dir / ZONES, layer=ZONES_LAYER)
    tables["zones"] = suppress_table(zones, SPECS["zones"], k)
    for name in TABLES:
        path = run_dir / f"{name}.parquet"
        if path.is_file() and (name in SPECS or name in PUBLIC):
            frame = pd.read_parquet(path)
            tables[name] = suppress_table(frame, SPECS[name], k) if name in SPECS else frame
    return tables


def _n_suppressed(frame: pd.DataFrame) -> int:
    flags = [c for c in frame.columns if c == "suppressed" or c.endswith("_suppressed")]
    return int(sum(frame[c].sum() for c in flags))


def _write(tables: dict[str, pd.DataFrame], folder: Path, fmt: str) -> None:
    for name, frame in tables.items():
        if fmt == "gpkg":
            import pyogrio

            pyogrio.write_dataframe(frame, folder / "package.gpkg", layer=name, driver="GPKG")
        elif fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            flat = pd.DataFrame(frame)
            if isinstance(frame, gpd.GeoDataFrame):
                flat["geometry"] = frame.geometry.to_wkt()
            flat.to_csv(folder / f"{name}.csv", index=False)


def _readme(manifest: dict[str, Any], summary: dict[str, Any]) -> str:
    lines = [
        f"Shareable package of run {manifest.get('run_id', '')} ({manifest.get('city_name', '')}),",
        f"years {manifest.get('start_year')}..{manifest.get('end_year')}.",
        f"Counts below K = {summary['min_cell']} are suppressed (null, flagged), and so are",
        "the cells needed so that no suppressed count can be recovered from a row or",
        "column total. Every column is described in data_dictionary.csv.",
        "",
        "suppressed cells per table: "
        + ", ".join(f"{n} {c}" for n, c in summary["suppressed"].items()),
        "withheld (no suppression rule yet): " + (", ".join(summary["withheld"]) or "none"),
    ]
    return "\n".join(lines) + "\n"
