"""enroll-query (入学早知道) on a small fake run folder written with the run's file formats."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_enrollment import X0, Y0, fake_city

from sim.cli import main as cli_main
from sim.education import query as enroll_query
from sim.education.enrollment import summarise_replications
from sim.education.schools import SchoolSystem
from sim.policies import CatchmentEdit
from sim.runs import folder

ROOT = Path(__file__).resolve().parents[1]
START, END = 2025, 2029
# (school, grade) -> mean demand per replication; capacities: P1/P2 45 per grade, J1 90
DEMAND = {("P1", 1): 60, ("P2", 1): 20, ("J1", 7): 30}


def write_fake_run(run_dir: Path, demand: dict[tuple[str, int], int] = DEMAND) -> pd.DataFrame:
    """A run folder with the files and columns ``main.py run`` writes; returns enrollment."""
    city = fake_city(class_size=45)
    system = SchoolSystem.from_city(city)
    edit = CatchmentEdit(type="catchment_edit", school="P2", zones=[20], year=2028)
    rng = np.random.default_rng(0)
    rows, catchments = [], []
    for year in range(START, END + 1):
        system.apply_policies([edit], year)
        catchments.append(system.catchment_frame(year))
        cap = system.capacity()
        for rep in range(20):
            for s, sid in enumerate(system.school_id):
                for g in range(system.grade_lo[s], system.grade_hi[s] + 1):
                    d = int(rng.poisson(demand.get((sid, g), 10)))
                    c = int(cap[s, g - 1])
                    rows.append(
                        (rep, year, sid, g, d, min(d, c), c, min(d, c) / c, max(d - c, 0), 0, 1.2)
                    )
    columns = ["replication", "year", "school", "grade", "demand", "enrolled", "capacity"]
    columns += ["utilisation", "overflow", "unplaced", "mean_distance_km"]
    enrollment = summarise_replications(pd.DataFrame(rows, columns=columns))
    run_dir.mkdir(parents=True, exist_ok=True)
    enrollment.to_parquet(run_dir / "enrollment.parquet", index=False)
    system.schools_frame().to_parquet(run_dir / "schools.parquet", index=False)
    pd.concat(catchments).to_parquet(run_dir / "catchments.parquet", index=False)
    zones = city.zones[["geometry"]].reset_index()
    zones.to_file(run_dir / "zones.gpkg", layer="zones", driver="GPKG")
    manifest = {
        "run_id": run_dir.name,
        "scenario": {"name": "fake"},
        "start_year": START,
        "end_year": END,
        "crs": "EPSG:32719",
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    return enrollment


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "fake-0123456789"
    return run_dir, write_fake_run(run_dir)


def lonlat_of(x: float, y: float) -> str:
    lon, lat = fake_city().to_lonlat(x, y)
    return f"{lon:.7f},{lat:.7f}"


def ask(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(["enroll-query", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def band_row(enrollment: pd.DataFrame, year: int, school: str, grade: int) -> pd.Series:
    sel = enrollment[(enrollment.year == year) & (enrollment.school == school)]
    return sel[sel.grade == grade].iloc[0]


def test_json_answer_full_school_with_overflow(fake_run, capsys):
    run_dir, enrollment = fake_run
    code, out, err = ask(
        capsys, "--lonlat", lonlat_of(X0 + 300, Y0 + 700), "--birth-year", "2019",
        "--run", str(run_dir), "--json",
    )  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    assert answer["zone_id"] == 10
    assert answer["catchment"]["primary"]["school_id"] == "P1"
    assert answer["catchment"]["junior"]["school_id"] == "J1"
    assert answer["catchment"]["primary"]["distance_km"] == pytest.approx(
        np.hypot(0.2, 0.2), abs=0.01
    )
    early, late = answer["entries"]
    assert early["months"] == [1, 8] and late["months"] == [9, 12]
    assert (early["primary"]["year"], late["primary"]["year"]) == (2025, 2026)
    for entry in (early, late):
        stage = entry["primary"]
        row = band_row(enrollment, stage["year"], "P1", 1)
        assert stage["capacity"] == 45
        assert stage["demand_p50"] == pytest.approx(row.p50)
        assert (stage["demand_p10"], stage["demand_p90"]) == pytest.approx((row.p10, row.p90))
        assert stage["utilisation_pct"] == pytest.approx(round(100 * row.p50 / 45, 1))
        assert (
            stage["utilisation_p10_pct"] <= stage["utilisation_pct"] <= stage["utilisation_p90_pct"]
        )
        assert stage["status"] == "likely full"
        assert stage["overflow_school"]["school_id"] == "P2"
        assert stage["overflow_school"]["projected_free_places"] > 0
        junior = entry["junior"]
        assert junior["grade"] == 7 and junior["year"] == stage["year"] + 6
        assert junior["status"] == "beyond projection"
        assert "projection ends 2029" in junior["message"]
        assert junior["school"]["school_id"] == "J1"


def test_school_with_room_and_junior_in_projection(fake_run, capsys):
    run_dir, enrollment = fake_run
    code, out, _ = ask(
        capsys, "--lonlat", lonlat_of(X0 + 3500, Y0 + 500), "--birth-year", "2016",
        "--birth-month", "10", "--run", str(run_dir), "--json",
    )  # fmt: skip
    assert code == 0
    (entry,) = json.loads(out)["entries"]
    assert entry["months"] == [9, 12]
    primary, junior = entry["primary"], entry["junior"]
    assert primary["year"] == 2023 and primary["status"] == "before projection"
    assert junior["year"] == 2029 and junior["school"]["school_id"] == "J1"
    row = band_row(enrollment, 2029, "J1", 7)
    assert junior["capacity"] == 90 and junior["demand_p50"] == pytest.approx(row.p50)
    assert junior["status"] == "has room" and "overflow_school" not in junior


def test_catchment_is_taken_in_the_entry_year(fake_run, capsys):
    run_dir, _ = fake_run  # zone 20 moves from P1 to P2 in 2028
    code, out, _ = ask(
        capsys, "--lonlat", lonlat_of(X0 + 1500, Y0 + 500), "--birth-year", "2021",
        "--run", str(run_dir), "--json",
    )  # fmt: skip
    assert code == 0
    answer = json.loads(out)
    early, late = answer["entries"]
    assert early["primary"]["school"]["school_id"] == "P1"  # 2027
    assert late["primary"]["school"]["school_id"] == "P2"  # 2028
    assert late["primary"]["status"] == "has room"


def test_text_answer(fake_run, capsys):
    run_dir, _ = fake_run
    code, out, _ = ask(
        capsys,
        "--lonlat",
        lonlat_of(X0 + 300, Y0 + 700),
        "--birth-year",
        "2019",
        "--run",
        str(run_dir),
    )
    assert code == 0
    assert "primary catchment school (2025): West primary (P1" in out
    assert "likely full" in out and "overflow school: East primary (P2" in out
    assert "projection ends 2029" in out


@pytest.mark.parametrize(
    ("lonlat", "message"),
    [
        ("abc", "--lonlat 'abc': expected LON,LAT"),
        ("-71.2", "expected LON,LAT"),
        ("200,10", "longitude must be in"),
        ("-71.0,-30.5", "outside the city"),
    ],
)
def test_bad_or_outside_point_exits_2(fake_run, capsys, lonlat, message):
    run_dir, _ = fake_run
    code, out, err = ask(
        capsys, f"--lonlat={lonlat}", "--birth-year", "2019", "--run", str(run_dir)
    )
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_missing_or_incomplete_run_exits_2(fake_run, tmp_path, capsys):
    code, _, err = ask(
        capsys, "--lonlat", "-71.2,-29.9", "--birth-year", "2019", "--run", str(tmp_path / "nope")
    )
    assert code == 2 and "not a run folder" in err
    broken = tmp_path / "broken"
    write_fake_run(broken)
    (broken / "catchments.parquet").unlink()
    code, _, err = ask(
        capsys, "--lonlat", "-71.2,-29.9", "--birth-year", "2019", "--run", str(broken)
    )
    assert code == 2 and "no catchments.parquet" in err
    monkey_empty = tmp_path / "empty"
    monkey_empty.mkdir()
    with pytest.raises(Exception, match="no finished run"):
        folder.resolve_run(None, monkey_empty)


def test_cli_process_exit_status(fake_run):
    run_dir, _ = fake_run
    cmd = [
        sys.executable,
        "main.py",
        "enroll-query",
        "--lonlat",
        "x,y",
        "--birth-year",
        "2019",
        "--run",
        str(run_dir),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().startswith("error: --lonlat 'x,y'") and "Traceback" not in proc.stderr
    )


def test_default_run_from_catalog_then_newest_folder(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    old, new = runs / "a-1", runs / "b-2"
    for d in (old, new):
        d.mkdir(parents=True)
        (d / "manifest.json").write_text("{}")
    con = sqlite3.connect(runs / "catalog.sqlite")
    con.execute(
        "CREATE TABLE runs (run_id TEXT, scenario TEXT, path TEXT, created REAL, status TEXT)"
    )
    con.executemany(
        "INSERT INTO runs VALUES (?,?,?,?,?)",
        [("a-1", "a", str(old), 2.0, "done"), ("b-2", "b", str(new), 3.0, "failed")],
    )
    con.commit()
    con.close()
    monkeypatch.setattr(folder.settings, "runs_folder", runs)
    assert folder.resolve_run() == old  # newest *finished* run of the catalog
    assert folder.resolve_run("b-2") == new  # a run id inside the runs folder
    (runs / "catalog.sqlite").unlink()
    assert folder.resolve_run() in (old, new)
    newest = max((old, new), key=lambda d: (d / "manifest.json").stat().st_mtime_ns)
    assert folder.resolve_run() == newest


def test_index_is_cached_and_rebuilt_when_the_run_changes(tmp_path):
    run_dir = tmp_path / "r"
    write_fake_run(run_dir)
    lon, lat = (float(v) for v in lonlat_of(X0 + 300, Y0 + 700).split(","))
    first = enroll_query.query(run_dir, lon, lat, 2019, 3)
    assert (run_dir / enroll_query.INDEX_NAME).is_file()
    assert first["entries"][0]["primary"]["status"] == "likely full"
    write_fake_run(run_dir, demand={("P1", 1): 5})
    again = enroll_query.query(run_dir, lon, lat, 2019, 3)
    assert again["entries"][0]["primary"]["status"] == "has room"


def test_point_in_zone_matches_shapely(fake_run):
    run_dir, _ = fake_run
    index = enroll_query.load_index(run_dir)
    city = fake_city()
    rng = np.random.default_rng(4)
    for x, y in zip(
        rng.uniform(X0 - 300, X0 + 4300, 200), rng.uniform(Y0 - 300, Y0 + 1300, 200), strict=True
    ):
        lon, lat = city.to_lonlat(x, y)
        assert enroll_query.zone_at(index, lon, lat) == city.zone_at(x, y)


@pytest.mark.slow
def test_on_a_real_run_of_the_new_school_scenario(tmp_path):
    """End to end: ``main.py run`` writes the files, the query finds the new school N01."""
    if not (ROOT / "geodata" / "default_city.gpkg").is_file():
        pytest.skip("geodata/default_city.gpkg not built")
    out = tmp_path / "runs"
    run = [sys.executable, "main.py", "run", "scenarios/new-school.yaml", "--years", "4"]
    run += ["--replications", "2", "--out", str(out)]
    subprocess.run(run, cwd=ROOT, check=True, capture_output=True, timeout=600)
    (run_dir,) = (p.parent for p in out.glob("*/manifest.json"))
    # zone 82 (DEV4 estate) moves to N01 in 2027: a child born in October 2020 enters then
    answer = enroll_query.query(run_dir, -71.219028, -29.94899, 2020, 10)
    assert answer["zone_id"] == 82
    (entry,) = answer["entries"]
    primary = entry["primary"]
    assert primary["year"] == 2027 and primary["school"]["school_id"] == "N01"
    assert primary["capacity"] == 4 * 45
    assert primary["status"] in ("has room", "may be full", "likely full")
    assert entry["junior"]["status"] == "beyond projection"


def test_a_school_without_places_is_full_not_maybe() -> None:
    school = {"name": "P1", "level": "primary", "lon": 0.0, "lat": 0.0}
    school2 = {**school, "name": "P2", "lon": 0.01}
    index = {
        "start_year": 2025,
        "end_year": 2029,
        "catchments": {"2025": {"primary": {"1": "P1"}}},
        "schools": {"P1": school, "P2": school2},
        # demand, capacity, utilisation, p10, p50, p90, p025, p975 (0 classes: 0 places)
        "enrollment": {
            "2025": {
                "P1|1": [3.0, 0, None, 1.0, 3.0, 5.0, 0.5, 6.0],
                "P2|1": [9, 45, 0.2, 7, 9, 11, 6, 12],
            }
        },
    }
    stage = enroll_query._stage(index, (0.0, 0.0), 1, "primary", 1, 2025)
    assert stage["status"] == "likely full" and stage["utilisation_pct"] is None
    assert stage["overflow_school"]["school_id"] == "P2"
    assert stage["place_probability"] == 0.0 and stage["alternative"]["school_id"] == "P2"


def test_place_probability_and_alternative(fake_run, capsys):
    from sim.education.query import _ROW, place_probability

    run_dir, enrollment = fake_run
    code, out, _ = ask(
        capsys, "--lonlat", lonlat_of(X0 + 300, Y0 + 700), "--birth-year", "2019",
        "--birth-month", "3", "--run", str(run_dir), "--json",
    )  # fmt: skip
    assert code == 0
    stage = json.loads(out)["entries"][0]["primary"]
    row = band_row(enrollment, stage["year"], "P1", 1)
    # demand far above the 45 places in every replication: about 45 / demand
    assert stage["place_probability"] == pytest.approx(45 / row.p50, rel=0.1)
    assert stage["alternative"]["school_id"] == "P2"
    # a school whose demand straddles its places: half the replications short by a third
    fields = [None] * len(_ROW)
    fields[_ROW["capacity"]] = 100.0
    for name, value in (
        ("p025", 50.0),
        ("p10", 50.0),
        ("p50", 100.0),
        ("p90", 150.0),
        ("p975", 150.0),
    ):
        fields[_ROW[name]] = value
    # independent check: demand uniform on [50, 150] between p10 and p90 (flat outside)
    d = np.r_[np.full(10, 50.0), np.linspace(50, 150, 80), np.full(10, 150.0)]
    assert place_probability(fields) == pytest.approx(np.minimum(1, 100 / d).mean(), abs=0.01)


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [
        # "6 by 31 August" and "6 before 1 September" are the same rule (China).
        ("08-31", [(1, 8, 0), (9, 12, 1)]),
        ("09-01", [(1, 8, 0), (9, 12, 1)]),
        ("03-31", [(1, 3, 0), (4, 12, 1)]),  # Chile
        ("01-01", [(1, 12, 1)]),  # 6 by New Year's Day: every child born that year waits
        ("12-31", [(1, 12, 0)]),
    ],
)
def test_entry_months_split_where_the_simulation_splits_them(cutoff, expected):
    from sim.education.query import _entry_groups

    assert [(m0, m1, late) for _, m0, m1, late in _entry_groups(cutoff)] == expected
