"""Results of one run: time series, per-school enrollment with bands, the peak traffic map.

Reads a run folder with :func:`sim.runs.folder.read_run`; values are medians over replications
with p10-p90 bands (the ``kpis_summary`` and ``enrollment`` tables of the run).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.background import cached_city, run_in_background
from gui.i18n import kpi_label, tr
from gui.mapview import MapView
from sim.city import City
from sim.kpis import KPI_BY_NAME
from sim.runs.catalog import Catalog
from sim.runs.folder import RunData, read_run

#: The four time-series panels: a title (None: the KPI's own label and unit) and KPIs.
SERIES: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("population",)),
    ("Pupils by level", ("pupils_primary", "pupils_junior")),
    (None, ("vkt",)),
    (None, ("delay_vh",)),
)
SCHOOL_COLUMNS = ("school", "name", "level", "capacity", "p10", "p50", "p90", "utilisation")


def _titled(kpi: str) -> str:
    unit = KPI_BY_NAME[kpi].unit
    return f"{kpi_label(kpi)} ({unit})" if unit else kpi_label(kpi)


def _read(run_dir: str | Path) -> tuple[RunData, City]:
    """A run folder and its city (thread-safe; raises CitySandboxError)."""
    run = read_run(run_dir)
    return run, cached_city(run.manifest["city"])


def _integer_ticks(ax: Axes) -> None:
    """Whole years on the x axis (the default locator is a MaxNLocator)."""
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)


def school_table(run: RunData, year: int) -> pd.DataFrame:
    """Per-school pupils (all grades) in ``year``: capacity, p10/p50/p90 and utilisation.

    The band of a school is the sum of its grades' bands (a slightly wide band).
    """
    e = run.enrollment[run.enrollment["year"] == year]
    table = e.groupby("school")[["capacity", "p10", "p50", "p90"]].sum()
    table["utilisation"] = table["p50"] / table["capacity"].where(table["capacity"] > 0)
    info = run.schools.set_index("school_id")[["name", "level"]]
    table = table.join(info, how="left").reset_index()
    return table[list(SCHOOL_COLUMNS)].sort_values("utilisation", ascending=False)


def school_series(run: RunData, school: str) -> pd.DataFrame:
    """One school's pupils by year (all grades): capacity, p025, p10, p50, p90, p975."""
    e = run.enrollment[run.enrollment["school"] == school]
    return e.groupby("year")[["capacity", "p025", "p10", "p50", "p90", "p975"]].sum()


def fill_table(table: QTableWidget, frame: pd.DataFrame, digits: int = 2) -> None:
    """Show a DataFrame in a QTableWidget (numbers right-aligned and rounded)."""
    table.setSortingEnabled(False)
    table.clear()
    table.setRowCount(len(frame))
    table.setColumnCount(len(frame.columns))
    table.setHorizontalHeaderLabels([tr(str(c)) for c in frame.columns])
    for r, row in enumerate(frame.itertuples(index=False)):
        for c, value in enumerate(row):
            item = QTableWidgetItem()
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                if pd.isna(value):
                    item.setText("")
                else:
                    item.setData(Qt.ItemDataRole.DisplayRole, round(float(value), digits))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            else:
                item.setText("" if value is None or value is pd.NA else str(value))
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.setSortingEnabled(True)


class ResultsView(QWidget):
    """Time series, the school table with a fan chart, and the traffic map of one run.

    Signals
    -------
    runLoaded(str)
        The run folder now shown.
    failed(str)
        A run chosen in the run list could not be read (the message says why).
    """

    runLoaded = Signal(str)
    failed = Signal(str)

    def __init__(self, runs_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_folder = Path(runs_folder)
        self.run: RunData | None = None
        self.runs = QComboBox()
        self.runs.activated.connect(self._run_chosen)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.year = QComboBox()
        self.year.currentIndexChanged.connect(self._year_changed)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("font-size: 15px; color: #666")
        self.series_figure = Figure(figsize=(6, 4.5))
        self.series_canvas = FigureCanvasQTAgg(self.series_figure)
        self.fan_figure = Figure(figsize=(5, 3))
        self.fan_canvas = FigureCanvasQTAgg(self.fan_figure)
        self.schools = QTableWidget()
        self.schools.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.schools.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.schools.itemSelectionChanged.connect(self._school_selected)
        self.map = MapView(title="Peak-hour traffic (V/C) and school utilisation")
        self._labels = [QLabel(), QLabel()]
        top = QHBoxLayout()
        top.addWidget(self._labels[0])
        top.addWidget(self.runs, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self._labels[1])
        top.addWidget(self.year)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.series_canvas)
        left.addWidget(self.map)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.schools)
        right.addWidget(self.fan_canvas)
        self.body = QSplitter()
        self.body.addWidget(left)
        self.body.addWidget(right)
        self.body.setSizes([700, 500])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.body, 10)
        self.retranslate()
        self._set_empty(True)

    def retranslate(self) -> None:
        """Re-apply translated labels and redraw the charts."""
        self._labels[0].setText(tr("Run:"))
        self._labels[1].setText(tr("Year:"))
        self.refresh_button.setText(tr("Refresh"))
        self.empty.setText(tr("No finished run yet: run a scenario (Run tab) to see results here."))
        self.map.retranslate()
        if self.run is not None:
            self._draw_series()
            self._fill_schools()

    def refresh_runs(self) -> None:
        """Re-read the runs catalog into the run chooser."""
        current = self.runs.currentData()
        self.runs.clear()
        for row in Catalog(self.runs_folder).runs().itertuples():
            if row.status == "done":
                self.runs.addItem(f"{row.scenario} · {Path(row.path).name}", row.path)
        if current is not None:
            self.runs.setCurrentIndex(max(self.runs.findData(current), 0))

    def load_latest(self) -> bool:
        """Show the newest finished run of the catalog; False when there is none."""
        self.refresh_runs()
        latest = Catalog(self.runs_folder).latest()
        if latest is None:
            return False
        self.load_async(str(latest))
        return True

    def load(self, run_dir: str | Path) -> None:
        """Show the run in ``run_dir`` (raises CitySandboxError if it is not a run)."""
        self.show_run(*_read(run_dir))

    def load_async(self, run_dir: str | Path) -> None:
        """:meth:`load`, reading the run and its city off the UI thread (errors: ``failed``)."""
        run_in_background(
            self,
            lambda: _read(run_dir),
            lambda read: self.show_run(*read),
            lambda exc: self.failed.emit(str(exc)),
        )

    def show_run(self, run: RunData, city: City) -> None:
        """Show a run that has been read (:func:`sim.runs.folder.read_run`) and its city."""
        self.run = run
        self.refresh_runs()
        self.runs.setCurrentIndex(max(self.runs.findData(str(Path(run.path).resolve())), 0))
        self.map.set_city(city)
        zones = self.run.zones.set_index("zone_id")
        numeric = [
            c for c in zones.columns if c != "geometry" and pd.api.types.is_numeric_dtype(zones[c])
        ]
        self.map.set_zone_values(
            {c: zones[c].astype(float) for c in numeric}, select="population_end"
        )
        years = sorted(self.run.enrollment["year"].unique())
        self.year.blockSignals(True)
        self.year.clear()
        for y in years:
            self.year.addItem(str(y), int(y))
        self.year.setCurrentIndex(len(years) - 1)
        self.year.blockSignals(False)
        self._set_empty(False)
        self._draw_series()
        self._year_changed()
        self.runLoaded.emit(str(self.run.path))

    def _run_chosen(self, _index: int) -> None:
        self.load_async(self.runs.currentData())  # a deleted folder is reported by failed

    def selected_year(self) -> int:
        """The year shown in the table and on the map."""
        return int(self.year.currentData())

    def shown(self) -> RunData:
        """The run on show (a RuntimeError before one is loaded)."""
        if self.run is None:
            raise RuntimeError("no run loaded in the Results view")
        return self.run

    # -- drawing

    def _set_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.body.setVisible(not empty)

    def _draw_series(self) -> None:
        fig = self.series_figure
        fig.clear()
        run = self.shown()
        s = run.kpis_summary
        axes = fig.subplots(2, 2, sharex=True)
        for ax, (title, kpis) in zip(axes.flat, SERIES, strict=True):
            for kpi in kpis:
                part = s[s["kpi"] == kpi].sort_values("year")
                if part["p50"].notna().any():
                    ax.fill_between(part["year"], part["p10"], part["p90"], alpha=0.25)
                    ax.plot(part["year"], part["p50"], marker="o", ms=3, label=kpi_label(kpi))
            ax.set_title(tr(title) if title else _titled(kpis[0]), fontsize=9)
            ax.grid(alpha=0.3)
            if len(kpis) > 1:
                ax.legend(fontsize=7)
            _integer_ticks(ax)
        fig.suptitle(
            tr("{scenario}: median and p10–p90 band over {n} replication(s)").format(
                scenario=run.manifest["scenario"]["name"], n=run.manifest["replications"]
            ),
            fontsize=10,
        )
        fig.tight_layout()
        self.series_canvas.draw_idle()

    def _fill_schools(self) -> None:
        fill_table(self.schools, school_table(self.shown(), self.selected_year()))
        if self.schools.rowCount():
            self.schools.selectRow(0)

    def _year_changed(self) -> None:
        if self.run is None or self.year.currentData() is None:
            return
        year = self.selected_year()
        self._fill_schools()
        links = self.run.links
        peak = links[links["year"] == year].set_index("link_id")["vc"] if len(links) else None
        self.map.set_road_values(peak if peak is not None and len(peak) else None, label=tr("V/C"))
        table = school_table(self.run, year).set_index("school")
        schools = self.run.schools.set_index("school_id")
        self.map.set_schools(schools, table["utilisation"])

    def selected_school(self) -> str | None:
        """The school id selected in the table."""
        rows = self.schools.selectionModel().selectedRows() if self.schools.selectionModel() else []
        if not rows:
            return None
        item = self.schools.item(rows[0].row(), 0)
        return item.text() if item else None

    def _school_selected(self) -> None:
        school = self.selected_school()
        if self.run is None or school is None:
            return
        self.draw_fan(school)

    def draw_fan(self, school: str) -> None:
        """Fan chart of one school: median pupils, 80 % and 95 % bands, capacity."""
        run = self.shown()
        series = school_series(run, school)
        fig = self.fan_figure
        fig.clear()
        ax = fig.add_subplot()
        years = series.index.to_numpy()
        ax.fill_between(
            years,
            series["p025"],
            series["p975"],
            alpha=0.18,
            color="tab:blue",
            label=tr("95% band"),
        )
        ax.fill_between(
            years, series["p10"], series["p90"], alpha=0.35, color="tab:blue", label=tr("80% band")
        )
        ax.plot(years, series["p50"], color="tab:blue", marker="o", ms=3, label=tr("median"))
        ax.step(years, series["capacity"], where="mid", color="red", ls="--", label=tr("capacity"))
        name = run.schools.set_index("school_id")["name"].get(school, school)
        ax.set_title(tr("Pupils at {school}").format(school=f"{name} ({school})"), fontsize=9)
        _integer_ticks(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        self.fan_canvas.draw_idle()

    def export_tables(self, folder: Path) -> list[Path]:
        """Write the run as CSV: KPI bands by year, enrollment, schools in the year shown."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        year = self.selected_year()
        run = self.shown()
        tables = {
            "results_kpis.csv": run.kpis_summary,
            "results_enrollment.csv": run.enrollment,
            f"results_schools_{year}.csv": school_table(run, year),
        }
        for name, frame in tables.items():
            frame.to_csv(folder / name, index=False)
        return [folder / name for name in tables]
