"""The map's Qt canvas: while a drag pans the map, the last picture slides with the pointer.

Rendering the city (tens of thousands of road vertices, the zones) takes tens of
milliseconds to a few hundred on a loaded machine; a drag would redraw it at every mouse
move. Instead, during a drag the map area of the last rendered picture is painted shifted
by the drag (the colour bars stay put) and the map is rendered once when the drag ends,
as web maps and GIS viewers do.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent


class MapCanvas(FigureCanvasQTAgg):
    """A figure canvas whose axes ``ax`` area can be shown shifted (:meth:`slide`)."""

    def __init__(self, figure: Any, background: str) -> None:
        super().__init__(figure)
        self.background = QColor(background)
        self.ax: Any = None  # the map axes, set by the map
        self.offset: tuple[float, float] | None = None  # widget pixels, while dragging

    def slide(self, dx: float, dy: float) -> None:
        """Show the last picture's map area moved by (dx, dy) widget pixels (y down)."""
        self.offset = (dx, dy)
        self.update()

    def settle(self) -> None:
        """The drag is over: render the map at its new place."""
        self.offset = None
        self.draw_idle()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the last picture with its map area shifted while dragging, else as usual."""
        if self.offset is None or self.ax is None or not hasattr(self, "renderer"):
            super().paintEvent(event)
            return
        ratio = self.device_pixel_ratio or 1.0
        width, height = self.get_width_height(physical=True)
        buf = memoryview(self.buffer_rgba())
        image = QImage(buf, width, height, QImage.Format.Format_RGBA8888)
        image.setDevicePixelRatio(ratio)
        x0, y0, x1, y1 = self.ax.bbox.extents
        box = QRectF(x0 / ratio, (height - y1) / ratio, (x1 - x0) / ratio, (y1 - y0) / ratio)
        painter = QPainter(self)
        try:
            painter.drawImage(QPointF(0, 0), image)
            painter.setClipRect(box)
            painter.fillRect(box, self.background)
            painter.drawImage(QPointF(*self.offset), image)
        finally:
            painter.end()
