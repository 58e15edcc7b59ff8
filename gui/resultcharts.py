"""The Results view's charts: KPI time series with bands, and one school's fan chart.

Each chart draws its data once (:meth:`SeriesChart.draw`, :meth:`FanChart.draw`) and
relabels itself in the current language without redrawing the data
(:meth:`SeriesChart.relabel`): a language switch costs a few text changes. Margins are
fixed (no ``tight_layout``, which measured every tick label on each call).
"""

from __future__ import annotations

from typing import cast

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gui.i18n import kpi_label, tr
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
        self.figure = Figure(figsize=(6, 4.5))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.axes: list[Axes] = []
        self._run: RunData | None = None

    def draw(self, run: RunData) -> None:
        """Plot ``run``'s KPIs (lines carry their KPI name as gid, for the legends)."""
        self._run = run
        fig = self.figure
        fig.clear()
        s = run.kpis_summary
        self.axes = list(fig.subplots(2, 2, sharex=True).flat)
        for ax, (_title, kpis) in zip(self.axes, SERIES, strict=True):
            for kpi in kpis:
                part = s[s["kpi"] == kpi].sort_values("year")
                if part["p50"].notna().any():
                    ax.fill_between(part["year"], part["p10"], part["p90"], alpha=0.25)
                    (line,) = ax.plot(part["year"], part["p50"], marker="o", ms=3)
                    line.set_gid(kpi)
            _style(ax)
        fig.subplots_adjust(left=0.2, right=0.97, bottom=0.1, top=0.86, wspace=0.65, hspace=0.45)
        self.relabel()

    def relabel(self) -> None:
        """Titles, axis labels and legends in the current language (data untouched)."""
        if self._run is None:
            return
        for ax, (title, kpis) in zip(self.axes, SERIES, strict=True):
            ax.set_title(tr(title) if title else titled(kpis[0]), fontsize=8)
            lines = [line for line in ax.get_lines() if line.get_gid()]
            for line in lines:
                line.set_label(kpi_label(str(line.get_gid())))
            if len(kpis) > 1 and lines:
                ax.legend(fontsize=7)
        for ax in self.axes[2:]:
            ax.set_xlabel(tr("year"), fontsize=8)
        self.figure.suptitle(
            tr("{scenario}: median and p10–p90 band over {n} replication(s)").format(
                scenario=self._run.manifest["scenario"]["name"],
                n=self._run.manifest["replications"],
            ),
            fontsize=9,
        )
        self.canvas.draw_idle()


class FanChart:
    """One school's pupils by year: median, 80 % and 95 % bands, and its places."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(5, 3))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.school: str | None = None
        self._name = ""

    def draw(self, run: RunData, school: str) -> None:
        """Plot ``school`` over the years it is open (a new school: from its opening)."""
        series = school_series(run, school)
        series = series[series["capacity"] > 0]
        self.school = school
        self._name = str(run.schools.set_index("school_id")["name"].get(school, school))
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot()
        years = series.index.to_numpy()
        blue = "tab:blue"
        ax.fill_between(years, series["p025"], series["p975"], alpha=0.18, color=blue, gid="p95")
        ax.fill_between(years, series["p10"], series["p90"], alpha=0.35, color=blue, gid="p80")
        ax.plot(years, series["p50"], color=blue, marker="o", ms=3, gid="median")
        ax.plot(years, series["capacity"], color="black", ls="--", marker="_", gid="capacity")
        if len(years) == 1:  # one year: a visible span around it, never 1925-2125
            ax.set_xlim(years[0] - 1, years[0] + 1)
        _style(ax)
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.16, top=0.88)
        self.relabel()

    def relabel(self) -> None:
        """Title, axis labels and legend in the current language (data untouched)."""
        if self.school is None or not self.figure.axes:
            return
        ax = self.figure.axes[0]
        artists = [a for a in (*ax.collections, *ax.get_lines()) if a.get_gid() in FAN_LABELS]
        for artist in artists:
            artist.set_label(tr(FAN_LABELS[str(artist.get_gid())]))
        ax.legend(handles=artists, fontsize=7, loc="best")
        title = tr("Pupils at {school}").format(school=f"{self._name} ({self.school})")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(tr("year"), fontsize=8)
        ax.set_ylabel(tr("pupils"), fontsize=8)
        self.canvas.draw_idle()
