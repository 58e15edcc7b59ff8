"""Exports driven as a user would: the work runs off the UI thread, the window keeps turning.

The comparison report is written by a worker (a thread that waits on a child process);
the tests replace the child's job by one that only finishes once a timer on the UI thread
has fired, so an export that blocked the UI thread would never finish. Written files
appear whole or not at all (a temporary file renamed onto the target).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QProgressBar

from gui import background, compare, mapview, reportjob
from sim.errors import RunError
from sim.runs import compare as sim_compare


def _fake_comparison(window: Any, tmp_path: Path) -> None:
    """A comparison of two run folders on show, so the export buttons work."""
    runs = [SimpleNamespace(path=tmp_path / name) for name in ("base", "variant")]
    window.compare.comparison = SimpleNamespace(runs=runs)
    for button in window.compare.export_buttons.values():
        button.setEnabled(True)


def _busy_bar(window: Any) -> QProgressBar:
    return window.statusBar().findChild(QProgressBar, background.INDICATOR_NAME)


def _save_as(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The save dialog answers ``path``."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def _job_waiting_for_the_ui(window: Any, seen: dict[str, Any], fail: bool = False) -> Any:
    """A report job that records its thread and ends only after a UI-thread timer fired.

    The timer (fired only if the UI thread keeps turning) also notes whether the status
    bar's busy bar is on show meanwhile.
    """
    ui_turned = threading.Event()

    def on_ui() -> None:
        bar = _busy_bar(window)
        seen["busy bar"] = bar is not None and bar.isVisible()
        ui_turned.set()

    QTimer.singleShot(50, on_ui)

    def job(run_dirs: list[str], out: Path) -> Path:
        seen["thread"] = threading.current_thread()
        seen["runs"] = run_dirs
        if not ui_turned.wait(timeout=60):
            raise AssertionError("the UI thread did not turn while the report was written")
        if fail:
            raise RunError("variant: not a complete run folder")
        out.write_text("<html>report</html>", encoding="utf-8")
        return out

    return job


def test_report_export_from_the_button_runs_in_a_worker(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_comparison(window, tmp_path)
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    _save_as(monkeypatch, target)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(compare, "report_in_child", _job_waiting_for_the_ui(window, seen))
    window.tabs.setCurrentWidget(window.compare)
    qtbot.mouseClick(window.compare.export_buttons["report"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: target.exists() and str(target) in window.statusBar().currentMessage(),
        timeout=60_000,
    )
    assert seen["thread"] is not threading.main_thread()
    assert seen["busy bar"]  # the status bar showed the busy bar while the report was written
    assert not _busy_bar(window).isVisible()  # ... and hides it when done
    assert seen["runs"] == [str(tmp_path / "base"), str(tmp_path / "variant")]
    assert not background.busy()


def test_a_failed_report_export_says_why_and_writes_nothing(
    window: Any,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dialogs: dict[str, list],
) -> None:
    _fake_comparison(window, tmp_path)
    target = tmp_path / "report.html"
    _save_as(monkeypatch, target)
    seen: dict[str, Any] = {}
    job = _job_waiting_for_the_ui(window, seen, fail=True)
    monkeypatch.setattr(compare, "report_in_child", job)
    window.actions_["export_report"].trigger()  # the Export menu's entry
    qtbot.waitUntil(lambda: bool(dialogs["critical"]), timeout=60_000)
    title, text = dialogs["critical"][-1]
    assert title == "Export failed." and "variant: not a complete run folder" in text
    assert seen["thread"] is not threading.main_thread()
    assert not target.exists()


def test_print_layout_from_the_button_is_drawn_off_the_ui_thread(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "layout.pdf"
    _save_as(monkeypatch, target)
    threads: list[threading.Thread] = []
    real = mapview.export_in_child

    def recorded(figure: bytes, layout: Any, out: Path) -> Path:
        threads.append(threading.current_thread())
        return real(figure, layout, out)

    monkeypatch.setattr(mapview, "export_in_child", recorded)
    qtbot.mouseClick(window.map.buttons.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and not background.busy(), timeout=120_000)
    assert threads and threads[0] is not threading.main_thread()
    assert target.read_bytes().startswith(b"%PDF")


def _fake_sim_report(monkeypatch: pytest.MonkeyPatch, body: str, fail: bool) -> list[Path]:
    """sim's compare and report writer replaced: ``body`` written to the path given, or a crash."""
    written: list[Path] = []

    def write(_comp: Any, out: Path) -> Path:
        written.append(out)
        out.write_text(body[: len(body) // 2] if fail else body, encoding="utf-8")
        if fail:
            raise OSError("disk full")
        return out

    monkeypatch.setattr(sim_compare, "compare_runs", lambda dirs: dirs)
    monkeypatch.setattr(sim_compare, "write_report", write)
    return written


def test_the_report_replaces_the_target_only_when_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("older report", encoding="utf-8")
    _fake_sim_report(monkeypatch, "<html>half a report, then a crash</html>", fail=True)
    with pytest.raises(OSError, match="disk full"):
        reportjob.write_report(["a", "b"], str(target))
    assert target.read_text(encoding="utf-8") == "older report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left
    written = _fake_sim_report(monkeypatch, "<html>new report</html>", fail=False)
    assert reportjob.write_report(["a", "b"], str(target)) == str(target)
    assert written[0] != target and written[0].parent == target.parent  # written beside it
    assert target.read_text(encoding="utf-8") == "<html>new report</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_cancel_stops_the_report_child() -> None:
    pool = reportjob._pool()
    job = pool.submit(time.sleep, 120)  # a report that would take two minutes
    started = pool.submit(int, "1")  # queued behind the sleep
    reportjob.cancel_reports()
    with pytest.raises(Exception):  # noqa: B017 - BrokenProcessPool or CancelledError
        job.result(timeout=60)
    assert started.cancelled() or started.exception(timeout=60) is not None
    assert reportjob._pool() is not pool  # the next export gets a fresh child
    reportjob.cancel_reports()
