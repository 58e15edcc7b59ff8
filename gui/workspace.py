"""The workspace a planner left: open scenario, tabs, the run on show and the runs compared.

:func:`save_workspace` writes it to the app's QSettings when the window closes;
:func:`restore_workspace` brings it back at the next start (what no longer exists on disk
is skipped, so a deleted run or scenario never blocks the start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from gui.scenariofiles import app_settings


class MainWindow(Protocol):
    """What the workspace reads of the main window (named here, so no import cycle)."""

    doc: Any
    tabs: Any
    side: Any
    results: Any
    compare: Any


def _as_list(value: Any) -> list[str]:
    """A QSettings list (a str when it held one item, None when unset) as a list."""
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def save_workspace(win: MainWindow) -> None:
    """Remember the window's open scenario, tabs, results run and compared runs."""
    store = app_settings()
    store.setValue("workspace/scenario", str(win.doc.path) if win.doc.path else "")
    store.setValue("workspace/tab", win.tabs.currentIndex())
    store.setValue("workspace/side", win.side.currentIndex())
    run = win.results.run
    store.setValue("workspace/results_run", str(run.path) if run is not None else "")
    comp = win.compare.comparison
    store.setValue("workspace/compare_runs", [str(r.path) for r in comp.runs] if comp else [])
    store.sync()


def saved_scenario() -> Path | None:
    """The scenario open when the app last closed, if it still exists."""
    path = str(app_settings().value("workspace/scenario", "") or "")
    return Path(path) if path and Path(path).is_file() else None


def restore_workspace(win: MainWindow) -> None:
    """Bring back the tabs, the results run and the comparison of the last session.

    The scenario itself is opened by the caller (:func:`saved_scenario`); runs are read
    in the background, as when the user picks them.
    """
    store = app_settings()
    run = str(store.value("workspace/results_run", "") or "")
    if run and Path(run).is_dir():
        win.results.load_async(run)
    compared = [r for r in _as_list(store.value("workspace/compare_runs")) if Path(r).is_dir()]
    if len(compared) >= 2:
        win.compare.choose(compared[0], list(compared[1:]))
        win.compare.compare_async()
    side = int(str(store.value("workspace/side", 0) or 0))
    if 0 <= side < win.side.count():
        win.side.setCurrentIndex(side)
    tab = int(str(store.value("workspace/tab", 0) or 0))
    if 0 <= tab < win.tabs.count():
        win.tabs.blockSignals(True)  # no "load the latest run" on the way: restored above
        win.tabs.setCurrentIndex(tab)
        win.tabs.blockSignals(False)
