"""The map's Qt canvas: while a drag pans the map, the last picture slides with the pointer.

Rendering the city (tens of thousands of road vertices, the zones) takes tens of
milliseconds to a few hundred on a loaded machine; a drag would redraw it at every mouse
move. Instead, during a drag the map area of the last rendered picture is painted shifted
by the drag (the colour bars stay put) and the map is rendered once when the drag ends,
as web maps and GIS viewers do. The legend and colour bars, mostly text, are painted
from a picture kept while they stay the same (:class:`DrawCache`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
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


class DrawCache:
    """Draws an artist once into an image and, until it changes, paints that image instead.

    The difference map's legend and the colour bars are mostly text, and matplotlib lays
    out and rasterises every glyph at every draw (tens to a hundred milliseconds on a
    loaded machine); a pan or zoom moves neither. On the screen (an Agg renderer) the
    artist is rendered alone onto a transparent buffer of the figure's size, its pixels
    are kept, and later draws paint them, until a part of it is stale, its place, limits
    or the canvas size or dpi change. Vector output (PDF, SVG) draws the artist as usual.

    Parameters
    ----------
    artist
        A legend or a colour bar's axes; its ``draw`` is replaced by :meth:`draw`.
    """

    def __init__(self, artist: Any) -> None:
        self.artist = artist
        self.image: np.ndarray | None = None  # RGBA rows bottom first, the artist's pixels
        self.at: tuple[int, int] = (0, 0)  # its lower left corner, display pixels
        self.key: tuple[Any, ...] | None = None
        self.renders = 0  # how many times the artist itself was drawn (for tests)
        artist.draw = self.draw

    def draw(self, renderer: Any) -> None:
        """Paint the kept image (rendering it first if the artist changed)."""
        if not self.artist.get_visible():
            return
        if not isinstance(renderer, RendererAgg):
            type(self.artist).draw(self.artist, renderer)  # the class's: text stays text
            return
        key = self._key(renderer)
        if self.image is None or key != self.key or self._stale():
            self._render(renderer)
            self.key = key
        if self.image is not None and self.image.size:
            gc = renderer.new_gc()
            try:
                renderer.draw_image(gc, *self.at, self.image)
            finally:
                gc.restore()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the figure (the print layout): without the screen's picture."""
        return self.__dict__ | {"image": None, "key": None, "renders": 0}

    def _key(self, renderer: Any) -> tuple[Any, ...]:
        artist = self.artist
        box = artist.axes.bbox if artist.axes is not None else artist.figure.bbox
        view = tuple(artist.viewLim.bounds) if hasattr(artist, "viewLim") else ()
        size = (renderer.width, renderer.height, renderer.dpi)
        return (*size, tuple(box.bounds), view, artist.get_alpha())

    def _stale(self) -> bool:
        """Whether a part of the artist changed since it was rendered.

        Not the artist itself: a colour bar's axes is placed anew, hence marked stale, at
        every figure draw (its place is in the key instead).
        """
        return any(a.stale for a in self.artist.findobj() if a is not self.artist)

    def _render(self, renderer: Any) -> None:
        alone = _offscreen(int(renderer.width), int(renderer.height), float(renderer.dpi))
        type(self.artist).draw(self.artist, alone)
        self.renders += 1
        width, height = int(renderer.width), int(renderer.height)
        box = self.artist.get_tightbbox(alone)  # its ink, a pixel or two to spare
        for part in self.artist.findobj():  # drawn now: a later change marks a part stale
            part.stale = False
        if box is None or not (box.width > 0 and box.height > 0):
            self.image = np.zeros((0, 0, 4), np.uint8)
            return
        left, right = max(int(box.x0) - 2, 0), min(int(np.ceil(box.x1)) + 2, width)
        top, bottom = (
            max(height - int(np.ceil(box.y1)) - 2, 0),
            min(height - int(box.y0) + 2, height),
        )
        pixels = np.asarray(alone.buffer_rgba())[top:bottom, left:right]
        self.image = pixels[::-1].copy()  # draw_image takes the rows bottom up
        self.at = (left, height - bottom)


@functools.lru_cache(maxsize=4)  # a few map sizes (the tabs' maps, the compare pair)
def _renderer(width: int, height: int, dpi: float) -> RendererAgg:
    return RendererAgg(width, height, dpi)


def _offscreen(width: int, height: int, dpi: float) -> RendererAgg:
    """A clear Agg renderer of this size, the same one while the size stays.

    The same renderer keeps matplotlib's text metrics (cached per renderer), so drawing
    a legend or a colour bar again does not measure its glyphs again.
    """
    renderer = _renderer(width, height, dpi)
    renderer.clear()
    return renderer
