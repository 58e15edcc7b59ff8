"""Cancelling a report export from the status bar, as a user would.

The report is written by the real child process (:mod:`gui.reportjob`), its writer
replaced by one that stops half-way (:mod:`_slowreport`), so Cancel export terminates a
child that has half a report on disk: nothing may be left at the target, and the window
says so. The next export then runs in a fresh child to the end.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _slowreport
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gui import background, reportjob


def _comparison_steering(window: Any, gate: Path, mode: str) -> None:
    """A comparison on show whose two run paths are :func:`_slowreport.report_job`'s orders."""
    runs = [SimpleNamespace(path=gate), SimpleNamespace(path=mode)]
    window.compare.comparison = SimpleNamespace(runs=runs)
    window.compare.export_buttons["report"].setEnabled(True)


def test_a_cancelled_report_leaves_nothing_and_the_next_one_finishes(
    window: Any,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dialogs: dict[str, list],
    screenshots: Path,
) -> None:
    monkeypatch.setattr(reportjob, "write_report", _slowreport.report_job)
    folder = tmp_path / "out"
    folder.mkdir()
    target, gate = folder / "report.html", tmp_path / "mid-write"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    _comparison_steering(window, gate, "hang")
    window.tabs.setCurrentWidget(window.compare)
    cancel = window.cancel_export_button
    assert not cancel.isVisible()
    qtbot.mouseClick(window.compare.export_buttons["report"], Qt.MouseButton.LeftButton)
    assert cancel.isVisible() and cancel.isEnabled()  # at once, while the child starts
    assert window.statusBar().currentMessage() == "Writing the report report.html…"
    qtbot.waitUntil(gate.exists, timeout=120_000)  # the child has half a report on disk
    parts = [p.name for p in folder.iterdir()]
    assert len(parts) == 1 and parts[0].endswith(".part")
    window.grab().save(str(screenshots / "export_cancel_button.png"))
    with qtbot.waitSignal(window.reportCancelled, timeout=60_000):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert list(folder.iterdir()) == []  # neither the report nor its half
    assert window.statusBar().currentMessage() == "Export cancelled: nothing was written."
    assert not cancel.isVisible() and not background.busy()
    assert not dialogs["critical"]  # a cancel is no failure
    # the next export: a fresh child, let to finish
    gate.unlink()
    _comparison_steering(window, gate, "finish")
    with qtbot.waitSignal(window.reportFinished, timeout=120_000) as finished:
        qtbot.mouseClick(window.compare.export_buttons["report"], Qt.MouseButton.LeftButton)
    assert finished.args == [str(target)]
    assert target.read_text(encoding="utf-8") == _slowreport.WHOLE
    assert [p.name for p in folder.iterdir()] == ["report.html"]
    assert window.statusBar().currentMessage() == f"Exported {target}"
    assert not cancel.isVisible() and not dialogs["critical"]
    reportjob.cancel_reports()  # no child left behind for the next test


def test_closing_the_window_stops_the_report(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reportjob, "write_report", _slowreport.report_job)
    target, gate = tmp_path / "report.html", tmp_path / "mid-write"
    _comparison_steering(window, gate, "hang")
    window.export("report", target)
    qtbot.waitUntil(gate.exists, timeout=120_000)
    window.doc.undo_stack.setClean()  # no unsaved-changes question
    with qtbot.waitSignal(window.reportCancelled, timeout=60_000):
        window.close()
    assert not target.exists() and not list(tmp_path.glob(".report.html.*"))
