"""Closing a whole street with one click, trimming it with Shift-click, as a planner would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt

NAME = "Camino Ovalle La Serena"


def _click(qtbot: Any, mapview: Any, x: float, y: float, shift: bool = False) -> None:
    mapview.canvas.draw()
    px, py = mapview.data_to_pixel(x, y)
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    pos = QPoint(round(px), round(py))
    qtbot.mouseClick(mapview.canvas, Qt.MouseButton.LeftButton, modifier, pos)


def test_click_closes_the_whole_street_and_shift_click_trims(
    window: Any, qtbot: Any, screenshots: Path
) -> None:
    links = window.city.links
    street = links[links["name"] == NAME]
    piece = int(street["length_m"].idxmax())
    mid = links.geometry.loc[piece].interpolate(0.5, normalized=True)
    window.map.set_view_limits((mid.x - 150, mid.x + 150), (mid.y - 150, mid.y + 150))
    editor = window.editor
    editor.add_type.setCurrentIndex(editor.add_type.findData("road_closure"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    _click(qtbot, window.map, mid.x, mid.y)
    closed = set(window.doc.policies[-1]["links"])
    assert closed == set(street.index) or (piece in closed and len(closed) > 10)
    assert closed <= set(street.index)
    label = editor.policy_list.item(editor.policy_list.count() - 1).text()
    assert f"{NAME} · " in label and " km · both directions" in label
    km = float(label.split(f"{NAME} · ")[1].split(" km")[0])
    total_km = links.loc[sorted(closed), "length_m"].sum() / 1000
    assert total_km / 2 - 0.1 <= km <= total_km  # the street once, not each direction
    # Shift-click trims the piece under the mouse (both of its directions) ...
    _click(qtbot, window.map, mid.x, mid.y, shift=True)
    trimmed = set(window.doc.policies[-1]["links"])
    assert piece not in trimmed and 1 <= len(closed - trimmed) <= 2
    # ... and extends it again
    _click(qtbot, window.map, mid.x, mid.y, shift=True)
    assert set(window.doc.policies[-1]["links"]) == closed
    window.map.set_view_limits(*_extent(links.loc[sorted(closed)]))
    window.map.canvas.draw()
    window.grab().save(str(screenshots / "street_closure.png"))


def _extent(part: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    x0, y0, x1, y1 = part.total_bounds
    pad = 300.0
    return (x0 - pad, x1 + pad), (y0 - pad, y1 + pad)
