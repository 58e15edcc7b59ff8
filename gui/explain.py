"""Why a school's demand is what it is: a waterfall of the flows that add up to it.

Reads :func:`sim.education.explain.explain` for the school and year chosen (or clicked on
the map) from a finished run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gui.i18n import ZH, tr
from sim.education.explain import explain
from sim.errors import CitySandboxError

ZH.update(
    {
        "Explain": "解释",
        "Why this demand? (explain)": "需求从何而来？（解释）",
        "School": "学校",
        "Year": "年份",
        "demand": "需求",
        "base_year": "基准年",
        "carried_from_grade_below": "低一年级升入",
        "entry_cohort": "入学新生",
        "net_migration": "净迁移",
        "new_housing": "新建住房",
        "moves_within_city": "市内搬迁",
        "catchment_or_policy_change": "学区或政策调整",
        "overflow": "溢出回流",
        "median_vs_mean": "中位数与均值之差",
        "{school} {year}: demand {demand:g} for {capacity} places": (
            "{school} {year}：需求 {demand:g}，学位 {capacity}"
        ),
        "No run loaded.": "尚未载入运行。",
    }
)


class ExplainPanel(QWidget):
    """School and year in, the demand's waterfall out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.result: dict[str, Any] | None = None
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.school = QComboBox()
        self.year = QSpinBox()
        self.year.setRange(1900, 2200)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.figure = Figure(figsize=(4, 3.2))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self._labels = [QLabel(), QLabel()]
        form = QFormLayout()
        form.addRow(self._labels[0], self.school)
        form.addRow(self._labels[1], self.year)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 1)
        self.school.currentIndexChanged.connect(lambda _i: self.refresh())
        self.year.valueChanged.connect(lambda _v: self.refresh())
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels and redraw."""
        self.title.setText(tr("Why this demand? (explain)"))
        self._labels[0].setText(tr("School"))
        self._labels[1].setText(tr("Year"))
        self.refresh()

    def set_run(self, run_dir: Path | None) -> None:
        """Explain from ``run_dir``: its schools and years fill the choosers."""
        self.run_dir = Path(run_dir) if run_dir else None
        self.school.blockSignals(True)
        self.year.blockSignals(True)
        self.school.clear()
        if self.run_dir is not None:
            enrollment = pd.read_parquet(
                self.run_dir / "enrollment.parquet", columns=["year", "school"]
            )
            for sid in sorted(enrollment["school"].unique()):
                self.school.addItem(str(sid), str(sid))
            self.year.setRange(int(enrollment["year"].min()), int(enrollment["year"].max()))
            self.year.setValue(int(enrollment["year"].max()))
        self.school.blockSignals(False)
        self.year.blockSignals(False)
        self.refresh()

    def set_school(self, school_id: str) -> None:
        """Show ``school_id`` (e.g. a school clicked on the map)."""
        i = self.school.findData(school_id)
        if i >= 0:
            self.school.setCurrentIndex(i)

    def refresh(self) -> None:
        """Draw the waterfall of the chosen school and year."""
        self.figure.clear()
        self.result = None
        if self.run_dir is None or self.school.currentData() is None:
            self.message.setText(tr("No run loaded."))
            self.canvas.draw_idle()
            return
        try:
            self.result = explain(self.run_dir, self.school.currentData(), self.year.value())
        except CitySandboxError as exc:
            self.message.setText(str(exc))
            self.canvas.draw_idle()
            return
        res = self.result
        self.message.setText(
            tr("{school} {year}: demand {demand:g} for {capacity} places").format(**res)
        )
        waterfall(self.figure.add_subplot(), res["components"], res["demand"])
        self.figure.tight_layout()
        self.canvas.draw_idle()


def waterfall(ax: Any, components: dict[str, float], total: float) -> None:
    """Bars from 0 stepping by each component, then the total (they meet exactly)."""
    names = [n for n, v in components.items() if v != 0]
    values = np.array([components[n] for n in names], dtype=float)
    ends = np.cumsum(values)
    starts = ends - values
    colours = ["tab:green" if v >= 0 else "tab:red" for v in values]
    y = np.arange(len(names) + 1)
    ax.barh(y[:-1], values, left=starts, color=colours)
    ax.barh(y[-1], total, color="tab:blue")
    ax.set_yticks(y, [tr(n) for n in names] + [tr("demand")])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.5)
    ax.tick_params(labelsize=8)
