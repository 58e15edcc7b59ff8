"""The Results view's charts: KPI time series with bands, and one school's fan chart.

Drawing a chart (building its artists and rendering them with Agg) takes a few hundred
ms on the default city, so it never happens on the UI thread: each chart is a
:class:`ChartImage`, which builds a fresh :class:`~matplotlib.figure.Figure` (Agg canvas,
no pyplot) in a worker thread (:func:`gui.background.run_detached`), renders it to
an image there, and only paints that image. Until the image is in, the widget says
"Drawing the chart…" (and the busy cursor shows). A language switch or a resize draws
the chart again the same way (a hidden chart, when it is shown; during a load's steps,
after the last, so that the worker does not compete with them for the interpreter); a
newer request supersedes an older one. Margins are fixed
(no ``tight_layout``, which measured every tick label on each call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from gui.background import DRAWING, after_steps, run_detached, stepping
from gui.i18n import ZH, kpi_label, tr
from gui.tables import thousands_axis
from sim.kpis import KPI_BY_NAME
from sim.runs.folder import RunData

#: The four time-series panels: a title (None: the KPI's own label and unit) and KPIs.
SERIES: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("population",)),
    ("Pupils by level", ("pupils_primary", "pupils_junior")),
    (None, ("vkt",)),
    (None, ("delay_vh",)),
)
#: The fan chart's series: artist id -> English legend label.
FAN_LABELS = {
    "p95": "95% band",
    "p80": "80% band",
    "median": "median",
    "capacity": "capacity",
}


ZH.update({"Drawing the chart…": "正在绘制图表…"})
#: After a resize, how long the size must hold before the chart is drawn again (ms).
RESIZE_SETTLE_MS = 150
#: A figure builder: draws a chart's artists and labels into an empty figure.
Builder = Callable[[Figure], None]


def render(build: Builder, size_px: tuple[int, int], dpi: float) -> tuple[Figure, QImage]:
    """A new figure of ``size_px`` built by ``build`` and rendered with Agg (any thread).

    One figure is drawn at a time (:data:`gui.background.DRAWING`).
    """
    width, height = size_px
    with DRAWING:
        figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        canvas = FigureCanvasAgg(figure)
        build(figure)
        canvas.draw()
    rgba = canvas.buffer_rgba()
    image = QImage(bytes(rgba), rgba.shape[1], rgba.shape[0], QImage.Format.Format_RGBA8888)
    return figure, image.copy()  # the copy owns its pixels


class ChartImage(QWidget):
    """A chart drawn off the UI thread: the widget paints the image a worker rendered.

    Parameters
    ----------
    figsize
        The figure size (inches) before the widget has a size of its own.

    Attributes
    ----------
    figure
        The figure of the image shown (for exports and tests; never changed once shown).
    """

    def __init__(self, figsize: tuple[float, float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=figsize)
        FigureCanvasAgg(self.figure)
        self._dpi = self.figure.get_dpi()  # of the figure, per device-independent inch
        self.image: QImage | None = None
        self._build: Builder | None = None
        self._asked = 0  # tickets: the newest request, the one shown
        self._shown = 0
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(RESIZE_SETTLE_MS)
        self._settle.timeout.connect(self._resized)
        self._pixels = (0, 0)  # the size asked for last
        self._stale = False  # asked for while hidden: drawn when shown
        self._waiting = False  # asked for while a load's steps run: drawn after the last
        self.setMinimumSize(120, 90)

    def show_chart(self, build: Builder) -> None:
        """Draw the chart ``build`` makes, in a worker thread (returns at once)."""
        self._build = build
        self.redraw()

    def redraw(self) -> None:
        """Draw the chart again (new labels, new size), off the UI thread.

        A hidden chart (another tab in front) is drawn when it is shown.
        """
        if self._build is None:
            return
        self._stale = not self.isVisible()
        if not self._stale:
            self._render()

    def _render(self) -> None:
        if not isValid(self):
            return
        build = self._build
        if build is None:
            return
        if stepping():  # a load's steps still run: drawn after the last, not against them
            if not self._waiting:
                self._waiting = True
                after_steps(self._render)
            return
        self._waiting = False
        self._asked += 1
        ticket = self._asked
        dpi = self._dpi * self.devicePixelRatioF()
        pixels = self._pixels = self._size_px()
        run_detached(  # a chart closed meanwhile is not waited on
            lambda: render(build, pixels, dpi),
            lambda drawn: self._drawn(ticket, *drawn),
            lambda exc: self._failed(ticket, exc),
        )
        self.update()

    def _size_px(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return round(max(self.width(), 120) * ratio), round(max(self.height(), 90) * ratio)

    def _resized(self) -> None:
        if self._size_px() != self._pixels:
            self.redraw()

    @property
    def drawing(self) -> bool:
        """Whether a chart asked for is still being drawn (or waits to be)."""
        return self._waiting or self._shown != self._asked

    def _drawn(self, ticket: int, figure: Figure, image: QImage) -> None:
        if not isValid(self) or ticket < self._shown:
            return  # an older request that finished late
        self._shown = ticket
        self.figure = figure
        image.setDevicePixelRatio(self.devicePixelRatioF())
        self.image = image
        self.update()

    def _failed(self, ticket: int, exc: Exception) -> None:
        if not isValid(self):
            return
        self._shown = max(self._shown, ticket)
        self.image = None
        self.setToolTip(str(exc))
        self.update()

    def showEvent(self, event: QShowEvent) -> None:
        """Draw what was asked for while the chart was hidden."""
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._render()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Draw again at the new size once the size holds (the old image stretches)."""
        super().resizeEvent(event)
        if self._build is not None:
            self._settle.start()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """The image (stretched to the widget while a new size is drawn), or a note."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if self.image is not None:
            painter.drawImage(self.rect(), self.image)
        if self.drawing:
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                tr("Drawing the chart…"),
            )
        painter.end()


def school_series(run: RunData, school: str) -> pd.DataFrame:
    """One school's pupils by year (all grades): capacity, p025, p10, p50, p90, p975."""
    e = run.enrollment[run.enrollment["school"] == school]
    return e.groupby("year")[["capacity", "p025", "p10", "p50", "p90", "p975"]].sum()


def titled(kpi: str) -> str:
    """A KPI's label with its unit, in the current language."""
    unit = KPI_BY_NAME[kpi].unit
    return f"{kpi_label(kpi)} ({tr(unit)})" if unit else kpi_label(kpi)


def _integer_ticks(ax: Axes) -> None:
    """Whole years on the x axis (the default locator is a MaxNLocator)."""
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)


def _style(ax: Axes) -> None:
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    _integer_ticks(ax)
    thousands_axis(ax)


class SeriesChart:
    """Median and p10-p90 band of the :data:`SERIES` KPIs over the run's years."""

    def __init__(self) -> None:
        self.view = ChartImage((6, 4.5))
        self._run: RunData | None = None

    @property
    def figure(self) -> Figure:
        """The figure shown (the newest drawn)."""
        return self.view.figure

    def draw(self, run: RunData) -> None:
        """Plot ``run``'s KPIs, off the UI thread (:class:`ChartImage`)."""
        self._run = run
        self.view.show_chart(lambda figure: series_figure(figure, run))

    def relabel(self) -> None:
        """Draw again in the current language (off the UI thread)."""
        if self._run is not None:
            self.view.redraw()


def series_figure(fig: Figure, run: RunData) -> None:
    """The :data:`SERIES` panels of ``run`` in ``fig`` (lines carry their KPI as gid)."""
    s = run.kpis_summary
    axes = list(fig.subplots(2, 2, sharex=True).flat)
    for ax, (title, kpis) in zip(axes, SERIES, strict=True):
        for kpi in kpis:
            part = s[s["kpi"] == kpi].sort_values("year")
            if part["p50"].notna().any():
                ax.fill_between(part["year"], part["p10"], part["p90"], alpha=0.25)
                (line,) = ax.plot(part["year"], part["p50"], marker="o", ms=3)
                line.set_gid(kpi)
                line.set_label(kpi_label(kpi))
        _style(ax)
        ax.set_title(tr(title) if title else titled(kpis[0]), fontsize=8)
        if len(kpis) > 1 and ax.get_lines():
            ax.legend(fontsize=7)
    for ax in axes[2:]:
        ax.set_xlabel(tr("year"), fontsize=8)
    fig.subplots_adjust(left=0.2, right=0.97, bottom=0.1, top=0.86, wspace=0.65, hspace=0.45)
    fig.suptitle(
        tr("{scenario}: median and p10–p90 band over {n} replication(s)").format(
            scenario=run.manifest["scenario"]["name"], n=run.manifest["replications"]
        ),
        fontsize=9,
        wrap=True,  # in lines that fit the figure (a narrow panel cut it off at both ends)
    )


class FanChart:
    """One school's pupils by year: median, 80 % and 95 % bands, and its places."""

    def __init__(self) -> None:
        self.view = ChartImage((5, 3))
        self.school: str | None = None

    @property
    def figure(self) -> Figure:
        """The figure shown (the newest drawn)."""
        return self.view.figure

    def draw(self, run: RunData, school: str) -> None:
        """Plot ``school`` over the years it is open, off the UI thread."""
        self.school = school
        self.view.show_chart(lambda figure: fan_figure(figure, run, school))

    def relabel(self) -> None:
        """Draw again in the current language (off the UI thread)."""
        if self.school is not None:
            self.view.redraw()


def fan_figure(fig: Figure, run: RunData, school: str) -> None:
    """``school``'s fan chart in ``fig`` (a new school: from its opening)."""
    series = school_series(run, school)
    series = series[series["capacity"] > 0]
    name = str(run.schools.set_index("school_id")["name"].get(school, school))
    ax = fig.add_subplot()
    years = series.index.to_numpy()
    blue = "tab:blue"
    bands = (
        ax.fill_between(years, series["p025"], series["p975"], alpha=0.18, color=blue, gid="p95"),
        ax.fill_between(years, series["p10"], series["p90"], alpha=0.35, color=blue, gid="p80"),
    )
    (median,) = ax.plot(years, series["p50"], color=blue, marker="o", ms=3, gid="median")
    (places,) = ax.plot(
        years, series["capacity"], color="black", ls="--", marker="_", gid="capacity"
    )
    if len(years) == 1:  # one year: a visible span around it, never 1925-2125
        ax.set_xlim(years[0] - 1, years[0] + 1)
    _style(ax)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.16, top=0.88)
    artists = [*bands, median, places]
    for artist in artists:
        artist.set_label(tr(FAN_LABELS[str(artist.get_gid())]))
    ax.legend(handles=artists, fontsize=7, loc="best")
    ax.set_title(tr("Pupils at {school}").format(school=f"{name} ({school})"), fontsize=9)
    ax.set_xlabel(tr("year"), fontsize=8)
    ax.set_ylabel(tr("pupils"), fontsize=8)
