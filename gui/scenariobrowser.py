"""The scenario browser: the scenarios of a folder with their name, description and base.

Each ``*.yaml`` of the folder that is a scenario (it has a ``name``; a sweep file, with
``axes`` or ``policy_sets``, is left out) is listed with the scenario it ``extends``. A double
click, or Open, opens it in the editor; a filter box narrows the list by name or text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.tables import fill_table
from sim.errors import ScenarioError
from sim.inputs import read_yaml

HEADERS = {"name": "Name", "description": "Description", "base": "Based on", "file": "File"}


def scenario_rows(folder: Path) -> pd.DataFrame:
    """name, description, base and file of every scenario file in ``folder`` (by file name)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            data = read_yaml(path, "scenario", ScenarioError)
        except ScenarioError as exc:
            rows.append({"name": path.stem, "description": str(exc), "base": "", "file": path})
            continue
        if not isinstance(data, dict) or "name" not in data or {"axes", "policy_sets"} & set(data):
            continue
        description = " ".join(str(data.get("description") or "").split())
        base = Path(str(data["extends"])).stem if data.get("extends") else ""
        rows.append(
            {"name": str(data["name"]), "description": description, "base": base, "file": path}
        )
    return pd.DataFrame(rows, columns=list(HEADERS))


class ScenarioBrowser(QWidget):
    """The scenarios of a folder; Open (or a double click) asks to open one.

    Signals
    -------
    openRequested(str)
        The scenario file to open.
    """

    openRequested = Signal(str)

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.rows = pd.DataFrame(columns=list(HEADERS))
        self.filter = QLineEdit()
        self.filter.textChanged.connect(lambda _t: self._show())
        self.open_button = QPushButton()
        self.open_button.clicked.connect(self.open_selected)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.open_selected())
        row = QHBoxLayout()
        row.addWidget(self.filter, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        """Re-apply translated labels (the scenarios read are kept: no file is read)."""
        self.filter.setPlaceholderText(tr("Filter by name or description"))
        self.open_button.setText(tr("Open"))
        self.refresh_button.setText(tr("Refresh"))
        self.table.setHorizontalHeaderLabels([tr(v) for v in HEADERS.values()])

    def refresh(self) -> None:
        """Re-read the scenarios folder."""
        self.rows = scenario_rows(self.folder)
        self._show()

    def shown(self) -> pd.DataFrame:
        """The rows listed now (after the filter)."""
        text = self.filter.text().strip().lower()
        if not text:
            return self.rows
        hay = self.rows["name"].str.lower() + " " + self.rows["description"].str.lower()
        return self.rows[hay.str.contains(text, regex=False)]

    def _show(self) -> None:
        frame = self.shown().assign(file=lambda f: [Path(p).name for p in f["file"]])
        fill_table(self.table, frame, headers={k: tr(v) for k, v in HEADERS.items()})
        self.table.setSortingEnabled(False)  # keep the row order of shown()
        self.open_button.setEnabled(len(frame) > 0)

    def open_selected(self) -> None:
        """Ask to open the selected scenario (the first one listed when none is selected)."""
        shown = self.shown()
        if shown.empty:
            return
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        index = rows[0].row() if rows else 0
        self.openRequested.emit(str(shown["file"].iloc[index]))
