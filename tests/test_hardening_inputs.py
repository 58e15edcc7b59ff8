"""Issue 11, classes 5, 6, 9 and 10: bounded inputs and messages, strict JSON, the CLI, xcb.

Every bad input exits 2 with one short line (no hang, no traceback); every ``--json``
output parses with a strict parser (``NaN``/``Infinity`` refused); unknown or malformed
subcommands get the usage line; ``main.py gui`` names the missing xcb packages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _support import DEFAULT_CITY, ROOT

from sim.cli import main as cli_main
from sim.errors import InputDataError, ScenarioError
from sim.inputs import check_input_file, preview, read_yaml

HISTORY = ROOT / "tests" / "data" / "forecast_history.csv"
APT_LINE = "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = cli_main(argv)
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err.strip()


def _one_line_error(status: int, err: str, *fragments: str) -> None:
    assert status == 2, err
    assert err.count("\n") == 0 and len(err) < 400, err[:500]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def _strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------- class 5: bounded inputs

BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['x'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    + [f"name: [{', '.join(['*l8'] * 9)}]", f"city: {DEFAULT_CITY}", ""]
)


def test_alias_bomb_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 1000
    status, _, err = _cli(["validate", str(path)], capsys)
    _one_line_error(status, err, "bomb.yaml", "aliases")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(ScenarioError, match="recursive alias"):
        read_yaml(path, "scenario", ScenarioError)


def test_small_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: &a [1, 2]\nb: *a\n")
    assert read_yaml(path, "scenario", ScenarioError) == {"a": [1, 2], "b": [1, 2]}


def test_long_values_are_cut_to_a_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(f"name: {'x' * 100_000}/\ncity: {DEFAULT_CITY}\n")
    status, _, err = _cli(["validate", str(path)], capsys)
    _one_line_error(status, err, "name", "characters")
    assert len(preview("y" * 1000)) < 80


def test_mistyped_history_year_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["entity,grade,year,enrollment"]
    rows += [f"A,{g},{y},{100 + g}" for y in range(2015, 2024) for g in (1, 2, 3)]
    rows.append("A,1,201600,100")  # 2016 with two extra zeros
    history = tmp_path / "typo.csv"
    history.write_text("\n".join(rows) + "\n")
    argv = ["forecast", "--history", str(history), "--horizon", "2", "--out", str(tmp_path / "o")]
    status, _, err = _cli(argv, capsys)
    _one_line_error(status, err, "line 29", "year", "201600")
    assert not (tmp_path / "o").exists()


def test_a_long_gap_is_listed_briefly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["entity,grade,year,enrollment", "A,1,1901,10", "A,1,2099,12"]
    history = tmp_path / "gap.csv"
    history.write_text("\n".join(rows) + "\n")
    argv = ["forecast", "--history", str(history), "--horizon", "2", "--out", str(tmp_path / "o")]
    status, _, err = _cli(argv, capsys)
    _one_line_error(status, err, "gap", "1902", "more")


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("source", ["/dev/zero", "fifo", "folder"])
@pytest.mark.parametrize("command", ["forecast", "backtest", "assign", "od-fit", "validate"])
def test_non_regular_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, source: str
) -> None:
    path = {"/dev/zero": lambda: "/dev/zero", "fifo": lambda: str(_fifo(tmp_path))}.get(
        source, lambda: str(tmp_path)
    )()
    out = str(tmp_path / "out.csv")
    argv = {
        "forecast": ["forecast", "--history", path, "--horizon", "2", "--out", out],
        "backtest": ["backtest", "--history", path, "--horizon", "2"],
        "assign": ["assign", path, path],
        "od-fit": ["od-fit", "--zones", path, "--flows", path, "--model", "gravity"],
        "validate": ["validate", path],
    }[command]
    status, _, err = _cli(argv, capsys)
    expected = "folder" if source == "folder" else "not a regular file"
    _one_line_error(status, err, expected)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2048)
    assert check_input_file(path, "flows CSV", max_bytes=2048) == path
    with pytest.raises(InputDataError, match="2048 bytes; the limit is 1024 bytes"):
        check_input_file(path, "flows CSV", max_bytes=1024)


def test_scenario_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(f"name: t\ncity: {DEFAULT_CITY}\n" + "# padding\n" * 200_000)
    status, _, err = _cli(["validate", str(path)], capsys)
    _one_line_error(status, err, "limit")


@pytest.mark.parametrize("horizon", ["31", "1000000000"])
def test_horizon_has_an_upper_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], horizon: str
) -> None:
    out = tmp_path / "o.csv"
    argv = ["forecast", "--history", str(HISTORY), "--horizon", horizon, "--out", str(out)]
    status, _, err = _cli(argv, capsys)
    _one_line_error(status, err, "horizon", "1..30")
    assert not out.exists()


def test_extends_chain_depth_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(40):
        (tmp_path / f"c{i}.yaml").write_text(f"name: c{i}\nextends: c{i + 1}.yaml\n")
    (tmp_path / "c40.yaml").write_text(f"name: last\ncity: {DEFAULT_CITY}\n")
    status, _, err = _cli(["validate", str(tmp_path / "c0.yaml")], capsys)
    _one_line_error(status, err, "extends", "deeper than")


# ---------------------------------------------------------------- class 6: strict JSON


@pytest.fixture
def od_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    import geopandas as gpd
    import shapely

    zones = gpd.GeoDataFrame(
        {"zone_id": ["1", "2", "3"], "population": [100, 200, 300]},
        geometry=[shapely.box(x, 0, x + 1, 1) for x in (0, 2, 5)],
        crs="EPSG:32719",
    )
    zones.to_file(tmp_path / "z.geojson")
    inter = tmp_path / "inter.csv"
    inter.write_text("origin,destination,flow\n1,2,10\n2,3,5\n3,1,4\n1,3,2\n")
    intra = tmp_path / "intra.csv"  # only intra-zone flows: CPC is 0/0
    intra.write_text("origin,destination,flow\n1,1,10\n2,2,5\n")
    return tmp_path / "z.geojson", inter, intra


def test_od_fit_json_writes_null_with_a_warning(
    od_files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, _, intra = od_files
    argv = ["od-fit", "--zones", str(zones), "--flows", str(intra), "--model", "gravity"]
    status, out, err = _cli([*argv, "--json"], capsys)
    assert status == 0, err
    result = _strict_json(out)
    assert result["cpc"] is None
    assert any(w.startswith("cpc ") for w in result["warnings"]), result


TNTP_NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 3
<FIRST THRU NODE> 3
<NUMBER OF LINKS> 4
<END OF METADATA>
~ init term cap len fft b power speed toll type ;
1 3 10 1 1 0.15 4 0 0 1 ;
3 2 10 1 1 0.15 4 0 0 1 ;
2 3 10 1 1 0.15 4 0 0 1 ;
3 1 10 1 1 0.15 4 0 0 1 ;
"""
TNTP_TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 15.0
<END OF METADATA>
Origin 1
    2 :   10.0;
Origin 2
    1 :    5.0;
"""


def test_every_json_command_is_strict_json(
    od_files: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones, inter, _ = od_files
    (tmp_path / "t_net.tntp").write_text(TNTP_NET)
    (tmp_path / "t_trips.tntp").write_text(TNTP_TRIPS)
    commands = [
        ["od-fit", "--zones", str(zones), "--flows", str(inter), "--model", "gravity"],
        ["od-fit", "--zones", str(zones), "--flows", str(inter), "--model", "radiation"],
        ["backtest", "--history", str(HISTORY), "--horizon", "2"],
        ["assign", str(tmp_path / "t_net.tntp"), str(tmp_path / "t_trips.tntp")],
    ]
    for argv in commands:
        status, out, err = _cli([*argv, "--json"], capsys)
        assert status == 0, (argv, err)
        assert isinstance(_strict_json(out), dict), argv


# ---------------------------------------------------------------- class 9: the CLI


@pytest.mark.parametrize(
    "command", ["../validate", "sim/validate", "frobnicate", "validate.py", "", "__init__", "_json"]
)
def test_unknown_commands_get_the_usage_line(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    status, _, err = _cli([command, "x.yaml"], capsys)
    assert status == 2
    assert "Traceback" not in err and err.startswith("usage: main.py"), err
    assert "invalid choice" in err


# ---------------------------------------------------------------- class 10: xcb on Linux


def test_readme_lists_the_xcb_packages() -> None:
    assert APT_LINE in (ROOT / "README.md").read_text(encoding="utf-8")


def test_gui_names_missing_xcb_packages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ctypes

    from gui import app

    real = ctypes.CDLL

    def cdll(name: str, *args: object, **kwargs: object) -> object:
        if "icccm" in name or "keysyms" in name:
            raise OSError(f"{name}: cannot open shared object file")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", cdll)
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "libxcb-icccm4, libxcb-keysyms1" in err and APT_LINE in err, err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.missing_xcb_packages() == []
