"""What a planner sees on the maps: placed points over the names, the Compare map's policies,
a zone indicator without change drawn as such, labels and titles inside their figures.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _fakerun import fake_run
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from gui import i18n
from gui.background import cached_city
from gui.compare import CompareView
from gui.map_labels import LABEL_GID
from gui.mappolicies import POINT_GID
from gui.mapview import MapView
from gui.resultcharts import series_figure
from sim import settings

ORANGE = to_rgb("orange")  # an unselected point policy's fill


@pytest.fixture(scope="module")
def city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return cached_city(settings.default_city)


def _map(qtbot, city, size: tuple[int, int] = (1000, 800)) -> MapView:
    mapview = MapView()
    qtbot.addWidget(mapview)
    mapview.resize(*size)
    mapview.show()
    mapview.set_city(city)
    return mapview


def _inside(artist, figure) -> bool:
    box, page = artist.get_window_extent(figure.canvas.get_renderer()), figure.bbox
    return page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1


def _pixel(mapview: MapView, x: float, y: float) -> tuple[float, float, float]:
    px, py = mapview.ax.transData.transform((x, y))
    rgba = np.asarray(mapview.canvas.buffer_rgba())
    row = rgba.shape[0] - 1 - round(py)
    return tuple(rgba[row, round(px), :3] / 255.0)


def test_a_school_placed_on_a_named_street_shows_over_the_name(qtbot, city, screenshots) -> None:
    mapview = _map(qtbot, city)
    assert mapview.labels is not None
    street = max(mapview.labels.streets, key=lambda s: s.rank)  # named at any zoom
    mapview.set_view_limits((street.x - 1500, street.x + 1500), (street.y - 1500, street.y + 1500))
    mapview.canvas.draw()
    mapview.labels.update()
    name = next(t for t in mapview.ax.texts if t.get_gid() == LABEL_GID)
    x, y = name.get_position()
    mapview.set_policies([{"type": "new_school", "xy": [x, y], "level": "primary"}])
    mapview.canvas.draw()
    (star,) = [a for a in mapview.ax.get_children() if a.get_gid() == POINT_GID.format(index=0)]
    names = [t for t in mapview.ax.texts if t.get_gid() == LABEL_GID]
    assert name.get_text() in [t.get_text() for t in names]  # the name is still there
    assert star.get_zorder() > max(t.get_zorder() for t in names)
    # the star's centre shows its orange fill, not the label's text or white halo
    assert np.allclose(_pixel(mapview, x, y), ORANGE, atol=0.08)
    mapview.canvas.grab().save(str(screenshots / "school_over_street_name.png"))


def _comparison(city, tmp_path: Path, population_change: float) -> SimpleNamespace:
    base, variant = fake_run(city, tmp_path / "a"), fake_run(city, tmp_path / "b")
    xy = [float(city.schools.geometry.x.mean()), float(city.schools.geometry.y.mean())]
    school = {"type": "new_school", "id": "S-new-1", "xy": xy, "level": "primary", "year": 2025}
    variant.manifest = {**variant.manifest, "scenario": {"name": "new", "policies": [school]}}
    variant.zones = variant.zones.assign(
        population_end=base.zones["population_end"] + population_change
    )
    labels = ["base", "new"]
    util = base.enrollment[base.enrollment["year"] == base.enrollment["year"].max()]
    util = util.groupby("school")["utilisation"].mean()
    enrollment = pd.DataFrame({"school_id": util.index, "base": util.values, "new": util.values})
    links = pd.DataFrame({"link_id": city.links.index, "diff new": 0.0})
    links.loc[links.index[:50], "diff new"] = 300.0
    return SimpleNamespace(labels=labels, runs=[base, variant], enrollment=enrollment, links=links)


def _compared(qtbot, tmp_path: Path, city, change: float) -> CompareView:
    view = CompareView(tmp_path)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    view.comparison = _comparison(city, tmp_path, change)
    view._show_city(city)
    view._draw_maps()
    view.map.canvas.draw()
    return view


def test_the_difference_map_draws_the_variants_policies(qtbot, tmp_path, city) -> None:
    view = _compared(qtbot, tmp_path, city, 10.0)
    school = view.comparison.runs[1].manifest["scenario"]["policies"][0]
    marks = [a for a in view.map.ax.get_lines() if a.get_gid() == POINT_GID.format(index=0)]
    assert len(marks) == 1 and marks[0].get_visible()
    assert (marks[0].get_xdata()[0], marks[0].get_ydata()[0]) == tuple(school["xy"])
    px, py = view.map.ax.transData.transform(school["xy"])
    assert view.map.point_at(px, py) is None  # a run's policy: not dragged about here


def test_zones_without_any_change_are_neutral_and_the_bar_says_so(
    qtbot, tmp_path, city, screenshots
) -> None:
    view = _compared(qtbot, tmp_path, city, 0.0)
    mapview = view.map
    colours = mapview._artists["zones"][0].get_facecolors()[:, :3]
    assert np.allclose(colours, colours[0])  # one colour for every zone...
    assert np.ptp(colours[0]) < 0.02  # ...and a grey, not the scale's yellow or purple
    bar = mapview._colorbars["zones"]
    assert "no change" in bar.ax.get_ylabel()
    assert bar.ax.get_yticklabels() == []  # no 0..1 scale
    assert _inside(bar.ax.yaxis.label, mapview.figure)
    view.grab().save(str(screenshots / "compare_no_population_change.png"))
    # with a change the scale comes back, centred on 0 (gains and losses)
    view.comparison.runs[1].zones.loc[:5, "population_end"] -= 50.0
    view._draw_maps()
    mapview.canvas.draw()
    assert "no change" not in bar.ax.get_ylabel()
    assert len(bar.ax.get_yticklabels()) > 1
    colours = mapview._artists["zones"][0].get_facecolors()[:, :3]
    assert not np.allclose(colours, colours[0])


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_colour_bar_labels_read_horizontally_inside_a_narrow_map(qtbot, city, language) -> None:
    mapview = _map(qtbot, city, (490, 700))  # the Results tab's map
    mapview.set_road_values(pd.Series(0.5, index=city.links.index), label="V/C")
    try:
        i18n.set_language(language, cjk_font=language == "zh")
        mapview.retranslate()
        mapview.canvas.draw()
        for layer in ("zones", "roads"):
            label = mapview._colorbars[layer].ax.yaxis.label
            assert label.get_text() and label.get_rotation() == 0
            assert _inside(label, mapview.figure), (layer, label.get_text())
    finally:
        i18n.set_language("en", cjk_font=False)


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_series_title_fits_a_narrow_panel(city, tmp_path, language) -> None:
    run = fake_run(city, tmp_path)
    run.manifest = {**run.manifest, "scenario": {"name": "new-school"}}
    figure = Figure(figsize=(3.8, 4.5), dpi=100)  # the Results tab's left panel
    FigureCanvasAgg(figure)
    try:
        i18n.set_language(language, cjk_font=language == "zh")
        series_figure(figure, run)
        figure.canvas.draw()
    finally:
        i18n.set_language("en", cjk_font=False)
    title = figure._suptitle
    assert title is not None and "new-school" in title.get_text()
    assert _inside(title, figure)
