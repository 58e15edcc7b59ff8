"""Schools, development sites and car parks of an imported city, placed in its zones.

Points come as lon/lat (in the source's coordinate system) and take the zone that
contains them. A school outside every zone is an error (a city's schools lie in its
zones; often the sign of a wrong ``coordinates`` setting); sites and car parks outside
every zone are left out (warning). Catchments: each zone's nearest school of each
level (an error when a level has no school).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.cityimport.config import ImportConfig
from sim.cityimport.report import ImportReport
from sim.cityimport.sources import (
    has_columns,
    id_text,
    listed,
    numbers,
    points,
    read_table,
    zone_of,
)
from sim.education.systems import SchoolSystemPreset, preset

LEVELS = {
    "primary": "primary",
    "小学": "primary",
    "basica": "primary",
    "básica": "primary",
    "junior": "junior",
    "middle": "junior",
    "初中": "junior",
    "media": "junior",
}
"""Accepted school levels (case-insensitive) and what they mean."""
SITE_OCCUPANCY = 0.9
"""Share of a site's new dwellings occupied, when the sites file does not say."""
PARKING_OCCUPANCY_AM = 0.8
"""Morning-peak occupancy of a car park, when not given (assumed)."""


def schools(
    cfg: ImportConfig, zones: gpd.GeoDataFrame, persons: pd.DataFrame, report: ImportReport
) -> gpd.GeoDataFrame:
    """The schools layer, and each zone's ``catchment_primary`` / ``catchment_junior``.

    Without ``classes_per_grade``, a school gets enough classes for the children of its
    catchment (per grade, at the preset class size), at least one.
    """
    source = cfg.sources["schools"]
    frame = read_table(source, report)
    keys = ("id", "name", "lon", "lat", "level", "classes_per_grade", "class_size", "quality")
    if frame is None or not has_columns(frame, source, keys, report):
        report.stop_on_errors()
        return gpd.GeoDataFrame()
    ids = frame[str(source.col("id"))].map(id_text)
    dup = np.flatnonzero(ids.duplicated().to_numpy())
    listed(
        report,
        "error",
        "duplicate_id",
        "schools",
        [(f"school id {ids.iloc[r]!r} repeats", f"row {r + 1}") for r in dup],
    )
    col = str(source.col("level"))
    level = frame[col].astype(str).str.strip().str.lower().map(LEVELS)
    bad = np.flatnonzero(level.isna().to_numpy())
    listed(
        report,
        "error",
        "value",
        "schools",
        [
            (
                f"{source.file.name}: column {col!r} = {frame[col].iloc[r]!r} is not a level;"
                f" allowed: {', '.join(LEVELS)}",
                f"row {r + 1}",
            )
            for r in bad
        ],
    )
    pts = points(frame, source, report, zones.crs)
    system = preset(cfg.school_system)
    optional = {}
    for key, check, allowed in (
        ("classes_per_grade", lambda v: (v >= 1) & (v % 1 == 0), "an integer >= 1"),
        ("class_size", lambda v: (v >= 1) & (v % 1 == 0), "an integer >= 1"),
        ("quality", lambda v: v.between(-3, 3), "-3..3 (standardised)"),
    ):
        if source.col(key):
            optional[key] = numbers(frame, source, key, report, check, allowed)
    report.stop_on_errors()
    pos, dist = zone_of(pts, zones)
    outside = np.flatnonzero(dist > 0)
    items = [
        (
            f"school {ids.iloc[r]!r} lies {dist[r]:.0f} m outside every zone (check its"
            " lon/lat and the coordinates system)",
            f"row {r + 1}",
        )
        for r in outside
    ]
    listed(report, "error", "outside_zones", "schools", items)
    is_primary = (level == "primary").to_numpy()
    for name, mask in (("primary", is_primary), ("junior", ~is_primary)):
        if not mask.any():
            report.error(
                "no_school", "schools", f"there is no {name} school; a catchment needs one"
            )
    report.stop_on_errors()
    size = np.where(is_primary, system.class_size_primary, system.class_size_junior)
    if "class_size" in optional:
        size = optional["class_size"].to_numpy().astype(np.int64)
    out = gpd.GeoDataFrame(
        {
            "name": frame[source.col("name")].astype(str).to_numpy() if source.col("name") else ids,
            "level": level.to_numpy(),
            "grade_lo": np.where(is_primary, 1, system.primary_grades + 1),
            "grade_hi": np.where(
                is_primary, system.primary_grades, system.primary_grades + system.junior_grades
            ),
            "class_size": size,
            "quality": optional["quality"].to_numpy() if "quality" in optional else 0.0,
            "zone_id": zones.index[pos].to_numpy().astype(np.int64),
        },
        geometry=pts.to_numpy(),
        index=pd.Index(ids.to_numpy(), name="school_id"),
        crs=zones.crs,
    )
    _catchments(zones, out)
    if "classes_per_grade" in optional:
        out["classes_per_grade"] = optional["classes_per_grade"].to_numpy().astype(np.int64)
    else:
        out["classes_per_grade"] = _classes_for_demand(zones, out, persons, system)
    return out


def _catchments(zones: gpd.GeoDataFrame, schools_: gpd.GeoDataFrame) -> None:
    cent = zones.geometry.representative_point()
    cxy = np.c_[cent.x, cent.y]
    for level in ("primary", "junior"):
        sub = schools_[schools_["level"] == level]
        sxy = np.c_[sub.geometry.x, sub.geometry.y]
        d2 = ((cxy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2)
        zones[f"catchment_{level}"] = sub.index.to_numpy()[d2.argmin(axis=1)]


def _classes_for_demand(
    zones: gpd.GeoDataFrame,
    schools_: gpd.GeoDataFrame,
    persons: pd.DataFrame,
    system: SchoolSystemPreset,
) -> np.ndarray:
    """Classes per grade for each school: its catchment's children / class size, >= 1."""
    entry = system.entry_age
    out = np.ones(len(schools_), dtype=np.int64)
    for level in ("primary", "junior"):
        mask = (schools_["level"] == level).to_numpy()
        lo = int(schools_.loc[mask, "grade_lo"].iloc[0])
        hi = int(schools_.loc[mask, "grade_hi"].iloc[0])
        ages = range(entry + lo - 1, entry + hi)
        kids = persons[persons["age"].isin(ages)].groupby("zone_id")["persons"].sum()
        kids = kids.reindex(zones.index, fill_value=0)
        per_school = kids.groupby(zones[f"catchment_{level}"].to_numpy()).sum()
        demand = per_school.reindex(schools_.index[mask], fill_value=0).to_numpy() / (hi - lo + 1)
        size = schools_.loc[mask, "class_size"].to_numpy()
        out[mask] = np.maximum(1, np.ceil(demand / size)).astype(np.int64)
    return out


def sites(
    cfg: ImportConfig, zones: gpd.GeoDataFrame, household_size: float, report: ImportReport
) -> gpd.GeoDataFrame:
    """The housing pipeline: sites with start year, years, dwellings per year."""
    columns = [
        "zone_id",
        "start_year",
        "n_years",
        "dwellings_per_year",
        "occupancy",
        "household_size",
    ]
    source = cfg.source("sites")
    empty = gpd.GeoDataFrame(
        {
            c: pd.Series(dtype=float if c in ("occupancy", "household_size") else np.int64)
            for c in columns
        },
        geometry=gpd.GeoSeries([], crs=zones.crs),
        index=pd.Index([], dtype=str, name="site_id"),
        crs=zones.crs,
    )
    if source is None:
        return empty
    frame = read_table(source, report)
    keys = (
        "lon",
        "lat",
        "dwellings_per_year",
        "start_year",
        "years",
        "id",
        "occupancy",
        "household_size",
    )
    if frame is None or not has_columns(frame, source, keys, report):
        report.stop_on_errors()
        return empty
    whole = lambda v: (v >= 0) & (v % 1 == 0)  # noqa: E731
    dpy = numbers(frame, source, "dwellings_per_year", report, whole, "an integer >= 0")
    start = numbers(
        frame,
        source,
        "start_year",
        report,
        lambda v: v.between(1900, 2200) & (v % 1 == 0),
        "a year",
    )
    years = numbers(
        frame, source, "years", report, lambda v: (v >= 1) & (v % 1 == 0), "an integer >= 1"
    )
    occ = (
        numbers(frame, source, "occupancy", report, lambda v: v.between(0, 1), "0..1")
        if source.col("occupancy")
        else None
    )
    hhs = (
        numbers(frame, source, "household_size", report, lambda v: v > 0, "> 0")
        if source.col("household_size")
        else None
    )
    pts = points(frame, source, report, zones.crs)
    report.stop_on_errors()
    ids = (
        frame[source.col("id")].map(id_text)
        if source.col("id")
        else pd.Series([f"S{i + 1}" for i in range(len(frame))])
    )
    pos, dist = zone_of(pts, zones)
    outside = np.flatnonzero(dist > 0)
    listed(
        report,
        "warning",
        "outside_zones",
        "sites",
        [
            (
                f"site {ids.iloc[r]!r} lies {dist[r]:.0f} m outside every zone; left out",
                f"row {r + 1}",
            )
            for r in outside
        ],
    )
    keep = dist == 0
    out = gpd.GeoDataFrame(
        {
            "zone_id": zones.index[pos].to_numpy().astype(np.int64),
            "start_year": start.to_numpy().astype(np.int64),
            "n_years": years.to_numpy().astype(np.int64),
            "dwellings_per_year": dpy.to_numpy().astype(np.int64),
            "occupancy": occ.to_numpy() if occ is not None else SITE_OCCUPANCY,
            "household_size": hhs.to_numpy() if hhs is not None else household_size,
        },
        geometry=pts.to_numpy(),
        index=pd.Index(ids.to_numpy(), name="site_id"),
        crs=zones.crs,
    )
    return out[keep]


def parking(
    cfg: ImportConfig, zones: gpd.GeoDataFrame, osm_lots: gpd.GeoDataFrame, report: ImportReport
) -> gpd.GeoDataFrame:
    """Car parks from OSM (``parking: {from_osm: true}``) or a file; those in zones kept."""
    source = cfg.source("parking")
    if source is not None:
        frame = read_table(source, report)
        if frame is None or not has_columns(
            frame, source, ("lon", "lat", "capacity", "occupancy_am"), report
        ):
            report.stop_on_errors()
        assert frame is not None
        cap = numbers(
            frame, source, "capacity", report, lambda v: (v >= 1) & (v % 1 == 0), "an integer >= 1"
        )
        occ = (
            numbers(frame, source, "occupancy_am", report, lambda v: v.between(0, 1), "0..1")
            if source.col("occupancy_am")
            else pd.Series(PARKING_OCCUPANCY_AM, index=frame.index)
        )
        pts = points(frame, source, report, zones.crs)
        report.stop_on_errors()
        lots = gpd.GeoDataFrame(
            {"capacity": cap.to_numpy().astype(np.int64), "occupancy_am": occ.to_numpy()},
            geometry=pts.to_numpy(),
            crs=zones.crs,
        )
        labels = [f"row {r + 1}" for r in range(len(lots))]
    elif cfg.parking_from_osm and len(osm_lots):
        lots = osm_lots.reset_index()[["capacity", "geometry"]].assign(
            occupancy_am=PARKING_OCCUPANCY_AM
        )
        labels = [f"OSM {i}" for i in osm_lots.index]
    else:
        lots = gpd.GeoDataFrame({"capacity": [], "occupancy_am": []}, geometry=[], crs=zones.crs)
        labels = []
    if len(lots):
        pos, dist = zone_of(lots.geometry, zones)
    else:
        pos, dist = np.zeros(0, dtype=np.int64), np.zeros(0)
    outside = np.flatnonzero(dist > 0)
    listed(
        report,
        "warning",
        "outside_zones",
        "parking",
        [
            (f"car park lies {dist[r]:.0f} m outside every zone; left out", labels[r])
            for r in outside
        ],
    )
    out = gpd.GeoDataFrame(
        {
            "zone_id": zones.index[pos].to_numpy().astype(np.int64)
            if len(pos)
            else np.zeros(0, np.int64),
            "capacity": lots["capacity"].to_numpy().astype(np.int64),
            "occupancy_am": lots["occupancy_am"].to_numpy().astype(float),
        },
        geometry=gpd.GeoSeries(list(lots.geometry), crs=zones.crs).to_numpy() if len(lots) else [],
        crs=zones.crs,
    )
    out = out[dist == 0].reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="lot_id")
    return out
