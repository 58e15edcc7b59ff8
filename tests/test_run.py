"""Run folders: contents, determinism, atomic writing, cancel, plausibility, policy effects."""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _support import write_scenario

import sim.runs.figures
from sim.errors import RunCancelled
from sim.model import KPI_NAMES, CityModel
from sim.runs.catalog import Catalog
from sim.runs.folder import ENROLLMENT_COLUMNS, RUN_FILES, read_run
from sim.runs.run import load_for_run, run_scenario


def test_run_folder_has_every_file_and_manifest(finished_run: Path) -> None:
    for name in RUN_FILES:
        assert (finished_run / name).exists(), name
    assert list((finished_run / "figures").glob("*.png"))
    manifest = json.loads((finished_run / "manifest.json").read_text())
    for key in ("run_id", "scenario", "seed", "versions", "timings", "start_year", "end_year"):
        assert key in manifest
    assert finished_run.name == manifest["run_id"]
    assert not list(finished_run.parent.glob(".tmp-*"))


def test_tables_have_their_contract_columns(finished_run: Path) -> None:
    run = read_run(finished_run)
    assert len(run.kpis) == 2 * 2  # years × replications
    assert set(KPI_NAMES) <= set(run.kpis.columns)
    assert list(run.enrollment.columns) == list(ENROLLMENT_COLUMNS)
    e = run.enrollment
    assert (e["p10"] <= e["p50"]).all() and (e["p50"] <= e["p90"]).all()
    assert (e["p025"] <= e["p10"]).all() and (e["p90"] <= e["p975"]).all()
    assert (run.links["flow"] >= 0).all()
    assert run.zones.crs is not None and "population_end" in run.zones


def test_base_year_is_plausible(finished_run: Path) -> None:
    k = read_run(finished_run).kpis.set_index(["year", "replication"])
    base = k.loc[(2024, 0)]
    assert base["population"] == 451_834  # the city's residents, exactly
    nxt = k.loc[(2025, 0)]
    assert 2_500 < nxt["births"] < 9_000  # Chile's TFR ~1.2 on 450k residents
    assert 1_500 < nxt["deaths"] < 6_000
    assert 25_000 < base["pupils_primary"] < 60_000  # ~6 single-year cohorts of ~6k
    assert base["vkt"] > 0 and base["congested_links"] >= 0
    assert base["rel_gap"] <= 1e-3


def test_run_is_registered_in_catalog(finished_run: Path) -> None:
    runs = Catalog(finished_run.parent).runs()
    assert finished_run.name in set(runs["run_id"])
    assert Catalog(finished_run.parent).latest("short") == finished_run.resolve()


def test_same_seed_gives_byte_identical_tables(
    finished_run: Path, short_scenario: Path, tmp_path: Path
) -> None:
    again = run_scenario(load_for_run(short_scenario), tmp_path)
    for table in finished_run.glob("*.parquet"):
        assert table.read_bytes() == (again / table.name).read_bytes(), table.name


def test_other_seed_gives_other_outcomes(finished_run: Path, short_scenario: Path, tmp_path: Path):
    other = run_scenario(load_for_run(short_scenario, seed=99, years=2), tmp_path)
    a = read_run(finished_run).kpis
    b = read_run(other).kpis
    assert not a["births"].equals(b["births"])


def test_failed_write_leaves_nothing(monkeypatch, short_scenario: Path, tmp_path: Path) -> None:
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sim.runs.figures, "write_figures", broken)
    with pytest.raises(OSError, match="disk full"):
        run_scenario(load_for_run(short_scenario, years=1, replications=1), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cancel_stops_and_writes_nothing(short_scenario: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.stage == "enrollment":
            cancel.set()

    with pytest.raises(RunCancelled):
        run_scenario(load_for_run(short_scenario), tmp_path, progress=progress, cancel=cancel)
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith("catalog")]
    assert all(0 <= p.fraction <= 1 for p in seen)


def test_model_keeps_persons_as_arrays_and_pickles_reporters(short_scenario: Path) -> None:
    from sim.city import load_city

    scenario = load_for_run(short_scenario)
    city = load_city(scenario.city)
    model = CityModel(scenario, city, rng=1, traffic=False)
    model.step()
    assert len(model.agents) == len(city.zones) + len(city.schools)
    assert isinstance(model.persons.age, np.ndarray)
    pickle.dumps(model.datacollector.model_reporters)
    assert model.kpi_frame()["population"].iloc[0] == 451_834


# ------------------------------------------------------------------ policies change outcomes


def _run(tmp_path: Path, name: str, body: str) -> pd.DataFrame:
    path = write_scenario(tmp_path, name, body, replications=1)
    return read_run(run_scenario(load_for_run(path), tmp_path / "runs"))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory):
    return _run(tmp_path_factory.mktemp("base"), "base", "")


def test_new_school_relieves_the_school_it_takes_zones_from(baseline, tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "school",
        "policies:\n  - {type: new_school, id: N01, level: primary, xy: [285843, 6684796],"
        " classes_per_grade: 4, year: 2025, zones: [82, 132]}\n",
    )

    def pressure(r, school):
        e = r.enrollment[(r.enrollment["year"] == 2025) & (r.enrollment["school"] == school)]
        return e["demand"].sum() / e["capacity"].sum()

    assert pressure(run, "P24") < pressure(baseline, "P24")
    assert "N01" in set(run.enrollment["school"])
    assert pressure(run, "N01") > 0


def test_road_closure_moves_flow_off_the_closed_links(baseline, tmp_path: Path) -> None:
    links = baseline.links[baseline.links["year"] == 2025].set_index("link_id")["flow"]
    busiest = [int(i) for i in links.nlargest(2).index]
    run = _run(
        tmp_path,
        "closure",
        f"policies:\n  - {{type: road_closure, links: {busiest}, year: 2025}}\n",
    )
    after = run.links[run.links["year"] == 2025].set_index("link_id")["flow"]
    assert not set(busiest) & set(after.index)  # closed links carry nothing
    assert run.kpis["vht"].iloc[-1] != baseline.kpis["vht"].iloc[-1]


def test_staggered_school_start_lowers_peak_car_trips(baseline, tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "stagger",
        "policies:\n  - {type: staggered_school_start, share_shifted: 0.5, year: 2025}\n",
    )
    assert run.kpis["car_trips_peak"].iloc[-1] < baseline.kpis["car_trips_peak"].iloc[-1]
