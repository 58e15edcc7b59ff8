"""The run list: every finished run of the runs folder with its name and notes.

Runs are listed from the catalog (:class:`sim.runs.catalog.Catalog`); a name and notes a
user gives a run live in the catalog's ``run_labels`` table, so Results and Compare show
them too (:func:`run_titles`). Rename, Notes and Delete act on the selected run; a
double click opens its results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.tables import fill_table
from sim.runs.catalog import Catalog

BUTTON_TEXTS = {
    "open": "Open results",
    "rename": "Rename…",
    "notes": "Notes…",
    "delete": "Delete…",
    "refresh": "Refresh",
}
HEADERS = {
    "name": "Name",
    "scenario": "Scenario",
    "created": "Finished",
    "seed": "Seed",
    "seconds": "Run time (s)",
    "notes": "Notes",
    "folder": "Folder",
}


def run_titles(runs_folder: Path) -> list[tuple[str, str]]:
    """(path, title) of every finished run, newest first: its name, else scenario · folder."""
    catalog = Catalog(runs_folder)
    runs = catalog.runs()
    labels = catalog.labels()
    out = []
    for row in runs[runs["status"] == "done"].itertuples():
        name = labels.get(row.run_id, {}).get("name", "")
        out.append((row.path, name or f"{row.scenario} · {Path(row.path).name}"))
    return out


class RunList(QWidget):
    """The runs of a runs folder with names and notes; rename, annotate, delete, open.

    Signals
    -------
    openRequested(str)
        Show the results of this run folder.
    changed()
        A run was renamed, annotated or deleted (choosers elsewhere should refresh).
    """

    openRequested = Signal(str)
    changed = Signal()

    def __init__(self, runs_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_folder = Path(runs_folder)
        self._ids: list[str] = []
        self._paths: list[str] = []
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.open_selected())
        self.table.horizontalHeader().setStretchLastSection(True)
        self.buttons = {k: QPushButton() for k in BUTTON_TEXTS}
        self.buttons["open"].clicked.connect(self.open_selected)
        self.buttons["rename"].clicked.connect(self._ask_name)
        self.buttons["notes"].clicked.connect(self._ask_notes)
        self.buttons["delete"].clicked.connect(self._ask_delete)
        self.buttons["refresh"].clicked.connect(self.refresh)
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        """Re-apply translated labels (the runs listed are kept: the catalog is not read)."""
        for key, button in self.buttons.items():
            button.setText(tr(BUTTON_TEXTS[key]))
        self.table.setHorizontalHeaderLabels([tr(v) for v in HEADERS.values()])

    def refresh(self) -> None:
        """Re-read the catalog (newest first)."""
        catalog = Catalog(self.runs_folder)
        runs = catalog.runs()
        runs = runs[runs["status"] == "done"].reset_index(drop=True)
        labels = catalog.labels()
        self._ids = [str(r) for r in runs["run_id"]]
        self._paths = [str(p) for p in runs["path"]]
        frame = pd.DataFrame(
            {
                "name": [labels.get(r, {}).get("name", "") for r in self._ids],
                "scenario": runs["scenario"],
                "created": [
                    dt.datetime.fromtimestamp(float(t)).strftime("%Y-%m-%d %H:%M")
                    for t in runs["created"]
                ],
                "seed": runs["seed"].astype("Int64").astype(str),
                "seconds": runs["seconds"],
                "notes": [labels.get(r, {}).get("notes", "") for r in self._ids],
                "folder": [Path(p).name for p in self._paths],
            }
        )
        selected = self.selected()
        fill_table(self.table, frame, headers={k: tr(v) for k, v in HEADERS.items()})
        self.table.setSortingEnabled(False)  # rows stay in catalog order (newest first)
        if selected in self._ids:
            self.table.selectRow(self._ids.index(selected))
        for key in ("open", "rename", "notes", "delete"):
            self.buttons[key].setEnabled(bool(self._ids))

    def selected(self) -> str | None:
        """The run id selected (None when none is)."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._ids[rows[0].row()] if rows and rows[0].row() < len(self._ids) else None

    def select(self, run_id: str) -> None:
        """Select run ``run_id``."""
        self.table.selectRow(self._ids.index(run_id))

    def rename(self, run_id: str, name: str) -> None:
        """Give a run a name (shown here, in Results and in Compare)."""
        Catalog(self.runs_folder).set_label(run_id, name=name.strip())
        self._changed()

    def set_notes(self, run_id: str, notes: str) -> None:
        """Keep notes on a run."""
        Catalog(self.runs_folder).set_label(run_id, notes=notes)
        self._changed()

    def delete(self, run_id: str) -> None:
        """Delete a run: its folder and its catalog entry."""
        Catalog(self.runs_folder).delete(run_id)
        self._changed()

    def open_selected(self) -> None:
        """Ask for the results of the selected run."""
        run_id = self.selected()
        if run_id is not None:
            self.openRequested.emit(self._paths[self._ids.index(run_id)])

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def _ask_name(self) -> None:
        run_id = self.selected()
        if run_id is None:
            return
        current = Catalog(self.runs_folder).labels().get(run_id, {}).get("name", "")
        name, ok = QInputDialog.getText(self, tr("Rename run"), tr("Name:"), text=current)
        if ok:
            self.rename(run_id, name)

    def _ask_notes(self) -> None:
        run_id = self.selected()
        if run_id is None:
            return
        current = Catalog(self.runs_folder).labels().get(run_id, {}).get("notes", "")
        notes, ok = QInputDialog.getMultiLineText(self, tr("Notes"), tr("Notes:"), current)
        if ok:
            self.set_notes(run_id, notes)

    def _ask_delete(self) -> None:
        run_id = self.selected()
        if run_id is None:
            return
        folder = Path(self._paths[self._ids.index(run_id)]).name
        answer = QMessageBox.question(
            self,
            tr("Delete run"),
            tr("Delete the run {folder} and its files? This cannot be undone.").format(
                folder=folder
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,  # never a destructive default
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(run_id)
