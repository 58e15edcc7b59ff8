"""入学早知道: click a home on the map, give a birth year -> school, entry year, how full.

Answers come from :func:`sim.education.query.query` on a finished run (the newest one unless
the Results view has another loaded).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyproj
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.query_text import answer_text
from sim.education import query as enroll_query
from sim.errors import CitySandboxError


class EnrollQueryPanel(QWidget):
    """The 入学早知道 panel.

    Signals
    -------
    pickRequested(str)
        ``"query"`` when the user wants to click the home on the map, ``""`` to stop.
    """

    pickRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.home_xy: tuple[float, float] | None = None
        self.answer: dict[str, Any] | None = None
        self._to_lonlat: pyproj.Transformer | None = None
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.birth_year = QSpinBox()
        self.birth_year.setRange(1990, 2100)
        self.birth_year.setValue(2019)
        self.birth_month = QComboBox()
        self.birth_month.addItem("", None)
        for month in range(1, 13):
            self.birth_month.addItem(str(month), month)
        self.pick = QPushButton()
        self.pick.setCheckable(True)
        self.pick.toggled.connect(lambda on: self.pickRequested.emit("query" if on else ""))
        self.home_label = QLabel()
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.birth_year.valueChanged.connect(self.ask)
        self.birth_month.currentIndexChanged.connect(self.ask)
        form = QFormLayout()
        self._labels = [QLabel(), QLabel()]
        form.addRow(self._labels[0], self.birth_year)
        form.addRow(self._labels[1], self.birth_month)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.run_label)
        layout.addLayout(form)
        layout.addWidget(self.pick)
        layout.addWidget(self.home_label)
        layout.addWidget(self.result, 1)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.title.setText(tr("Enrollment early-know (入学早知道)"))
        self._labels[0].setText(tr("Birth year"))
        self._labels[1].setText(tr("Birth month"))
        self.birth_month.setItemText(0, tr("any"))
        self.pick.setText(tr("Click the home on the map"))
        self._show_run()
        self.ask()

    def set_run(self, run_dir: Path | None, crs: Any = None) -> None:
        """Answer from ``run_dir`` (city CRS ``crs`` converts map clicks to lon/lat)."""
        self.run_dir = Path(run_dir) if run_dir else None
        if crs is not None:
            self._to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self._show_run()
        self.ask()

    def set_home(self, x: float, y: float) -> None:
        """The home location, in city CRS metres; answers at once."""
        self.home_xy = (x, y)
        self.ask()

    def ask(self) -> dict[str, Any] | None:
        """Run the query for the current inputs and show the answer (None if incomplete)."""
        self.answer = None
        if self.home_xy is None or self.run_dir is None or self._to_lonlat is None:
            self.home_label.setText(tr("No home chosen yet."))
            self.result.setPlainText("")
            return None
        lon, lat = self._to_lonlat.transform(*self.home_xy)
        self.home_label.setText(tr("Home: {lon:.5f}, {lat:.5f}").format(lon=lon, lat=lat))
        try:
            self.answer = enroll_query.query(
                self.run_dir, lon, lat, self.birth_year.value(), self.birth_month.currentData()
            )
        except CitySandboxError as exc:
            self.result.setPlainText(str(exc))
            return None
        manifest = json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))
        age, cutoff = manifest.get("school_entry_age"), manifest.get("entry_cutoff")
        self.result.setPlainText(answer_text(self.answer, age, cutoff))
        return self.answer

    def _show_run(self) -> None:
        name = self.run_dir.name if self.run_dir else tr("none (run a scenario first)")
        self.run_label.setText(tr("Projection from run: {run}").format(run=name))
