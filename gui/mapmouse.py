"""Mouse on the map: click, drag to pan, wheel to zoom, coordinates under the pointer.

A left press that moves less than :data:`CLICK_PIXELS` before release is a click, and is
passed on even while the toolbar's Pan or Zoom tool is on (placing a school never drops a
click); a longer left drag pans the map (unless a toolbar tool is doing that already): the
last picture slides with the pointer (:class:`gui.map_canvas.MapCanvas`) and the map is
rendered, names and tiles chosen, when the drag ends; the wheel zooms about the pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CLICK_PIXELS = 4.0
ZOOM_STEP = 1.25


class MapMouse:
    """Mouse handling of a :class:`gui.mapview.MapView` (connects to its canvas).

    Parameters
    ----------
    mapview
        The map (its ``ax``, ``canvas``, ``toolbar``).
    click
        Called with (x, y, shift) for a click in city coordinates.
    moved
        Called with (x, y) as the pointer moves over the map, or (None, None) off it.
    """

    def __init__(
        self,
        mapview: Any,
        click: Callable[[float, float, bool], None],
        moved: Callable[[float | None, float | None], None],
    ) -> None:
        self.map = mapview
        self.click = click
        self.moved = moved
        self._press: tuple[float, float, tuple[float, float], tuple[float, float]] | None = None
        self.dragging = False
        canvas = mapview.canvas
        canvas.mpl_connect("button_press_event", self._on_press)
        canvas.mpl_connect("motion_notify_event", self._on_motion)
        canvas.mpl_connect("button_release_event", self._on_release)
        canvas.mpl_connect("scroll_event", self._on_scroll)

    def _on_press(self, event: Any) -> None:
        ax = self.map.ax
        if event.button != 1 or event.inaxes is not ax:
            self._press = None
            return
        self._press = (event.x, event.y, ax.get_xlim(), ax.get_ylim())
        self.dragging = False

    def _on_motion(self, event: Any) -> None:
        ax = self.map.ax
        inside = event.inaxes is ax and event.xdata is not None
        self.moved(*(float(event.xdata), float(event.ydata)) if inside else (None, None))
        if self._press is None or self.map.toolbar.mode:
            return
        px, py, (x0, x1), (y0, y1) = self._press
        if not self.dragging and np.hypot(event.x - px, event.y - py) <= CLICK_PIXELS:
            return
        self.dragging = True
        bbox = ax.bbox
        dx = (event.x - px) * (x1 - x0) / max(bbox.width, 1.0)
        dy = (event.y - py) * (y1 - y0) / max(bbox.height, 1.0)
        ax.set_xlim(x0 - dx, x1 - dx)
        ax.set_ylim(y0 - dy, y1 - dy)
        ratio = self.map.canvas.device_pixel_ratio or 1.0
        self.map.canvas.slide((event.x - px) / ratio, (py - event.y) / ratio)

    def _on_release(self, event: Any) -> None:
        press, self._press = self._press, None
        dragged, self.dragging = self.dragging, False
        if dragged:  # names and tiles wait for the end of a drag, and so does rendering
            self.map.view_changed()
            self.map.canvas.settle()
        if press is None or dragged or event.inaxes is not self.map.ax:
            return
        if np.hypot(event.x - press[0], event.y - press[1]) <= CLICK_PIXELS:
            self.click(float(event.xdata), float(event.ydata), "shift" in event.modifiers)

    def _on_scroll(self, event: Any) -> None:
        ax = self.map.ax
        if event.inaxes is not ax:
            return
        factor = 1 / ZOOM_STEP if event.button == "up" else ZOOM_STEP
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        cx, cy = event.xdata, event.ydata
        ax.set_xlim(cx + (x0 - cx) * factor, cx + (x1 - cx) * factor)
        ax.set_ylim(cy + (y0 - cy) * factor, cy + (y1 - cy) * factor)
        self.map.canvas.draw_idle()
