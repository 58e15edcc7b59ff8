"""入学早知道: which school a child born in a given year gets, and how full it will be.

Answers a single-address query from a finished run folder:

- ``manifest.json``       run_id, scenario (dict), start_year, end_year, crs
- ``enrollment.parquet``  year, school, grade, demand, capacity, utilisation, overflow,
                          mean_distance_km, p10, p50, p90, p025, p975
- ``schools.parquet``     school_id, name, level, x, y, grade_lo, grade_hi, opens, closes
- ``catchments.parquet``  year, zone_id, level, school_id
- ``zones.gpkg``          layer ``zones`` (zone_id, geometry in the city CRS)

The first query on a run builds a small JSON index (zones and schools in lon/lat, the
catchments and the entry-grade rows of the enrollment table) and stores it in the run
folder as ``.enroll_index.json``; it is rebuilt when a source file changes. Later queries
read only that index with the standard library, so they answer in milliseconds. Zone
polygons are tested in lon/lat (edges of a few km bend by millimetres there) and
distances are great-circle distances.

Entry rule: a child enters grade 1 in the September of the year it is ``entry_age``
(default 6) by the cutoff (default 31 August); born January–August of year Y it enters in
Y + 6, born September–December in Y + 7. Junior middle school (grade P + 1, P = primary
grades) starts P years later. Utilisation here is demand / capacity (above 100 % means
more catchment children than places); the band comes from the demand quantiles p10–p90.
``place_probability`` is the share of replications in which a catchment child gets a
place at its catchment school (catchment children are admitted first, in random order);
``alternative`` names the nearest school of the level with projected room when it is
below 1.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from sim.education.systems import cutoff_month
from sim.errors import OutputError, RunError, UsageError
from sim.geo import haversine_km
from sim.outputs import write_atomically
from sim.runs.folder import (
    CATCHMENT_COLUMNS,
    ENROLLMENT_COLUMNS,
    MANIFEST,
    SCHOOL_COLUMNS,
    ZONES,
    ZONES_LAYER,
    read_manifest,
)

INDEX_NAME = ".enroll_index.json"
INDEX_VERSION = 2
SOURCES = (MANIFEST, "enrollment.parquet", "schools.parquet", "catchments.parquet", ZONES)
_GPKG_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


# --------------------------------------------------------------------------- the index


def _fingerprint(run_dir: Path) -> dict[str, list[int]]:
    out = {}
    for name in SOURCES:
        path = run_dir / name
        if not path.is_file():
            msg = f"{run_dir}: run folder has no {name} (is the run complete?)"
            raise RunError(msg)
        st = path.stat()
        out[name] = [st.st_size, st.st_mtime_ns]
    return out


def load_index(run_dir: Path) -> dict[str, Any]:
    """The query index of a run: read from its cache file, (re)built when stale."""
    run_dir = Path(run_dir)
    stamp = _fingerprint(run_dir)
    cache = run_dir / INDEX_NAME
    if cache.is_file():
        try:
            index = json.loads(cache.read_text(encoding="utf-8"))
            if index.get("version") == INDEX_VERSION and index.get("sources") == stamp:
                return index
        except (OSError, ValueError):
            pass  # unreadable cache: rebuild it
    index = build_index(run_dir)
    index["sources"] = stamp
    with contextlib.suppress(OutputError):  # read-only run folder: answer without caching
        write_atomically(cache, json.dumps(index, separators=(",", ":")))
    return index


def build_index(run_dir: Path) -> dict[str, Any]:
    """Read a run folder into the JSON-able query index (see the module docstring).

    Raises
    ------
    RunError
        A file is missing, unreadable or lacks a column.
    """
    import pyarrow.parquet as pq
    from pyproj import CRS, Transformer

    manifest = read_manifest(run_dir, ("start_year", "end_year", "crs"))
    try:
        crs = CRS.from_user_input(manifest["crs"])
    except Exception as exc:
        msg = f"{run_dir / 'manifest.json'}: crs = {manifest.get('crs')!r} is not a CRS ({exc})"
        raise RunError(msg) from None
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    schools = _read_table(pq, run_dir, "schools.parquet", _SCHOOL_COLUMNS)
    catchments = _read_table(pq, run_dir, "catchments.parquet", CATCHMENT_COLUMNS)
    enrollment = _read_table(pq, run_dir, "enrollment.parquet", _ENROLLMENT_COLUMNS)
    primary_grades = max(
        (
            g
            for g, lvl in zip(schools["grade_hi"], schools["level"], strict=True)
            if lvl == "primary"
        ),
        default=6,
    )
    entry_grades = {1, primary_grades + 1}
    lon, lat = to_ll.transform(schools["x"], schools["y"])
    index: dict[str, Any] = {
        "version": INDEX_VERSION,
        "run_id": manifest.get("run_id", run_dir.name),
        "scenario": (manifest.get("scenario") or {}).get("name", ""),
        "start_year": int(manifest["start_year"]),
        "end_year": int(manifest["end_year"]),
        "entry_age": int(manifest.get("school_entry_age", 6)),
        "entry_cutoff": str(manifest.get("entry_cutoff", "08-31")),
        "primary_grades": int(primary_grades),
        "zones": _read_zones(run_dir / ZONES, to_ll),
        "schools": {
            sid: {
                "name": name,
                "level": level,
                "lon": float(lo),
                "lat": float(la),
                "grade_lo": int(glo),
                "grade_hi": int(ghi),
            }
            for sid, name, level, lo, la, glo, ghi in zip(
                schools["school_id"],
                schools["name"],
                schools["level"],
                lon,
                lat,
                schools["grade_lo"],
                schools["grade_hi"],
                strict=True,
            )
        },
        "catchments": {},
        "enrollment": {},
    }
    for year, zone, level, sid in zip(*(catchments[c] for c in catchments), strict=True):
        by_zone = index["catchments"].setdefault(str(year), {}).setdefault(level, {})
        by_zone[str(zone)] = sid
    for row in zip(*(enrollment[c] for c in _ENROLLMENT_COLUMNS), strict=True):
        year, sid, grade, *values = row
        if grade in entry_grades:
            key = f"{sid}|{grade}"
            index["enrollment"].setdefault(str(year), {})[key] = [_num(v) for v in values]
    return index


#: The columns the index reads (of :data:`SCHOOL_COLUMNS` and :data:`ENROLLMENT_COLUMNS`).
_SCHOOL_COLUMNS = SCHOOL_COLUMNS[:7]
_ENROLLMENT_COLUMNS = (*ENROLLMENT_COLUMNS[:6], "p10", "p50", "p90", "p025", "p975")
_ROW = {name: k for k, name in enumerate(_ENROLLMENT_COLUMNS[3:])}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _read_table(pq: Any, run_dir: Path, name: str, columns: tuple[str, ...]) -> dict[str, list]:
    path = run_dir / name
    try:
        table = pq.read_table(path)
    except Exception as exc:
        msg = f"{path}: not a readable Parquet file ({exc})"
        raise RunError(msg) from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        msg = f"{path}: missing column(s) {', '.join(missing)}; has {', '.join(table.column_names)}"
        raise RunError(msg)
    return {c: table.column(c).to_pylist() for c in columns}


def _read_zones(path: Path, to_ll: Any) -> list[dict[str, Any]]:
    """Zone polygons of a run's zones layer (:data:`ZONES_LAYER`) as lon/lat rings."""
    import numpy as np
    import shapely

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (geom_col,) = con.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (ZONES_LAYER,)
            ).fetchone()
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{ZONES_LAYER}")')]
            id_col = "zone_id" if "zone_id" in cols else "fid"
            sql = f'SELECT "{id_col}", "{geom_col}" FROM "{ZONES_LAYER}"'
            rows = con.execute(sql).fetchall()
        finally:
            con.close()
    except (sqlite3.Error, TypeError) as exc:
        msg = f"{path}: no readable '{ZONES_LAYER}' layer ({exc})"
        raise RunError(msg) from None
    zones = []
    for zone_id, blob in rows:
        geom = shapely.from_wkb(_gpkg_wkb(bytes(blob)))
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            rings = []
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
                rings.append([[round(a, 7), round(b, 7)] for a, b in zip(lon, lat, strict=True)])
            parts.append(rings)
        flat = [p for part in parts for ring in part for p in ring]
        bbox = [
            min(p[0] for p in flat),
            min(p[1] for p in flat),
            max(p[0] for p in flat),
            max(p[1] for p in flat),
        ]
        zones.append({"zone_id": int(zone_id), "bbox": bbox, "parts": parts})
    return sorted(zones, key=lambda z: z["zone_id"])


def _gpkg_wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (strips the 'GP' header and envelope)."""
    if blob[:2] != b"GP":
        return blob
    envelope = _GPKG_ENVELOPE_BYTES.get((blob[3] >> 1) & 0b111, 0)
    return blob[8 + envelope :]


# --------------------------------------------------------------------------- geometry


def _in_ring(lon: float, lat: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def zone_at(index: dict[str, Any], lon: float, lat: float) -> int | None:
    """The zone id containing a lon/lat point (even-odd rule over each part's rings)."""
    for zone in index["zones"]:
        x0, y0, x1, y1 = zone["bbox"]
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            continue
        for rings in zone["parts"]:
            if sum(_in_ring(lon, lat, r) for r in rings) % 2 == 1:
                return zone["zone_id"]
    return None


# --------------------------------------------------------------------------- the answer


def parse_lonlat(text: str) -> tuple[float, float]:
    """``"LON,LAT"`` in degrees; UsageError (field ``lonlat``) saying what is allowed."""
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        allowed = "LON,LAT in degrees, e.g. -71.25,-29.91"
        raise UsageError("", field="lonlat", value=repr(text), allowed=allowed) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon + lat):
        msg = "longitude must be in [-180, 180] and latitude in [-90, 90]"
        raise UsageError(msg, field="lonlat", value=repr(text))
    return lon, lat


def query(
    run_dir: Path, lon: float, lat: float, birth_year: int, birth_month: int | None = None
) -> dict[str, Any]:
    """Answer a 入学早知道 query (a JSON-able dict).

    Parameters
    ----------
    run_dir
        A finished run folder (see :func:`sim.runs.folder.resolve_run`).
    lon, lat
        The home address in degrees (WGS84).
    birth_year, birth_month
        The child's birth year and, optionally, month (1-12). Without a month both
        entry years (January-August and September-December births) are answered.

    Raises
    ------
    UsageError
        The point lies outside the city, or the birth date is not plausible.
    """
    if not 1900 <= birth_year <= 2200:
        raise UsageError("", field="birth_year", value=birth_year, allowed="a year such as 2021")
    if birth_month is not None and not 1 <= birth_month <= 12:
        raise UsageError("", field="birth_month", value=birth_month, allowed="1..12")
    index = load_index(run_dir)
    zone = zone_at(index, lon, lat)
    if zone is None:
        msg = (
            f"the point lies outside the city of run {index['run_id']} "
            f"(none of its {len(index['zones'])} zones contains it)"
        )
        raise UsageError(msg, field="lonlat", value=f"{lon},{lat}")
    groups = _entry_groups(index["entry_cutoff"])
    if birth_month is not None:
        groups = [g for g in groups if g[1] <= birth_month <= g[2]]
    first_year = min((int(y) for y in index["catchments"]), default=index["start_year"])
    home = (lon, lat)
    entries = []
    for label, m0, m1, late in groups:
        year = birth_year + index["entry_age"] + late  # born after the cutoff: a year later
        entries.append(
            {
                "born": f"{label} {birth_year}",
                "months": [m0, m1],
                "primary": _stage(index, home, zone, "primary", 1, year),
                "junior": _stage(
                    index,
                    home,
                    zone,
                    "junior",
                    index["primary_grades"] + 1,
                    year + index["primary_grades"],
                ),
            }
        )
    return {
        "run": str(run_dir),
        "run_id": index["run_id"],
        "scenario": index["scenario"],
        "projection": [index["start_year"], index["end_year"]],
        "lonlat": [lon, lat],
        "zone_id": zone,
        "birth_year": birth_year,
        "birth_month": birth_month,
        "entry_rule": (
            f"grade 1 in September of the year the child is {index['entry_age']} by "
            f"{_cutoff_text(index['entry_cutoff'])}"
        ),
        "catchment_year": first_year,
        "catchment": {
            level: _school_brief(index, _catchment(index, zone, level, first_year), home)
            for level in ("primary", "junior")
        },
        "entries": entries,
    }


_MONTHS = "January February March April May June July August September October November December"


def _entry_groups(cutoff: str) -> list[tuple[str, int, int, int]]:
    """(label, first month, last month, years late) of the births on time, then a year later.

    The months split where the simulation splits them (:func:`cutoff_month`), so the
    answer and the run agree on which grade a child born in a given month enters.
    """
    month = cutoff_month(cutoff)
    names = [m[:3] for m in _MONTHS.split()]
    groups = [(f"born {names[0]}-{names[month - 1]}", 1, month, 0)] if month >= 1 else []
    if month < 12:
        groups.append((f"born {names[month]}-{names[11]}", month + 1, 12, 1))
    return groups


def _cutoff_text(cutoff: str) -> str:
    month, day = (int(v) for v in cutoff.split("-"))
    return f"{day} {_MONTHS.split()[month - 1]}"


def _catchment(index: dict[str, Any], zone: int, level: str, year: int) -> str | None:
    years = sorted(int(y) for y in index["catchments"])
    usable = [y for y in years if y <= year] or years[:1]
    if not usable:
        return None
    return index["catchments"][str(usable[-1])].get(level, {}).get(str(zone)) or None


def _school_brief(index: dict[str, Any], sid: str | None, home: tuple[float, float]) -> dict | None:
    if sid is None or sid not in index["schools"]:
        return None
    school = index["schools"][sid]
    km = float(haversine_km(home[0], home[1], school["lon"], school["lat"]))
    return {"school_id": sid, "name": school["name"], "distance_km": round(km, 2)}


def _stage(
    index: dict[str, Any], home: tuple[float, float], zone: int, level: str, grade: int, year: int
) -> dict[str, Any]:
    """Catchment school, projected utilisation band and overflow school at one entry."""
    start, end = index["start_year"], index["end_year"]
    sid = _catchment(index, zone, level, year)
    out: dict[str, Any] = {"grade": grade, "year": year, "school": _school_brief(index, sid, home)}
    if year > end:
        out["status"] = "beyond projection"
        out["message"] = (
            f"entry in {year} is beyond the projection (projection ends {end}); "
            f"catchment shown as of {end}"
        )
        return out
    if year < start:
        out["status"] = "before projection"
        out["message"] = (
            f"entry in {year} is before the projection starts ({start}); catchment as of {start}"
        )
        return out
    rows = index["enrollment"].get(str(year), {})
    row = rows.get(f"{sid}|{grade}")
    if row is None:
        out["status"] = "no projection"
        out["message"] = f"no grade {grade} projection for school {sid} in {year}"
        return out
    cap = row[_ROW["capacity"]]
    out.update(_band(row))
    out["place_probability"] = place_probability(row)
    if not cap or row[_ROW["p50"]] > cap:  # no places at all is full, not "may be"
        out["status"] = "likely full"
    elif row[_ROW["p90"]] > cap:
        out["status"] = "may be full"
    else:
        out["status"] = "has room"
    if out["status"] != "has room":
        out["overflow_school"] = _overflow_school(index, home, level, grade, year, sid or "")
    if out["place_probability"] < 1.0:
        out["alternative"] = out.get("overflow_school") or _overflow_school(
            index, home, level, grade, year, sid or ""
        )
    return out


#: Quantile levels of the demand columns an index row holds, in rising order.
_QUANTILES = ((0.025, "p025"), (0.1, "p10"), (0.5, "p50"), (0.9, "p90"), (0.975, "p975"))


def place_probability(row: list[float | None]) -> float:
    """Chance that a catchment child gets a place at the school: E[min(1, places / demand)].

    Catchment children are admitted first, in random order, so in a replication with
    demand ``d`` a catchment child is admitted with probability ``min(1, places / d)``;
    the share of replications is the mean of that over the replications, taken here over
    the demand's quantile function (linear between p025, p10, p50, p90, p975; flat beyond).
    """
    cap = row[_ROW["capacity"]] or 0.0
    points = [(q, row[_ROW[name]]) for q, name in _QUANTILES if row[_ROW[name]] is not None]
    if not points or cap <= 0:
        return 0.0
    qs, ds = [p[0] for p in points], [float(p[1] or 0.0) for p in points]

    def demand_at(x: float) -> float:
        """The quantile function: linear between the known quantiles, flat beyond."""
        if x <= qs[0]:
            return ds[0]
        for k in range(1, len(qs)):
            if x <= qs[k]:
                return ds[k - 1] + (ds[k] - ds[k - 1]) * (x - qs[k - 1]) / (qs[k] - qs[k - 1])
        return ds[-1]

    u = [k / 200 + 1 / 400 for k in range(200)]  # midpoints of 200 equal slices of (0, 1)
    total = 0.0
    for x in u:
        d = demand_at(x)
        total += 1.0 if d <= cap else cap / d
    return round(total / len(u), 3)


def _band(row: list[float | None]) -> dict[str, Any]:
    cap = row[_ROW["capacity"]] or 0

    def pct(v: float | None) -> float | None:
        return None if v is None or cap <= 0 else round(100 * v / cap, 1)

    return {
        "capacity": int(cap),
        "demand_p50": row[_ROW["p50"]],
        "demand_p10": row[_ROW["p10"]],
        "demand_p90": row[_ROW["p90"]],
        "utilisation_pct": pct(row[_ROW["p50"]]),
        "utilisation_p10_pct": pct(row[_ROW["p10"]]),
        "utilisation_p90_pct": pct(row[_ROW["p90"]]),
    }


def _overflow_school(
    index: dict[str, Any],
    home: tuple[float, float],
    level: str,
    grade: int,
    year: int,
    exclude: str,
) -> dict[str, Any] | None:
    """Nearest school of the level with projected room (capacity above median demand)."""
    best = None
    for key, row in index["enrollment"].get(str(year), {}).items():
        sid, g = key.rsplit("|", 1)
        school = index["schools"].get(sid)
        if sid == exclude or int(g) != grade or school is None or school["level"] != level:
            continue
        room = (row[_ROW["capacity"]] or 0) - (row[_ROW["p50"]] or 0)
        if room <= 0:
            continue
        km = float(haversine_km(home[0], home[1], school["lon"], school["lat"]))
        if best is None or km < best[0]:
            best = (km, sid, room)
    if best is None:
        return None
    brief = _school_brief(index, best[1], home)
    assert brief is not None  # best[1] is a school of the index
    brief["projected_free_places"] = round(best[2], 1)
    return brief


def format_answer(answer: dict[str, Any]) -> str:
    """The answer as a few lines of text for the terminal."""
    lines = [
        f"run {answer['run_id']} (projection {answer['projection'][0]}-{answer['projection'][1]}), "
        f"zone {answer['zone_id']}",
        f"entry rule: {answer['entry_rule']}",
    ]
    for level, brief in answer["catchment"].items():
        lines.append(f"{level} catchment school ({answer['catchment_year']}): {_brief_text(brief)}")
    for entry in answer["entries"]:
        lines.append(f"{entry['born']}:")
        for level in ("primary", "junior"):
            lines.append(f"  {level}: {_stage_text(entry[level])}")
    return "\n".join(lines)


def _brief_text(brief: dict[str, Any] | None) -> str:
    if brief is None:
        return "none"
    return f"{brief['name']} ({brief['school_id']}, {brief['distance_km']:.1f} km)"


def _stage_text(stage: dict[str, Any]) -> str:
    head = f"grade {stage['grade']} in {stage['year']} at {_brief_text(stage['school'])}"
    if "message" in stage:
        return f"{head}: {stage['message']}"
    text = f"{head}: {stage['status']}, "
    if stage["utilisation_pct"] is None:
        text += f"no places (projected demand {stage['demand_p50']:g})"
    else:
        text += (
            f"utilisation {stage['utilisation_pct']}% "
            f"(80% band {stage['utilisation_p10_pct']}-{stage['utilisation_p90_pct']}%; "
            f"demand {stage['demand_p50']:g} for {stage['capacity']} places)"
        )
    text += f"; chance of a place there {round(100 * stage['place_probability'])}%"
    if "overflow_school" in stage:
        text += f"; overflow school: {_brief_text(stage['overflow_school'])}"
    elif stage.get("alternative"):
        text += f"; otherwise: {_brief_text(stage['alternative'])}"
    return text
