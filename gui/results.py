"""Results of one run: time series, per-school enrollment with bands, the peak traffic map.

Reads a run folder with :func:`sim.runs.folder.read_run`; values are medians over replications
with p10-p90 bands (the ``kpis_summary`` and ``enrollment`` tables of the run).

A run read off the UI thread (:meth:`ResultsView.load_async`) is shown in steps
(:meth:`ResultsView.show_steps`: the map, the zones, the charts, the table, the school
markers, the roads), each in its own turn of the event loop, so no step waits on another
and the window keeps drawing; a language switch relabels without re-reading or redrawing
data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.background import cached_city, in_turns, run_in_background
from gui.i18n import tr
from gui.map_base import basemap_of
from gui.mapview import MapView
from gui.resultcharts import FanChart, SeriesChart
from gui.runlist import run_titles
from gui.stepper import Stepper
from gui.tables import cell_text, fill_table
from sim.city import City
from sim.mobility.departure import AM_START
from sim.runs.catalog import Catalog
from sim.runs.folder import RunData, read_run

#: The per-school table: column -> header (translated when shown); utilisation in %.
SCHOOL_HEADERS: dict[str, str] = {
    "school": "School",
    "name": "Name",
    "level": "Level",
    "capacity": "Places",
    "p10": "Pupils p10",
    "p50": "Pupils (median)",
    "p90": "Pupils p90",
    "utilisation": "Utilisation",
    "seats_short": "Seats short",
    "overflow": "Overflow (outside catchment)",
    "unplaced": "Unplaced",
}
SCHOOL_COLUMNS = tuple(SCHOOL_HEADERS)
#: Zone columns of the run folder's zones.gpkg -> the map's indicator names (translated).
ZONE_LABELS: dict[str, str] = {
    "population_start": "Population, start of run",
    "population_end": "Population, end of run",
    "growth_pct": "Population growth (%)",
    "pupils_end": "Pupils, end of run",
    "households_end": "Households, end of run",
    "dwellings_end": "Dwellings, end of run",
}


def _read(run_dir: str | Path) -> tuple[RunData, City, pd.DataFrame | None]:
    """A run folder, its city and its 5-minute link bins if any (thread-safe)."""
    run = read_run(run_dir)
    city = cached_city(run.manifest["city"])
    basemap_of(city)  # the map's basemap is built here, not on the UI thread (cached)
    return run, city, peak_bins(run.path)


def school_table(run: RunData, year: int) -> pd.DataFrame:
    """Per-school pupils (all grades) in ``year``, with names, seats short, overflow, unplaced.

    The band of a school is the sum of its grades' bands (a slightly wide band).
    ``seats_short`` adds up the median pupils over the places grade by grade (admission is
    per grade, so a full grade is not relieved by spare places in another).
    """
    e = run.enrollment[run.enrollment["year"] == year]
    e = e.assign(seats_short=(e["p50"] - e["capacity"]).clip(lower=0.0))
    sums = ["capacity", "p10", "p50", "p90", "seats_short", "overflow", "unplaced"]
    table = e.groupby("school")[sums].sum()
    table["utilisation"] = table["p50"] / table["capacity"].where(table["capacity"] > 0)
    info = run.schools.set_index("school_id")[["name", "level"]]
    table = table.join(info, how="left").reset_index()
    return table[list(SCHOOL_COLUMNS)].sort_values("utilisation", ascending=False)


def peak_bins(run_dir: str | Path) -> pd.DataFrame | None:
    """The run's 5-minute link table ``links_t.parquet`` (replication 0), None without one."""
    path = Path(run_dir) / "links_t.parquet"
    if not path.exists():
        return None
    bins = pd.read_parquet(path)
    if "replication" in bins:
        bins = bins[bins["replication"] == bins["replication"].min()]
    return bins


def clock(seconds: object) -> str:
    """A bin start (seconds after the AM period starts, 06:00) as ``HH:MM``.

    None stands for the whole peak hour.
    """
    if seconds is None:
        return tr("peak hour (V/C)")
    minutes = AM_START + int(float(str(seconds))) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class ResultsView(QWidget):
    """Time series, the school table with a fan chart, and the traffic map of one run.

    A year slider (with Play) steps the school table, the school markers and the road
    colours through the run's years; where the run has ``links_t.parquet`` a second slider
    steps the roads through the peak's 5-minute bins, coloured by queue length.

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
        self.bins: pd.DataFrame | None = None
        self._loading = 0  # counts loads: the steps of an older one stop
        #: What the roads of the map show now: a label and values per link_id (None: grey).
        self.road_label = ""
        self.road_values: pd.Series | None = None
        self.runs = QComboBox()
        self.runs.activated.connect(self._run_chosen)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.year = Stepper()
        self.year.changed.connect(self._year_changed)
        self.peak_time = Stepper(clock, interval_ms=500)
        self.peak_time.changed.connect(self._peak_time_changed)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("font-size: 15px; color: #666")
        self.series = SeriesChart()
        self.fan = FanChart()
        self.schools = QTableWidget()
        self.schools.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.schools.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.schools.itemSelectionChanged.connect(self._school_selected)
        self.map = MapView(title="Peak-hour traffic (V/C) and school utilisation")
        self._labels = [QLabel(), QLabel(), QLabel()]
        top = QHBoxLayout()
        top.addWidget(self._labels[0])
        top.addWidget(self.runs, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self._labels[1])
        top.addWidget(self.year, 1)
        top.addWidget(self._labels[2])
        top.addWidget(self.peak_time, 1)
        charts = QSplitter(Qt.Orientation.Vertical)
        charts.addWidget(self.series.view)
        charts.addWidget(self.fan.view)
        charts.setSizes([500, 300])
        # the map gets the middle column: the city is tall, so a tall column wastes no width
        self.body = QSplitter()
        self.body.addWidget(charts)
        self.body.addWidget(self.map)
        self.body.addWidget(self.schools)
        self.body.setSizes([450, 470, 480])
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
        self._labels[2].setText(tr("Peak time:"))
        self.refresh_button.setText(tr("Refresh"))
        self.empty.setText(tr("No finished run yet: run a scenario (Run tab) to see results here."))
        self.year.retranslate()
        self.peak_time.retranslate()
        self.map.retranslate()
        if self.run is not None:
            self.series.relabel()
            self.fan.relabel()
            self._relabel_schools()

    @property
    def series_figure(self) -> Figure:
        """The KPI chart's figure now shown (drawn off the UI thread: see ``charts_drawing``)."""
        return self.series.figure

    @property
    def fan_figure(self) -> Figure:
        """The school fan chart's figure now shown."""
        return self.fan.figure

    def charts_drawing(self) -> bool:
        """Whether a chart is still being drawn in a worker thread."""
        return self.series.view.drawing or self.fan.view.drawing

    def refresh_runs(self) -> None:
        """Re-read the runs catalog into the run chooser."""
        current = self.runs.currentData()
        self.runs.clear()
        for path, title in run_titles(self.runs_folder):
            self.runs.addItem(title, path)
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
        """:meth:`load`, reading the run and its city off the UI thread (errors: ``failed``).

        The run is then shown step by step (:meth:`show_steps`); the busy cursor stays
        until the last step and ``runLoaded`` is emitted by it.
        """
        self._loading += 1
        ticket = self._loading
        run_in_background(
            self,
            lambda: _read(run_dir),
            lambda read: self._in_turns(ticket, self.show_steps(*read)),
            lambda exc: self.failed.emit(str(exc)),
        )

    def show_run(self, run: RunData, city: City, bins: pd.DataFrame | None = None) -> None:
        """Show a run that has been read, its city and its 5-minute link bins (or None)."""
        self._loading += 1  # a load in progress is superseded
        for step in self.show_steps(run, city, bins):
            step()

    def show_steps(
        self, run: RunData, city: City, bins: pd.DataFrame | None = None
    ) -> list[Callable[[], None]]:
        """The steps that show a run, in order (:meth:`show_run` does them all at once)."""
        return [
            lambda: self._show_map(run, city, bins),
            self._show_zones,
            lambda: self.series.draw(run),
            self._show_years,
            *[lambda fn=fn: self._in_year(fn) for fn in self._year_steps()],
            lambda: self.runLoaded.emit(str(run.path)),
        ]

    def _year_steps(self) -> list[Callable[[], None]]:
        """What follows the year slider: the table, fan chart, markers, zones and roads."""
        return [
            self._fill_schools,
            self._school_selected,
            self._show_school_markers,
            lambda: self.map.show_zone_year(self.selected_year()),
            self._show_peak_times,
        ]

    def _in_year(self, step: Callable[[], None]) -> None:
        """Do ``step`` where a run with years is shown (an empty run shows no year)."""
        if self.run is not None and self.year.value() is not None:
            step()

    def _in_turns(self, ticket: int, steps: list[Callable[[], None]]) -> None:
        """Do ``steps`` one per turn of the event loop (:func:`gui.background.in_turns`).

        The busy cursor and :func:`gui.background.busy` hold until the last step; a newer
        load (another ``ticket``) skips the steps left.
        """
        in_turns([functools.partial(self._if_current, ticket, step) for step in steps], self)

    def _if_current(self, ticket: int, step: Callable[[], None]) -> None:
        if ticket == self._loading:
            step()

    def _show_map(self, run: RunData, city: City, bins: pd.DataFrame | None) -> None:
        self.run = run
        self.bins = bins
        self.refresh_runs()
        self.runs.setCurrentIndex(max(self.runs.findData(str(Path(run.path).resolve())), 0))
        self.map.set_city(city)
        self.fan.school = None  # a new run: the fan chart is drawn again
        self._set_empty(False)

    def _show_zones(self) -> None:
        zones = self.shown().zones.set_index("zone_id")
        values = {label: zones[c].astype(float) for c, label in ZONE_LABELS.items() if c in zones}
        self.map.set_zone_values(values, select=ZONE_LABELS["population_end"])
        years = self.shown().zones_years  # per-year zones (None: a run written before them)
        if years is not None and len(years):
            self.map.set_zone_years(years, int(years["year"].max()))

    def _show_years(self) -> None:
        """The year slider on the run's years (the last), without redrawing for it yet."""
        self.year.blockSignals(True)
        self.year.set_values([int(y) for y in sorted(self.shown().enrollment["year"].unique())])
        self.year.blockSignals(False)

    def _run_chosen(self, _index: int) -> None:
        self.load_async(self.runs.currentData())  # a deleted folder is reported by failed

    def selected_year(self) -> int:
        """The year shown in the table and on the map."""
        return int(str(self.year.value()))

    def shown(self) -> RunData:
        """The run on show (a RuntimeError before one is loaded)."""
        if self.run is None:
            raise RuntimeError("no run loaded in the Results view")
        return self.run

    # -- drawing

    def _set_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.body.setVisible(not empty)

    def _fill_schools(self) -> None:
        table = school_table(self.shown(), self.selected_year())
        levels = table["level"].tolist()
        table["level"] = [tr(str(v)) for v in levels]
        selected = self.selected_school()
        self.schools.blockSignals(True)  # the fan chart follows in its own step
        fill_table(self.schools, table, percent=("utilisation",), headers=self._headers())
        level = SCHOOL_COLUMNS.index("level")
        for r, value in enumerate(levels):  # kept untranslated, for a language switch
            item = self.schools.item(r, level)
            if item is not None:
                item.setData(Qt.ItemDataRole.UserRole, value)
        ids = [cell_text(self.schools, r, 0) for r in range(self.schools.rowCount())]
        if ids:
            self.schools.selectRow(ids.index(selected) if selected in ids else 0)
        self.schools.blockSignals(False)

    @staticmethod
    def _headers() -> dict[str, str]:
        return {k: tr(v) for k, v in SCHOOL_HEADERS.items()}

    def _relabel_schools(self) -> None:
        """Headers and school levels in the current language (the numbers stay)."""
        self.schools.setHorizontalHeaderLabels(list(self._headers().values()))
        level = SCHOOL_COLUMNS.index("level")
        for r in range(self.schools.rowCount()):
            item = self.schools.item(r, level)
            if item is not None:
                item.setText(tr(str(item.data(Qt.ItemDataRole.UserRole))))
                item.setToolTip(item.text())

    def _year_changed(self, _year: object = None) -> None:
        for step in self._year_steps():
            self._in_year(step)

    def _show_school_markers(self) -> None:
        """School markers coloured by utilisation in the year shown."""
        run = self.shown()
        table = school_table(run, self.selected_year()).set_index("school")
        self.map.set_schools(run.schools.set_index("school_id"), table["utilisation"])

    def _show_peak_times(self) -> None:
        """The peak-time slider on the year's 5-minute bins (hidden without); draws the roads."""
        bins = self.bins
        if bins is not None and "year" in bins:
            bins = bins[bins["year"] == self.selected_year()]
        times = sorted(bins["bin_start_s"].unique()) if bins is not None else []
        self.peak_time.set_values([None, *[int(t) for t in times]], current=0)
        self.peak_time.setVisible(bool(times))
        self._labels[2].setVisible(bool(times))

    def _peak_time_changed(self, start: object) -> None:
        """Roads by V/C over the peak hour (None) or by queue length in one 5-minute bin."""
        if self.run is None:
            return
        year = self.selected_year()
        if start is None or self.bins is None:
            links = self.run.links
            peak = links[links["year"] == year].set_index("link_id")["vc"] if len(links) else None
            self._roads(peak if peak is not None and len(peak) else None, "V/C")
            return
        bins = self.bins if "year" not in self.bins else self.bins[self.bins["year"] == year]
        top = float(bins["queue"].max()) if len(bins) else 0.0
        queue = bins[bins["bin_start_s"] == start].set_index("link")["queue"]
        label = tr("queue (veh) at {time}").format(time=clock(start))
        self._roads(queue.astype(float), label, vmax=max(top, 1.0))

    def _roads(self, values: pd.Series | None, label: str, vmax: float | None = None) -> None:
        self.road_label, self.road_values = label, values
        self.map.set_road_values(values, label=label, vmax=vmax)

    def selected_school(self) -> str | None:
        """The school id selected in the table."""
        rows = self.schools.selectionModel().selectedRows() if self.schools.selectionModel() else []
        if not rows:
            return None
        item = self.schools.item(rows[0].row(), 0)
        return item.text() if item else None

    def _school_selected(self) -> None:
        school = self.selected_school()
        if self.run is None or school is None or school == self.fan.school:
            return  # the fan chart shows every year: a new year keeps it
        self.draw_fan(school)

    def draw_fan(self, school: str) -> None:
        """Fan chart of one school over the years it is open: median, 80/95 % bands, places."""
        self.fan.draw(self.shown(), school)

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
