"""Tests of sim/city.py and the embedded default city (geodata/default_city.gpkg)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from sim import settings
from sim.city import City, city_layers, load_city, save_city, write_layers
from sim.errors import GeodataError

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "demography"
UTM19S = "EPSG:32719"


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(settings.default_city)


def _bench(name: str) -> pd.DataFrame:
    path = BENCH / name
    if not path.is_file():
        pytest.skip(f"reference data {path} not available")
    return pd.read_csv(path)


# ---------------------------------------------------------------- the default city


def test_default_city_counts(city: City) -> None:
    assert city.name == "Coquimbo-La Serena"
    assert city.crs.to_epsg() == 32719
    assert len(city.zones) == 133
    assert list(city.zones.index) == list(range(1, 134))
    assert city.zones["population"].sum() == 451_834
    assert city.settings["base_year"] == 2024
    assert city.settings["entry_cutoff"] == "08-31"
    assert (city.settings["primary_grades"], city.settings["junior_grades"]) == (6, 3)


def test_age_sex_table_sums_to_zone_population(city: City) -> None:
    pop = city.population
    assert set(pop["sex"]) == {"male", "female"}
    assert pop["age"].min() == 0 and pop["age"].max() == 100
    assert (pop["persons"] >= 0).all()
    assert len(pop) == 133 * 2 * 101
    per_zone = pop.groupby("zone_id")["persons"].sum()
    pd.testing.assert_series_equal(per_zone, city.zones["population"], check_names=False)


def test_age_structure_follows_ine_2024(city: City) -> None:
    ine = _bench("chile_ine_pop_estimates_coquimbo_single_age.csv")
    ine = ine[(ine["year"] == 2024) & ine["geography"].str.startswith("Comuna")]
    ref = ine.groupby(np.minimum(ine["age"], 80))["population"].sum()
    got = city.population.groupby(np.minimum(city.population["age"], 80))["persons"].sum()
    ref_share, got_share = ref / ref.sum(), got / got.sum()
    # school-age children (6-14) and the elderly (65+) within 5 % of INE's shares
    for ages in (range(6, 15), range(65, 81)):
        r, g = ref_share.loc[list(ages)].sum(), got_share.loc[list(ages)].sum()
        assert abs(g / r - 1) < 0.05, (ages, r, g)
    males = city.population.loc[city.population["sex"] == "male", "persons"].sum()
    ref_males = ine.loc[ine["sex"] == "male", "population"].sum() / ine["population"].sum()
    assert abs(males / 451_834 - ref_males) < 0.01


def test_households_and_dwellings(city: City) -> None:
    hh = city.households
    assert sorted(hh["size"].unique()) == [1, 2, 3, 4, 5, 6]
    totals = hh.groupby("zone_id")["households"].sum()
    pd.testing.assert_series_equal(totals, city.zones["households"], check_names=False)
    persons_per_hh = city.zones["population"].sum() / totals.sum()
    assert 2.8 < persons_per_hh < 3.4  # Censo 2017: 3.1
    assert (city.zones["dwellings"] >= city.zones["households"]).all()
    assert city.zones["jobs"].sum() == pytest.approx(0.42 * 451_834, abs=1)
    assert (city.zones["attractiveness"] >= 0).all()


def test_rates_match_wpp(city: City) -> None:
    rates = city.rates
    assert len(rates) == 202
    female = rates[rates["sex"] == "female"].set_index("age")
    male = rates[rates["sex"] == "male"].set_index("age")
    tfr = _bench("wpp2024_tfr_china_chile.csv")
    tfr_2023 = tfr[(tfr["country"] == "Chile") & (tfr["year_or_period"] == "2023")]["tfr"]
    assert female["asfr"].sum() == pytest.approx(float(tfr_2023.iloc[0]), rel=1e-9)
    assert (male["asfr"] == 0).all()
    assert female.loc[:14, "asfr"].eq(0).all() and female.loc[50:, "asfr"].eq(0).all()
    life = _bench("wpp2024_lifetable_single_age_2023_chile_china.csv")
    ref = life[(life["country"] == "Chile") & (life["sex"] == "male")].set_index("age")["qx"]
    np.testing.assert_allclose(male["qx"].to_numpy(), ref.loc[0:100].to_numpy())
    assert female.loc[100, "qx"] == 1.0
    # Rogers-Castro: labour-force peak in the twenties, trough in the teens
    mig = male["migration_profile"]
    assert 20 <= mig.idxmax() <= 30 and mig.loc[15] < mig.loc[25]


def test_links_are_directed_and_consistent(city: City) -> None:
    links = city.links
    assert links.index.is_unique and links.index.min() == 1
    assert links["a_node"].isin(city.nodes.index).all()
    assert links["b_node"].isin(city.nodes.index).all()
    assert (links["a_node"] != links["b_node"]).all()
    # a two-way street appears once per direction with reversed geometry
    link = links[links["link_type"] == "primary"].iloc[0]
    back = links[(links["a_node"] == link["b_node"]) & (links["b_node"] == link["a_node"])]
    if len(back):
        rev = shapely.reverse(back.geometry.iloc[0])
        assert rev.equals_exact(link.geometry, 1e-6)
    np.testing.assert_allclose(links["length_m"], links.geometry.length, atol=0.06)
    assert (links["lanes"] >= 1).all() and (links["capacity_vph"] > 0).all()
    per_lane = links["capacity_vph"] / links["lanes"]
    assert per_lane.groupby(links["link_type"]).nunique().eq(1).all()
    assert (links["free_speed_kmh"].between(20, 100)).all()


def test_every_centroid_reachable(city: City) -> None:
    g = city.road_graph()
    assert g.number_of_edges() == len(city.links)
    assert g.number_of_nodes() == len(city.nodes)
    first = int(city.links.index[0])
    a, b = int(city.links.loc[first, "a_node"]), int(city.links.loc[first, "b_node"])
    assert g.edges[a, b, first]["length_m"] == city.links.loc[first, "length_m"]
    centroids = set(city.zones["centroid_node"])
    assert centroids == set(city.nodes.index[city.nodes["is_centroid"]])
    start = next(iter(centroids))
    assert centroids <= nx.descendants(g, start) | {start}
    assert centroids <= nx.ancestors(g, start) | {start}


def test_schools_and_catchments(city: City) -> None:
    schools = city.schools
    pop = city.population
    for level, (lo, hi), grades in (("primary", (6, 11), (1, 6)), ("junior", (12, 14), (7, 9))):
        sub = schools[schools["level"] == level]
        assert (sub["grade_lo"] == grades[0]).all() and (sub["grade_hi"] == grades[1]).all()
        children = pop[pop["age"].between(lo, hi)]["persons"].sum()
        assert 500 <= children / len(sub) <= 900
        classes = sub["classes_by_grade"].map(lambda t: [int(c) for c in t.split(",")])
        assert (classes.map(len) == hi - lo + 1).all()
        seats = (classes.map(sum) * sub["class_size"]).sum()
        # each grade's cohort plus headroom, in whole classes: no school starts over capacity
        assert 1.05 <= seats / children <= 1.35
        assert city.zones[f"catchment_{level}"].isin(sub.index).all()
        assert set(city.zones[f"catchment_{level}"]) == set(sub.index)
        assert (sub["class_size"] == city.settings[f"class_size_{level}"]).all()
    assert city.settings["school_system"] == "china"
    assert schools["zone_id"].isin(city.zones.index).all()
    assert abs(schools["quality"].mean()) < 0.5


def test_signals_sites_parking(city: City) -> None:
    sig = city.signals
    assert len(sig) > 50
    for cycle, n, greens in zip(sig["cycle_s"], sig["n_phases"], sig["green_s"], strict=True):
        g = [int(v) for v in greens.split(",")]
        assert len(g) == n and min(g) >= 8 and sum(g) + 4 * n == cycle
    on_nodes = city.nodes.loc[sig["node_id"], "signal_id"].to_numpy()
    np.testing.assert_array_equal(on_nodes, sig.index.to_numpy())
    node_signal = city.nodes["signal_id"].reindex(city.links["b_node"]).to_numpy()
    np.testing.assert_array_equal(city.links["signal_id"].to_numpy(), node_signal)
    sites = city.sites
    assert 4 <= len(sites) <= 6
    assert sites["start_year"].between(2025, 2028).all()
    assert (sites["dwellings_per_year"] > 0).all()
    assert set(city.zones.loc[sites["zone_id"], "comuna"]) == {"La Serena", "Coquimbo"}
    assert len(city.parking) > 0 and city.parking["occupancy_am"].between(0, 1).all()


def test_zone_at_and_to_city_xy(city: City) -> None:
    x, y = city.to_city_xy(-71.2519, -29.9027)  # Plaza de Armas, La Serena
    ref = pyproj.Transformer.from_crs("EPSG:4326", UTM19S, always_xy=True)
    assert (x, y) == pytest.approx(ref.transform(-71.2519, -29.9027))
    zone = city.zone_at(x, y)
    assert zone is not None and city.zones.loc[zone, "comuna"] == "La Serena"
    assert city.zones.loc[zone].geometry.contains(shapely.Point(x, y))
    assert city.zone_at(0.0, 0.0) is None


def test_cache_returns_independent_copies(city: City) -> None:
    again = load_city(settings.default_city)
    assert again is not city
    again.zones.loc[1, "population"] = -1
    again.settings["base_year"] = 1900
    third = load_city(settings.default_city)
    assert third.zones.loc[1, "population"] == city.zones.loc[1, "population"]
    assert third.settings["base_year"] == 2024


# ---------------------------------------------------------------- bad input files


def _tiny_city() -> City:
    """Two square zones, a 2x3 street grid, two centroids with connectors."""
    crs = pyproj.CRS(UTM19S)
    boxes = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    zones = gpd.GeoDataFrame(
        {
            "name": ["A", "B"],
            "population": [3, 2],
            "households": [1, 1],
            "dwellings": [1, 1],
            "jobs": [1, 1],
            "attractiveness": [1.0, 1.0],
            "centroid_node": [1, 2],
            "catchment_primary": ["P1", "P1"],
            "catchment_junior": ["J1", "J1"],
        },
        geometry=[shapely.MultiPolygon([b]) for b in boxes],
        index=pd.Index([1, 2], name="zone_id"),
        crs=crs,
    )
    xy = {1: (50, 50), 2: (150, 50), 10: (40, 40), 11: (100, 40), 12: (160, 40)}
    nodes = gpd.GeoDataFrame(
        {"is_centroid": [n < 10 for n in xy], "zone_id": [n if n < 10 else -1 for n in xy]},
        geometry=[shapely.Point(p) for p in xy.values()],
        index=pd.Index(list(xy), name="node_id"),
        crs=crs,
    )
    nodes["signal_id"] = [-1, -1, -1, 1, -1]
    pairs = [(1, 10), (10, 11), (11, 12), (12, 2)]
    ab = pairs + [(b, a) for a, b in pairs]
    links = gpd.GeoDataFrame(
        {
            "a_node": [a for a, _ in ab],
            "b_node": [b for _, b in ab],
            "lanes": 1,
            "free_speed_kmh": 30.0,
            "capacity_vph": 600.0,
            "link_type": "residential",
            "name": "",
            "signal_id": [1 if b == 11 else -1 for _, b in ab],
        },
        geometry=[shapely.LineString([xy[a], xy[b]]) for a, b in ab],
        index=pd.Index(range(1, len(ab) + 1), name="link_id"),
        crs=crs,
    )
    links.insert(2, "length_m", links.geometry.length)
    population = pd.DataFrame(
        {"zone_id": [1, 1, 2], "sex": ["male", "female", "female"], "age": [7, 35, 40]}
    ).assign(persons=[1, 2, 2])
    households = pd.DataFrame({"zone_id": [1, 2], "size": [3, 2], "households": [1, 1]})
    rates = pd.DataFrame(
        {"age": [0, 0], "sex": ["male", "female"], "asfr": 0.0, "qx": 0.01}
    ).assign(migration_profile=1.0)
    school_pts = [shapely.Point(60, 60), shapely.Point(140, 60)]
    schools = gpd.GeoDataFrame(
        {
            "name": ["P one", "J one"],
            "level": ["primary", "junior"],
            "grade_lo": [1, 7],
            "grade_hi": [6, 9],
            "classes_per_grade": [1, 1],
            "class_size": [45, 45],
            "quality": [0.0, 0.0],
            "zone_id": [1, 2],
        },
        geometry=school_pts,
        index=pd.Index(["P1", "J1"], name="school_id"),
        crs=crs,
    )
    signals = gpd.GeoDataFrame(
        {"node_id": [11], "cycle_s": [60.0], "n_phases": [2], "green_s": ["30,22"]},
        geometry=[shapely.Point(xy[11])],
        index=pd.Index([1], name="signal_id"),
        crs=crs,
    ).assign(offset_s=0.0)
    parking = gpd.GeoDataFrame(
        {"zone_id": [1], "capacity": [50], "occupancy_am": [0.5]},
        geometry=[shapely.Point(20, 20)],
        index=pd.Index([1], name="lot_id"),
        crs=crs,
    )
    sites = gpd.GeoDataFrame(
        {"zone_id": [2], "start_year": [2026], "n_years": [3], "dwellings_per_year": [10]},
        geometry=[shapely.Point(180, 80)],
        index=pd.Index(["S1"], name="site_id"),
        crs=crs,
    ).assign(occupancy=0.9, household_size=3.0)
    city_settings = {
        "base_year": 2024,
        "school_entry_age": 6,
        "entry_cutoff": "08-31",
        "primary_grades": 6,
        "junior_grades": 3,
        "class_size_primary": 45,
        "class_size_junior": 45,
        "base_tfr": 1.2,
        "country": "Testland",
    }
    return City(
        path=Path(),
        name="Tiny",
        crs=crs,
        settings=city_settings,
        zones=zones,
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


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_city(_tiny_city(), tmp_path_factory.mktemp("tiny") / "tiny.gpkg")


def _variant(base: Path, tmp_path: Path, **layers: pd.DataFrame) -> Path:
    """A copy of the tiny city with some layers replaced (cheaper than a full write)."""
    path = tmp_path / "variant.gpkg"
    shutil.copy(base, path)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    return path


def test_tiny_city_round_trip(tiny_gpkg: Path, tmp_path: Path) -> None:
    loaded = load_city(tiny_gpkg)
    assert loaded.name == "Tiny" and loaded.settings["country"] == "Testland"
    assert list(loaded.zones.index) == [1, 2]
    assert loaded.nodes["is_centroid"].dtype == bool
    assert loaded.schools.index.tolist() == ["J1", "P1"]
    assert loaded.zone_at(150, 50) == 2
    assert loaded.road_graph().number_of_edges() == 8
    again = load_city(save_city(loaded, tmp_path / "again.gpkg"))
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.links).drop(columns="geometry"),
        pd.DataFrame(loaded.links).drop(columns="geometry"),
    )


def _expect_error(path: Path, *fragments: str) -> None:
    with pytest.raises(GeodataError) as info:
        load_city(path)
    message = str(info.value)
    assert str(path.name) in message
    for fragment in fragments:
        assert fragment in message, message


def _layer(name: str) -> pd.DataFrame:
    """One layer of the tiny city as an editable table."""
    return city_layers(_tiny_city())[name]


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nowhere.gpkg", "not found")


def test_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "junk.gpkg"
    path.write_text("not a database")
    _expect_error(path, "not a readable GeoPackage")


def test_missing_layer(tmp_path: Path) -> None:
    layers = city_layers(_tiny_city())
    del layers["signals"]
    _expect_error(write_layers(tmp_path / "c.gpkg", layers), "layer 'signals'", "missing")


def test_missing_column(tiny_gpkg: Path, tmp_path: Path) -> None:
    links = _layer("links").drop(columns="capacity_vph")
    _expect_error(_variant(tiny_gpkg, tmp_path, links=links), "layer 'links'", "capacity_vph")


def test_missing_settings_key(tiny_gpkg: Path, tmp_path: Path) -> None:
    cs = _layer("city_settings")
    path = _variant(tiny_gpkg, tmp_path, city_settings=cs[cs["key"] != "entry_cutoff"])
    _expect_error(path, "city_settings", "entry_cutoff")


def test_geographic_crs(tiny_gpkg: Path, tmp_path: Path) -> None:
    zones = _layer("zones").to_crs("EPSG:4326")
    _expect_error(_variant(tiny_gpkg, tmp_path, zones=zones), "layer 'zones'", "EPSG:4326")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs(tiny_gpkg: Path, tmp_path: Path) -> None:
    nodes = _layer("nodes").set_crs(None, allow_override=True)
    _expect_error(_variant(tiny_gpkg, tmp_path, nodes=nodes), "layer 'nodes'", "no CRS")


def test_mixed_crs(tiny_gpkg: Path, tmp_path: Path) -> None:
    parking = _layer("parking").to_crs("EPSG:32718")
    _expect_error(_variant(tiny_gpkg, tmp_path, parking=parking), "layer 'parking'", "32718")


def test_disconnected_graph(tiny_gpkg: Path, tmp_path: Path) -> None:
    links = _layer("links")
    links = links[~((links["a_node"] == 12) & (links["b_node"] == 2))]
    _expect_error(_variant(tiny_gpkg, tmp_path, links=links), "layer 'links'", "disconnected")


@pytest.mark.parametrize(
    ("layer", "column"),
    [("nodes", "node_id"), ("links", "link_id"), ("zones", "zone_id"), ("schools", "school_id")],
)
def test_duplicate_ids(tiny_gpkg: Path, tmp_path: Path, layer: str, column: str) -> None:
    frame = _layer(layer)
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    path = _variant(tiny_gpkg, tmp_path, **{layer: frame})
    _expect_error(path, f"layer '{layer}'", column, "duplicate")


def test_dangling_references(tiny_gpkg: Path, tmp_path: Path) -> None:
    links = _layer("links")
    links.loc[0, "b_node"] = 99
    _expect_error(_variant(tiny_gpkg, tmp_path, links=links), "layer 'links'", "b_node", "99")
    zones = _layer("zones")
    zones.loc[0, "catchment_primary"] = "P9"
    _expect_error(_variant(tiny_gpkg, tmp_path, zones=zones), "catchment_primary", "P9")


def test_population_must_match_zones(tiny_gpkg: Path, tmp_path: Path) -> None:
    pop = _layer("zone_population")
    pop.loc[0, "persons"] = 5
    path = _variant(tiny_gpkg, tmp_path, zone_population=pop)
    _expect_error(path, "zone_population", "zone 1")


def test_non_integer_column(tiny_gpkg: Path, tmp_path: Path) -> None:
    links = _layer("links")
    links["lanes"] = 1.5
    _expect_error(_variant(tiny_gpkg, tmp_path, links=links), "layer 'links'", "'lanes'", "1.5")


@pytest.mark.parametrize(
    ("layer", "column", "value", "allowed"),
    [
        ("links", "capacity_vph", -5.0, "> 0"),
        ("links", "free_speed_kmh", 0.0, "> 0"),
        ("zone_population", "sex", "x", "'male' or 'female'"),
        ("schools", "level", "senior", "'primary' or 'junior'"),
        ("demography_rates", "qx", 1.5, "0..1"),
    ],
)
def test_values_out_of_domain(
    tiny_gpkg: Path, tmp_path: Path, layer: str, column: str, value: object, allowed: str
) -> None:
    frame = _layer(layer)
    frame.loc[0, column] = value
    path = _variant(tiny_gpkg, tmp_path, **{layer: frame})
    _expect_error(path, f"layer '{layer}'", f"'{column}'", repr(value), allowed)


def test_empty_zones(tiny_gpkg: Path, tmp_path: Path) -> None:
    zones, pop = _layer("zones").iloc[:0], _layer("zone_population").iloc[:0]
    path = _variant(tiny_gpkg, tmp_path, zones=zones, zone_population=pop)
    _expect_error(path, "layer 'zones'", "empty")


# ---------------------------------------------------------------- the build script


@pytest.fixture(scope="module")
def builder():
    """geodata/build_default_city.py imported as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "geodata" / "build_default_city.py"
    spec = importlib.util.spec_from_file_location("build_default_city", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_city_matches_build_script(city: City, builder) -> None:
    _bench("chile_ine_pop_estimates_coquimbo_single_age.csv")
    zones = city.zones[["population", "geometry"]].copy()
    builder._add_comuna(zones)
    pd.testing.assert_series_equal(zones["comuna"], city.zones["comuna"])
    # the population draw is the first use of the seeded stream, so it must reproduce
    population = builder._population(zones, np.random.default_rng(builder.SEED))
    pd.testing.assert_frame_equal(population, city.population, check_dtype=False)
    again = builder._population(zones, np.random.default_rng(builder.SEED))
    pd.testing.assert_frame_equal(population, again)
    rates = builder._rates(population)
    pd.testing.assert_frame_equal(rates, city.rates, check_dtype=False)
    households = builder._households(zones, population)
    pd.testing.assert_frame_equal(households, city.households, check_dtype=False)


def test_household_size_model() -> None:
    from sim.cityimport.synth import round_preserving, size_shares

    shares = size_shares(2.1)
    assert shares.sum() == pytest.approx(1.0)
    # mean of 1 + Poisson(2.1) is 3.1; lumping the tail into 6 lowers it a little
    mean = (shares * np.arange(1, 7)).sum()
    assert 3.0 < mean < 3.1
    values = np.array([1.4, 2.4, 3.2])
    rounded = round_preserving(values)
    assert rounded.sum() == 7 and (np.abs(rounded - values) < 1).all()
