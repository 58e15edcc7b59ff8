"""Tables of numbers as people read them: thousands separators, percentages, numeric sorting.

:func:`fill_table` shows a DataFrame in a QTableWidget; numbers are written with
:func:`sim.kpis.format_number` (``451,500``, never ``4.515e+05``), columns named in
``percent`` as whole percentages (``94 %`` for a utilisation of 0.94), and every numeric
cell sorts by its value, not its text. A cell holding a :class:`Shown` keeps the text its
maker chose (signed changes from :func:`format_change`). Headers are translated with
:func:`gui.i18n.tr`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from gui.i18n import tr
from sim.kpis import format_number

#: The item data role that holds a cell's number (sorting, tests).
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1
#: The widest a column starts (pixels).
MAX_COLUMN_PX = 230
#: The sign of a negative change (U+2212: as wide as "+", never read as a dash).
MINUS = "\N{MINUS SIGN}"
#: How :func:`format_change` writes a difference.
ChangeKind = Literal["number", "percent", "ratio"]


@dataclass(frozen=True)
class Shown:
    """A number with the text a table shows for it; its cell sorts by the number."""

    value: float
    text: str


class NumberItem(QTableWidgetItem):
    """A table cell that shows formatted text and sorts by its number (NaN last)."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.setData(VALUE_ROLE, value)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        """Compare by value; a blank (NaN) sorts after every number."""
        mine, theirs = self.data(VALUE_ROLE), other.data(VALUE_ROLE)
        if not isinstance(theirs, float) or np.isnan(theirs):
            return not np.isnan(mine)
        if np.isnan(mine):
            return False
        return bool(mine < theirs)


def _reads_zero(text: str) -> bool:
    """Whether a formatted number shows only zeros (``-0``, ``0.0 %``; not ``1e-05``)."""
    return any(ch.isdigit() for ch in text) and not any(ch in "123456789" for ch in text)


def format_value(value: float, percent: bool = False) -> str:
    """A number as shown in tables: ``451,500``, ``0.123``, ``94 %``; NaN is blank.

    A value that rounds to zero reads ``0`` (``0 %``), never ``-0``.
    """
    if pd.isna(value):
        return ""
    text = f"{100.0 * value:,.0f} %" if percent else format_number(float(value))
    return text.removeprefix("-") if _reads_zero(text) else text


def format_change(value: float, kind: ChangeKind = "number") -> str:
    """A signed difference: ``+1,080``, ``−0.25``, ``+1.2 %``; NaN is blank.

    Every change carries its sign ("+" or a real minus, :data:`MINUS`) except one that
    rounds to zero, which reads ``0`` (``0 %``).

    Parameters
    ----------
    value
        The difference.
    kind
        ``"number"``: digits as :func:`sim.kpis.format_number` (thousands separators);
        ``"percent"``: a value already in percent, one decimal (``+1.2 %``, ``−3.0 %``);
        ``"ratio"``: a difference of ratios in whole percent (0.08 -> ``+8 %``), as
        :func:`format_value` shows the ratios themselves.
    """
    if not np.isfinite(value):
        return format_value(value)
    size = abs(float(value))
    text = f"{size:,.1f} %" if kind == "percent" else format_value(size, kind == "ratio")
    if _reads_zero(text):
        return "0" if kind == "number" else "0 %"
    return ("+" if value > 0 else MINUS) + text


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def set_headers(table: QTableWidget, frame: pd.DataFrame, headers: dict[str, str]) -> None:
    """Label ``table``'s columns for ``frame``: ``headers`` where given, else ``tr(name)``."""
    table.setHorizontalHeaderLabels([headers.get(str(c), tr(str(c))) for c in frame.columns])


def fill_table(
    table: QTableWidget,
    frame: pd.DataFrame,
    *,
    percent: Collection[str] = (),
    headers: Mapping[str, str] | None = None,
) -> None:
    """Show ``frame`` in ``table``: formatted numbers, translated headers, numeric sorting.

    Parameters
    ----------
    table
        The widget to fill (cleared first).
    frame
        Rows to show, in order.
    percent
        Columns holding ratios, shown as whole percentages.
    headers
        Column name -> header text (already translated); other columns get ``tr(name)``.
    """
    headers = headers or {}
    table.setSortingEnabled(False)
    table.clear()
    table.setRowCount(len(frame))
    table.setColumnCount(len(frame.columns))
    set_headers(table, frame, headers)
    for c, column in enumerate(frame.columns):
        as_percent = column in percent
        for r, value in enumerate(frame[column].tolist()):
            if isinstance(value, Shown):
                item: QTableWidgetItem = NumberItem(float(value.value), value.text)
            elif _is_number(value):
                item = NumberItem(float(value), format_value(value, as_percent))
            else:
                item = QTableWidgetItem("" if value is None or value is pd.NA else str(value))
                item.setToolTip(item.text())
            table.setItem(r, c, item)
    # a long label is elided on one line (its tooltip has it whole), not wrapped into a second
    # line that the row's height cuts off
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.resizeColumnsToContents()
    for c in range(table.columnCount()):
        table.setColumnWidth(c, min(table.columnWidth(c), MAX_COLUMN_PX))
    table.setSortingEnabled(True)


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    """The text of a cell ("" where there is no item)."""
    item = table.item(row, column)
    return "" if item is None else item.text()


def cell_value(table: QTableWidget, row: int, column: int) -> float:
    """The number behind a numeric cell (NaN for a blank one)."""
    item = table.item(row, column)
    value = None if item is None else item.data(VALUE_ROLE)
    return float(value) if value is not None else float("nan")


def thousands_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels with thousands separators (``451,500``, not ``451500`` or ``4.5e5``)."""
    formatter = FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)
