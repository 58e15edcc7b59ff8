"""Mouse on the map: click, drag to pan, wheel to zoom, coordinates under the pointer.

A left press that moves less than :data:`CLICK_PIXELS` before release is a click, and is
passed on even while the toolbar's Pan or Zoom tool is on (placing a school never drops a
click); a longer left drag pans the map (unless a toolbar tool is doing that already): the
last picture slides with the pointer (:class:`gui.map_canvas.MapCanvas`) and the map is
rendered, names and tiles chosen, when the drag ends; the wheel zooms about the pointer.

A left drag that starts on a placed point (a point policy's marker, see
:meth:`gui.mapview.MapView.point_at`; not while a toolbar tool is on) moves that point
instead of the map: the marker follows the pointer (blitted over the rest of the picture,
rendered once when the drag starts) and on release ``dropped`` gets the policy index and
the point's new place, which keeps the offset between the pointer and the point from the
press. A click (no drag) on a placed point is a click like any other, and
:attr:`MapMouse.clicked_point` names that point's policy while it is handled (None for a
click beside every point), so the window can select the policy.
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
    dropped
        Called with (policy index, x, y) when a dragged point is released on the map.
    """

    def __init__(
        self,
        mapview: Any,
        click: Callable[[float, float, bool], None],
        moved: Callable[[float | None, float | None], None],
        dropped: Callable[[int, float, float], None] | None = None,
    ) -> None:
        self.map = mapview
        self.click = click
        self.moved = moved
        self.dropped = dropped
        self._press: tuple[float, float, tuple[float, float], tuple[float, float]] | None = None
        self.dragging = False
        self.grab: PointDrag | None = None  # the point being (or about to be) dragged
        #: The policy index of the placed point under the click being handled, or None.
        self.clicked_point: int | None = None
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
        grabbed = None if self.map.toolbar.mode else self.map.point_at(event.x, event.y)
        self.grab = None
        if grabbed is not None:
            index, artist = grabbed
            self.grab = PointDrag(self.map, index, artist, event.x, event.y)

    def _on_motion(self, event: Any) -> None:
        ax = self.map.ax
        inside = event.inaxes is ax and event.xdata is not None
        self.moved(*(float(event.xdata), float(event.ydata)) if inside else (None, None))
        if self._press is None or (self.map.toolbar.mode and self.grab is None):
            return
        px, py, (x0, x1), (y0, y1) = self._press
        if not self.dragging and np.hypot(event.x - px, event.y - py) <= CLICK_PIXELS:
            return
        self.dragging = True  # the map's or a point's: no hover tooltips meanwhile
        if self.grab is not None:
            self.grab.follow(event.x, event.y)
            return
        bbox = ax.bbox
        dx = (event.x - px) * (x1 - x0) / max(bbox.width, 1.0)
        dy = (event.y - py) * (y1 - y0) / max(bbox.height, 1.0)
        ax.set_xlim(x0 - dx, x1 - dx)
        ax.set_ylim(y0 - dy, y1 - dy)
        ratio = self.map.canvas.device_pixel_ratio or 1.0
        self.map.canvas.slide((event.x - px) / ratio, (py - event.y) / ratio)

    def _on_release(self, event: Any) -> None:
        press, self._press = self._press, None
        grab, self.grab = self.grab, None
        if grab is not None and grab.started:
            self.dragging = False
            where = grab.drop(event.x, event.y, inside=event.inaxes is self.map.ax)
            if where is not None and self.dropped is not None:
                self.dropped(grab.index, *where)
            return
        dragged, self.dragging = self.dragging, False
        if dragged:  # names and tiles wait for the end of a drag, and so does rendering
            self.map.view_changed()
            self.map.canvas.settle()
        if press is None or dragged or event.inaxes is not self.map.ax:
            return
        if np.hypot(event.x - press[0], event.y - press[1]) <= CLICK_PIXELS:
            point = self.map.point_at(event.x, event.y)
            self.clicked_point = None if point is None else point[0]
            try:
                self.click(float(event.xdata), float(event.ydata), "shift" in event.modifiers)
            finally:
                self.clicked_point = None

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


class PointDrag:
    """A point marker following the pointer: the press, then :meth:`follow` and :meth:`drop`.

    Parameters
    ----------
    mapview
        The map (``ax``, ``canvas``).
    index
        The policy index of the point.
    artist
        Its marker (a one-point ``Line2D``).
    px, py
        The press, in display pixels.
    """

    def __init__(self, mapview: Any, index: int, artist: Any, px: float, py: float) -> None:
        self.map = mapview
        self.index = index
        self.artist = artist
        self.press = (px, py)
        self.start = (float(artist.get_xdata()[0]), float(artist.get_ydata()[0]))
        self.started = False
        self._background: Any = None

    def at(self, px: float, py: float) -> tuple[float, float]:
        """The point's place (city metres) with the pointer at display pixel (px, py)."""
        to_data = self.map.ax.transData.inverted()
        (x0, y0), (x1, y1) = to_data.transform([self.press, (px, py)])
        return self.start[0] + x1 - x0, self.start[1] + y1 - y0

    def follow(self, px: float, py: float) -> None:
        """Draw the marker under the pointer over the picture of the rest of the map."""
        canvas, ax = self.map.canvas, self.map.ax
        if not self.started:  # one render without the marker, then blit it on top
            self.started = True
            self.artist.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(ax.bbox)
        x, y = self.at(px, py)
        self.artist.set_data([x], [y])
        canvas.restore_region(self._background)
        ax.draw_artist(self.artist)
        canvas.blit(ax.bbox)

    def drop(self, px: float, py: float, *, inside: bool) -> tuple[float, float] | None:
        """End the drag: the new place, or None (back where it was) if let go off the map."""
        where = self.at(px, py) if inside else None
        x, y = where if where is not None else self.start
        self.artist.set_data([x], [y])
        self.artist.set_animated(False)
        self.map.canvas.draw_idle()
        return where
