"""Project and workspace: the run list (names, notes, rename, delete), the scenario browser,
and the last workspace restored at the next start.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from gui.results import ResultsView
from gui.runlist import RunList
from gui.scenariobrowser import ScenarioBrowser
from gui.workspace import restore_workspace, save_workspace, saved_scenario
from sim import settings
from sim.runs.catalog import Catalog


def _fake_runs(folder: Path, names: list[str]) -> list[Path]:
    """Run folders known to the catalog (a manifest each; the list does not read tables)."""
    out = []
    for i, scenario in enumerate(names):
        run = folder / f"{scenario}-{i:010x}"
        run.mkdir(parents=True)
        manifest = {"run_id": run.name, "scenario": {"name": scenario}, "seed": i}
        (run / "manifest.json").write_text(json.dumps(manifest))
        Catalog(folder).register(run, manifest)
        out.append(run)
    return out


def test_run_list_renames_annotates_and_deletes(qtbot, tmp_path, monkeypatch, dialogs):
    runs = _fake_runs(tmp_path, ["default", "new-school"])
    view = RunList(tmp_path)
    qtbot.addWidget(view)
    results = ResultsView(tmp_path)
    qtbot.addWidget(results)
    view.changed.connect(results.refresh_runs)
    assert view.table.rowCount() == 2
    assert view.table.item(0, 1).text() == "new-school"  # newest first
    view.select(runs[0].name)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Baseline 2025", True))
    qtbot.mouseClick(view.buttons["rename"], Qt.MouseButton.LeftButton)
    assert Catalog(tmp_path).labels()[runs[0].name]["name"] == "Baseline 2025"
    row = [view.table.item(r, 6).text() for r in range(2)].index(runs[0].name)
    assert view.table.item(row, 0).text() == "Baseline 2025"
    titles = [results.runs.itemText(i) for i in range(results.runs.count())]
    assert "Baseline 2025" in titles  # the name, not a hash, in the Results chooser
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("as 2024 plan", True))
    qtbot.mouseClick(view.buttons["notes"], Qt.MouseButton.LeftButton)
    assert view.table.item(row, 5).text() == "as 2024 plan"
    # Delete asks first; Cancel keeps the run, Yes removes its folder and its entry
    dialogs["answers"] += [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    qtbot.mouseClick(view.buttons["delete"], Qt.MouseButton.LeftButton)
    assert runs[0].is_dir() and view.table.rowCount() == 2
    qtbot.mouseClick(view.buttons["delete"], Qt.MouseButton.LeftButton)
    assert not runs[0].exists() and view.table.rowCount() == 1
    assert runs[0].name not in Catalog(tmp_path).labels()
    assert "cannot be undone" in dialogs["question"][-1][1]
    opened: list[str] = []
    view.openRequested.connect(opened.append)
    view.select(runs[1].name)
    qtbot.mouseClick(view.buttons["open"], Qt.MouseButton.LeftButton)
    assert opened == [str(runs[1].resolve())]


def test_scenario_browser_lists_names_descriptions_and_bases(qtbot):
    browser = ScenarioBrowser(settings.scenarios_folder)
    qtbot.addWidget(browser)
    rows = browser.rows.set_index("name")
    assert {"default", "new-school", "road-closure"} <= set(rows.index)
    assert "sweep-example" not in rows.index  # a sweep, not a scenario
    assert rows.loc["new-school", "base"] == "default" and rows.loc["default", "base"] == ""
    assert "school" in rows.loc["new-school", "description"].lower()
    qtbot.keyClicks(browser.filter, "catchment")
    shown = [browser.table.item(r, 0).text() for r in range(browser.table.rowCount())]
    assert "new-school" in shown and "road-closure" not in shown
    opened: list[str] = []
    browser.openRequested.connect(opened.append)
    row = shown.index("new-school")
    browser.table.selectRow(row)
    qtbot.mouseClick(browser.open_button, Qt.MouseButton.LeftButton)
    assert opened == [str(settings.scenarios_folder / "new-school.yaml")]


def test_last_workspace_comes_back(window, qtbot, tmp_path):
    from gui.mainwindow import MainWindow

    window.tabs.setCurrentWidget(window.compare)
    window.side.setCurrentWidget(window.run_panel)
    save_workspace(window)
    assert saved_scenario() == window.doc.path
    again = MainWindow(tmp_path / "runs")
    qtbot.addWidget(again)
    assert again.open_scenario(saved_scenario())
    restore_workspace(again)
    assert again.tabs.currentWidget() is again.compare
    assert again.side.currentWidget() is again.run_panel
    again.doc.undo_stack.setClean()
