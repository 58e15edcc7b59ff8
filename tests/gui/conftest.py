"""pytest-qt fixtures for the desktop: offscreen Qt, settings in a temp folder, no modal dialogs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from gui import i18n
from sim import settings

DEFAULT_SCENARIO = settings.scenarios_folder / "default.yaml"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """QSettings (recent files, language) go to a temp folder; English at the start."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    i18n.set_language("en", cjk_font=False)
    yield folder
    i18n.set_language("en", cjk_font=False)


@pytest.fixture(autouse=True)
def _maps_rendered(qtbot: Any) -> Any:
    """At teardown, wait for every live map to finish its render in a worker.

    A render still running when a test ends would warn (e.g. a CJK glyph missing after a
    switch to Chinese) under the next test's warning filters, and fail that test.
    """
    yield
    from PySide6.QtWidgets import QApplication

    from gui.map_canvas import MapCanvas

    qtbot.waitUntil(
        lambda: not any(w.rendering for w in QApplication.allWidgets() if isinstance(w, MapCanvas)),
        timeout=60_000,
    )


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests save screenshots to look at: $CITYSANDBOX_SCREENSHOTS or a temp folder.

    Never docs/screenshots/ (``make screenshots`` refreshes those), so the suite leaves
    tracked files alone.
    """
    chosen = os.environ.get("CITYSANDBOX_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Record error dialogs instead of blocking; ``answers`` feeds the unsaved-changes prompt."""
    seen: dict[str, list] = {"critical": [], "question": [], "answers": []}

    def critical(_parent: Any, title: str, text: str, *a: Any, **k: Any) -> Any:
        seen["critical"].append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(_parent: Any, title: str, text: str, *a: Any, **k: Any) -> Any:
        seen["question"].append((title, text))
        return seen["answers"].pop(0) if seen["answers"] else QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "critical", critical)
    monkeypatch.setattr(QMessageBox, "question", question)
    return seen


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, dialogs: dict[str, list]) -> Any:
    """The main window on the default scenario, shown offscreen, runs in a temp folder."""
    if not settings.default_city.exists() or not DEFAULT_SCENARIO.exists():
        pytest.skip("the default city or scenario is not built")
    from gui.mainwindow import MainWindow

    win = MainWindow(tmp_path / "runs")
    qtbot.addWidget(win)
    assert win.open_scenario(DEFAULT_SCENARIO), dialogs["critical"]
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.map.canvas.draw()
    yield win
    win.doc.undo_stack.setClean()  # no unsaved-changes prompt when the test closes it


@pytest.fixture
def click_map(qtbot: Any) -> Any:
    """``click_map(mapview, x, y)``: left-click the map canvas at city coordinates, as a user."""

    def click(mapview: Any, x: float, y: float) -> None:
        mapview.canvas.draw()
        px, py = mapview.data_to_pixel(x, y)
        pos = QPoint(round(px), round(py))
        qtbot.mouseClick(mapview.canvas, Qt.MouseButton.LeftButton, pos=pos)

    return click
