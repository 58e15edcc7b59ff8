"""The status bar's Open results: offered when a run ends, gone once it has been used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _fakerun import fake_run
from PySide6.QtCore import Qt


def test_open_results_goes_once_the_last_runs_results_are_open(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    run = fake_run(window.city, tmp_path / "default-0123456789")
    window.results.run = run  # already read: opening it shows it without a new load
    window.run_panel.last_run = str(tmp_path / "new-school-0123456789")
    window._run_progress(1000, "Finished.")  # the run panel's signal at the end of a run
    button = window.open_results_button
    assert button.isVisible()
    window.open_results(str(run.path))  # e.g. from the run list: not the last run
    assert button.isVisible()
    window.run_panel.last_run = str(run.path)
    window.tabs.setCurrentIndex(0)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.results
    assert not button.isVisible()
