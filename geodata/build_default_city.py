"""Build geodata/default_city.gpkg from AequilibraE's Coquimbo–La Serena model.

Usage::

    python geodata/build_default_city.py [--source coquimbo.zip|project_database.sqlite]
                                         [--out geodata/default_city.gpkg] [--seed 20240]

Without ``--source`` it uses ``aequilibrae/reference_files/coquimbo.zip`` from an
importable ``aequilibrae``. The road network, zones and residents per zone are real
(OpenStreetMap via AequilibraE); everything else is synthesised reproducibly from the
seed and the reference data in ../shared/benchmarks/demography. geodata/README.md
documents every step; this script is that documentation's executable form.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.city import City, load_city, save_city  # noqa: E402
from sim.cityimport.synth import (  # noqa: E402
    MAX_AGE,
    households_by_size,
    round_preserving,
    scale_migration,
    wpp_rates,
    wpp_tfr,
)
from sim.education.systems import preset  # noqa: E402
from sim.population.housing import DWELLING_TYPES  # noqa: E402

CRS = "EPSG:32719"  # WGS 84 / UTM zone 19S
DEMOGRAPHY = ROOT.parent / "shared" / "benchmarks" / "demography"
SEED = 20240

# Plazas de Armas of the two comunas (lon, lat): the two centres of the conurbation.
CENTRES = {"La Serena": (-71.2519, -29.9027), "Coquimbo": (-71.3436, -29.9533)}
COMUNA_CODES = {"La Serena": "Comuna La Serena (4101)", "Coquimbo": "Comuna Coquimbo (4102)"}

# Per-lane capacity (veh/h/lane) and free speed (km/h) by OSM highway type. Capacities
# follow HCM-style planning values (uninterrupted freeway ~2,000; signalised urban
# arterials: 1,900 saturation flow x ~0.5 g/C, less on minor streets); free speeds
# follow Chile's urban limit of 50 km/h (Ley 21.103, 2018) and 100 km/h on Ruta 5.
LINK_TYPES: dict[str, tuple[int, int, int]] = {
    # link_type: (capacity per lane, free speed, default lanes per direction)
    "motorway": (2000, 100, 2),
    "trunk": (1800, 80, 2),
    "primary": (1000, 50, 2),
    "secondary": (900, 50, 1),
    "tertiary": (800, 40, 1),
    "unclassified": (600, 40, 1),
    "residential": (600, 30, 1),
    "living_street": (300, 20, 1),
    "centroid_connector": (5000, 30, 2),
}
ARTERIALS = ("trunk", "primary", "secondary")

# Synthesis assumptions (documented in geodata/README.md)
MEAN_HOUSEHOLD_SIZE = 3.1  # Censo 2017 Chile: 3.1 persons per household
VACANCY_RATE = 0.08  # assumed share of dwellings vacant
JOBS_PER_RESIDENT = 0.42  # assumed: ~52 % employment rate of residents aged 15+
PUPILS_PER_SCHOOL = {"primary": 700, "junior": 700}
SCHOOL_SYSTEM = "china"  # the product's planning norms (see geodata/README.md, Settings)
PLANNING_HEADROOM = 0.05  # spare places a bureau plans on top of each grade's cohort
DWELLING_TYPE_CYCLE = ("flat", "house", "flat", "affordable", "flat")  # DEV1, DEV2, ...
LOST_TIME_PER_PHASE_S = 4  # amber + all-red
ZONE_COLUMNS = [
    "name",
    "comuna",
    "population",
    "households",
    "dwellings",
    "jobs",
    "attractiveness",
    "centroid_node",
    "catchment_primary",
    "catchment_junior",
    "geometry",
]


def main(argv: list[str] | None = None) -> int:
    """Build the default city; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="coquimbo.zip or project_database.sqlite")
    parser.add_argument("--out", type=Path, default=ROOT / "geodata" / "default_city.gpkg")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--resynthesise",
        action="store_true",
        help="only re-plan school capacities, settings and site types of --out in place",
    )
    args = parser.parse_args(argv)
    if args.resynthesise:
        resynthesise(args.out)
        print(f"re-synthesised school capacities, settings and site types of {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = _source_sqlite(args.source, Path(tmp))
        city = build(sqlite, np.random.default_rng(args.seed))
    save_city(city, args.out)
    city = load_city(args.out)
    size_mb = args.out.stat().st_size / 1e6
    print(
        f"wrote {args.out} ({size_mb:.1f} MB): {len(city.zones)} zones, "
        f"{int(city.zones.population.sum())} residents, {len(city.links)} directed links, "
        f"{len(city.schools)} schools, {len(city.signals)} signals"
    )
    return 0


def _source_sqlite(source: Path | None, tmp: Path) -> Path:
    if source is None:
        spec = importlib.util.find_spec("aequilibrae")
        if spec is None or spec.origin is None:
            sys.exit("aequilibrae is not importable: pass --source coquimbo.zip")
        source = Path(spec.origin).parent / "reference_files" / "coquimbo.zip"
    if not source.is_file():
        sys.exit(f"{source}: source not found")
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as zf:
            zf.extract("project_database.sqlite", tmp)
        return tmp / "project_database.sqlite"
    return source


def build(sqlite: Path, rng: np.random.Generator) -> City:
    """Build the whole city from the AequilibraE project database."""
    read = {"use_arrow": True}
    zones = pyogrio.read_dataframe(
        sqlite, layer="zones", columns=["zone_id", "population"], **read
    ).to_crs(CRS)
    nodes = pyogrio.read_dataframe(
        sqlite, layer="nodes", columns=["node_id", "is_centroid"], **read
    ).to_crs(CRS)
    cols = ["link_id", "a_node", "b_node", "direction", "link_type", "name", "lanes_ab", "lanes_ba"]
    links = pyogrio.read_dataframe(sqlite, layer="links", columns=cols, **read).to_crs(CRS)
    zones = zones.sort_values("zone_id").set_index("zone_id")
    zones["population"] = zones["population"].astype(np.int64)
    zones.geometry = zones.geometry.make_valid()

    links, nodes = _directed_network(links, nodes, zones)
    _add_comuna(zones)
    population = _population(zones, rng)
    households = _households(zones, population)
    zones["households"] = households.groupby("zone_id")["households"].sum()
    zones["dwellings"] = np.ceil(zones["households"] / (1 - VACANCY_RATE)).astype(np.int64)
    _jobs(zones, links, rng)
    rates = _rates(population)
    schools = _schools(zones, population, nodes, rng)
    sites = type_sites(_sites(zones, rng))
    parking = _parking(zones, rng)
    signals = _signals(nodes, links, rng)
    return City(
        path=Path(),
        name="Coquimbo-La Serena",
        crs=pyproj.CRS(CRS),
        settings=_settings(),
        zones=zones[ZONE_COLUMNS],
        population=population,
        households=households,
        rates=rates,
        schools=schools,
        nodes=nodes,
        links=links,
        signals=signals,
        parking=parking,
        sites=sites,
    )


# ----------------------------------------------------------------------------- network


def _directed_network(
    links: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One row per direction, attributes from LINK_TYPES, largest strongly connected part."""
    links = links.sort_values("link_id")
    ab = links[links["direction"] >= 0].assign(lanes_raw=lambda d: d["lanes_ab"])
    ba = links[links["direction"] <= 0].assign(lanes_raw=lambda d: d["lanes_ba"])
    ba = ba.assign(a_node=ba["b_node"], b_node=ba["a_node"], geometry=ba.geometry.reverse())
    both = pd.concat([ab.assign(_dir=0), ba.assign(_dir=1)]).sort_values(["link_id", "_dir"])
    table = pd.DataFrame(LINK_TYPES, index=["cap", "speed", "lanes"]).T
    spec = table.reindex(both["link_type"]).set_axis(both.index)
    lanes = both["lanes_raw"].where(both["lanes_raw"] >= 1, spec["lanes"])
    out = gpd.GeoDataFrame(
        {
            "a_node": both["a_node"].astype(np.int64),
            "b_node": both["b_node"].astype(np.int64),
            "length_m": both.geometry.length.round(1),
            "lanes": lanes.astype(np.int64),
            "free_speed_kmh": spec["speed"].astype(float),
            "capacity_vph": (spec["cap"] * lanes).astype(float),
            "link_type": both["link_type"].astype(str),
            "name": both["name"].fillna(""),
            "source_link_id": both["link_id"].astype(np.int64),
        },
        geometry=both.geometry.values,
        crs=links.crs,
    )
    loops = out["a_node"] == out["b_node"]
    print(f"network: dropped {loops.sum()} self-loop links (closed ways)")
    out = out[~loops]
    keep = _largest_scc(out)
    stranded = sorted(set(zones.index) - keep)
    if stranded:
        out = pd.concat([out, _reconnect(stranded, keep, nodes, out)], ignore_index=True)
        keep = _largest_scc(out)
    inside = out["a_node"].isin(keep) & out["b_node"].isin(keep)
    dropped_nodes = len(nodes) - len(keep)
    print(
        f"network: kept {inside.sum()} of {len(out)} directed links and {len(keep)} of "
        f"{len(nodes)} nodes (largest strongly connected component; dropped "
        f"{(~inside).sum()} links, {dropped_nodes} nodes)"
    )
    out = out[inside].reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="link_id")

    nodes = nodes[nodes["node_id"].isin(keep)].set_index("node_id").sort_index()
    nodes["is_centroid"] = nodes["is_centroid"].astype(bool)
    nodes["zone_id"] = np.where(nodes["is_centroid"], nodes.index, -1).astype(np.int64)
    zones["centroid_node"] = zones.index.astype(np.int64)  # AequilibraE: centroid id = zone id
    return out, nodes[["is_centroid", "zone_id", "geometry"]]


def _largest_scc(links: pd.DataFrame) -> set[int]:
    g = nx.DiGraph()
    g.add_edges_from(zip(links["a_node"], links["b_node"], strict=True))
    return max(nx.strongly_connected_components(g), key=len)


def _reconnect(
    stranded: list[int], keep: set[int], nodes: gpd.GeoDataFrame, links: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """New two-way connectors from stranded centroids to the nearest kept street node.

    In the source, zone 64's only connector joins a one-way frontage road (Caletera
    5 Norte) that can be entered but not left; OpenStreetMap lacks the exit.
    """
    by_id = nodes.set_index("node_id").geometry
    centroids = nodes.loc[nodes["is_centroid"] == 1, "node_id"]
    pool = by_id[by_id.index.isin(keep) & ~by_id.index.isin(centroids)]
    spec = LINK_TYPES["centroid_connector"]
    rows = []
    for zid in stranded:
        c = by_id.loc[zid]
        target = int(pool.index[pool.distance(c).to_numpy().argmin()])
        for a, b in ((zid, target), (target, zid)):
            line = shapely.LineString([by_id.loc[a], by_id.loc[b]])
            rows.append(
                {
                    "a_node": a,
                    "b_node": b,
                    "length_m": round(line.length, 1),
                    "lanes": spec[2],
                    "free_speed_kmh": float(spec[1]),
                    "capacity_vph": float(spec[0] * spec[2]),
                    "link_type": "centroid_connector",
                    "name": f"added connector zone {zid}",
                    "source_link_id": -1,
                    "geometry": line,
                }
            )
        print(
            f"network: zone {zid} centroid was outside the largest strongly connected "
            f"component; added a two-way connector to node {target}"
        )
    return gpd.GeoDataFrame(rows, crs=links.crs)


def _centre_xy() -> dict[str, tuple[float, float]]:
    tr = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    return {name: tr.transform(*lonlat) for name, lonlat in CENTRES.items()}


def _centre_distance(geoms: gpd.GeoSeries) -> np.ndarray:
    """Distance (m) from each geometry's representative point to the nearer centre."""
    pts = geoms.representative_point()
    return np.min(
        [pts.distance(shapely.Point(xy)).to_numpy() for xy in _centre_xy().values()], axis=0
    )


# ----------------------------------------------------------------------------- people


def _add_comuna(zones: gpd.GeoDataFrame) -> None:
    """Assign each zone to La Serena or Coquimbo comuna.

    The source has no comuna boundary. Zones are ordered by how much nearer they are
    to La Serena's plaza than to Coquimbo's, and the cut is placed where the
    cumulative residents best match INE's 2024 La Serena share of the two comunas.
    """
    xy = _centre_xy()
    pts = zones.geometry.representative_point()
    to_ls = pts.distance(shapely.Point(xy["La Serena"]))
    lean = to_ls - pts.distance(shapely.Point(xy["Coquimbo"]))
    ine = _ine_profiles()
    totals = {name: prof.to_numpy().sum() for name, prof in ine.items()}
    share = totals["La Serena"] / (totals["La Serena"] + totals["Coquimbo"])
    order = lean.sort_values().index
    cum = zones.loc[order, "population"].cumsum() / zones["population"].sum()
    n_ls = int(np.abs(cum.to_numpy() - share).argmin()) + 1
    zones["comuna"] = "Coquimbo"
    zones.loc[order[:n_ls], "comuna"] = "La Serena"
    zones["name"] = [f"{c} {i}" for i, c in zip(zones.index, zones["comuna"], strict=True)]


def _ine_profiles() -> dict[str, pd.DataFrame]:
    """INE 2024 persons by sex (columns) and age 0..100 per comuna.

    Comuna rows stop at an open 80+ group; it is split over 80..100 with the region's
    2024 single-age shape for those ages (same sex).
    """
    ine = pd.read_csv(DEMOGRAPHY / "chile_ine_pop_estimates_coquimbo_single_age.csv")
    ine = ine[ine["year"] == 2024]
    region = ine[ine["geography"].str.startswith("Region")].pivot(
        index="age", columns="sex", values="population"
    )
    tail = region.loc[80:MAX_AGE] / region.loc[80:MAX_AGE].sum()
    out = {}
    for comuna, label in COMUNA_CODES.items():
        prof = ine[ine["geography"] == label].pivot(index="age", columns="sex", values="population")
        prof = prof.reindex(range(MAX_AGE + 1)).astype(float)
        prof.loc[80:MAX_AGE] = tail.to_numpy() * prof.loc[80].to_numpy()
        out[comuna] = prof[["male", "female"]]
    return out


def _population(zones: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Persons by zone, sex and single age, summing exactly to each zone's population.

    Zone profile = comuna profile x exp(beta_z * y(age)), y = +1 for ages 0-14 and
    30-44 (young families), -1 for 60+, 0 otherwise; beta_z = 0.15 * standardised
    distance to the nearer centre + N(0, 0.1) (fringe zones are younger). Persons are a
    seeded multinomial draw of the zone's population from that profile.
    """
    ages = np.arange(MAX_AGE + 1)
    young = np.where((ages < 15) | ((ages >= 30) & (ages < 45)), 1.0, 0.0) - (ages >= 60)
    dist = _centre_distance(zones.geometry)
    beta = 0.15 * (dist - dist.mean()) / dist.std() + rng.normal(0, 0.1, len(zones))
    profiles = _ine_profiles()
    rows = []
    for (zid, row), b in zip(zones.iterrows(), beta, strict=True):
        prof = profiles[row["comuna"]].to_numpy() * np.exp(b * young)[:, None]
        counts = rng.multinomial(row["population"], (prof / prof.sum()).ravel())
        counts = counts.reshape(prof.shape)
        for s, sex in enumerate(("male", "female")):
            rows.append(
                pd.DataFrame({"zone_id": zid, "sex": sex, "age": ages, "persons": counts[:, s]})
            )
    return pd.concat(rows, ignore_index=True).astype({"zone_id": np.int64, "persons": np.int64})


def _households(zones: gpd.GeoDataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Households by size 1..6+ per zone, mean size 3.1 (Censo 2017) shaped by child share.

    See :func:`sim.cityimport.synth.households_by_size`.
    """
    kids = population[population["age"] < 15].groupby("zone_id")["persons"].sum()
    child_share = (kids / zones["population"].clip(lower=1)).fillna(0)
    return households_by_size(zones["population"], child_share, MEAN_HOUSEHOLD_SIZE)


def _jobs(zones: gpd.GeoDataFrame, links: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Jobs per zone and attractiveness.

    Total = JOBS_PER_RESIDENT x residents. Weight_z = (arterial lane-km in the zone
    + 0.2 x residents/1000) x (0.3 + exp(-d_z / 2.5 km)) x LogNormal(0, 0.25), d_z the
    distance to the nearer centre: jobs cluster on main roads near the two centres.
    """
    arterial = links[links["link_type"].isin((*ARTERIALS, "tertiary"))]
    mids = gpd.GeoDataFrame(
        {"lane_km": arterial["lanes"] * arterial["length_m"] / 1000},
        geometry=arterial.geometry.interpolate(0.5, normalized=True),
        crs=links.crs,
    )
    joined = gpd.sjoin(mids, zones.reset_index()[["zone_id", "geometry"]], predicate="within")
    lane_km = joined.groupby("zone_id")["lane_km"].sum().reindex(zones.index, fill_value=0)
    dist = _centre_distance(zones.geometry)
    weight = (lane_km + 0.2 * zones["population"] / 1000) * (0.3 + np.exp(-dist / 2500))
    weight = weight * rng.lognormal(0, 0.25, len(zones))
    total = JOBS_PER_RESIDENT * zones["population"].sum()
    zones["jobs"] = round_preserving((weight / weight.sum() * total).to_numpy())
    # trip attraction besides work: jobs plus a share of residents, mean 1
    raw = zones["jobs"] + 0.3 * zones["population"]
    zones["attractiveness"] = (raw / raw.mean()).round(4)


def _rates(population: pd.DataFrame) -> pd.DataFrame:
    """ASFR (WPP PASFR x TFR), qx (WPP single-age life table), Rogers-Castro migration.

    See :func:`sim.cityimport.synth.wpp_rates`; the migration profile is scaled so its
    mean over the city's residents is 1.
    """
    rates = scale_migration(wpp_rates("Chile", DEMOGRAPHY), population)
    _cross_check_qx(rates)
    return rates


def _cross_check_qx(rates: pd.DataFrame) -> None:
    """Compare 5-year death probabilities from the single-age qx with WPP's abridged mx."""
    mx = pd.read_csv(DEMOGRAPHY / "wpp2024_mx_abridged_china_chile.csv")
    mx = mx[(mx["country"] == "Chile") & (mx["period"] == "2020-2025")]
    worst = 0.0
    for sex in ("male", "female"):
        q1 = rates[rates["sex"] == sex].set_index("age")["qx"]
        for lo in range(5, 100, 5):
            single = 1 - np.prod(1 - q1.loc[lo : lo + 4].to_numpy())
            m = mx[(mx["sex"] == sex) & (mx["age_start"] == str(lo))]["mx"].iloc[0]
            abridged = 1 - np.exp(-5 * m)
            worst = max(worst, abs(single / abridged - 1))
    print(
        f"qx cross-check: 5q(x) from single-age qx vs 1-exp(-5 mx) (WPP 2020-2025), ages 5-99: "
        f"max relative difference {worst:.1%}"
    )


# ----------------------------------------------------------------------------- places


def _schools(
    zones: gpd.GeoDataFrame,
    population: pd.DataFrame,
    nodes: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Primary and junior schools placed by seeded weighted k-means on zone centroids.

    Each school sits at the street node nearest its cluster centre; catchment = each
    zone's nearest school (a school left without zones takes its nearest zone). Classes
    by grade follow :func:`plan_school_capacity`.
    """
    pts = zones.geometry.representative_point()
    xy = np.c_[pts.x, pts.y]
    street = nodes[~nodes["is_centroid"]]
    street_xy = np.c_[street.geometry.x, street.geometry.y]
    levels = {"primary": ("P", 1, 6, range(6, 12)), "junior": ("J", 7, 9, range(12, 15))}
    frames = []
    for level, (prefix, g_lo, g_hi, ages) in levels.items():
        kids = population[population["age"].isin(ages)].groupby("zone_id")["persons"].sum()
        kids = kids.reindex(zones.index, fill_value=0).to_numpy().astype(float)
        k = max(1, round(kids.sum() / PUPILS_PER_SCHOOL[level]))
        centres, _ = _weighted_kmeans(xy, kids, k, rng)
        sxy = street_xy[[int(np.argmin(((street_xy - c) ** 2).sum(axis=1))) for c in centres]]
        d2 = ((xy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2)
        catchment = d2.argmin(axis=1)
        for i in np.setdiff1d(np.arange(k), catchment):
            catchment[d2[:, i].argmin()] = i
        ids = np.array([f"{prefix}{i + 1:02d}" for i in range(k)])
        zones[f"catchment_{level}"] = ids[catchment]
        name = "Escuela Básica" if level == "primary" else "Liceo"
        frames.append(
            gpd.GeoDataFrame(
                {
                    "name": [f"{name} {i}" for i in ids],
                    "level": level,
                    "grade_lo": g_lo,
                    "grade_hi": g_hi,
                    "classes_per_grade": 1,  # set by plan_school_capacity below
                    "class_size": 1,
                    "quality": np.round(rng.normal(size=k), 3),
                },
                geometry=shapely.points(sxy),
                index=pd.Index(ids, name="school_id"),
                crs=zones.crs,
            )
        )
    schools = pd.concat(frames)
    schools["zone_id"] = _zone_of(schools.geometry, zones)
    return plan_school_capacity(schools, zones, population, _settings())


def cohort_by_grade(
    population: pd.DataFrame, settings: dict[str, object], n_grades: int
) -> pd.DataFrame:
    """Base-year children per zone (rows) and grade 0..G (columns) under the entry rule.

    Grade 0 are the children who enter grade 1 next year. Ages are completed years at the
    end of the year (as ``Persons.age``) and birth months are taken as uniform, so grade g
    holds the share M/12 of age entry_age + g - 1 and (12 - M)/12 of age entry_age + g,
    M being the cut-off month (for 31 August: 8/12 of the 6-year-olds and 4/12 of the
    7-year-olds are in grade 1).
    """
    entry = int(str(settings["school_entry_age"]))
    month = int(str(settings["entry_cutoff"]).split("-")[0])
    by_age = population.groupby(["zone_id", "age"])["persons"].sum().unstack(fill_value=0)
    by_age = by_age.reindex(columns=range(MAX_AGE + 1), fill_value=0)
    grades = {
        g: month / 12 * by_age[entry + g - 1] + (12 - month) / 12 * by_age[entry + g]
        for g in range(n_grades + 1)
    }
    return pd.DataFrame(grades)


def plan_school_capacity(
    schools: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    population: pd.DataFrame,
    settings: dict[str, object],
    headroom: float = PLANNING_HEADROOM,
) -> gpd.GeoDataFrame:
    """Classes per grade as a bureau plans them: each grade's catchment cohort plus headroom.

    For every school and grade it teaches, classes = ceil(base-year catchment children of
    that grade × (1 + headroom) / class size), at least 1; the entry grade plans for the
    larger of its own cohort and the cohort entering next year. The class size is the
    school system's standard for the level. Classes may differ by grade (the
    ``classes_by_grade`` column, one number per grade taught); ``classes_per_grade`` is
    their maximum. Deterministic: no random draw, so pressure in a run comes from
    demography and housing, not from the capacities.
    """
    n_grades = int(str(settings["primary_grades"])) + int(str(settings["junior_grades"]))
    cohorts = cohort_by_grade(population, settings, n_grades)
    cohorts = cohorts.reindex(zones.index, fill_value=0.0)
    sizes = {
        "primary": int(settings["class_size_primary"]),
        "junior": int(settings["class_size_junior"]),
    }  # type: ignore[call-overload]
    out = schools.copy()
    by_grade, per_grade, class_size = [], [], []
    for sid, row in schools.iterrows():
        column = f"catchment_{row['level']}"
        kids = cohorts[zones[column] == sid].sum()
        size = sizes[str(row["level"])]
        lo, hi = int(row["grade_lo"]), int(row["grade_hi"])
        need = kids.loc[lo:hi].to_numpy(dtype=float, copy=True)
        if lo == 1:
            need[0] = max(need[0], float(kids.loc[0]))
        classes = np.maximum(np.ceil(need * (1.0 + headroom) / size - 1e-9), 1).astype(int)
        by_grade.append(",".join(str(c) for c in classes))
        per_grade.append(int(classes.max()))
        class_size.append(size)
    out["classes_by_grade"] = by_grade
    out["classes_per_grade"] = np.asarray(per_grade, dtype=np.int64)
    out["class_size"] = np.asarray(class_size, dtype=np.int64)
    return out


def _weighted_kmeans(
    xy: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with point weights, seeded k-means++ start."""
    centres = [xy[rng.choice(len(xy), p=w / w.sum())]]
    for _ in range(1, k):
        d2 = np.min([((xy - c) ** 2).sum(axis=1) for c in centres], axis=0) * w
        centres.append(xy[rng.choice(len(xy), p=d2 / d2.sum())])
    centres = np.array(centres)
    for _ in range(iters):
        label = ((xy[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        for i in range(k):
            mask = (label == i) & (w > 0)
            if mask.any():
                centres[i] = np.average(xy[mask], axis=0, weights=w[mask])
    label = ((xy[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    return centres, label


def _zone_of(points: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Zone containing each point, or the nearest zone for points outside all zones."""
    frame = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=zones.crs)
    joined = gpd.sjoin_nearest(frame, zones.reset_index()[["zone_id", "geometry"]], how="left")
    return joined.groupby(level=0)["zone_id"].min().to_numpy().astype(np.int64)


def _sites(zones: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Five development sites on the urban fringe.

    Candidates: settled zones (> 500 residents) below the median density and beyond
    the 60th percentile of distance to the nearer centre. In seeded random order,
    a candidate is taken when it lies >= 3 km from the sites already taken and its
    comuna has fewer than three.
    """
    area_km2 = zones.geometry.area / 1e6
    density = zones["population"] / area_km2
    dist = pd.Series(_centre_distance(zones.geometry), index=zones.index)
    fringe = zones.index[(density < density.quantile(0.5)) & (dist > dist.quantile(0.6))]
    fringe = fringe[zones.loc[fringe, "population"] > 500]  # near existing settlement
    pts = zones.geometry.representative_point()
    chosen: list[int] = []
    for zid in rng.permutation(np.asarray(fringe)):
        comuna = zones.loc[zid, "comuna"]
        if len(chosen) == 5 or (zones.loc[chosen, "comuna"] == comuna).sum() >= 3:
            continue
        if all(pts.loc[zid].distance(pts.loc[c]) >= 3000 for c in chosen):
            chosen.append(int(zid))
    chosen = np.sort(np.array(chosen, dtype=np.int64))
    n = len(chosen)
    return gpd.GeoDataFrame(
        {
            "zone_id": chosen.astype(np.int64),
            "start_year": rng.integers(2025, 2029, n),
            "n_years": rng.integers(3, 7, n),
            "dwellings_per_year": (rng.integers(6, 17, n) * 25),
            "occupancy": np.round(rng.uniform(0.85, 0.95, n), 2),
            "household_size": np.round(rng.uniform(3.0, 3.5, n), 2),
        },
        geometry=zones.loc[chosen].geometry.representative_point().to_numpy(),
        index=pd.Index([f"DEV{i + 1}" for i in range(n)], name="site_id"),
        crs=zones.crs,
    )


def type_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dwelling types by site number (DWELLING_TYPE_CYCLE) with their settled occupancy and
    household size (sim.population.housing.DWELLING_TYPES), replacing the first-year
    occupancy of 0.85-0.95 and household size of 3.0-3.5 drawn before."""
    out = sites.copy()
    kinds = [DWELLING_TYPE_CYCLE[i % len(DWELLING_TYPE_CYCLE)] for i in range(len(out))]
    out["dwelling_type"] = kinds
    out["occupancy"] = [DWELLING_TYPES[k].ramp[-1] for k in kinds]
    out["household_size"] = [DWELLING_TYPES[k].household_size for k in kinds]
    return out


def resynthesise(path: Path) -> None:
    """Apply the school-capacity rule, the school-system settings and the site types to a
    built GeoPackage in place (the full build needs AequilibraE's Coquimbo model).

    Only the schools' classes and class sizes, ``city_settings`` and the sites' type
    columns change; placements, catchments and every other layer stay as they are.
    """
    city = load_city(path).copy()
    city.settings.update(_settings())
    city.schools = plan_school_capacity(city.schools, city.zones, city.population, city.settings)
    city.sites = type_sites(city.sites)
    save_city(city, path)


def _parking(zones: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """One lot in each of the eight zones with the highest job density."""
    density = zones["jobs"] / (zones.geometry.area / 1e6)
    top = density.sort_values(ascending=False).index[:8].sort_values()
    n = len(top)
    return gpd.GeoDataFrame(
        {
            "zone_id": np.asarray(top, dtype=np.int64),
            "capacity": rng.integers(8, 25, n) * 25,
            "occupancy_am": np.round(rng.uniform(0.6, 0.95, n), 2),
        },
        geometry=zones.loc[top].geometry.representative_point().to_numpy(),
        index=pd.RangeIndex(1, n + 1, name="lot_id"),
        crs=zones.crs,
    )


def _signals(
    nodes: gpd.GeoDataFrame, links: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Fixed-time signals where arterial roads cross.

    A node is an arterial crossing when at least three arterial (trunk, primary,
    secondary) source links meet there, they carry at least two road names (or are
    unnamed), and traffic enters it from at least two source links. Nodes within
    40 m of an already signalised node are skipped (one controller per junction).
    Plans: 2 phases (main road / cross road), or 3 with a protected turn phase where
    three or more approaches enter, one of them trunk/primary; green split in
    proportion to inbound capacity, 4 s lost time per phase, seeded offsets.
    """
    art = links[links["link_type"].isin(ARTERIALS)]
    ends = pd.concat(
        [
            art[["source_link_id", "a_node", "name"]].rename(columns={"a_node": "node"}),
            art[["source_link_id", "b_node", "name"]].rename(columns={"b_node": "node"}),
        ]
    ).drop_duplicates(["source_link_id", "node"])
    per_node = ends.groupby("node").agg(
        n_links=("source_link_id", "nunique"), names=("name", lambda s: s.nunique())
    )
    unnamed = ends[ends["name"] == ""].groupby("node").size()
    per_node["unnamed"] = unnamed.reindex(per_node.index, fill_value=0)
    n_in = links.groupby("b_node")["source_link_id"].nunique()
    per_node["n_in"] = n_in.reindex(per_node.index, fill_value=0)
    crossing = (per_node["names"] >= 2) | (per_node["unnamed"] > 0)
    cand = per_node[(per_node["n_links"] >= 3) & crossing & (per_node["n_in"] >= 2)]
    cand_nodes = nodes.loc[nodes.index.intersection(cand.index)]
    chosen: list[int] = []
    taken = np.empty((0, 2))
    for nid, pt in zip(cand_nodes.index, cand_nodes.geometry, strict=True):
        p = np.array([pt.x, pt.y])
        if len(taken) and (((taken - p) ** 2).sum(axis=1) < 40.0**2).any():
            continue
        chosen.append(int(nid))
        taken = np.vstack([taken, p])
    inbound = links.groupby("b_node")
    rows = []
    for sid, nid in enumerate(chosen, start=1):
        approaches = inbound.get_group(nid)
        major = approaches["link_type"].isin(("trunk", "primary")).any()
        n_phases = 3 if major and len(approaches) >= 3 else 2
        cycle = int(rng.choice([60, 75, 90])) + (30 if n_phases == 3 else 0)
        green_total = cycle - LOST_TIME_PER_PHASE_S * n_phases
        main = approaches["capacity_vph"].nlargest(2).sum()
        share = float(np.clip(main / approaches["capacity_vph"].sum(), 0.4, 0.7))
        if n_phases == 2:
            g_main = round(green_total * share)
            greens = [g_main, green_total - g_main]
        else:
            turn = 12
            g_main = round((green_total - turn) * share)
            greens = [g_main, turn, green_total - turn - g_main]
        rows.append(
            {
                "signal_id": sid,
                "node_id": nid,
                "cycle_s": float(cycle),
                "n_phases": n_phases,
                "green_s": ",".join(str(g) for g in greens),
                "offset_s": float(rng.integers(0, cycle)),
                "geometry": nodes.geometry.loc[nid],
            }
        )
    signals = gpd.GeoDataFrame(rows, crs=nodes.crs).set_index("signal_id")
    by_node = pd.Series(signals.index, index=signals["node_id"])
    nodes["signal_id"] = by_node.reindex(nodes.index).fillna(-1).astype(np.int64).to_numpy()
    links["signal_id"] = by_node.reindex(links["b_node"]).fillna(-1).astype(np.int64).to_numpy()
    return signals


def _settings() -> dict[str, object]:
    return {
        "base_year": 2024,
        "school_system": SCHOOL_SYSTEM,
        **preset(SCHOOL_SYSTEM).settings(),
        "base_tfr": round(wpp_tfr("Chile", DEMOGRAPHY), 4),
        "country": "Chile",
        "vacancy_rate": VACANCY_RATE,
        "jobs_per_resident": JOBS_PER_RESIDENT,
    }


if __name__ == "__main__":
    raise SystemExit(main())
