"""Opening a scenario with runs in the catalog: the Explain panel reads the newest run in a
worker, not on the UI thread while the window is being set up."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from gui import background, explain, mainwindow
from sim import settings


def test_the_newest_run_is_read_for_explain_off_the_ui_thread(
    qtbot: Any, tmp_path: Path, dialogs: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    newest = tmp_path / "runs" / "default-0123456789"
    monkeypatch.setattr(mainwindow.Catalog, "latest", lambda _self: newest)
    reads: list[threading.Thread] = []

    def choices(run_dir: Path | None) -> tuple[list[tuple[str, str]], int, int] | None:
        if run_dir is None:  # no run (a panel cleared): nothing read
            return None
        reads.append(threading.current_thread())
        return [("P01", "Escuela P01"), ("P02", "")], 2024, 2026

    monkeypatch.setattr(explain, "_choices", choices)
    monkeypatch.setattr(explain, "_explained", lambda *_a: "no explanation in this test")
    win = mainwindow.MainWindow(tmp_path / "runs")
    qtbot.addWidget(win)
    assert win.open_scenario(settings.scenarios_folder / "default.yaml"), dialogs["critical"]
    qtbot.waitUntil(
        lambda: not background.busy() and win.explain.run_dir is not None, timeout=60_000
    )
    assert reads and all(t is not threading.main_thread() for t in reads)
    assert win.explain.run_dir == newest
    assert [win.explain.school.itemText(i) for i in range(2)] == ["P01 · Escuela P01", "P02"]
    win.doc.undo_stack.setClean()
