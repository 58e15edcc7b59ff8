"""Assemble and write an imported city: ``import_city(CONFIG) -> (City or None, report)``.

Steps, each ending with a stop when it found errors (nothing is written then):

1. config (:mod:`sim.cityimport.config`);
2. roads: :func:`sim.traffic.osm.import_osm` with the config's standard (default: the
   school system's country, ``china`` or ``international``), CRS (``auto``: UTM zone of
   the roads' centre) and coordinates; the pieces cut off by the largest strongly
   connected part are a warning;
3. zones (moved from GCJ-02/BD-09 when so declared) and residents from the population
   table or the register (:mod:`sim.cityimport.population`); ids of tables and zones
   that do not match are warnings, and so are zones left without residents;
4. network: one centroid node per zone at a point inside it, joined both ways to the
   two nearest street nodes inside the zone (a zone with none inside is joined to the
   nearest street node and warned about as without road access);
5. demography rates (the config's ``demography`` file, else WPP 2024 of the school
   system's country), households (the register's households, else synthesised from
   the country's mean household size), jobs (the ``jobs`` file, else the proxy of
   :func:`jobs_proxy`), schools and catchments (nearest school of each level), sites
   and car parks;
6. the city is written to a temporary file, read back with :func:`sim.city.load_city`
   (the load-time checks of every city), and only then moved to ``--out``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from sim.city import City, load_city, save_city
from sim.cityimport.config import ImportConfig, Source, load_config
from sim.cityimport.places import parking, schools, sites
from sim.cityimport.population import from_register, from_table
from sim.cityimport.report import ImportReport, ImportStopped
from sim.cityimport.sources import has_columns, id_text, listed, numbers, read_table, read_zones
from sim.cityimport.synth import (
    SEXES,
    households_by_size,
    packaged_rates,
    round_preserving,
    scale_migration,
    stationary_profile,
)
from sim.education.systems import preset
from sim.errors import CitySandboxError
from sim.traffic.osm import RoadLayer, import_osm
from sim.traffic.road_classes import CENTROID_CONNECTOR

COUNTRY = {"china": "China", "chile": "Chile"}
"""School system -> country (WPP rates, road standard, household size)."""
MEAN_HOUSEHOLD_SIZE = {"china": 2.62, "chile": 3.1}
"""Persons per household: China 2020 census 2.62; Chile Censo 2017 3.1."""
VACANCY_RATE = 0.08
"""Assumed share of dwellings vacant (dwellings = households / (1 - rate))."""
JOBS_PER_RESIDENT = 0.42
"""Jobs proxy: jobs per resident (as the default city)."""
CONNECTORS_PER_ZONE = 2
ROAD_MARGIN_M = 2000.0
"""Roads farther than this outside the zones' bounding box are left out."""
NO_ACCESS_MAX_M = 3000.0
"""A zone whose nearest street node is farther than this cannot be joined: an error."""


def import_city(
    config: str | Path, out: str | Path | None = None
) -> tuple[City | None, ImportReport]:
    """Run an import; write the city to ``out`` when given and there are no errors.

    Returns
    -------
    (City or None, ImportReport)
        The loaded city (None after errors) and the report.
    """
    report = ImportReport()
    try:
        cfg = load_config(config, report)
        city = _build(cfg, report)
        city = _write(city, out, report)
    except ImportStopped:
        return None, report
    return city, report


def _build(cfg: ImportConfig, report: ImportReport) -> City:
    system = cfg.school_system
    zones = read_zones(cfg.sources["zones"], pyproj.CRS("EPSG:4326"), report)
    report.stop_on_errors()
    assert zones is not None
    report.counts["zones"] = len(zones)
    roads = _roads(cfg, _box(zones), report)
    report.crs = roads.crs.to_string()
    report.counts |= {
        "street nodes": len(roads.nodes),
        "street links": len(roads.links),
        "signals": len(roads.signals),
        "links outside the zones' extent (left out)": roads.clipped,
    }
    zones = zones.to_crs(roads.crs)
    rates = _rates(cfg, report)
    persons, households = _residents(cfg, zones, rates, report)
    zone_ids = pd.Series(np.arange(1, len(zones) + 1), index=zones.index)
    if all(k.isdigit() and 0 < int(k) < 2**62 for k in zones.index):
        zone_ids = pd.Series([int(k) for k in zones.index], index=zones.index)
    persons["zone_id"] = zone_ids.reindex(persons.pop("zone_key")).to_numpy()
    persons = persons[["zone_id", "sex", "age", "persons"]]
    out = gpd.GeoDataFrame(
        {"name": zones["name"].to_numpy(), "code": zones.index.to_numpy()},
        geometry=zones.geometry.to_numpy(),
        index=pd.Index(zone_ids.to_numpy(), name="zone_id"),
        crs=roads.crs,
    )
    out["population"] = persons.groupby("zone_id")["persons"].sum().reindex(out.index, fill_value=0)
    report.population_after = int(out["population"].sum())
    if households is None:
        kids = persons[persons["age"] < 15].groupby("zone_id")["persons"].sum()
        share = (kids.reindex(out.index, fill_value=0) / out["population"].clip(lower=1)).fillna(0)
        households = households_by_size(out["population"], share, MEAN_HOUSEHOLD_SIZE[system])
    else:
        households["zone_id"] = zone_ids.reindex(households.pop("zone_key")).to_numpy()
        grid = pd.MultiIndex.from_product([out.index, range(1, 7)], names=["zone_id", "size"])
        households = (
            households.groupby(["zone_id", "size"])["households"]
            .sum()
            .reindex(grid, fill_value=0)
            .reset_index()
        )
    out["households"] = households.groupby("zone_id")["households"].sum()
    out["dwellings"] = np.ceil(out["households"] / (1 - VACANCY_RATE)).astype(np.int64)
    nodes, links = _connect(out, roads, report)
    report.counts["centroid connectors"] = len(links) - len(roads.links)
    report.stop_on_errors()
    _jobs(cfg, out, links, zone_ids, report)
    school_table = schools(cfg, out, persons, report)
    report.counts["schools"] = len(school_table)
    report.stop_on_errors()
    site_table = sites(cfg, out, MEAN_HOUSEHOLD_SIZE[system], report)
    lots = parking(cfg, out, roads.parking, report)
    report.stop_on_errors()
    settings = {
        "base_year": cfg.base_year,
        "school_system": system,
        **preset(system).settings(),
        "base_tfr": round(float(rates.loc[rates["sex"] == "female", "asfr"].sum()), 4),
        "country": COUNTRY[system],
        "vacancy_rate": VACANCY_RATE,
        "jobs_per_resident": JOBS_PER_RESIDENT,
        "privacy_min_cell": cfg.min_cell,
        "imported_from": cfg.path.name,
    }
    report.counts |= {
        "sites": len(site_table),
        "parking": len(lots),
        "zone_population rows": len(persons),
        "zone_households rows": len(households),
    }
    return City(
        path=Path(),
        name=cfg.name,
        crs=roads.crs,
        settings=settings,
        zones=out,
        population=persons.reset_index(drop=True),
        households=households.astype(np.int64),
        rates=scale_migration(rates, persons),
        schools=school_table,
        nodes=nodes,
        links=links,
        signals=roads.signals,
        parking=lots,
        sites=site_table,
    )


def _box(zones: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """The zones' lon/lat bounds grown by :data:`ROAD_MARGIN_M`."""
    x0, y0, x1, y1 = zones.total_bounds
    dlat = ROAD_MARGIN_M / 111_320.0
    dlon = dlat / max(np.cos(np.radians((y0 + y1) / 2)), 0.01)
    return x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat


def _roads(
    cfg: ImportConfig, box: tuple[float, float, float, float], report: ImportReport
) -> RoadLayer:
    source = cfg.sources["roads"]
    standard = source.col("standard") or (
        "china" if cfg.school_system == "china" else "international"
    )
    try:
        crs = None if cfg.crs == "auto" else cfg.crs
        roads = import_osm(
            source.file, crs, standard, source.coordinates, clip=box, simplified=True
        )
    except CitySandboxError as exc:
        report.error("read", "roads", str(exc))
        report.stop_on_errors()
    report.dropped_roads = roads.dropped.to_dict("records")
    if len(roads.dropped):
        n = int(roads.dropped["nodes"].sum())
        report.warning(
            "dropped_roads",
            "roads",
            f"{len(roads.dropped)} road pieces ({n} nodes) cannot be reached from or cannot"
            " reach the rest of the network and are left out",
            f"largest at node {int(roads.dropped['node_id'].iloc[0])}",
        )
    return roads


RATE_DOMAINS = {
    "age": (lambda v: v.between(0, 100) & (v % 1 == 0), "an integer 0..100"),
    "asfr": (lambda v: v.between(0, 1), "0..1"),
    "qx": (lambda v: v.between(0, 1), "0..1"),
    "migration_profile": (lambda v: v.between(0, 100), "0..100"),
}


def _rates(cfg: ImportConfig, report: ImportReport) -> pd.DataFrame:
    """The config's ``demography`` table (checked), else the country's WPP 2024 rates."""
    given = cfg.source("demography")
    if given is None:
        return packaged_rates(COUNTRY[cfg.school_system])
    source = Source("demography", given.file, {c: c for c in (*RATE_DOMAINS, "sex")}, "wgs84")
    frame = read_table(source, report)
    if frame is None or not has_columns(frame, source, list(source.columns), report):
        report.stop_on_errors()
    assert frame is not None
    rates = pd.DataFrame({"sex": frame["sex"].astype(str).str.strip()})
    for col, (check, allowed) in RATE_DOMAINS.items():
        rates[col] = numbers(frame, source, col, report, check, allowed)
    report.stop_on_errors()
    rates["age"] = rates["age"].astype(np.int64)
    full = pd.MultiIndex.from_product([SEXES, range(101)], names=["sex", "age"])
    rates = rates.drop_duplicates(["sex", "age"]).set_index(["sex", "age"])
    if not full.isin(rates.index).all() or len(rates) != len(full):
        report.error(
            "value", "demography", f"{source.file.name}: needs one row per age 0..100 and sex"
        )
        report.stop_on_errors()
    return rates.reindex(full).reset_index()[["age", "sex", *list(RATE_DOMAINS)[1:]]]


def _residents(
    cfg: ImportConfig, zones: gpd.GeoDataFrame, rates: pd.DataFrame, report: ImportReport
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    households = None
    if "register" in cfg.sources:
        got = from_register(cfg.sources["register"], cfg.base_year, report)
        report.stop_on_errors()
        assert got is not None
        persons, households, before = got
        layer = "register"
    else:
        table = from_table(cfg.sources["population"], stationary_profile(rates), report)
        report.stop_on_errors()
        assert table is not None
        persons, before = table
        layer = "population"
    report.population_before = before
    known = persons["zone_key"].isin(zones.index)
    lost = persons[~known].groupby("zone_key")["persons"].sum()
    listed(
        report,
        "warning",
        "unmatched_id",
        layer,
        [
            (
                f"zone {k!r} is not in the zones layer; its {int(n)} persons are left out",
                f"zone {k}",
            )
            for k, n in lost.items()
        ],
    )
    persons = persons[known].copy()
    per_zone = persons.groupby("zone_key")["persons"].sum().reindex(zones.index, fill_value=0)
    empty = per_zone[per_zone == 0]
    listed(
        report,
        "warning",
        "zone_without_population",
        "zones",
        [(f"zone {k!r} has no residents in the {layer}", f"zone {k}") for k in empty.index],
    )
    if per_zone.sum() == 0:
        report.error(
            "unmatched_id", layer, f"no resident of the {layer} lives in a zone of the zones layer"
        )
    report.stop_on_errors()
    if households is not None:
        households = households[households["zone_key"].isin(zones.index)].copy()
    full = pd.MultiIndex.from_product(
        [zones.index, ["male", "female"], range(101)], names=["zone_key", "sex", "age"]
    )
    persons = (
        persons.set_index(["zone_key", "sex", "age"])["persons"]
        .reindex(full, fill_value=0)
        .reset_index()
    )
    return persons, households


def _connect(
    zones: gpd.GeoDataFrame, roads: RoadLayer, report: ImportReport
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Centroid nodes and two-way connectors to the nearest street nodes."""
    street = roads.nodes
    sxy = np.c_[street.geometry.x, street.geometry.y]
    first_id = int(street.index.max()) + 1
    cent_pts = zones.geometry.representative_point()
    spec = CENTROID_CONNECTOR
    new_nodes, new_links, far = [], [], []
    for k, (zid, pt) in enumerate(zip(zones.index, cent_pts, strict=True)):
        nid = first_id + k
        inside = street.sindex.query(zones.geometry.loc[zid], predicate="intersects")
        d2 = (sxy[:, 0] - pt.x) ** 2 + (sxy[:, 1] - pt.y) ** 2
        if len(inside):
            pick = inside[np.argsort(d2[inside], kind="stable")[:CONNECTORS_PER_ZONE]]
        else:
            pick = np.array([int(np.argmin(d2))])
            far.append((zid, float(np.sqrt(d2[pick[0]])), int(street.index[pick[0]])))
        new_nodes.append({"node_id": nid, "zone_id": int(zid), "geometry": pt})
        for p in pick:
            target = int(street.index[p])
            for a, b in ((nid, target), (target, nid)):
                line = shapely.LineString([_xy(a, nid, pt, sxy, p), _xy(b, nid, pt, sxy, p)])
                new_links.append(
                    {
                        "a_node": a,
                        "b_node": b,
                        "length_m": line.length,
                        "lanes": spec.lanes,
                        "free_speed_kmh": spec.speed_kmh,
                        "capacity_vph": spec.capacity_per_lane * spec.lanes,
                        "link_type": "centroid_connector",
                        "name": f"connector zone {zid}",
                        "signal_id": -1,
                        "geometry": line,
                    }
                )
    items_warn = [
        (f"zone {z} has no road node inside it; joined to node {n}, {d:.0f} m away", f"zone {z}")
        for z, d, n in far
        if d <= NO_ACCESS_MAX_M
    ]
    items_err = [
        (
            f"zone {z} has no road within {NO_ACCESS_MAX_M:.0f} m (nearest node {n}, {d:.0f} m)",
            f"zone {z}",
        )
        for z, d, n in far
        if d > NO_ACCESS_MAX_M
    ]
    listed(report, "warning", "no_road_access", "zones", items_warn)
    listed(report, "error", "no_road_access", "zones", items_err)
    cent = gpd.GeoDataFrame(new_nodes, crs=roads.crs).set_index("node_id")
    cent["is_centroid"] = True
    cent["signal_id"] = -1
    nodes = pd.concat([street, cent[["is_centroid", "zone_id", "signal_id", "geometry"]]])
    nodes["is_centroid"] = nodes["is_centroid"].astype(bool)
    zones["centroid_node"] = (
        cent.reset_index().set_index("zone_id")["node_id"].reindex(zones.index).to_numpy()
    )
    conn = gpd.GeoDataFrame(new_links, crs=roads.crs)
    links = pd.concat([roads.links.reset_index(drop=True), conn], ignore_index=True)
    links.index = pd.RangeIndex(1, len(links) + 1, name="link_id")
    return gpd.GeoDataFrame(nodes, crs=roads.crs), gpd.GeoDataFrame(links, crs=roads.crs)


def _xy(
    node: int, centroid: int, pt: shapely.Point, sxy: np.ndarray, p: int
) -> tuple[float, float]:
    return (pt.x, pt.y) if node == centroid else (float(sxy[p, 0]), float(sxy[p, 1]))


def jobs_proxy(zones: gpd.GeoDataFrame, links: gpd.GeoDataFrame) -> np.ndarray:
    """Jobs per zone when no jobs table is given (documented proxy).

    Total = :data:`JOBS_PER_RESIDENT` x residents, shared in proportion to
    (arterial and tertiary lane-km in the zone + 0.2 x residents / 1000): jobs sit on
    main roads and near where people live. Integers keep the total.
    """
    kinds = ("trunk", "primary", "secondary", "tertiary")
    art = links[links["link_type"].str.replace("_link", "").isin(kinds)]
    mids = gpd.GeoDataFrame(
        {"lane_km": art["lanes"] * art["length_m"] / 1000},
        geometry=art.geometry.interpolate(0.5, normalized=True),
        crs=links.crs,
    )
    joined = gpd.sjoin(mids, zones[["geometry"]], predicate="within")
    lane_km = joined.groupby("zone_id")["lane_km"].sum().reindex(zones.index, fill_value=0)
    weight = lane_km + 0.2 * zones["population"] / 1000
    total = JOBS_PER_RESIDENT * zones["population"].sum()
    return round_preserving((weight / weight.sum() * total).to_numpy())


def _jobs(
    cfg: ImportConfig,
    zones: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    zone_ids: pd.Series,
    report: ImportReport,
) -> None:
    source = cfg.source("jobs")
    if source is None:
        zones["jobs"] = jobs_proxy(zones, links)
    else:
        frame = read_table(source, report)
        if frame is not None and has_columns(frame, source, ("zone", "jobs"), report):
            jobs = numbers(frame, source, "jobs", report, lambda v: v >= 0, ">= 0")
            keys = frame[str(source.col("zone"))].map(id_text)
            unknown = keys[~keys.isin(zone_ids.index)]
            listed(
                report,
                "warning",
                "unmatched_id",
                "jobs",
                [
                    (f"zone {k!r} is not in the zones layer; its jobs are left out", f"row {r + 1}")
                    for r, k in unknown.items()
                ],
            )
            per = jobs.groupby(keys.map(zone_ids)).sum()
            zones["jobs"] = per.reindex(zones.index, fill_value=0).round().astype(np.int64)
        report.stop_on_errors()
    raw = zones["jobs"] + 0.3 * zones["population"]
    zones["attractiveness"] = (raw / max(float(raw.mean()), 1e-9)).round(4)


def _write(city: City, out: str | Path | None, report: ImportReport) -> City:
    """Write to a temporary file, check it with load_city, then move it to ``out``."""
    folder = Path(out).resolve().parent if out is not None else None
    prefix = f".{Path(out).name}." if out is not None else "city."
    tmp: Path | None = None
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".gpkg", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        save_city(city, tmp)
        loaded = load_city(tmp)
    except CitySandboxError as exc:
        _discard(tmp)
        report.error("city", "city", str(exc).replace(str(tmp), "the imported city"))
        report.stop_on_errors()
    except OSError as exc:
        _discard(tmp)
        report.error("city", "city", f"cannot write the city ({exc})")
        report.stop_on_errors()
    assert tmp is not None
    if out is None:
        _discard(tmp)
        return loaded
    os.replace(tmp, out)
    report.written = str(out)
    return replace(loaded, path=Path(out).resolve())


def _discard(tmp: Path | None) -> None:
    if tmp is not None:
        tmp.unlink(missing_ok=True)
