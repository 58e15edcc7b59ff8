"""Results, Compare and the basemap read off the UI thread, busy cursor, no redundant work.

Two 1-year runs of the default scenario (different seeds) are compared through the window:
the event loop keeps turning while the runs are read, the cursor is busy meanwhile, the
city is not loaded again (it is cached since the window opened it) and the report's
figures are not built until a report is exported.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from gui import background, map_base
from sim import settings
from sim.runs.run import run_scenario
from sim.scenario import load_scenario, scenario_from_dict


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two finished 1-year runs of the default scenario (seeds 1 and 2)."""
    default = settings.scenarios_folder / "default.yaml"
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    folder = tmp_path_factory.mktemp("runs")
    base = load_scenario(default).model_dump(mode="json") | {"years": 1, "replications": 1}
    return [
        run_scenario(scenario_from_dict(base | {"seed": seed, "name": name}), folder)
        for seed, name in ((1, "base"), (2, "variant"))
    ]


def _watch(qtbot: Any, action: Any, done: Any) -> dict[str, Any]:
    """Do ``action`` as the user would and record ticks and cursors until ``done()``."""
    seen: dict[str, Any] = {"ticks": 0, "busy": False}

    def tick() -> None:
        seen["ticks"] += 1
        cursor = QApplication.overrideCursor()
        if cursor is not None and cursor.shape() == Qt.CursorShape.BusyCursor:
            seen["busy"] = True

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    action()
    ticks_at_return = seen["ticks"]
    qtbot.waitUntil(lambda: done() and not background.busy(), timeout=120_000)
    timer.stop()
    seen["returned_at"] = ticks_at_return
    return seen


@pytest.mark.slow
def test_compare_and_results_stay_responsive(
    window: Any,
    qtbot: Any,
    two_runs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Path,
) -> None:
    loads: list[Path] = []
    real = background.load_city
    monkeypatch.setattr(background, "load_city", lambda p: loads.append(p) or real(p))
    window.results.runs_folder = window.compare.runs_folder = two_runs[0].parent
    # Results: pick the run in the list, as a user
    window.tabs.setCurrentWidget(window.results)
    window.results.refresh_runs()
    seen = _watch(
        qtbot,
        lambda: window.results.runs.activated.emit(0),
        lambda: window.results.run is not None,
    )
    assert seen["returned_at"] == 0  # the click returned before the run was read ...
    assert seen["ticks"] > 0 and seen["busy"]  # ... the loop turned, the cursor was busy
    # Compare: choose the two runs and click Compare
    window.tabs.setCurrentWidget(window.compare)
    window.compare.choose(two_runs[0], [two_runs[1]])
    seen = _watch(
        qtbot,
        lambda: qtbot.mouseClick(window.compare.compare_button, Qt.MouseButton.LeftButton),
        lambda: window.compare.comparison is not None,
    )
    assert seen["returned_at"] == 0 and seen["busy"]
    assert QApplication.overrideCursor() is None  # restored at the end
    assert loads == []  # the city the window opened is reused, never reloaded
    assert window.compare.comparison.figures == {}  # no report figures behind the view
    qtbot.waitUntil(lambda: not window.compare.map.canvas.rendering, timeout=60_000)
    window.grab().save(str(screenshots / "compare_async.png"))
    # the report still gets its figures when it is exported
    with qtbot.waitSignal(window.reportFinished, timeout=120_000) as done:
        window.export("report", two_runs[0].parent / "report.html")
    report = Path(done.args[0])
    assert "data:image/png;base64" in report.read_text(encoding="utf-8")


def test_the_basemap_is_built_off_the_ui_thread(
    qtbot: Any, tmp_path: Path, dialogs: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Land, catchment boundaries, names: built with the city in the worker, not on open."""
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    from gui.mainwindow import MainWindow

    built: list[threading.Thread] = []
    real = map_base.build_basemap
    monkeypatch.setattr(
        map_base,
        "build_basemap",
        lambda city: built.append(threading.current_thread()) or real(city),
    )
    monkeypatch.setattr(map_base, "_CACHE", {})
    win = MainWindow(tmp_path / "runs")
    qtbot.addWidget(win)
    assert win.open_scenario(settings.scenarios_folder / "default.yaml"), dialogs["critical"]
    assert len(built) == 1 and built[0] is not threading.main_thread()
    assert win.map.base is map_base.basemap_of(win.city)  # the map drew the worker's basemap
    win.doc.undo_stack.setClean()
