"""The Results view as a planner reads it: names, seats short in whole numbers with separators,
utilisation in %, a year slider with Play, the peak's 5-minute time slider when a run has one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fakerun import YEARS, fake_run

from gui import i18n
from gui.background import cached_city
from gui.results import ResultsView
from gui.tables import cell_text, cell_value
from sim import settings


@pytest.fixture(scope="module")
def city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return cached_city(settings.default_city)


def _view(qtbot, tmp_path: Path) -> ResultsView:
    view = ResultsView(tmp_path)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    return view


def _columns(table) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


def _row(table, school: str) -> int:
    return [cell_text(table, r, 0) for r in range(table.rowCount())].index(school)


def test_school_table_counts_seats_short_grade_by_grade(qtbot, tmp_path, city, screenshots):
    school = city.schools[city.schools["level"] == "junior"].index[0]
    places = float(
        city.schools.loc[school, "classes_per_grade"] * city.schools.loc[school, "class_size"]
    )
    demand = [places + 30, places - 50, places]  # 30 short in one grade, 50 spare in another
    run = fake_run(city, tmp_path, grade_demand={school: demand})
    view = _view(qtbot, tmp_path)
    view.show_run(run, city)
    table = view.schools
    cols = _columns(table)
    assert cols[:4] == ["School", "Name", "Level", "Places"]
    assert {"Seats short", "Utilisation", "Overflow (outside catchment)", "Unplaced"} <= set(cols)
    r = _row(table, school)
    assert cell_text(table, r, cols.index("Name")) == city.schools.loc[school, "name"]
    assert cell_value(table, r, cols.index("Seats short")) == 30  # not 0: the total has room
    assert cell_value(table, r, cols.index("Overflow (outside catchment)")) == 30
    util = (3 * places - 20) / (3 * places)
    assert cell_text(table, r, cols.index("Utilisation")) == f"{100 * util:.0f} %"
    big = city.schools.loc[city.schools["level"] == "primary"]
    big = big[big["classes_per_grade"] * big["class_size"] * 6 >= 1000].index[0]
    shown = cell_text(table, _row(table, big), cols.index("Places"))
    assert "," in shown and float(shown.replace(",", "")) >= 1000  # 1,575, never 1575.0
    # chart tick labels with thousands separators (population about 452,000)
    qtbot.waitUntil(lambda: not view.charts_drawing(), timeout=30_000)  # drawn off the UI thread
    ticks = [t.get_text() for t in view.series_figure.axes[0].get_yticklabels()]
    assert any("," in t for t in ticks) and not any("e+" in t for t in ticks), ticks
    qtbot.waitUntil(lambda: not view.map.canvas.rendering, timeout=60_000)  # a worker renders it
    view.grab().save(str(screenshots / "results_view.png"))


def test_year_slider_steps_the_table_and_plays_to_the_end(qtbot, tmp_path, city):
    school = city.schools.index[0]
    run = fake_run(city, tmp_path)
    run.enrollment.loc[
        (run.enrollment["school"] == school) & (run.enrollment["year"] == YEARS[0]), "p50"
    ] = 0.0
    view = _view(qtbot, tmp_path)
    view.show_run(run, city)
    assert view.year.values() == list(YEARS) and view.selected_year() == YEARS[-1]
    pupils = _columns(view.schools).index("Pupils (median)")
    before = cell_value(view.schools, _row(view.schools, school), pupils)
    view.year.slider.setValue(0)  # the user drags the slider to the first year
    assert view.selected_year() == YEARS[0]
    assert cell_value(view.schools, _row(view.schools, school), pupils) == 0 < before
    assert view.road_label == "V/C"
    view.year.play.click()
    qtbot.waitUntil(lambda: view.selected_year() == YEARS[-1], timeout=5_000)
    qtbot.waitUntil(lambda: not view.year.play.isChecked(), timeout=5_000)  # stops at the end


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font needed
def test_peak_time_slider_draws_queues_per_five_minute_bin(qtbot, tmp_path, city):
    run = fake_run(city, tmp_path)
    links = city.links.index[:50]
    bins = pd.DataFrame(
        {
            "year": YEARS[-1],
            "link": list(links) * 3,
            "bin_start_s": [0] * 50 + [300] * 50 + [600] * 50,  # after 06:00
            "inflow": 10.0,
            "outflow": 9.0,
            "mean_speed_kmh": 30.0,
            "queue": [0.0] * 50 + [4.0] * 50 + [12.0] * 50,
            "occupancy": 0.3,
        }
    )
    view = _view(qtbot, tmp_path)
    view.show_run(run, city)
    assert not view.peak_time.isVisible()  # no links_t: no time slider
    view.show_run(run, city, bins)
    assert view.peak_time.isVisible()
    assert view.peak_time.values() == [None, 0, 300, 600]
    assert view.peak_time.label.text() == "peak hour (V/C)"
    view.peak_time.slider.setValue(2)
    assert view.peak_time.label.text() == "06:05"
    assert view.road_label == "queue (veh) at 06:05"
    assert view.road_values.max() == 4.0
    i18n.set_language("zh", cjk_font=True)
    view.retranslate()
    assert view.peak_time.play.text() == "播放"
    assert _columns(view.schools)[:4] == ["学校", "名称", "学段", "学位"]
    i18n.set_language("en", cjk_font=False)
    view.retranslate()
    assert _columns(view.schools)[0] == "School" and view.peak_time.play.text() == "Play"
    qtbot.waitUntil(lambda: not view.charts_drawing(), timeout=30_000)


def test_zones_on_the_map_step_with_the_year_slider(qtbot, tmp_path, city):
    """A run with zones_years.parquet: the zones show the year the slider is on."""
    from gui.mapview import ZONE_YEAR_COLUMNS

    run = fake_run(city, tmp_path)
    zones = city.zones.index
    # by hand: zone k has 1000 + k residents in the first year, 100 more in the second
    run.zones_years = pd.DataFrame(
        [
            {"year": year, "zone_id": z, "population": 1000.0 + k + 100.0 * i}
            for i, year in enumerate(YEARS)
            for k, z in enumerate(zones)
        ]
    )
    view = _view(qtbot, tmp_path)
    view.show_run(run, city)
    mapview = view.map
    name = ZONE_YEAR_COLUMNS["population"]
    mapview.indicator.setCurrentIndex(mapview.indicator.findData(name))
    owner = mapview.base.zone_owner  # the zone of each drawn polygon
    first = pd.Series(1000.0 + np.arange(len(zones)), index=zones).reindex(owner).to_numpy()
    coll = mapview._artists["zones"][0]
    assert np.asarray(coll.get_array()) == pytest.approx(first + 100.0)  # the last year
    view.year.slider.setValue(0)  # the user drags the slider to the first year
    coll = mapview._artists["zones"][0]
    assert np.asarray(coll.get_array()) == pytest.approx(first)
    qtbot.waitUntil(lambda: not view.charts_drawing(), timeout=30_000)
