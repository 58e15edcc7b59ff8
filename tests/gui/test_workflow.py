"""Run, cancel, results, compare and export, driven through the window as a planner would.

The end-to-end test saves screenshots of every main view to the ``screenshots`` folder
(a temp folder; ``make screenshots`` points it at docs/screenshots/ to refresh the README's).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import pandas as pd
import pyogrio
import pytest
from PySide6.QtCore import Qt, QTimer

from gui import background
from gui.app import screenshot
from gui.fonts import find_cjk_font, install_cjk_font
from sim import settings
from sim.runs.folder import read_run
from sim.runs.run import run_scenario
from sim.scenario import load_scenario, scenario_from_dict

RUN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default scenario, 2 years x 1 replication, run headless into a temp runs folder."""
    default = settings.scenarios_folder / "default.yaml"
    if not settings.default_city.exists() or not default.exists():
        pytest.skip("the default city or scenario is not built")
    data = load_scenario(default).model_dump(mode="json") | {"years": 2, "replications": 1}
    runs = tmp_path_factory.mktemp("runs")
    return run_scenario(scenario_from_dict(data), runs)


def test_cancel_stops_the_run_and_writes_nothing(window, qtbot, tmp_path):
    panel = window.run_panel
    panel.years.setValue(10)
    panel.replications.setValue(3)
    progress: list[str] = []
    assert panel.start()
    assert panel.run_data()["years"] == 10 and not window.doc.is_dirty()
    qtbot.waitUntil(
        lambda: "replication" in panel.stage.text() or not panel.running, timeout=120_000
    )
    progress.append(panel.stage.text())
    assert panel.running, progress
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=5_000)
    assert panel.process.outcome[0] == "cancelled"
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(p.name.startswith("default") for p in runs.iterdir())


def test_invalid_scenario_is_not_run(window, dialogs):
    window.editor.add_type.setCurrentIndex(window.editor.add_type.findData("road_closure"))
    window.editor.start_add()  # a closure with no road picked yet
    assert not window.run_panel.start()
    title, message = dialogs["critical"][-1]
    assert title == "Cannot run: fix the scenario first."
    assert "policies.0.links" in message
    assert not window.run_panel.running


def test_run_list_entry_whose_folder_is_gone_is_a_clear_error(window, dialogs, tmp_path, qtbot):
    results = window.results
    results.runs.addItem("gone", str(tmp_path / "no-such-run"))
    results.runs.setCurrentIndex(results.runs.count() - 1)
    results.runs.activated.emit(results.runs.currentIndex())  # as a user picking it
    qtbot.waitUntil(lambda: bool(dialogs["critical"]), timeout=30_000)  # read off the UI thread
    title, message = dialogs["critical"][-1]
    assert title == "Cannot read the run."
    assert "no-such-run" in message
    assert results.run is None


@pytest.mark.slow
def test_planner_workflow_end_to_end(qtbot, dialogs, click_map, baseline, tmp_path, screenshots):
    """Open default, add a school on the map, edit it, save, run 2 years, compare, export."""
    from gui.mainwindow import MainWindow

    win = MainWindow(baseline.parent)
    qtbot.addWidget(win)
    assert win.open_scenario(settings.scenarios_folder / "default.yaml")
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    city = win.city
    # add a primary school by clicking in the most populous zone, then give it 6 classes
    zone = city.zones["population"].idxmax()
    spot = city.zones.geometry.loc[zone].representative_point()
    win.editor.add_type.setCurrentIndex(win.editor.add_type.findData("new_school"))
    qtbot.mouseClick(win.editor.add_button, Qt.MouseButton.LeftButton)
    click_map(win.map, spot.x, spot.y)
    field = win.editor.form.widgets["classes_per_grade"]
    field.selectAll()
    qtbot.keyClicks(field, "6")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    school = win.doc.policies[-1]
    assert school["classes_per_grade"] == 6 and school["year"] == 2025
    name = win.editor.scenario_form.widgets["name"]
    name.selectAll()
    qtbot.keyClicks(name, "new-school")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert win.doc.data["name"] == "new-school"
    # 2 years, 1 replication, from the run panel
    win.side.setCurrentWidget(win.run_panel)
    win.run_panel.years.setValue(2)
    win.run_panel.replications.setValue(1)
    saved = tmp_path / "new-school.yaml"
    assert win.save_as(saved)
    assert load_scenario(saved).years == load_scenario(win.doc.path).years  # a run setting
    assert win.run_panel.run_data()["years"] == 2
    # run; the event loop must keep turning while the model works
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    finished: list[str] = []
    win.run_panel.runFinished.connect(finished.append)
    assert win.run_panel.start()
    qtbot.waitUntil(lambda: bool(finished) or not win.run_panel.running, timeout=RUN_TIMEOUT_MS)
    timer.stop()
    assert finished, win.run_panel.stage.text()
    assert len(ticks) > 50  # the UI thread kept turning during a run of several seconds
    # results: the new school is in the table with its capacity in 2025
    run_dir = Path(finished[0])
    # read off the UI thread, then shown in steps: the table is filled once busy() ends
    qtbot.waitUntil(lambda: win.results.run is not None and not background.busy(), timeout=60_000)
    assert win.results.run.path == run_dir
    expected_places = (
        6 * int(city.settings["class_size_primary"]) * int(city.settings["primary_grades"])
    )
    table = win.results.schools
    ids = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = ids.index(school["id"])
    columns = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert table.item(row, columns.index("Places")).text() == f"{expected_places:,}"
    win.tabs.setCurrentWidget(win.results)
    folder = win.export("tables", tmp_path / "results")
    schools_csv = pd.read_csv(folder / "results_schools_2025.csv").set_index("school")
    assert schools_csv.loc[school["id"], "capacity"] == expected_places
    # compare with the baseline: capacity_primary grows by exactly the new places
    win.tabs.setCurrentWidget(win.compare)
    win.compare.choose(baseline, [run_dir])
    qtbot.mouseClick(win.compare.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.compare.comparison is not None, timeout=60_000)
    assert not dialogs["critical"], dialogs["critical"]
    kpis = win.compare.comparison.kpis.set_index("kpi")
    base_cap = read_run(baseline).kpis.query("year == 2025")["capacity_primary"].iloc[0]
    labels = win.compare.comparison.labels
    assert labels == ["default", "new-school"]
    assert kpis.loc["capacity_primary", labels[0]] == base_cap
    diff_col = next(c for c in kpis.columns if c.startswith("diff "))
    assert kpis.loc["capacity_primary", diff_col] == expected_places
    shown = win.compare.kpi_verdicts()
    assert (
        shown["capacity_primary"]
        == kpis.loc["capacity_primary", diff_col.replace("diff", "better")]
    )
    # export: a PNG of the difference map, and the HTML report
    png = win.export("figure", tmp_path / "difference.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with qtbot.waitSignal(win.reportFinished, timeout=120_000) as done:
        win.export("report", tmp_path / "report.html")
    report = Path(done.args[0])
    assert "capacity_primary" in report.read_text(encoding="utf-8")
    folder = win.export("tables", tmp_path / "tables")
    csv = pd.read_csv(folder / "compare_kpis.csv").set_index("kpi")
    assert csv.loc["capacity_primary", diff_col] == expected_places
    gpkg = win.export("layers", tmp_path / "layers.gpkg")
    assert {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]} == {"zones", "links"}
    assert len(gpd.read_file(gpkg, layer="links")) == len(city.links)
    # enrollment query at the new school's spot
    win.tabs.setCurrentIndex(0)
    win.side.setCurrentWidget(win.query)
    win.query.birth_year.setValue(2019)
    qtbot.mouseClick(win.query.pick, Qt.MouseButton.LeftButton)
    click_map(win.map, spot.x, spot.y)
    answer = win.query.answer
    assert answer is not None and answer["zone_id"] == zone
    catchments = read_run(run_dir).catchments
    first = catchments.query("year == 2024 and level == 'primary' and zone_id == @zone")
    assert answer["catchment"]["primary"]["school_id"] == first["school_id"].iloc[0]
    assert answer["entries"][0]["primary"]["year"] == 2019 + 6  # born Jan-Aug 2019
    # screenshots of each main view, for the README
    win.set_tool("")
    win.map.set_marker(None)
    for view in ("map", "editor", "results", "compare"):
        assert screenshot(win, view, screenshots / f"{view}.png") == 0
        assert (screenshots / f"{view}.png").stat().st_size > 20_000
    # and in Chinese, where this machine has a CJK font
    font = find_cjk_font()
    if font is not None:
        with mpl.rc_context():
            install_cjk_font(font)
            win.set_cjk_font(font)
            assert win.set_language("zh") == "zh"
            for view in ("map", "results"):
                assert screenshot(win, view, screenshots / f"{view}_zh.png") == 0
            win.set_language("en")
    win.doc.undo_stack.setClean()
