"""`main.py gui`: headless screenshots of every view, empty states and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui import app
from gui.mainwindow import VIEWS
from sim import settings

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _needs_city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")


@pytest.mark.parametrize("view", VIEWS)
def test_screenshot_of_each_view_without_runs(view, tmp_path, capsys):
    out = tmp_path / f"{view}.png"
    assert app.main(["--screenshot", str(out), "--view", view, "--runs", str(tmp_path)]) == 0
    assert out.read_bytes()[:8] == PNG
    assert str(out) in capsys.readouterr().out


def test_bad_scenario_exits_2_with_the_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncity: nowhere.gpkg\nseed: -1\n", encoding="utf-8")
    out = tmp_path / "x.png"
    argv = ["--screenshot", str(out), "--scenario", str(bad), "--runs", str(tmp_path)]
    assert app.main(argv) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "seed" in err
    assert not out.exists()


def test_no_display_without_screenshot_is_a_clear_error(monkeypatch, capsys):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert app.main([]) == 2
    assert "no display" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["big", "800", "800x", "0x600", "5x-600"])
def test_bad_window_size_is_a_usage_error(size, capsys):
    with pytest.raises(SystemExit) as exc:
        app.main(["--screenshot", "x.png", "--size", size])
    assert exc.value.code == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_window_size_is_parsed():
    assert app.build_parser().parse_args(["--size", "800X600"]).size == (800, 600)


def test_main_py_gui_screenshot_end_to_end(tmp_path):
    out = tmp_path / "map.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "main.py", "gui", "--screenshot", str(out), "--runs", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == PNG
    assert out.stat().st_size > 50_000  # a drawn map, not an empty window
