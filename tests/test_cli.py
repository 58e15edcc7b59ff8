"""The command line: help texts, exit status 2 with one clear line, compare through the catalog."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _support import ROOT, write_scenario

from sim import cli
from sim.runs.catalog import Catalog
from sim.scenario import POLICY_TYPES

MAIN = str(ROOT / "main.py")
COMMANDS = {m.NAME: m for m in cli._command_modules()}


def _main_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MAIN, *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


# ------------------------------------------------------------------ help


def test_main_help_lists_every_subcommand() -> None:
    proc = _main_py("--help")
    assert proc.returncode == 0, proc.stderr
    for name in ("run", "validate", "compare", *COMMANDS):
        assert name in proc.stdout, name
    for mod in COMMANDS.values():
        assert mod.HELP.split()[0] in proc.stdout


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser([COMMANDS[name]])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_subcommand_help_names_every_flag(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert f"main.py {name}" in text
    for action in _subparser(name)._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        flag = action.option_strings[-1] if action.option_strings else action.dest
        assert flag in text, f"{name}: {flag}"
        assert action.help, f"{name}: {flag} has no help text"


@pytest.mark.parametrize("name", ["run", "validate", "compare"])
def test_core_commands_show_an_example(name: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main([name, "--help"])
    text = capsys.readouterr().out
    assert "example" in text and f"main.py {name} " in text


def test_unknown_flag_is_a_usage_error(short_scenario: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", str(short_scenario), "--no-such-flag"])
    assert exit_.value.code == 2
    assert "--no-such-flag" in capsys.readouterr().err


# ------------------------------------------------------------------ bad scenarios

# case: (scenario body, substrings the one-line message must contain besides the file name)
BAD = {
    "unknown_policy": (
        "policies:\n  - {type: build_castle, year: 2025}\n",
        ["build_castle", *POLICY_TYPES[:3]],
    ),
    "negative_capacity": (
        "policies:\n  - {type: resize_school, school: P01, classes_per_grade: -3, year: 2025}\n",
        ["policies.0.classes_per_grade", "-3", "greater than or equal to 0"],
    ),
    "unknown_school": (
        "policies:\n  - {type: resize_school, school: NOPE, classes_per_grade: 3, year: 2025}\n",
        ["policies.0.school", "NOPE"],
    ),
    "year_before_start": (
        "policies:\n  - {type: resize_school, school: P01, classes_per_grade: 3, year: 1900}\n",
        ["policies.0.year", "1900", "2024..2025"],
    ),
    "year_after_end": (
        "policies:\n  - {type: resize_school, school: P01, classes_per_grade: 3, year: 2031}\n",
        ["policies.0.year", "2031", "2024..2025"],
    ),
    "unknown_field": ("colour: red\n", ["colour", "unknown field"]),
    "unknown_link": (
        "policies:\n  - {type: road_closure, links: [99999999], year: 2025}\n",
        ["policies.0.links", "99999999"],
    ),
    "housing_outside": (
        "policies:\n  - {type: housing_development, id: H, xy: [0, 0], dwellings_per_year: 10,"
        " start_year: 2025}\n",
        ["policies.0", "outside the city"],
    ),
}


def _bad_file(tmp_path: Path, case: str) -> Path:
    if case == "malformed_yaml":
        path = tmp_path / "broken.yaml"
        path.write_text("name: broken\nyears: [1,\n  seed: 3\npolicies: []\n")
        return path
    if case == "extends_cycle":
        (tmp_path / "b.yaml").write_text("name: b\nextends: a.yaml\n")
        path = tmp_path / "a.yaml"
        path.write_text("name: a\nextends: b.yaml\n")
        return path
    if case == "missing_city":
        path = tmp_path / "nocity.yaml"
        path.write_text("name: nocity\ncity: nowhere.gpkg\n")
        return path
    return write_scenario(tmp_path, "bad", BAD[case][0])


EXPECTED = {
    **{case: parts for case, (_, parts) in BAD.items()},
    "malformed_yaml": ["malformed YAML at line "],
    "extends_cycle": ["cycle"],
    "missing_city": ["nowhere.gpkg"],
}


def _check_one_line(err: str, path: Path, case: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: ")
    assert path.name in lines[0]
    for part in EXPECTED[case]:
        assert part in lines[0], f"{case}: {part!r} not in {lines[0]!r}"


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_scenario_exit_2_one_line(tmp_path: Path, capsys, case: str, command: str) -> None:
    path = _bad_file(tmp_path, case)
    out = tmp_path / "runs"
    args = [command, str(path)] + (["--out", str(out)] if command == "run" else [])
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    _check_one_line(captured.err, path, case)
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "case"), [("validate", "negative_capacity"), ("run", "malformed_yaml")]
)
def test_bad_scenario_through_main_py(tmp_path: Path, command: str, case: str) -> None:
    path = _bad_file(tmp_path, case)
    out = tmp_path / "runs"
    args = [command, str(path)] + (["--out", str(out)] if command == "run" else [])
    proc = _main_py(*args)
    assert proc.returncode == 2
    _check_one_line(proc.stderr, path, case)
    assert not out.exists()


@pytest.mark.parametrize("flag", [["--years", "0"], ["--replications", "0"]])
def test_bad_override_flag_exit_2(short_scenario: Path, tmp_path: Path, capsys, flag) -> None:
    out = tmp_path / "runs"
    assert cli.main(["run", str(short_scenario), *flag, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} 0" in err and "Traceback" not in err
    assert not out.exists()


def test_validate_good_scenario_exit_0(short_scenario: Path, capsys) -> None:
    assert cli.main(["validate", str(short_scenario)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "2 years from 2024" in out and "2 replications" in out


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "scenarios").glob("*.yaml")) if "sweep" not in p.name],
    ids=lambda p: p.name,
)
def test_shipped_scenarios_validate(path: Path, capsys) -> None:
    assert cli.main(["validate", str(path)]) == 0
    assert f"{path}: ok" in capsys.readouterr().out


@pytest.mark.slow
def test_run_through_main_py_honours_the_overrides(short_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = _main_py(
        "run", str(short_scenario), "--years", "1", "--replications", "1", "--seed", "5",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1].removeprefix("run folder: "))
    assert run_dir.parent.resolve() == out.resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["start_year"] == manifest["end_year"] == 2024
    assert manifest["replications"] == 1
    assert Catalog(out).latest("short") == run_dir.resolve()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------ compare via the CLI


def test_compare_with_one_run_exit_2(finished_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    assert cli.main(["compare", str(finished_run), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "at least two runs" in err and "got 1" in err
    assert not out.exists()


def test_compare_unknown_run_names_the_catalog(tmp_path: Path, capsys) -> None:
    assert cli.main(["compare", "nosuch", "other", "--runs-folder", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and str(tmp_path / "catalog.sqlite") in err


def _copy_as(run: Path, runs_folder: Path, name: str) -> Path:
    """A copy of a finished run, registered in ``runs_folder`` as a run of scenario ``name``."""
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenario"]["name"] = name
    manifest["run_id"] = f"{name}-{manifest['run_id'].rsplit('-', 1)[-1]}"
    copy = runs_folder / manifest["run_id"]
    shutil.copytree(run, copy)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    Catalog(runs_folder).register(copy, manifest)
    return copy


def test_compare_by_scenario_name_through_the_catalog(
    finished_run: Path, tmp_path: Path, capsys
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    _copy_as(finished_run, runs, "short")
    copy = _copy_as(finished_run, runs, "twin")
    assert Catalog(runs).latest("twin") == copy.resolve()
    out = tmp_path / "report.html"
    code = cli.main(["compare", "short", "twin", "--runs-folder", str(runs), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "short-" in text and "twin-" in text  # both runs resolved by name
    assert "data:image/png;base64," in text
    assert "<td>population</td>" in text
    # identical tables: every KPI difference is zero
    row = next(line for line in printed.splitlines() if line.strip().startswith("population"))
    assert row.split()[3] == "0"
    assert (tmp_path / "report_flow_diff_twin.png").exists()


def test_a_reader_that_goes_away_is_no_error() -> None:
    """``main.py ... | head`` closes the pipe early: exit 0 and no traceback."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        proc = subprocess.run(
            [sys.executable, MAIN, "validate", str(ROOT / "scenarios" / "default.yaml")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
