"""Why a school's demand is what it is: a waterfall of the flows that add up to it.

Reads :func:`sim.education.explain.explain` for the school and year chosen (or clicked on
the map) from a finished run. Each explanation is kept per (run, school, year), so a
language switch only relabels the chart; :meth:`ExplainPanel.load_async` reads a run's
choices and first explanation off the UI thread (a results load does not wait on it).
The chart is a :class:`gui.resultcharts.ChartImage`: built and rendered in a worker
thread (a hidden panel's, when it is shown), never on the UI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gui.background import run_in_background
from gui.i18n import ZH, tr
from gui.resultcharts import ChartImage
from sim.education.explain import explain
from sim.errors import CitySandboxError

#: What each flow of :func:`sim.education.explain.explain` is called on the chart.
COMPONENT_LABELS = {
    "base_year": "Base year",
    "carried_from_grade_below": "From the grade below",
    "entry_cohort": "Entering cohort",
    "net_migration": "Net migration",
    "new_housing": "New housing",
    "moves_within_city": "Moves within the city",
    "catchment_or_policy_change": "Catchment or policy change",
    "overflow": "Overflow",
    "median_vs_mean": "Median vs mean",
}

ZH.update(
    {
        "Explain": "解释",
        "Why this demand? (explain)": "需求从何而来？（解释）",
        "School": "学校",
        "Year": "年份",
        "Demand": "需求",
        "Base year": "基准年",
        "From the grade below": "低一年级升入",
        "Entering cohort": "入学新生",
        "Net migration": "净迁移",
        "New housing": "新建住房",
        "Moves within the city": "市内搬迁",
        "Catchment or policy change": "学区或政策调整",
        "Overflow": "溢出回流",
        "Median vs mean": "中位数与均值之差",
        "{school} {year}: demand {demand:g} for {capacity} places": (
            "{school} {year}：需求 {demand:g}，学位 {capacity}"
        ),
        "No run loaded.": "尚未载入运行。",
    }
)


#: About how wide one character of an 8-point tick label is (pixels at 100 dpi).
LABEL_CHAR_PX = 6.5
#: From this code point on, characters (CJK) are twice as wide as Latin ones.
CJK_START = 0x2E80
#: One kept explanation: (run, school, year) and :func:`explain`'s result or the error message.
_Kept = tuple[tuple[Path, str, int], dict[str, Any] | str]


class ExplainPanel(QWidget):
    """School and year in, the demand's waterfall out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.result: dict[str, Any] | None = None
        #: Explanations (or the error message) read so far: (run, school, year) -> outcome.
        self._cache: dict[tuple[Path, str, int], dict[str, Any] | str] = {}
        self._pending: Path | None = None  # the run load_async is reading
        self._wanted: str | None = None  # a school asked for before a run listing it was read
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.school = QComboBox()
        self.year = QSpinBox()
        self.year.setRange(1900, 2200)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.chart = ChartImage(figsize=(4, 3.2))
        self._labels = [QLabel(), QLabel()]
        form = QFormLayout()
        form.addRow(self._labels[0], self.school)
        form.addRow(self._labels[1], self.year)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.chart, 1)
        self.school.currentIndexChanged.connect(lambda _i: self.refresh())
        self.year.valueChanged.connect(lambda _v: self.refresh())
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels and relabel the chart (from the kept explanation)."""
        self.title.setText(tr("Why this demand? (explain)"))
        self._labels[0].setText(tr("School"))
        self._labels[1].setText(tr("Year"))
        self.refresh()

    def set_run(self, run_dir: Path | None) -> None:
        """Explain from ``run_dir``: its schools and years fill the choosers."""
        self._pending = None
        self._show_run(run_dir, _choices(run_dir))

    def load_async(self, run_dir: Path | None) -> None:
        """:meth:`set_run`, reading the choices and first explanation in a worker thread."""
        self._pending = Path(run_dir) if run_dir else None
        if self._pending is None:
            self.set_run(None)
            return
        target, school = self._pending, self.school.currentData() or self._wanted
        run_in_background(
            self,
            lambda: _first(target, school),
            lambda read: self._show_run(target, *read) if self._pending == target else None,
            lambda exc: self.message.setText(str(exc)) if self._pending == target else None,
        )

    def _show_run(
        self,
        run_dir: Path | None,
        choices: _Choices | None,
        first: _Kept | None = None,
    ) -> None:
        self._pending = None
        self.run_dir = Path(run_dir) if run_dir else None
        self._cache = {k: v for k, v in self._cache.items() if k[0] == self.run_dir}
        if first is not None:
            self._cache[first[0]] = first[1]
        kept = self.school.currentData() or self._wanted  # the school shown or clicked
        self.school.blockSignals(True)
        self.year.blockSignals(True)
        self.school.clear()
        if choices is not None:
            schools, first_year, last_year = choices
            for sid, name in schools:
                self.school.addItem(f"{sid} · {name}" if name and name != sid else sid, sid)
            found = self.school.findData(kept)
            self.school.setCurrentIndex(max(0, found))
            self._wanted = None if found >= 0 else self._wanted
            self.year.setRange(first_year, last_year)
            self.year.setValue(last_year)
        self.school.blockSignals(False)
        self.year.blockSignals(False)
        self.refresh()

    def set_school(self, school_id: str) -> None:
        """Show ``school_id`` (e.g. a school clicked on the map)."""
        i = self.school.findData(school_id)
        self._wanted = None if i >= 0 else school_id  # shown once a run that has it is read
        if i >= 0:
            self.school.setCurrentIndex(i)

    @property
    def figure(self) -> Figure:
        """The figure of the chart shown (the one a worker built last)."""
        return self.chart.figure

    def refresh(self) -> None:
        """Chart the waterfall of the chosen school and year (read once, then kept).

        The labels are translated here; the chart is built and rendered in a worker.
        """
        self.result = None
        if self.run_dir is None or self.school.currentData() is None:
            self.message.setText(tr("No run loaded."))
            self.chart.show_chart(_blank)
            return
        key = (self.run_dir, str(self.school.currentData()), self.year.value())
        if key not in self._cache:
            self._cache[key] = _explained(*key)
        outcome = self._cache[key]
        if isinstance(outcome, str):
            self.message.setText(outcome)
            self.chart.show_chart(_blank)
            return
        self.result = res = outcome
        self.message.setText(
            tr("{school} {year}: demand {demand:g} for {capacity} places").format(**res)
        )
        steps = [(tr(COMPONENT_LABELS.get(n, n)), v) for n, v in res["components"].items()]
        total = (tr("Demand"), float(res["demand"]))
        self.chart.show_chart(lambda figure: waterfall_figure(figure, steps, total))


def _blank(_figure: Figure) -> None:
    """No chart: the figure stays empty."""


def _columns(text: str) -> int:
    """How many character widths ``text`` takes (a CJK character takes two)."""
    return sum(2 if ord(c) >= CJK_START else 1 for c in text)


#: A run's schools as (id, name) and its first and last year.
_Choices = tuple[list[tuple[str, str]], int, int]


def _choices(run_dir: Path | None) -> _Choices | None:
    """A run's schools (id and name, by id) and its first and last year (None without a run)."""
    if run_dir is None:
        return None
    enrollment = pd.read_parquet(Path(run_dir) / "enrollment.parquet", columns=["year", "school"])
    names: dict[str, str] = {}
    listed = Path(run_dir) / "schools.parquet"
    if listed.exists():  # older runs have no schools table: ids alone
        table = pd.read_parquet(listed, columns=["school_id", "name"])
        names = dict(zip(table["school_id"].astype(str), table["name"].astype(str), strict=True))
    schools = [(str(sid), names.get(str(sid), "")) for sid in sorted(enrollment["school"].unique())]
    return schools, int(enrollment["year"].min()), int(enrollment["year"].max())


def _explained(run_dir: Path, school: str, year: int) -> dict[str, Any] | str:
    """:func:`explain`'s result, or the message of why it cannot explain (thread-safe)."""
    try:
        return explain(run_dir, school, year)
    except CitySandboxError as exc:
        return str(exc)


def _first(run_dir: Path, school: str | None = None) -> tuple[_Choices | None, _Kept | None]:
    """The choices of ``run_dir`` and the explanation shown first (its last year).

    The school is ``school`` when the run has it, else the run's first school.
    """
    choices = _choices(run_dir)
    if choices is None or not choices[0]:
        return choices, None
    ids = [sid for sid, _ in choices[0]]
    key = (run_dir, school if school in ids else ids[0], choices[2])
    return choices, (key, _explained(*key))


def waterfall_figure(
    figure: Figure, steps: list[tuple[str, float]], total: tuple[str, float]
) -> None:
    """The waterfall in ``figure``, its left margin fitted to the longest label (any thread)."""
    ax = figure.add_subplot()
    waterfall(ax, steps, total)
    # a margin from the longest label: tight_layout measured every label (a quarter
    # second on each language switch)
    longest = max(_columns(t.get_text()) for t in ax.get_yticklabels())
    width_px = figure.get_figwidth() * figure.get_dpi()
    left = min(0.6, 0.05 + LABEL_CHAR_PX * longest / width_px)
    figure.subplots_adjust(left=left, right=0.96, top=0.96, bottom=0.1)


def waterfall(ax: Any, steps: list[tuple[str, float]], total: tuple[str, float]) -> None:
    """Bars from 0 stepping by each (label, value) step, then the (label, value) total.

    Steps of 0 are left out; the bars meet exactly.
    """
    shown = [(label, v) for label, v in steps if v != 0]
    values = np.array([v for _, v in shown], dtype=float)
    ends = np.cumsum(values)
    starts = ends - values
    colours = ["tab:green" if v >= 0 else "tab:red" for v in values]
    y = np.arange(len(shown) + 1)
    ax.barh(y[:-1], values, left=starts, color=colours)
    ax.barh(y[-1], total[1], color="tab:blue")
    ax.set_yticks(y, [label for label, _ in shown] + [total[0]])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.5)
    ax.tick_params(labelsize=8)
