"""Reading the import's source files: tables, zones and lon/lat points, checked.

Each reader records what is wrong in the :class:`~sim.cityimport.report.ImportReport`
(naming the file, the column and the row) instead of raising, so one pass reports every
problem of a step. Rows are numbered from 1 in the order of the file's data rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from sim.cityimport.config import Source
from sim.cityimport.report import ImportReport
from sim.geo import geometry_to_wgs84, to_wgs84

MAX_LISTED = 20
"""Findings listed one by one per check and layer; the rest are counted in one line."""


def listed(
    report: ImportReport,
    level: str,
    check: str,
    layer: str,
    items: Sequence[tuple[str, str]],
) -> None:
    """Record one finding per ``(message, item)``, the ones past :data:`MAX_LISTED` as one."""
    add = report.error if level == "error" else report.warning
    for message, item in items[:MAX_LISTED]:
        add(check, layer, message, item)
    if len(items) > MAX_LISTED:
        add(check, layer, f"{len(items) - MAX_LISTED} more like the above", None)


def id_text(value: Any) -> str:
    """Ids compared as text, so 36001 (CSV) matches "36001" (GeoJSON); 7.0 -> "7"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(source: Source, report: ImportReport) -> pd.DataFrame | None:
    """The rows of a CSV, Parquet or any vector file (geometry dropped); None if unreadable.

    CSV files may be UTF-8 (with or without a byte-order mark) or GB 18030 (GBK), the
    encodings of Chinese office software; all their cells are read as text.
    """
    path = source.file
    try:
        if path.suffix.lower() == ".csv":
            frame = _read_csv(path)
        elif path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.DataFrame(gpd.read_file(path).drop(columns="geometry", errors="ignore"))
    except Exception as exc:  # pandas and GDAL raise many kinds for a bad file
        report.error("read", source.key, f"{path}: cannot read ({exc})")
        return None
    return frame.reset_index(drop=True)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except UnicodeDecodeError:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="gb18030"
        )


def has_columns(
    frame: pd.DataFrame, source: Source, keys: Sequence[str], report: ImportReport
) -> bool:
    """Whether every column mapped to ``keys`` (when mapped) is in ``frame``."""
    ok = True
    for key in keys:
        col = source.col(key)
        if col is not None and col not in frame.columns:
            cols = ", ".join(map(str, frame.columns))
            report.error(
                "column",
                source.key,
                f"{source.file.name}: {source.key}.{key} = {col!r} is not a column"
                f" (columns: {cols})",
            )
            ok = False
    return ok


def numbers(
    frame: pd.DataFrame,
    source: Source,
    key: str,
    report: ImportReport,
    check: Callable[[pd.Series], pd.Series],
    allowed: str,
    show_values: bool = True,
) -> pd.Series:
    """The column mapped to ``key`` as floats; bad rows are errors (``allowed`` says why).

    ``show_values=False`` names only the row (register rows are person-level data).
    """
    col = str(source.col(key))
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() | ~check(values.fillna(0))
    rows = np.flatnonzero(bad.to_numpy())
    items = []
    for r in rows:
        shown = f" = {raw.iloc[r]!r}" if show_values else ""
        items.append(
            (
                f"{source.file.name}: column {col!r}{shown} is not allowed; allowed: {allowed}",
                f"row {r + 1}",
            )
        )
    listed(report, "error", "value", source.key, items)
    return values


def read_zones(source: Source, target: pyproj.CRS, report: ImportReport) -> gpd.GeoDataFrame | None:
    """Zones in ``target`` CRS indexed by id text, with ``name`` (GCJ-02/BD-09 moved)."""
    path = source.file
    try:
        zones = gpd.read_file(path, layer=source.col("layer"))
    except Exception as exc:  # GDAL raises many kinds for a bad file
        report.error("read", "zones", f"{path}: cannot read zones ({exc})")
        return None
    if not has_columns(pd.DataFrame(zones), source, ("id", "name"), report):
        return None
    if zones.crs is None:
        report.error(
            "value", "zones", f"{path.name}: the zones have no CRS; give the file one (EPSG:4326)"
        )
        return None
    ids = zones[str(source.col("id"))].map(id_text)
    dup = np.flatnonzero(ids.duplicated().to_numpy())
    listed(
        report,
        "error",
        "duplicate_id",
        "zones",
        [(f"{path.name}: zone id {ids.iloc[r]!r} repeats", f"feature {r + 1}") for r in dup],
    )
    empty = np.flatnonzero((zones.geometry.isna() | zones.geometry.is_empty).to_numpy())
    listed(
        report,
        "error",
        "value",
        "zones",
        [(f"{path.name}: zone {ids.iloc[r]!r} has no geometry", f"feature {r + 1}") for r in empty],
    )
    if len(dup) or len(empty):
        return None
    geoms, crs = zones.geometry.to_numpy(), zones.crs
    if zones.crs.is_geographic and source.coordinates != "wgs84":
        geoms, crs = geometry_to_wgs84(geoms, source.coordinates), pyproj.CRS("EPSG:4326")
    names = zones[source.col("name")].astype(str) if source.col("name") else ids
    out = gpd.GeoDataFrame({"name": names.to_numpy()}, geometry=geoms, crs=crs)
    out.index = pd.Index(ids.to_numpy(), name="zone_key")
    out = out.to_crs(target)
    out.geometry = shapely.make_valid(out.geometry.to_numpy())
    return out


def points(
    frame: pd.DataFrame,
    source: Source,
    report: ImportReport,
    target: pyproj.CRS,
) -> gpd.GeoSeries:
    """The rows' lon/lat (``lon``/``lat`` keys, in the source's system) in ``target``."""
    ok = lambda v: v.between(-180, 180)  # noqa: E731
    lon = numbers(frame, source, "lon", report, ok, "-180..180")
    lat = numbers(frame, source, "lat", report, lambda v: v.between(-90, 90), "-90..90")
    lon, lat = to_wgs84(lon.fillna(0).to_numpy(), lat.fillna(0).to_numpy(), source.coordinates)
    return gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(target)


def zone_of(pts: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Zone positions of points and their distance (m) outside every zone.

    Inside a zone: its position and 0; outside all: the nearest zone and the distance.
    """
    frame = gpd.GeoDataFrame(geometry=pts.reset_index(drop=True), crs=zones.crs)
    right = gpd.GeoDataFrame(geometry=zones.geometry.reset_index(drop=True), crs=zones.crs)
    hit = gpd.sjoin(frame, right, predicate="within", how="left")
    inside = hit.groupby(level=0)["index_right"].min().reindex(frame.index)
    near = gpd.sjoin_nearest(frame, right, how="left", distance_col="d")
    near = near.groupby(level=0).agg(pos=("index_right", "min"), d=("d", "min"))
    pos = inside.fillna(-1).astype(np.int64).to_numpy()
    return np.where(pos >= 0, pos, near["pos"].to_numpy()), np.where(
        pos >= 0, 0.0, near["d"].to_numpy()
    )
