"""Scenario files: schema, inheritance, and one clear message for every bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _support import ROOT, write_scenario

from sim.errors import GeodataError, ScenarioError
from sim.runs.run import load_for_run
from sim.scenario import POLICY_TYPES, load_scenario, scenario_from_dict

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize(
    "path", [p for p in SCENARIOS if "sweep" not in p.name], ids=lambda p: p.name
)
def test_shipped_scenarios_are_valid(path: Path) -> None:
    scenario = load_for_run(path)
    assert scenario.city.exists()
    assert scenario.years >= 1


def test_variant_inherits_default_and_adds_policies() -> None:
    base = load_scenario(ROOT / "scenarios" / "default.yaml")
    variant = load_scenario(ROOT / "scenarios" / "new-school.yaml")
    assert variant.name == "new-school"
    assert variant.seed == base.seed and variant.years == base.years
    assert [p.type for p in variant.policies] == ["new_school", "catchment_edit"]
    assert variant.run_id() != base.run_id()


def test_fingerprint_follows_content(tmp_path: Path) -> None:
    a = load_scenario(write_scenario(tmp_path, "a"))
    b = load_scenario(write_scenario(tmp_path, "a", "seed: 7\n"))
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == load_scenario(write_scenario(tmp_path, "a")).fingerprint()


def test_yaml_round_trip(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "new-school.yaml")
    out = tmp_path / "copy.yaml"
    out.write_text(scenario.to_yaml(out).replace("name: new-school", "name: copy"))
    again = load_scenario(out)
    assert again.policies == scenario.policies
    assert again.city == scenario.city


BAD = {
    "unknown_policy": (
        "policies:\n  - {type: build_castle, year: 2025}\n",
        ["build_castle", "new_school"],
    ),
    "negative_capacity": (
        "policies:\n  - {type: resize_school, school: P01, classes_per_grade: -3, year: 2025}\n",
        ["policies.0.classes_per_grade", "-3", "greater than or equal to 0"],
    ),
    "year_out_of_range": (
        "policies:\n  - {type: resize_school, school: P01, classes_per_grade: 3, year: 1900}\n",
        ["policies.0.year", "1900", "2024..2025"],
    ),
    "unknown_field": ("colour: red\n", ["colour", "red", "unknown field"]),
    "webster_with_cycle": (
        "policies:\n  - {type: signal_retiming, method: webster, cycle_s: 90, year: 2025}\n",
        ["policies.0", "cycle_s applies to method: fixed"],
    ),
    "bad_seed_type": ("seed: many\n", ["seed", "many", "integer"]),
    "both_locations": (
        "policies:\n  - {type: new_school, id: X, level: primary, classes_per_grade: 2,"
        " year: 2025, xy: [1, 2], lonlat: [1, 2]}\n",
        ["exactly one of 'xy'"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_schema_errors_name_file_field_value(tmp_path: Path, case: str) -> None:
    body, expected = BAD[case]
    path = write_scenario(tmp_path, "bad", body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_malformed_yaml_gives_line_number(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ncity: x.gpkg\nyears: [1,\n  seed: 3\npolicies: []\n")
    with pytest.raises(ScenarioError, match=r"broken.yaml: malformed YAML at line \d+"):
        load_scenario(path)


def test_a_folder_is_not_a_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"scenario file not found \(it is a folder\)"):
        load_scenario(tmp_path)


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\nextends: a.yaml\n")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "policies:\n  - {type: resize_school, school: NOPE, classes_per_grade: 3,"
            " year: 2025}\n",
            "NOPE",
        ),
        ("policies:\n  - {type: road_closure, links: [99999999], year: 2025}\n", "99999999"),
        (
            "policies:\n  - {type: housing_development, id: H, xy: [0, 0], dwellings_per_year: 10,"
            " start_year: 2025}\n",
            "outside the city",
        ),
        ("policies:\n  - {type: catchment_edit, school: P01, zones: [9999], year: 2025}\n", "9999"),
    ],
)
def test_references_checked_against_the_city(tmp_path: Path, body: str, expected: str) -> None:
    path = write_scenario(tmp_path, "ref", body)
    with pytest.raises(ScenarioError) as err:
        load_for_run(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_city_is_a_geodata_error(tmp_path: Path) -> None:
    path = tmp_path / "nocity.yaml"
    path.write_text("name: nocity\ncity: nowhere.gpkg\n")
    with pytest.raises(GeodataError, match=r"nowhere\.gpkg"):
        load_for_run(path)


def test_every_policy_type_is_documented_in_the_schema() -> None:
    data = {"name": "x", "city": "x.gpkg", "policies": [{"type": t} for t in POLICY_TYPES]}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert "unknown policy type" not in str(err.value)


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_bad_file_exit_2_one_message_nothing_written(tmp_path: Path, command: str) -> None:
    path = write_scenario(tmp_path, "bad", BAD["unknown_policy"][0])
    out = tmp_path / "runs"
    args = [sys.executable, str(ROOT / "main.py"), command, str(path)]
    if command == "run":
        args += ["--out", str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "build_castle" in proc.stderr and str(path) in proc.stderr
    assert not out.exists()


def test_cli_bad_flag_exit_2(tmp_path: Path, short_scenario: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run", str(short_scenario), "--years", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "--years 0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_traveller_information_must_inform_more_drivers_than_the_baseline() -> None:
    # a policy that informs no more drivers than navigation apps already do changes
    # nothing in the loading (max of the two): refused, naming the field and the floor
    def scenario(share: float, baseline: float | None = None):
        data: dict = {
            "name": "x",
            "city": "x.gpkg",
            "policies": [{"type": "traveller_information", "year": 2025, "share": share}],
        }
        if baseline is not None:
            data["parameters"] = {"dynamic": {"informed_share": baseline}}
        return scenario_from_dict(data)

    with pytest.raises(ScenarioError, match=r"policies\.0\.share = 0\.3: .*above 0\.3"):
        scenario(0.3)
    assert scenario(0.31).policies[0].share == 0.31
    assert scenario(0.2, baseline=0.1).parameters.dynamic.informed_share == 0.1
    with pytest.raises(ScenarioError, match=r"above 0\.5"):
        scenario(0.4, baseline=0.5)
