"""What the map says about the feature under the pointer: the hover tooltip.

:class:`Hover` waits until the pointer rests (:data:`HOVER_MS`), picks the feature under
it and shows :func:`hover_text` as a tooltip; moving on or dragging hides it. Over a
placed point's marker it names that policy instead (:attr:`Hover.point_text`, given by
the window that knows the policies), not the zone or school beneath.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QToolTip

from gui.i18n import tr

HOVER_MS = 250


class Hover:
    """The hover tooltip of a :class:`gui.mapview.MapView` (``pick``, ``canvas``, ``mouse``)."""

    def __init__(self, mapview: Any) -> None:
        self.map = mapview
        self.text = ""  # the last tooltip shown
        self.at: tuple[float, float] | None = None
        #: The tooltip of the placed point of policy index i, or None (the map's own picks).
        self.point_text: Callable[[int], str] | None = None
        self.timer = QTimer(mapview)
        self.timer.setSingleShot(True)
        self.timer.setInterval(HOVER_MS)
        self.timer.timeout.connect(self.show)

    def moved(self, x: float | None, y: float | None) -> None:
        """The pointer moved to (x, y) on the map, or off it (None)."""
        dragging = getattr(self.map, "mouse", None) is not None and self.map.mouse.dragging
        self.at = None if x is None or y is None or dragging else (x, y)
        if self.at is None:
            self.timer.stop()
            QToolTip.hideText()
        else:
            self.timer.start()

    def show(self) -> None:
        """Show the tooltip of the feature under the resting pointer."""
        if self.at is None:
            return
        x, y = self.at
        point = None
        if self.point_text is not None:
            point = self.map.point_at(*self.map.ax.transData.transform((x, y)))
        if point is not None:
            self.text = self.point_text(point[0])
        else:
            self.text = hover_text(self.map.pick(x, y), self.map._road_label)
        px, py = self.map.data_to_pixel(x, y)
        where = self.map.canvas.mapToGlobal(QPoint(round(px), round(py)))
        QToolTip.showText(where, self.text, self.map.canvas)


def hover_text(feature: tuple[str, Any, dict[str, Any]] | None, road_value: str = "") -> str:
    """A short tooltip for a picked feature (see :meth:`gui.mapview.MapView.pick`).

    A school: name, level, capacity in seats and utilisation in % (with results); a road:
    street name, road class and the value it is coloured by; a zone: name and population.
    ``road_value`` names the road colouring (e.g. "V/C"), "" for none.
    """
    if feature is None:
        return ""
    kind, ident, props = feature
    if kind == "school":
        lines = [f"{props.get('name', ident)} ({ident})", tr(str(props.get("level", "")))]
        capacity = props.get("capacity")
        if capacity is not None and capacity == capacity:
            lines.append(tr("capacity {n} seats").format(n=f"{float(capacity):,.0f}"))
        util = props.get("utilisation")
        if util is not None and util == util:
            lines.append(tr("utilisation {pct} %").format(pct=f"{100 * float(util):.0f}"))
        return "\n".join(line for line in lines if line)
    if kind == "road":
        name = str(props.get("name") or "").strip() or tr("unnamed road")
        lines = [name, tr(str(props.get("link_type", "")))]
        if road_value and props.get(road_value) is not None:
            lines.append(f"{road_value} {props[road_value]:.2f}")
        return "\n".join(line for line in lines if line)
    name = props.get("name", ident)
    lines = [f"{tr('Zone')} {name}" if str(name) != str(ident) else f"{tr('Zone')} {ident}"]
    if props.get("population") is not None:
        lines.append(tr("population {n}").format(n=f"{float(props['population']):,.0f}"))
    return "\n".join(lines)
