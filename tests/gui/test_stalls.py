"""Loading a run in Results and switching the language leave the heavy work off the UI thread.

No clock is read: the tests check the mechanism. Loading returns before anything is shown,
the run is shown in steps while the cursor is busy, the charts are built and rendered in
worker threads (a "Drawing the chart…" note meanwhile) and come out pixel for pixel as a
chart built directly; a language switch relabels the table at once, draws the charts
again off the UI thread, and the Explain panel does not read the run again. The maps are
rendered in workers too (a snapshot of the figure), once a load's steps are over, and
what they show is pixel for pixel a render of the map as it is; a hidden map lays out its
colour bars in a new language only when shown; a city is built with the collector paused.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fakerun import YEARS, fake_run
from matplotlib.figure import Figure
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui import background, explain, i18n, map_base, resultcharts, results, runlist, scenariobrowser
from gui.background import cached_city
from gui.explain import ExplainPanel
from gui.map_canvas import MapCanvas
from gui.mapview import MapView
from gui.results import ResultsView
from gui.scenariobrowser import ScenarioBrowser
from sim import settings

RENDER = resultcharts.render  # the real one (the fixture watches the calls)


@pytest.fixture(scope="module")
def city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return cached_city(settings.default_city)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """The threads charts are rendered in."""
    seen: list[threading.Thread] = []
    real = resultcharts.render
    monkeypatch.setattr(
        resultcharts,
        "render",
        lambda *args: seen.append(threading.current_thread()) or real(*args),
    )
    return seen


def _idle(qtbot, view: ResultsView) -> None:
    qtbot.waitUntil(
        lambda: (
            not background.busy() and not view.charts_drawing() and not view.map.canvas.rendering
        ),
        timeout=60_000,
    )


def _image_of(chart: resultcharts.ChartImage, build) -> object:
    """The chart ``build`` makes, rendered directly at ``chart``'s size."""
    size = (chart.width(), chart.height())
    return RENDER(build, size, chart.figure.get_dpi())[1]


def _shown_view(qtbot, folder: Path) -> tuple[ResultsView, list[str]]:
    """A shown Results view on ``folder`` and the list its runLoaded signal appends to."""
    view = ResultsView(folder)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    loaded: list[str] = []
    view.runLoaded.connect(loaded.append)
    return view, loaded


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font needed
def test_results_load_and_language_switch_leave_the_ui_thread_free(
    qtbot, tmp_path: Path, city, monkeypatch: pytest.MonkeyPatch, renders
) -> None:
    run = fake_run(city, tmp_path)
    monkeypatch.setattr(results, "_read", lambda _folder: (run, city, None))
    view, loaded = _shown_view(qtbot, tmp_path)
    view.load_async(tmp_path)
    assert view.run is None and background.busy()  # returned before the run was read
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: view.run is not None, timeout=60_000)
    assert loaded == [] and background.busy()  # shown in steps: the rest comes later
    _idle(qtbot, view)
    assert loaded == [str(run.path)] and QApplication.overrideCursor() is None
    assert view.schools.rowCount() == len(city.schools)
    assert renders and threading.main_thread() not in renders  # the series and the fan
    # the charts show the run: population medians as fake_run made them, by year
    line = next(ln for ln in view.series_figure.axes[0].get_lines() if ln.get_gid())
    assert list(line.get_xdata()) == list(YEARS)
    assert list(line.get_ydata()) == [451_500.0, 452_500.0]
    school = view.selected_school()
    assert view.fan.school == school and school in view.fan_figure.axes[0].get_title()
    # ... pixel for pixel as a chart built directly, in the same size
    series = _image_of(view.series.view, lambda fig: resultcharts.series_figure(fig, run))
    assert view.series.view.image == series
    fan = _image_of(view.fan.view, lambda fig: resultcharts.fan_figure(fig, run, school))
    assert view.fan.view.image == fan

    # language: the table at once, the charts drawn again in workers
    english, drawn = view.series_figure, len(renders)
    i18n.set_language("zh", cjk_font=True)
    view.retranslate()
    assert view.schools.horizontalHeaderItem(0).text() == "学校"
    assert view.charts_drawing() and view.series_figure is english  # not drawn here
    level = results.SCHOOL_COLUMNS.index("level")
    levels = {view.schools.item(r, level).text() for r in range(view.schools.rowCount())}
    assert levels == {i18n.tr(str(v)) for v in city.schools["level"].unique()}
    _idle(qtbot, view)
    assert len(renders) > drawn and threading.main_thread() not in renders
    title = view.series_figure.axes[0].get_title()
    assert title == resultcharts.titled("population") and title != english.axes[0].get_title()
    line = next(ln for ln in view.series_figure.axes[0].get_lines() if ln.get_gid())
    assert list(line.get_ydata()) == [451_500.0, 452_500.0]  # the same data, relabelled
    i18n.set_language("en", cjk_font=False)
    view.retranslate()
    _idle(qtbot, view)
    assert view.series_figure.axes[0].get_title() == english.axes[0].get_title()
    assert view.series.view.image == series  # back to the very same picture


def test_a_newer_chart_supersedes_one_still_drawing(qtbot) -> None:
    chart = resultcharts.ChartImage((4, 3))
    qtbot.addWidget(chart)
    chart.resize(300, 200)
    chart.show()
    chart.show_chart(lambda fig: fig.add_subplot().set_title("first"))
    chart.show_chart(lambda fig: fig.add_subplot().set_title("second"))
    qtbot.waitUntil(lambda: not background.busy() and not chart.drawing, timeout=30_000)
    assert chart.figure.axes[0].get_title() == "second"
    assert (chart.image.width(), chart.image.height()) == (300, 200)


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_explain_reads_off_the_ui_thread_and_a_language_switch_reads_nothing(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renders
) -> None:
    pd.DataFrame({"year": [2024, 2025, 2025], "school": ["P01", "P01", "P02"]}).to_parquet(
        tmp_path / "enrollment.parquet"
    )
    calls: list[tuple[str, int, threading.Thread]] = []

    def explained(_run: Path, school: str, year: int) -> dict:
        calls.append((school, year, threading.current_thread()))
        components = {"base_year": 100.0, "net_migration": -20.0, "new_housing": 5.0}
        return {"school": school, "year": year, "demand": 85.0, "components": components,
                "capacity": 90}  # fmt: skip

    monkeypatch.setattr(explain, "explain", explained)
    panel = ExplainPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    panel.show()
    panel.load_async(tmp_path)
    assert panel.result is None
    qtbot.waitUntil(lambda: panel.result is not None, timeout=30_000)
    assert [(s, y) for s, y, _t in calls] == [("P01", 2025)]
    assert calls[0][2] is not threading.main_thread()
    assert panel.message.text() == "P01 2025: demand 85 for 90 places"
    _drawn(qtbot, panel)
    assert renders and threading.main_thread() not in renders  # built and rendered in a worker
    ax = panel.figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Base year", "Net migration", "New housing", "Demand"
    ]  # fmt: skip
    english, drawn = panel.figure, len(renders)
    i18n.set_language("zh", cjk_font=True)
    panel.retranslate()
    assert len(calls) == 1  # kept: the switch relabels only
    assert panel.message.text() == "P01 2025：需求 85，学位 90"
    assert panel.chart.drawing and panel.figure is english  # not drawn on the UI thread
    _drawn(qtbot, panel)
    assert len(renders) > drawn and threading.main_thread() not in renders
    ax = panel.figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["基准年", "净迁移", "新建住房", "需求"]
    i18n.set_language("en", cjk_font=False)
    panel.set_school("P02")  # another school is read (on the spot, as a click asks)
    assert [(s, y) for s, y, _t in calls] == [("P01", 2025), ("P02", 2025)]
    _drawn(qtbot, panel)
    assert [t.get_text() for t in panel.figure.axes[0].get_yticklabels()][-1] == "Demand"


def _drawn(qtbot, panel: ExplainPanel) -> None:
    qtbot.waitUntil(lambda: not background.busy() and not panel.chart.drawing, timeout=30_000)


def test_the_waterfall_steps_from_zero_to_the_total() -> None:
    """Each bar starts where the one before ended; zero steps are left out; the total last."""
    figure = Figure()
    steps = [("a", 100.0), ("b", -20.0), ("none", 0.0), ("c", 5.0)]
    explain.waterfall_figure(figure, steps, ("total", 85.0))
    ax = figure.axes[0]
    bars = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches]
    assert bars == [(0.0, 100.0), (100.0, 80.0), (80.0, 85.0), (0.0, 85.0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "total"]


def test_a_language_switch_relabels_the_scenario_browser_without_reading_a_file(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\ndescription: the {name} case\n")
    reads: list[Path] = []
    real = scenariobrowser.read_yaml
    monkeypatch.setattr(
        scenariobrowser, "read_yaml", lambda path, *a: reads.append(path) or real(path, *a)
    )
    browser = ScenarioBrowser(tmp_path)
    qtbot.addWidget(browser)
    assert len(reads) == 2 and browser.table.rowCount() == 2
    i18n.set_language("zh", cjk_font=True)
    browser.retranslate()
    assert len(reads) == 2  # nothing read again
    headers = [browser.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert headers == ["名称", "说明", "基于", "文件"]
    assert [browser.table.item(r, 0).text() for r in range(2)] == ["alpha", "beta"]
    browser.refresh_button.click()  # Refresh does read the folder again
    assert len(reads) == 4 and browser.table.horizontalHeaderItem(0).text() == "名称"


def test_a_language_switch_relabels_the_run_list_without_reading_the_catalog(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "r1").mkdir()
    manifest = {"run_id": "r1", "scenario": {"name": "default"}, "seed": 7}
    runlist.Catalog(tmp_path).register(tmp_path / "r1", manifest)
    opened: list[Path] = []
    real = runlist.Catalog
    monkeypatch.setattr(runlist, "Catalog", lambda folder: opened.append(folder) or real(folder))
    runs = runlist.RunList(tmp_path)
    qtbot.addWidget(runs)
    assert opened and runs.table.rowCount() == 1
    before = len(opened)
    i18n.set_language("zh", cjk_font=True)
    runs.retranslate()
    assert len(opened) == before  # the catalog is not read again
    assert runs.table.horizontalHeaderItem(2).text() == "完成时间"
    assert runs.table.item(0, 1).text() == "default" and runs.buttons["refresh"].text() == "刷新"


def test_a_hidden_chart_is_drawn_when_it_is_shown(qtbot, renders) -> None:
    """A language switch behind another tab renders nothing until the chart shows."""
    chart = resultcharts.ChartImage((4, 3))
    qtbot.addWidget(chart)
    chart.resize(300, 200)
    chart.show_chart(lambda fig: fig.add_subplot().set_title("later"))
    assert renders == [] and not chart.drawing and chart.image is None
    chart.show()
    qtbot.waitUntil(lambda: not background.busy() and not chart.drawing, timeout=30_000)
    assert len(renders) == 1 and chart.figure.axes[0].get_title() == "later"


def test_a_newer_load_drops_the_steps_of_an_older_one(
    qtbot, tmp_path: Path, city, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = {name: fake_run(city, tmp_path / name) for name in ("older", "newer")}
    monkeypatch.setattr(results, "_read", lambda folder: (runs[Path(folder).name], city, None))
    view, loaded = _shown_view(qtbot, tmp_path)
    view.load_async(tmp_path / "older")
    view.load_async(tmp_path / "newer")  # chosen before the first was shown
    _idle(qtbot, view)
    assert loaded == [str(runs["newer"].path)] and view.run is runs["newer"]


def _rendered(qtbot, canvas) -> None:
    qtbot.waitUntil(lambda: not canvas.rendering, timeout=60_000)


def _map_of(qtbot, city, *, shown: bool = True) -> MapView:
    """A 600 x 500 map of ``city`` (shown, or hidden as behind another tab)."""
    mapview = MapView()
    qtbot.addWidget(mapview)
    mapview.resize(600, 500)
    if shown:
        mapview.show()
    mapview.set_city(city)
    return mapview


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_the_results_map_is_rendered_off_the_ui_thread_once_its_values_are_set(
    qtbot, tmp_path: Path, city, monkeypatch: pytest.MonkeyPatch, screenshots: Path
) -> None:
    """The load's steps each ask for a redraw; one render follows the last, in a worker."""
    run = fake_run(city, tmp_path)
    monkeypatch.setattr(results, "_read", lambda _folder: (run, city, None))
    drawn: list[threading.Thread] = []  # the threads any figure is drawn in
    during: list[bool] = []  # whether the load's steps were still running then
    at_once = [0, 0]  # figures being drawn now, the most at once
    real = Figure.draw

    def draw(fig: Figure, renderer) -> None:
        drawn.append(threading.current_thread())
        during.append(background.stepping())
        at_once[0] += 1
        at_once[1] = max(at_once)
        try:
            real(fig, renderer)
        finally:
            at_once[0] -= 1

    monkeypatch.setattr(Figure, "draw", draw)
    view, _loaded = _shown_view(qtbot, tmp_path)
    canvas = view.map.canvas
    _rendered(qtbot, canvas)  # the empty map, as shown
    before = canvas.renders
    view.load_async(tmp_path)
    _idle(qtbot, view)
    _rendered(qtbot, canvas)
    assert canvas.renders == before + 1  # not one per step: once, with the run's values
    assert drawn and threading.main_thread() not in drawn  # maps and charts, all in workers
    assert not any(during)  # ... after the steps, not competing with them
    assert at_once[1] == 1  # ... and one after the other (the map and two charts)
    view.grab().save(str(screenshots / "results_rendered_in_a_worker.png"))
    # what is on show is the map as it is now: pixel for pixel a render done here
    shown = np.asarray(canvas.buffer_rgba()).copy()
    monkeypatch.setattr(Figure, "draw", real)
    canvas.draw()
    assert np.array_equal(np.asarray(canvas.buffer_rgba()), shown)


def test_a_render_older_than_the_picture_on_show_is_dropped(qtbot) -> None:
    figure = Figure(figsize=(3, 2))
    canvas = MapCanvas(figure, "white")
    canvas.blank = False  # a figure to show
    qtbot.addWidget(canvas)
    canvas.resize(300, 200)
    canvas.show()
    _rendered(qtbot, canvas)
    (line,) = figure.add_subplot().plot([0, 1], [0, 1], color="red", lw=8)
    canvas.draw_idle()
    qtbot.waitUntil(lambda: canvas._running, timeout=10_000)  # a snapshot with a red line
    line.set_color("blue")
    canvas.draw()  # drawn here, blue, while the red one renders
    blue = np.asarray(canvas.buffer_rgba()).copy()
    _rendered(qtbot, canvas)
    assert np.array_equal(np.asarray(canvas.buffer_rgba()), blue)


def test_after_a_drag_the_picture_stays_shifted_until_the_new_render_is_in(qtbot, city) -> None:
    mapview = _map_of(qtbot, city)
    canvas = mapview.canvas
    _rendered(qtbot, canvas)
    canvas.slide(40.0, 0.0)
    canvas.settle()
    assert canvas.offset is None and canvas.shift == (40.0, 0.0)  # not back at the old place
    _rendered(qtbot, canvas)
    assert canvas.shift is None


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_a_hidden_map_lays_out_its_colour_bar_in_a_new_language_when_shown(qtbot, city) -> None:
    mapview = _map_of(qtbot, city, shown=False)  # behind another tab
    bar = mapview._colorbars["zones"]
    english = bar.ax.get_ylabel()
    name = mapview.indicator.currentData()
    try:
        i18n.set_language("zh", cjk_font=True)
        mapview.retranslate()
        assert mapview._indicator_label.text() == i18n.tr("Zones by:")  # the widgets at once
        assert mapview.indicator.currentText() == i18n.tr(name)
        assert mapview._colorbars["zones"].ax.get_ylabel() == english  # the bar: not yet
        mapview.show()
        label = mapview._colorbars["zones"].ax.get_ylabel()
        assert label == i18n.tr(name) and label != english
        _rendered(qtbot, mapview.canvas)
    finally:
        i18n.set_language("en", cjk_font=False)


def test_long_lived_builds_pause_the_collector_and_freeze_what_they_made(qtbot) -> None:
    qtbot.waitUntil(gc.isenabled, timeout=30_000)  # no render of another test pauses it
    frozen = gc.get_freeze_count()
    with map_base.long_lived():
        assert not gc.isenabled()
        with map_base.long_lived():  # nested (or another thread's): one pause
            made = [[i] for i in range(1000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)  # out of the full passes from now on


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_a_language_switch_relabels_the_difference_map_in_place(qtbot, city) -> None:
    """The legend's words change; the roads drawn for the values are the very same."""
    mapview = _map_of(qtbot, city)
    change = pd.Series(0.0, index=city.links.index)
    change.iloc[:300] = 900.0
    change.iloc[300:600] = -400.0
    mapview.set_road_values(change, label="flow change", how="sum", diverging=True)
    roads = [a for a in mapview._artists["roads"] if a is not mapview.ax.get_legend()]
    try:
        i18n.set_language("zh", cjk_font=True)
        mapview.retranslate(road_label="流量变化")
        legend = mapview.ax.get_legend()
        assert legend.get_title().get_text() == "流量变化"
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts[-3:] == ["流量增加", "流量减少", "无变化"] and "辆/小时" in texts[0]
        assert [a for a in mapview._artists["roads"] if a is not legend] == roads
        assert legend in mapview._artists["roads"] and len(mapview.ax.get_children()) == len(
            set(mapview.ax.get_children())
        )
        _rendered(qtbot, mapview.canvas)  # drawn in Chinese here, not after the test
    finally:
        i18n.set_language("en", cjk_font=False)
    mapview.retranslate(road_label="flow change")
    assert mapview.ax.get_legend().get_texts()[-1].get_text() == "no change"
