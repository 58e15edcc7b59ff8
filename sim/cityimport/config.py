"""The import config: which file holds each layer, and which columns hold what.

A YAML mapping (README, "Bring your own city"); file names are relative to the config
file. Keys (contract of issue 16; ``demography`` is an optional extension):

==============  ========  ==========================================================
key             needed    sub-keys (needed first, then optional)
==============  ========  ==========================================================
name            yes       the city's name
base_year       yes       first simulated year (ages are taken on 1 January)
school_system   no        ``china`` (default) or ``chile``
crs             no        ``auto`` (UTM zone of the roads' centre) or ``EPSG:NNNN``
coordinates     no        ``wgs84`` (default), ``gcj02``, ``bd09``: lon/lat inputs
roads           yes       file; standard (``china``/``international``), coordinates
zones           yes       file, id; name, layer, coordinates
population      one of    file, zone, count; age, sex
register        the two   file, zone, birth_date, sex; household
schools         yes       file, id, lon, lat, level; name, classes_per_grade,
                          class_size, quality, coordinates
sites           no        file, lon, lat, dwellings_per_year, start_year, years; id,
                          occupancy, household_size, coordinates
jobs            no        file, zone, jobs
parking         no        from_osm: true, or file, lon, lat, capacity; occupancy_am,
                          coordinates
privacy         no        min_cell (default 10)
demography      no        file (columns age, sex, asfr, qx, migration_profile)
==============  ========  ==========================================================

Every problem is a ``config`` error in the report naming the key and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.cityimport.report import ImportReport
from sim.education.systems import SYSTEMS
from sim.geo import COORDINATE_SYSTEMS
from sim.traffic.road_classes import STANDARDS

# source key -> (needed sub-keys, optional sub-keys)
SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "roads": (("file",), ("standard", "coordinates")),
    "zones": (("file", "id"), ("name", "layer", "coordinates")),
    "population": (("file", "zone", "count"), ("age", "sex")),
    "register": (("file", "zone", "birth_date", "sex"), ("household",)),
    "schools": (
        ("file", "id", "lon", "lat", "level"),
        ("name", "classes_per_grade", "class_size", "quality", "coordinates"),
    ),
    "sites": (
        ("file", "lon", "lat", "dwellings_per_year", "start_year", "years"),
        ("id", "occupancy", "household_size", "coordinates"),
    ),
    "jobs": (("file", "zone", "jobs"), ()),
    "parking": (("file", "lon", "lat", "capacity"), ("occupancy_am", "coordinates")),
    "demography": (("file",), ()),
}
TOP_KEYS = (
    "name",
    "base_year",
    "school_system",
    "crs",
    "coordinates",
    *SOURCES,
    "privacy",
)
DEFAULT_MIN_CELL = 10


@dataclass
class Source:
    """One input file and the columns the config maps (sub-key -> column or value)."""

    key: str
    file: Path
    columns: dict[str, Any]
    coordinates: str

    def col(self, name: str) -> str | None:
        """The column mapped to ``name``, or None when not given."""
        value = self.columns.get(name)
        return None if value is None else str(value)


@dataclass
class ImportConfig:
    """A checked import config."""

    path: Path
    name: str
    base_year: int
    school_system: str
    crs: str
    coordinates: str
    sources: dict[str, Source] = field(default_factory=dict)
    parking_from_osm: bool = False
    min_cell: int = DEFAULT_MIN_CELL

    def source(self, key: str) -> Source | None:
        """The source of ``key``, or None when the config has none."""
        return self.sources.get(key)


def load_config(path: str | Path, report: ImportReport) -> ImportConfig:
    """Read and check an import config; errors go to ``report`` and stop the import."""
    path = Path(path)
    report.config = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        report.error("config", "config", f"{path}: cannot read the config ({exc})")
        report.stop_on_errors()
    if not isinstance(raw, dict):
        report.error("config", "config", f"{path}: expected a mapping of keys (name, roads, ...)")
        report.stop_on_errors()
    cfg = _top_level(path, raw, report)
    report.name = cfg.name
    for key in SOURCES:
        if raw.get(key) is not None:
            source = _source(cfg, key, raw[key], report)
            if source is not None:
                cfg.sources[key] = source
    for key in ("roads", "zones", "schools"):
        if key not in raw:
            report.error("config", "config", f"{path}: key '{key}' is missing (a file is needed)")
    if ("population" in raw) == ("register" in raw):
        report.error(
            "config",
            "config",
            f"{path}: give exactly one of 'population' (a table) or 'register' (one row per"
            " person)",
        )
    report.stop_on_errors()
    return cfg


def _top_level(path: Path, raw: dict[str, Any], report: ImportReport) -> ImportConfig:
    def bad(key: str, allowed: str) -> None:
        report.error("config", "config", f"{path}: {key} = {raw.get(key)!r}; allowed: {allowed}")

    for key in raw:
        if key not in TOP_KEYS:
            bad(key, "no such key; keys are " + ", ".join(TOP_KEYS))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name", "a non-empty text")
    year = raw.get("base_year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        bad("base_year", "a year 1900..2200")
    system = raw.get("school_system", "china")
    if system not in SYSTEMS:
        bad("school_system", ", ".join(SYSTEMS))
    crs = str(raw.get("crs", "auto"))
    if crs != "auto":
        _check_crs(path, crs, report)
    coords = raw.get("coordinates", "wgs84")
    if coords not in COORDINATE_SYSTEMS:
        bad("coordinates", ", ".join(COORDINATE_SYSTEMS))
    privacy = raw.get("privacy") or {}
    min_cell = privacy.get("min_cell", DEFAULT_MIN_CELL) if isinstance(privacy, dict) else None
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        report.error("config", "config", f"{path}: privacy.min_cell = {min_cell!r}; allowed: >= 1")
    parking = raw.get("parking")
    from_osm = isinstance(parking, dict) and parking.get("from_osm") is True
    if from_osm:
        raw.pop("parking")
    report.stop_on_errors()
    return ImportConfig(
        path=path,
        name=str(name).strip(),
        base_year=int(year or 0),
        school_system=str(system),
        crs=crs,
        coordinates=str(coords),
        parking_from_osm=from_osm,
        min_cell=int(min_cell or DEFAULT_MIN_CELL),
    )


def _check_crs(path: Path, crs: str, report: ImportReport) -> None:
    import pyproj

    try:
        target = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        report.error("config", "config", f"{path}: crs = {crs!r}; allowed: auto or EPSG:NNNN")
        return
    if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
        report.error(
            "config",
            "config",
            f"{path}: crs = {crs!r} is not a projected CRS in metres; allowed: auto or a"
            " metric EPSG code (e.g. a UTM zone)",
        )


def _source(cfg: ImportConfig, key: str, raw: Any, report: ImportReport) -> Source | None:
    where = f"{cfg.path}: {key}"
    needed, optional = SOURCES[key]
    if not isinstance(raw, dict):
        report.error("config", key, f"{where}: expected a mapping with {', '.join(needed)}")
        return None
    for sub in raw:
        if sub not in needed + optional:
            allowed = ", ".join(needed + optional)
            report.error("config", key, f"{where}.{sub}: no such key; allowed: {allowed}")
    absent = [sub for sub in needed if raw.get(sub) in (None, "")]
    if absent:
        report.error("config", key, f"{where}.{absent[0]} is missing (needs {', '.join(needed)})")
        return None
    file = (cfg.path.parent / str(raw["file"])).resolve()
    if not file.is_file():
        report.error("config", key, f"{where}.file = {raw['file']!r}: file not found ({file})")
    coords = raw.get("coordinates", cfg.coordinates)
    if coords not in COORDINATE_SYSTEMS:
        allowed = ", ".join(COORDINATE_SYSTEMS)
        report.error("config", key, f"{where}.coordinates = {coords!r}; allowed: {allowed}")
    standard = raw.get("standard")
    if standard is not None and standard not in STANDARDS:
        allowed = ", ".join(STANDARDS)
        report.error("config", key, f"{where}.standard = {standard!r}; allowed: {allowed}")
    columns = {k: v for k, v in raw.items() if k not in ("file", "coordinates")}
    return Source(key=key, file=file, columns=columns, coordinates=str(coords))
