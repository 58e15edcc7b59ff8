"""The map's Qt canvas: rendered off the UI thread; while a drag pans, the picture slides.

Rendering the city (tens of thousands of road vertices, the zones, the colour bars' and
the names' text) takes 50 ms to a few hundred on a loaded machine. A redraw the map asks
for (``draw_idle``) is therefore rendered in a worker thread: the UI thread takes a
snapshot of the figure (a pickle, tens of ms), a worker unpickles it and renders it with
Agg, and the pixels come back into the canvas's buffer, which is painted as usual. Until
then the last picture stays on screen; requests made meanwhile are folded into one
render when the running one ends, and a result older than the picture shown (a
synchronous :meth:`MapCanvas.draw`, which tests, the point drag and the bench use) is
dropped. During a drag the map area of the last picture is painted shifted by the drag
(the colour bars stay put), and it stays shifted until the render at the new place is in,
as web maps and GIS viewers do. The legend and colour bars, mostly text, are painted
from a picture kept while they stay the same (:class:`DrawCache`).
"""

from __future__ import annotations

import functools
import pickle
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QPointF, QRectF, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QShowEvent
from shiboken6 import isValid

from gui import background
from gui.map_base import gc_paused


def render_snapshot(snapshot: bytes, size_inches: tuple[float, float], dpi: float) -> np.ndarray:
    """Render a pickled figure with Agg at ``size_inches`` and ``dpi`` (any thread).

    Returns its RGBA pixels, top row first, as the canvas's own buffer holds them. The
    figure made from the snapshot (~15k objects, in reference cycles) is garbage once
    rendered: with the collector paused while it lives, it stays in the youngest
    generation and goes in the next young pass (a few ms), instead of being promoted and
    calling for full passes over every object of the window (~100 ms on the UI thread).
    One figure is drawn at a time (:data:`gui.background.DRAWING`).
    """
    with background.DRAWING, gc_paused():
        return _render(snapshot, size_inches, dpi)


def _render(snapshot: bytes, size_inches: tuple[float, float], dpi: float) -> np.ndarray:
    figure = pickle.loads(snapshot)
    canvas = FigureCanvasAgg(figure)
    figure.set_dpi(dpi)  # a pickle keeps the dpi before the screen's pixel ratio
    figure.set_size_inches(size_inches)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


class MapCanvas(FigureCanvasQTAgg):
    """A figure canvas rendered off the UI thread whose axes ``ax`` can slide (:meth:`slide`).

    Attributes
    ----------
    renders
        How many renders of a snapshot were asked for (for tests).
    """

    def __init__(self, figure: Figure, background: str) -> None:
        super().__init__(figure)
        self.background = QColor(background)
        self.ax: Any = None  # the map axes, set by the map
        self.offset: tuple[float, float] | None = None  # widget pixels, while dragging
        self.renders = 0
        self._held: tuple[tuple[float, float], int] | None = None  # offset kept after a drag
        self._queued = False  # a render is asked for this turn of the event loop
        self._running = False  # a snapshot is being rendered in a worker
        self._again = False  # asked for while one was running
        self._snapshots = 0  # tickets: the newest snapshot taken
        self._shown = 0  # the snapshot (or a later synchronous draw) now in the buffer
        self._stale = False  # asked for while hidden: rendered when shown
        self._drawn: Any = None  # the renderer whose buffer holds the picture on show
        self.blank = True  # nothing to show yet (no city): not rendered, the background

    @property
    def rendering(self) -> bool:
        """Whether a render is asked for or running (tests and the bench wait on this)."""
        return self._queued or self._running or self._again

    def draw_idle(self) -> None:
        """Render soon, off the UI thread (the map keeps its last picture meanwhile)."""
        if not self._queued:
            self._queued = True
            QTimer.singleShot(0, self._render)

    def draw(self) -> None:
        """Render now, on this thread (tests, the point drag, the bench's redraw times)."""
        super().draw()
        self._drawn = self.renderer
        self._shown = self._snapshots  # newer than any snapshot taken so far
        self._held = None

    def _render(self) -> None:
        if not isValid(self):
            return
        if background.stepping():  # a load's steps still run: once, after the last
            background.after_steps(self._render)
            return
        self._queued = False
        if self.blank:
            return
        if self._running:
            self._again = True
            return
        if not self.isVisible():
            self._stale = True
            return
        width, height = self.get_width_height(physical=True)
        if width <= 0 or height <= 0:
            return
        self._queued = True  # what the aspect changes now (names) is in this snapshot
        try:
            if self.ax is not None:
                self.ax.apply_aspect()  # the limits a draw would set (equal aspect)
            snapshot = pickle.dumps(self.figure)
        finally:
            self._queued = False
        self._snapshots += 1
        self.renders += 1
        ticket, size, dpi = self._snapshots, tuple(self.figure.get_size_inches()), self.figure.dpi
        self._running = True
        background.run_detached(
            lambda: render_snapshot(snapshot, size, dpi),
            lambda pixels: self._rendered(ticket, pixels),
            self._failed,
            quiet=True,
        )

    def _rendered(self, ticket: int, pixels: np.ndarray) -> None:
        if not isValid(self):
            return
        self._running = False
        width, height = self.get_width_height(physical=True)
        if ticket > self._shown and pixels.shape[:2] == (height, width):  # else: resized since
            renderer = self._drawn = self.get_renderer()
            np.asarray(renderer.buffer_rgba())[...] = pixels
            self._shown = ticket
            if self._held is not None and ticket > self._held[1]:
                self._held = None
            self.update()
        if self._again:
            self._again = False
            self.draw_idle()

    def _failed(self, exc: Exception) -> None:
        if isValid(self):
            self._running = self._again = False
        raise exc  # reported by Qt (and failed by pytest-qt in tests)

    def showEvent(self, event: QShowEvent) -> None:
        """Render what was asked for while the map was hidden."""
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.draw_idle()

    def slide(self, dx: float, dy: float) -> None:
        """Show the last picture's map area moved by (dx, dy) widget pixels (y down)."""
        self.offset = (dx, dy)
        self.update()

    def settle(self) -> None:
        """The drag is over: render the map at its new place (slid until it is in)."""
        if self.offset is not None:
            self._held = (self.offset, self._snapshots)
        self.offset = None
        self.draw_idle()

    @property
    def shift(self) -> tuple[float, float] | None:
        """How far the map area of the picture on show is painted shifted (None: not)."""
        return self.offset or (self._held[0] if self._held is not None else None)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the last picture (its map area shifted while dragging), never render.

        The picture stays at its place and size while a resize waits for its render (the
        rest is the background); matplotlib's own paint would make a blank buffer at
        the new size. Before any render: the background alone.
        """
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.background)
            renderer = getattr(self, "renderer", None)
            if renderer is None or renderer is not self._drawn:
                return
            ratio = self.device_pixel_ratio or 1.0
            buf = np.asarray(renderer.buffer_rgba())
            height, width = buf.shape[:2]
            image = QImage(memoryview(buf), width, height, QImage.Format.Format_RGBA8888)
            image.setDevicePixelRatio(ratio)
            painter.drawImage(QPointF(0, 0), image)
            offset = self.shift
            if offset is not None and self.ax is not None:
                x0, y0, x1, y1 = self.ax.bbox.extents
                box = QRectF(
                    x0 / ratio, (height - y1) / ratio, (x1 - x0) / ratio, (y1 - y0) / ratio
                )
                painter.setClipRect(box)
                painter.fillRect(box, self.background)
                painter.drawImage(QPointF(*offset), image)
                painter.setClipping(False)
            self._draw_rect_callback(painter)  # the zoom tool's rubber band, as matplotlib's
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
