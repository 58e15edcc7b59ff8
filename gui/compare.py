"""Compare 2-4 finished runs: KPI deltas (green better, red worse), school pressure, maps.

The comparison itself is :func:`sim.runs.compare.compare_runs` (the first run is the baseline);
this view shows it and exports it: an HTML report (:func:`sim.runs.compare.write_report`),
figures as PNG/SVG, tables as CSV, layers as a GeoPackage.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.background import cached_city, run_in_background
from gui.i18n import kpi_label, tr
from gui.mapview import MapView
from gui.reportjob import report_in_child
from gui.results import fill_table
from sim.city import City
from sim.errors import CitySandboxError, RunError
from sim.kpis import KPI_BY_NAME
from sim.runs import compare as sim_compare
from sim.runs.catalog import Catalog

MAX_RUNS = 4
LABEL_TEXTS = ("Baseline:", "Compare with (1-3):", "Key indicators, final year", "School pressure")
EXPORT_TEXTS = {
    "report": "Export report (HTML)…",
    "figure": "Export map (PNG/SVG)…",
    "tables": "Export tables (CSV)…",
    "layers": "Export layers (GeoPackage)…",
}
VERDICT_COLOURS = {"better": QColor("#c8efc8"), "worse": QColor("#f7c6c6")}


def _compute(run_dirs: list[str]) -> tuple[sim_compare.Comparison, City]:
    """Compare runs without report figures (the view draws its own) and get their city."""
    comp = sim_compare.compare_runs(run_dirs, figures=False)
    return comp, cached_city(comp.runs[0].manifest["city"])


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
        self.kpis = QTableWidget()
        self.schools = QTableWidget()
        for table in (self.kpis, self.schools):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.map = MapView(title="Peak-hour flow difference (run − baseline)")
        self._labels = [QLabel(), QLabel(), QLabel(), QLabel()]
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
        for label, table in ((self._labels[2], self.kpis), (self._labels[3], self.schools)):
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(label)
            inner.addWidget(table)
            tables.addWidget(box)
        body = QSplitter()
        body.addWidget(tables)
        body.addWidget(self.map)
        body.setSizes([560, 640])
        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addWidget(self.message)
        layout.addWidget(body, 1)
        layout.addLayout(exports)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        for label, text in zip(self._labels, LABEL_TEXTS, strict=True):
            label.setText(tr(text))
        self.compare_button.setText(tr("Compare"))
        self.refresh_button.setText(tr("Refresh"))
        for key, button in self.export_buttons.items():
            button.setText(tr(EXPORT_TEXTS[key]))
            button.setEnabled(self.comparison is not None)
        self.map.retranslate()
        if self.comparison is None:
            self.message.setText(tr("Choose a baseline and 1-3 other finished runs, then Compare."))

    def refresh_runs(self) -> None:
        """Re-read the runs catalog."""
        runs = Catalog(self.runs_folder).runs()
        runs = runs[runs["status"] == "done"]
        current = self.baseline.currentData()
        checked = set(self.checked_runs())
        self.baseline.clear()
        self.others.clear()
        for row in runs.itertuples():
            label = f"{row.scenario} · {Path(row.path).name}"
            self.baseline.addItem(label, row.path)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, row.path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if row.path in checked else Qt.CheckState.Unchecked
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
            lambda done: self._show(*done),
            lambda exc: self.failed.emit(str(exc)),
        )

    def _compare_clicked(self) -> None:
        self.compare_async()

    # -- display

    def _show(self, comp: sim_compare.Comparison, city: City) -> None:
        self.comparison = comp
        fill_table(self.kpis, comp.kpis, digits=3)
        self._label_kpis()
        self._colour_verdicts()
        fill_table(self.schools, comp.enrollment, digits=3)
        last = comp.runs[-1]
        self.map.set_city(city)
        diff_col = f"diff {comp.labels[-1]}"
        links = comp.links.set_index("link_id")
        if diff_col in links:
            label = tr("flow change, veh/h ({run} − {base})").format(
                run=comp.labels[-1], base=comp.labels[0]
            )
            self.map.set_road_values(links[diff_col], label=label, how="sum", diverging=True)
        zones = {
            lab: r.zones.set_index("zone_id") for lab, r in zip(comp.labels, comp.runs, strict=True)
        }
        if all("population_end" in z for z in zones.values()):
            change = (
                zones[comp.labels[-1]]["population_end"] - zones[comp.labels[0]]["population_end"]
            )
            self.map.set_zone_values(
                {"population change": change.astype(float)}, select="population change"
            )
        # the first column of the school table is the school id (its name has changed before)
        util = comp.enrollment.set_index(comp.enrollment.columns[0])[comp.labels[-1]]
        self.map.set_schools(last.schools.set_index("school_id"), util)
        self.message.setText(
            tr("Baseline {base}; compared: {others}. Green = better, red = worse.").format(
                base=comp.labels[0], others=", ".join(comp.labels[1:])
            )
        )
        for button in self.export_buttons.values():
            button.setEnabled(True)
        self.compared.emit()

    def shown(self) -> sim_compare.Comparison:
        """The comparison on show (a RuntimeError before one is computed)."""
        if self.comparison is None:
            raise RuntimeError("no comparison in the Compare view")
        return self.comparison

    def _label_kpis(self) -> None:
        """Each KPI name gets its label (and unit) as a tooltip."""
        kpi_col = list(self.shown().kpis.columns).index("kpi")
        for r in range(self.kpis.rowCount()):
            item = self.kpis.item(r, kpi_col)
            info = None if item is None else KPI_BY_NAME.get(item.text())
            if item is not None and info is not None:
                unit = f" ({info.unit})" if info.unit else ""
                diagnostic = f" · {tr('solver diagnostic')}" if info.diagnostic else ""
                item.setToolTip(f"{kpi_label(info.name)}{unit}{diagnostic}")

    def _colour_verdicts(self) -> None:
        """Green/red for better/worse; counts (up/down) and diagnostics stay uncoloured."""
        comp = self.shown()
        columns = list(comp.kpis.columns)
        for label in comp.labels[1:]:
            verdict_col = columns.index(f"better {label}")
            for c in (columns.index(f"diff {label}"), columns.index(f"rel % {label}"), verdict_col):
                for r in range(self.kpis.rowCount()):
                    colour = VERDICT_COLOURS.get(self._text(r, verdict_col))
                    cell = self.kpis.item(r, c)
                    if colour is not None and cell is not None:
                        cell.setBackground(colour)

    def _text(self, row: int, col: int) -> str:
        """The text of a KPI table cell ("" where there is no item)."""
        item = self.kpis.item(row, col)
        return "" if item is None else item.text()

    def kpi_verdicts(self) -> dict[str, str]:
        """KPI -> "better" / "worse" / "same" for the last compared run, as shown in the table."""
        comp = self.shown()
        columns = list(comp.kpis.columns)
        kpi_col = columns.index("kpi")
        verdict_col = columns.index(f"better {comp.labels[-1]}")
        return {
            self._text(r, kpi_col): self._text(r, verdict_col) for r in range(self.kpis.rowCount())
        }

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
