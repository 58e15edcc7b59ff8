"""Map basics, driven with the mouse: fills the window, scale bar, north arrow, coordinates,
drag to pan, wheel zoom, Home, clicks kept while Pan/Zoom is on, selection, catchments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _pointer import hover
from pyproj import Transformer
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication


def _pos(mapview: Any, x: float, y: float) -> QPoint:
    px, py = mapview.data_to_pixel(x, y)
    return QPoint(round(px), round(py))


def _centre(mapview: Any) -> tuple[float, float]:
    (x0, x1), (y0, y1) = mapview.view_limits()
    return (x0 + x1) / 2, (y0 + y1) / 2


def test_map_fills_its_box_with_scale_bar_and_north_arrow(window: Any, screenshots: Path) -> None:
    mapview = window.map
    mapview.canvas.draw()
    pos = mapview.ax.get_position()
    assert pos.width == pytest.approx(0.86, abs=0.01) and pos.height == pytest.approx(1.0, abs=0.01)
    (x0, x1), (y0, y1) = mapview.view_limits()
    bbox = mapview.ax.bbox
    assert (x1 - x0) / (y1 - y0) == pytest.approx(bbox.width / bbox.height, rel=0.02)  # equal
    text = mapview.decor.label.get_text()
    metres = float(text.split()[0]) * (1000 if text.endswith("km") else 1)
    (bx0, bx1), _ = mapview.decor.bar.get_data()
    assert (bx1 - bx0) * (x1 - x0) == pytest.approx(metres, rel=1e-6)
    assert mapview.decor.arrow.get_text() == "N"
    window.grab().save(str(screenshots / "map.png"))


def test_pointer_readout_in_lon_lat_and_metres(window: Any, qtbot: Any) -> None:
    mapview = window.map
    mapview.canvas.draw()
    x, y = _centre(mapview)
    hover(mapview.canvas, QPointF(_pos(mapview, x, y)))
    text = mapview.coords.text()
    assert "e+0" not in text and " m" in text and "," in text
    lon, lat = Transformer.from_crs(window.city.crs, "EPSG:4326", always_xy=True).transform(x, y)
    got_lon = float(text.split("lon ")[1].split(",")[0])
    got_lat = float(text.split("lat ")[1].split(" ")[0])
    assert got_lon == pytest.approx(lon, abs=0.002) and got_lat == pytest.approx(lat, abs=0.002)


def test_drag_pans_wheel_zooms_and_home_restores(window: Any, qtbot: Any) -> None:
    mapview = window.map
    mapview.canvas.draw()
    home = mapview.view_limits()
    (x0, x1), _ = home
    start = _pos(mapview, *_centre(mapview))
    qtbot.mousePress(mapview.canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(mapview.canvas, start + QPoint(20 * step, 0))
    # while dragging, the last picture slides with the pointer: no render per mouse move
    assert mapview.canvas.offset == pytest.approx((100.0, 0.0))
    qtbot.mouseRelease(mapview.canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(100, 0))
    assert mapview.canvas.offset is None  # rendered at the new place
    (p0, p1), _ = mapview.view_limits()
    assert p0 < x0 and p1 - p0 == pytest.approx(x1 - x0)  # moved west by the drag, same scale
    assert window.doc.policies == []  # a drag is not a click
    mapview.canvas.draw()
    centre = QPointF(*[float(v) for v in (start.x(), start.y())])
    wheel = QWheelEvent(
        centre,
        mapview.canvas.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(mapview.canvas, wheel)
    (z0, z1), _ = mapview.view_limits()
    assert z1 - z0 < 0.9 * (p1 - p0)  # zoomed in
    mapview.toolbar._actions["home"].trigger()
    mapview.canvas.draw()
    assert mapview.view_limits()[0] == pytest.approx(home[0], rel=1e-6)


def test_click_places_a_school_while_pan_tool_is_on(
    window: Any, qtbot: Any, click_map: Any
) -> None:
    mapview = window.map
    mapview.toolbar.pan()  # the toolbar's Pan tool is on
    assert mapview.toolbar.mode
    editor = window.editor
    editor.add_type.setCurrentIndex(editor.add_type.findData("new_school"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    x, y = _centre(mapview)
    click_map(mapview, x, y)
    assert window.doc.policies and window.doc.policies[-1]["type"] == "new_school"
    px, py = window.doc.policies[-1]["xy"]
    assert np.hypot(px - x, py - y) < 3 * mapview.tolerance(1.0)
    mapview.toolbar.pan()  # off again


def test_selection_is_highlighted_and_catchments_are_a_layer(
    window: Any, qtbot: Any, click_map: Any, screenshots: Path
) -> None:
    mapview = window.map
    school = window.city.schools.index[0]
    geom = window.city.schools.geometry.loc[school]
    mapview.set_view_limits((geom.x - 800, geom.x + 800), (geom.y - 800, geom.y + 800))
    click_map(mapview, geom.x, geom.y)
    assert window.info.item(1, 1).text() == str(school)
    assert len(mapview._highlight) == 1
    ring = mapview._highlight[0].get_xydata()[0]
    assert tuple(ring) == pytest.approx((geom.x, geom.y))
    window.grab().save(str(screenshots / "selected_school.png"))
    # catchment boundaries: drawn, and switched off from the layer list as a user would
    lines = mapview._artists["catchments"]
    assert lines and sum(len(c.get_segments()) for c in lines) > 10
    panel = window.layers
    item = next(
        panel.item(i)
        for i in range(panel.count())
        if panel.item(i).data(Qt.ItemDataRole.UserRole) == "catchments"
    )
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not any(c.get_visible() for c in lines)
    item.setCheckState(Qt.CheckState.Checked)
    assert all(c.get_visible() for c in lines)
