"""Quick preview and full runs, progress in the status bar on every tab, Open results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from gui.runpanel import PREVIEW_YEARS, eta_s


def test_preview_is_three_years_one_replication(window: Any) -> None:
    panel = window.run_panel
    panel.years.setValue(10)
    panel.replications.setValue(5)
    quick = panel.run_data(preview=True)
    assert (quick["years"], quick["replications"]) == (PREVIEW_YEARS, 1) == (3, 1)
    full = panel.run_data()
    assert (full["years"], full["replications"]) == (10, 5)
    assert "3 years" in panel.preview_button.text()


def test_eta_from_the_pace_so_far() -> None:
    assert eta_s(0.25, 30.0) == pytest.approx(90.0)  # a quarter in 30 s: 90 s to go
    assert eta_s(0.01, 5.0) is None  # too early to tell
    assert eta_s(1.0, 50.0) is None


@pytest.mark.slow
def test_preview_run_shows_progress_on_every_tab_and_opens_results(
    window: Any, qtbot: Any, screenshots: Path
) -> None:
    panel = window.run_panel
    window.side.setCurrentWidget(panel)
    panel.years.setValue(1)  # the preview takes at most 3 years: 1 keeps the test short
    window.tabs.setCurrentWidget(window.compare)  # the user looks elsewhere meanwhile
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert panel.running
    qtbot.waitUntil(lambda: window.run_bar.isVisible(), timeout=30_000)
    seen: list[str] = []
    qtbot.waitUntil(
        lambda: seen.append(window.statusBar().currentMessage()) or not panel.running,
        timeout=240_000,
    )
    assert any("replication 1" in text for text in seen), seen[-5:]
    assert panel.process.outcome[0] == "done", panel.stage.text()
    assert window.open_results_button.isVisible() and not window.run_bar.isVisible()
    window.grab().save(str(screenshots / "run_finished.png"))
    qtbot.mouseClick(window.open_results_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.results
    qtbot.waitUntil(lambda: window.results.run is not None, timeout=60_000)
    assert str(window.results.run.path) == panel.last_run
    manifest = window.results.run.manifest
    assert (manifest["years"], manifest["replications"]) == (1, 1)
    assert not window.doc.is_dirty()
