"""Dragging a placed point on the map moves its policy; a click still picks, a drag pans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from gui.editor import policy_template


def _pos(mapview: Any, x: float, y: float) -> QPoint:
    px, py = mapview.data_to_pixel(x, y)
    return QPoint(round(px), round(py))


def _metres_per_widget_pixel(mapview: Any) -> tuple[float, float]:
    """From the view limits and the axes' size on screen (not from the map's transform)."""
    (x0, x1), (y0, y1) = mapview.view_limits()
    ratio = mapview.canvas.device_pixel_ratio or 1.0
    bbox = mapview.ax.bbox
    return (x1 - x0) / (bbox.width / ratio), (y1 - y0) / (bbox.height / ratio)


def _drag(qtbot: Any, canvas: Any, start: QPoint, shift: QPoint, steps: int = 4) -> None:
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, steps + 1):
        qtbot.mouseMove(canvas, start + shift * step / steps)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + shift)


@pytest.fixture
def school(window: Any) -> tuple[int, tuple[float, float]]:
    """A new_school policy placed in a zone, the map zoomed to it, another policy selected."""
    doc, city = window.doc, window.city
    site = city.zones.geometry.iloc[10].representative_point()
    xy = (round(site.x, 1), round(site.y, 1))
    index = doc.add_policy(policy_template("new_school", doc, city, xy=xy))
    doc.add_policy(policy_template("new_school", doc, city, xy=(xy[0] + 5000, xy[1])))
    window.editor.select(index + 1)
    window.map.set_view_limits((xy[0] - 800, xy[0] + 800), (xy[1] - 800, xy[1] + 800))
    window.map.canvas.draw()
    return index, xy


def test_drag_moves_a_placed_point_in_one_undoable_edit(
    window: Any, qtbot: Any, school: tuple[int, tuple[float, float]], screenshots: Path
) -> None:
    index, (x, y) = school
    mapview, doc = window.map, window.doc
    doc.undo_stack.setClean()
    steps = doc.undo_stack.count()
    view = mapview.view_limits()
    mx, my = _metres_per_widget_pixel(mapview)
    start = _pos(mapview, x, y) + QPoint(2, -1)  # a little off the centre: still on it
    shift = QPoint(60, -40)  # right and up on screen
    qtbot.mousePress(mapview.canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(mapview.canvas, start + shift * step / 4)
    assert mapview.hovering.at is None  # no tooltip pops up over the point being dragged
    window.grab().save(str(screenshots / "map_drag_moving.png"))
    assert doc.policies[index]["xy"] == [x, y]  # nothing written before the release
    qtbot.mouseRelease(mapview.canvas, Qt.MouseButton.LeftButton, pos=start + shift)
    nx, ny = doc.policies[index]["xy"]
    # the point keeps its offset from the pointer: it moves by the drag, not to the pointer
    assert nx - x == pytest.approx(60 * mx, abs=0.06)
    assert ny - y == pytest.approx(40 * my, abs=0.06)  # screen up is north
    assert np.ravel(mapview.view_limits()) == pytest.approx(np.ravel(view))  # no pan
    assert doc.is_dirty() and window.windowTitle().endswith("*")
    assert doc.undo_stack.count() == steps + 1
    assert window.editor.current_index() == index  # the moved point is selected
    field = window.editor.form.widgets["xy"]
    assert [float(v) for v in field.text().split(",")] == [nx, ny]
    mapview.canvas.draw()
    marker = next(a for a in mapview._artists["policies"] if a.get_gid() == f"policy:{index}")
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == (nx, ny)  # redrawn there
    window.grab().save(str(screenshots / "map_drag_moved.png"))
    doc.undo_stack.undo()  # one step back: where it was
    assert doc.policies[index]["xy"] == [x, y]
    assert not doc.is_dirty()


def test_click_on_a_point_moves_nothing_and_a_drag_beside_it_pans(
    window: Any, qtbot: Any, click_map: Any, school: tuple[int, tuple[float, float]]
) -> None:
    index, (x, y) = school
    mapview, doc = window.map, window.doc
    steps = doc.undo_stack.count()
    click_map(mapview, x, y)
    assert doc.policies[index]["xy"] == [x, y] and doc.undo_stack.count() == steps
    assert window.info.rowCount() > 0  # the click still picks what is there
    (x0, _), _ = mapview.view_limits()
    mx, _ = _metres_per_widget_pixel(mapview)
    _drag(qtbot, mapview.canvas, _pos(mapview, x, y) + QPoint(0, 80), QPoint(50, 0))
    (p0, _), _ = mapview.view_limits()
    assert p0 - x0 == pytest.approx(-50 * mx, rel=1e-6)  # panned west by the drag
    assert doc.policies[index]["xy"] == [x, y] and doc.undo_stack.count() == steps


def test_a_point_let_go_off_the_map_goes_back(
    window: Any, qtbot: Any, school: tuple[int, tuple[float, float]]
) -> None:
    index, (x, y) = school
    mapview, doc = window.map, window.doc
    steps = doc.undo_stack.count()
    start = _pos(mapview, x, y)
    width = mapview.canvas.width()
    _drag(qtbot, mapview.canvas, start, QPoint(width - start.x() - 2, 0))  # onto the colour bars
    assert doc.policies[index]["xy"] == [x, y] and doc.undo_stack.count() == steps
