"""Compare 2-4 finished runs: KPIs with units (colour only where better/worse is agreed), maps.

The comparison itself is :func:`sim.runs.compare.compare_runs` (the first run is the baseline);
this view shows it and exports it: an HTML report (:func:`sim.runs.compare.write_report`),
figures as PNG/SVG, tables as CSV, layers as a GeoPackage. Counts such as population are
shown as "more"/"less", never coloured; solver diagnostics sit in their own table. The
maps show either the difference of one run to the baseline, or every run side by side
with linked pan and zoom.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.background import cached_city, in_turns, run_in_background
from gui.compare_tables import Rows, kpi_rows, school_rows
from gui.i18n import kpi_label, tr
from gui.linkedmaps import MapGrid, MapPanel
from gui.map_base import basemap_of
from gui.mapview import MapView
from gui.reportjob import report_in_child
from gui.results import ZONE_LABELS
from gui.runlist import run_titles
from gui.tables import fill_table, set_headers
from sim.city import City
from sim.errors import CitySandboxError, RunError
from sim.kpis import KPI_BY_NAME
from sim.runs import compare as sim_compare
from sim.runs.folder import RunData

MAX_RUNS = 4
LABEL_TEXTS = (
    "Baseline:",
    "Compare with (1-3):",
    "Key indicators, final year",
    "School pressure",
    "Solver diagnostics (describe the solver, not the city; never better or worse)",
    "Maps:",
)
EXPORT_TEXTS = {
    "report": "Export report (HTML)…",
    "figure": "Export map (PNG/SVG)…",
    "tables": "Export tables (CSV)…",
    "layers": "Export layers (GeoPackage)…",
}
VERDICT_COLOURS = {"better": QColor("#c8efc8"), "worse": QColor("#f7c6c6")}
MAP_MODES = ("difference", "side by side")
MAP_MODE_TEXTS = {"difference": "Difference to the baseline", "side by side": "Runs side by side"}


def _compute(run_dirs: list[str]) -> tuple[sim_compare.Comparison, City]:
    """Compare runs without report figures (the view draws its own) and get their city."""
    comp = sim_compare.compare_runs(run_dirs, figures=False)
    city = cached_city(comp.runs[0].manifest["city"])
    basemap_of(city)  # the maps' basemap is built here, not on the UI thread (cached)
    return comp, city


def _policies(run: RunData) -> list[dict[str, Any]]:
    """The policies of a run's scenario (as the editor's map draws them)."""
    return list(run.manifest["scenario"].get("policies", []))


def _table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table


class CompareView(QWidget):
    """Choose runs from the catalog, compare them, show and export the comparison.

    Signals
    -------
    compared()
        A comparison was computed and shown.
    failed(str)
        The chosen runs could not be compared (the message says why).
    """

    compared = Signal()
    failed = Signal(str)

    def __init__(self, runs_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_folder = Path(runs_folder)
        self.comparison: sim_compare.Comparison | None = None
        self.city: City | None = None
        self._rows: dict[str, Rows] = {}
        self.baseline = QComboBox()
        self.others = QListWidget()
        self.others.setMaximumHeight(80)
        self.compare_button = QPushButton()
        self.compare_button.clicked.connect(self._compare_clicked)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.export_buttons = {k: QPushButton() for k in ("report", "figure", "tables", "layers")}
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.kpis = _table()
        self.schools = _table()
        self.diagnostics = _table()
        self.map = MapView(title="Peak-hour flow difference (run − baseline)")
        self.grid = MapGrid()
        self.map_mode = QComboBox()
        self.map_mode.currentIndexChanged.connect(self._draw_maps)
        self.variant = QComboBox()
        self.variant.currentIndexChanged.connect(self._draw_maps)
        self.maps = QStackedWidget()
        self.maps.addWidget(self.map)
        # in a scroll area, so that two maps side by side never squeeze the tables away
        grid_box = QScrollArea()
        grid_box.setWidget(self.grid)
        grid_box.setWidgetResizable(True)
        grid_box.setFrameShape(QFrame.Shape.NoFrame)
        self.maps.addWidget(grid_box)
        self._labels = [QLabel() for _ in LABEL_TEXTS]
        chooser = QGridLayout()
        chooser.addWidget(self._labels[0], 0, 0)
        chooser.addWidget(self.baseline, 0, 1)
        chooser.addWidget(self.refresh_button, 0, 2)
        chooser.addWidget(self._labels[1], 1, 0, Qt.AlignmentFlag.AlignTop)
        chooser.addWidget(self.others, 1, 1)
        chooser.addWidget(self.compare_button, 1, 2, Qt.AlignmentFlag.AlignTop)
        exports = QHBoxLayout()
        for button in self.export_buttons.values():
            exports.addWidget(button)
        exports.addStretch(1)
        tables = QSplitter(Qt.Orientation.Vertical)
        pairs = zip(self._labels[2:5], (self.kpis, self.schools, self.diagnostics), strict=True)
        for label, table in pairs:
            label.setWordWrap(True)
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(label)
            inner.addWidget(table)
            tables.addWidget(box)
        tables.setSizes([450, 250, 120])
        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self._labels[5])
        mode_row.addWidget(self.map_mode)
        mode_row.addWidget(self.variant)
        mode_row.addStretch(1)
        map_layout.addLayout(mode_row)
        map_layout.addWidget(self.maps, 1)
        self.body = body = QSplitter()
        body.addWidget(tables)
        body.addWidget(map_box)
        body.setSizes([700, 500])
        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addWidget(self.message)
        layout.addWidget(body, 1)
        layout.addLayout(exports)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels (and the tables' texts)."""
        for label, text in zip(self._labels, LABEL_TEXTS, strict=True):
            label.setText(tr(text))
        self.compare_button.setText(tr("Compare"))
        self.refresh_button.setText(tr("Refresh"))
        for key, button in self.export_buttons.items():
            button.setText(tr(EXPORT_TEXTS[key]))
            button.setEnabled(self.comparison is not None)
        mode = self.map_mode.currentIndex()
        self.map_mode.blockSignals(True)
        self.map_mode.clear()
        for key in MAP_MODES:
            self.map_mode.addItem(tr(MAP_MODE_TEXTS[key]), key)
        self.map_mode.setCurrentIndex(max(mode, 0))
        self.map_mode.blockSignals(False)
        comp = self.comparison
        variant = self.variant.currentData() or (comp.labels[-1] if comp is not None else None)
        self.map.retranslate(None if comp is None else self._change_label(comp, variant))
        self.grid.retranslate()
        if comp is None:
            self.message.setText(tr("Choose a baseline and 1-3 other finished runs, then Compare."))
        else:  # relabelled in place: the maps' values and the schools' numbers stay
            self._fill_kpis()
            rows = self._school_rows()
            set_headers(self.schools, rows.frame, rows.headers)
            self._say_compared()

    def refresh_runs(self) -> None:
        """Re-read the runs catalog."""
        current = self.baseline.currentData()
        checked = set(self.checked_runs())
        self.baseline.clear()
        self.others.clear()
        for path, label in run_titles(self.runs_folder):
            self.baseline.addItem(label, path)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if path in checked else Qt.CheckState.Unchecked
            )
            self.others.addItem(item)
        if current is not None:
            self.baseline.setCurrentIndex(max(self.baseline.findData(current), 0))

    def checked_runs(self) -> list[str]:
        """Run folders ticked in the "compare with" list."""
        return [
            self.others.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.others.count())
            if self.others.item(i).checkState() == Qt.CheckState.Checked
        ]

    def choose(self, baseline: str | Path, others: list[str | Path]) -> None:
        """Select the baseline and the runs to compare with (by folder)."""
        self.refresh_runs()
        wanted = {str(Path(o).resolve()) for o in others}
        self.baseline.setCurrentIndex(max(self.baseline.findData(str(Path(baseline).resolve())), 0))
        for i in range(self.others.count()):
            item = self.others.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def choose_newest(self) -> bool:
        """Compare the two newest runs (older one as baseline); False if fewer than two."""
        self.refresh_runs()
        if self.baseline.count() < 2:
            self.message.setText(tr("Compare needs at least two finished runs in the catalog."))
            return False
        self.choose(self.baseline.itemData(1), [self.baseline.itemData(0)])
        self.compare_selected()
        return True

    def _chosen(self) -> list[str]:
        """Baseline first, then the other checked runs (RunError when the choice is not valid)."""
        base = self.baseline.currentData()
        others = [r for r in self.checked_runs() if r != base]
        if base is None or not 1 <= len(others) <= MAX_RUNS - 1:
            msg = tr("Choose a baseline and 1-3 other finished runs, then Compare.")
            raise RunError(msg)
        return [base, *others]

    def compare_selected(self) -> None:
        """Compare the chosen runs (a CitySandboxError says why when that is not possible)."""
        self._show(*_compute(self._chosen()))

    def compare_async(self) -> None:
        """:meth:`compare_selected` with the reading off the UI thread (errors: ``failed``)."""
        try:
            chosen = self._chosen()
        except CitySandboxError as exc:
            self.failed.emit(str(exc))
            return
        run_in_background(
            self,
            lambda: _compute(chosen),
            lambda done: in_turns(self._show_steps(*done), self),
            lambda exc: self.failed.emit(str(exc)),
        )

    def _compare_clicked(self) -> None:
        self.compare_async()

    # -- display

    def _show(self, comp: sim_compare.Comparison, city: City) -> None:
        for step in self._show_steps(comp, city):
            step()

    def _show_steps(self, comp: sim_compare.Comparison, city: City) -> list[Callable[[], None]]:
        """Showing ``comp`` in three pieces: the tables, the city on the map, its values.

        :meth:`compare_async` runs them in separate turns of the event loop
        (:func:`gui.background.in_turns`), so the window repaints between them; the map
        is rendered once, after the last (the city's own map is never drawn).
        """

        def tables() -> None:
            self.comparison = comp
            self.show_tables()

        return [tables, lambda: self._show_city(city), self._show_maps]

    def _show_city(self, city: City) -> None:
        """The run chooser of the difference map and the city under it."""
        comp = self.shown()
        self.city = city
        self.variant.blockSignals(True)
        self.variant.clear()
        for label in comp.labels[1:]:
            self.variant.addItem(label, label)
        self.variant.setCurrentIndex(self.variant.count() - 1)
        self.variant.setVisible(self.variant.count() > 1)
        self.variant.blockSignals(False)
        self.map.set_city(city)
        self.grid.linker.hook(self.map)

    def _show_maps(self) -> None:
        """The maps' values; the exports are enabled and ``compared`` says it is shown."""
        self._draw_maps()
        for button in self.export_buttons.values():
            button.setEnabled(True)
        self.compared.emit()

    def show_tables(self) -> None:
        """Fill the KPI, school and diagnostics tables from the comparison on show."""
        self._fill_kpis()
        rows = self._school_rows()
        percent = [c for c in rows.frame.columns if c not in ("school_id", "name")]
        fill_table(self.schools, rows.frame, percent=percent, headers=rows.headers)
        self._say_compared()

    def _fill_kpis(self) -> None:
        """The KPI and diagnostics tables (their words and verdicts in the current language)."""
        comp = self.shown()
        for key, table, diagnostics in (
            ("kpis", self.kpis, False),
            ("diagnostics", self.diagnostics, True),
        ):
            rows = kpi_rows(comp.kpis, comp.labels, diagnostics=diagnostics)
            self._rows[key] = rows
            fill_table(table, rows.frame, headers=rows.headers)
            self._label_kpis(table, rows)
        self._colour_verdicts()

    def _school_rows(self) -> Rows:
        comp = self.shown()
        names = pd.concat([r.schools.set_index("school_id")["name"] for r in comp.runs])
        return school_rows(comp.enrollment, comp.labels, names[~names.index.duplicated()])

    def _say_compared(self) -> None:
        comp = self.shown()
        self.message.setText(
            tr(
                "Baseline {base}; compared: {others}. Green = better, red = worse; "
                "counts such as population are neither (more/less)."
            ).format(base=comp.labels[0], others=", ".join(comp.labels[1:]))
        )

    def _draw_maps(self, _index: int = 0) -> None:
        """The difference map of the chosen run, or every run side by side (final year)."""
        comp, city = self.comparison, self.city
        if comp is None or city is None:
            return
        side_by_side = self.map_mode.currentData() == "side by side"
        self.maps.setCurrentIndex(1 if side_by_side else 0)
        self.variant.setEnabled(not side_by_side)
        names = dict(zip(comp.labels, comp.runs, strict=True))
        util = comp.enrollment.set_index("school_id")
        if side_by_side:
            panels = []
            for label, run in names.items():
                links = run.links[run.links["year"] == run.links["year"].max()]
                vc = links.set_index("link_id")["vc"] if len(links) else None
                schools = run.schools.set_index("school_id")
                zones = run.zones.set_index("zone_id")
                pop = {ZONE_LABELS["population_end"]: zones["population_end"].astype(float)}
                panels.append(MapPanel(label, vc, schools, util[label], pop, _policies(run)))
            self.grid.set_panels(city, panels, label="V/C")
            self.body.setSizes([0, sum(self.body.sizes())])  # the maps take the width
            return
        if self.body.sizes()[0] == 0:  # back from side by side: the tables come back
            self.body.setSizes([700, max(sum(self.body.sizes()) - 700, 300)])
        variant = self.variant.currentData() or comp.labels[-1]
        diff_col = f"diff {variant}"
        links = comp.links.set_index("link_id")
        if diff_col in links:
            label = self._change_label(comp, variant)
            self.map.set_road_values(links[diff_col], label=label, how="sum", diverging=True)
        zones = {lab: r.zones.set_index("zone_id") for lab, r in names.items()}
        if all("population_end" in z for z in zones.values()):
            change = zones[variant]["population_end"] - zones[comp.labels[0]]["population_end"]
            self.map.set_zone_values(
                {"population change": change.astype(float)}, select="population change"
            )
        self.map.set_schools(names[variant].schools.set_index("school_id"), util[variant])
        self.map.set_policies(_policies(names[variant]), movable=False)

    @staticmethod
    def _change_label(comp: sim_compare.Comparison, variant: str) -> str:
        """The difference map's legend title, in the current language."""
        return tr("flow change, veh/h ({run} − {base})").format(run=variant, base=comp.labels[0])

    def shown(self) -> sim_compare.Comparison:
        """The comparison on show (a RuntimeError before one is computed)."""
        if self.comparison is None:
            raise RuntimeError("no comparison in the Compare view")
        return self.comparison

    @staticmethod
    def _label_kpis(table: QTableWidget, rows: Rows) -> None:
        """Each indicator keeps its KPI name (UserRole) and says its meaning as a tooltip."""
        for r, name in enumerate(rows.names):
            item = table.item(r, 0)
            info = KPI_BY_NAME.get(name)
            if item is None:
                continue
            item.setData(Qt.ItemDataRole.UserRole, name)
            unit = f" ({tr(info.unit)})" if info is not None and info.unit else ""
            diagnostic = f" · {tr('solver diagnostic')}" if info and info.diagnostic else ""
            item.setToolTip(f"{kpi_label(name)}{unit}{diagnostic} · {name}")

    def _colour_verdicts(self) -> None:
        """Green/red for better/worse; counts (more/less) and diagnostics stay uncoloured."""
        rows = self._rows["kpis"]
        columns = list(rows.frame.columns)
        for label, verdicts in rows.verdicts.items():
            cols = [columns.index(f"{p} {label}") for p in ("diff", "rel %", "better")]
            for r, verdict in enumerate(verdicts):
                colour = VERDICT_COLOURS.get(verdict)
                for c in cols:
                    cell = self.kpis.item(r, c)
                    if colour is not None and cell is not None:
                        cell.setBackground(colour)

    def kpi_verdicts(self) -> dict[str, str]:
        """KPI -> verdict ("better", "worse", "up", "down", "same"; "" for diagnostics).

        For the last compared run, as the tables show it (by KPI name, in any language).
        """
        comp = self.shown()
        out: dict[str, str] = {}
        for key in ("kpis", "diagnostics"):
            rows = self._rows[key]
            shown = rows.verdicts.get(comp.labels[-1], [""] * len(rows.names))
            out.update(zip(rows.names, shown, strict=True))
        return out

    # -- export

    def export_report(self, path: Path) -> Path:
        """Write the HTML report (figures embedded), drawn in a child process."""
        return report_in_child([str(r.path) for r in self.shown().runs], Path(path))

    def export_figure(self, path: Path) -> Path:
        """Save the difference map as PNG or SVG (by the file's extension)."""
        self.map.figure.savefig(path, bbox_inches="tight")
        return Path(path)

    def export_tables(self, folder: Path) -> list[Path]:
        """Write kpis.csv, schools.csv and links.csv of the comparison into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        comp = self.shown()
        out = []
        for name, frame in (
            ("kpis", comp.kpis),
            ("schools", comp.enrollment),
            ("links", comp.links),
        ):
            out.append(folder / f"compare_{name}.csv")
            frame.to_csv(out[-1], index=False)
        return out

    def export_layers(self, path: Path) -> Path:
        """Write zones (population per run) and links (flows, differences) to a GeoPackage."""
        comp = self.shown()
        city = cached_city(comp.runs[0].manifest["city"])
        zones = comp.runs[0].zones[["zone_id", "geometry"]].set_index("zone_id")
        for label, run in zip(comp.labels, comp.runs, strict=True):
            zones[f"pop_end {label}"] = run.zones.set_index("zone_id")["population_end"]
        links = gpd.GeoDataFrame(
            city.links[["a_node", "b_node", "name", "geometry"]].join(
                comp.links.set_index("link_id")
            ),
            crs=city.crs,
        )
        path = Path(path)
        path.unlink(missing_ok=True)
        zones.reset_index().to_file(path, layer="zones", driver="GPKG")
        links.reset_index().to_file(path, layer="links", driver="GPKG")
        return path
