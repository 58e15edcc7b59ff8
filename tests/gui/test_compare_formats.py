"""Compare tables write every change one way: signed, thousands separators, never "-0 %".

A crafted comparison whose changes round to zero (-0.004 %, +0.04 %, a utilisation change
of -0.004 points) or not (+1.2 %, -3 points, +1,250 %); the texts are written by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

from gui.compare_tables import kpi_rows, school_rows
from gui.tables import cell_text, cell_value, fill_table, format_value
from sim.runs.compare import kpi_table

#: KPI -> (baseline, variant); the comments give the change as the table must show it.
VALUES = {
    "population": (450_000.0, 449_982.0),  # −18, −0.004 % -> 0 %
    "births": (100_000.0, 100_040.0),  # +40, +0.04 % -> 0 %
    "deaths": (2_000.0, 2_024.0),  # +24, +1.2 %
    "in_migrants": (3_000.0, 2_910.0),  # −90, −3.0 %
    "out_migrants": (10.0, 135.0),  # +125, +1,250.0 %
    "movers": (34_811.0, 34_811.0),  # 0, 0 %
    "pupils_primary": (20_000.0, 22_500.0),  # +2,500, +12.5 %
}
MINUS = "\N{MINUS SIGN}"


def _run(values: dict[str, float]) -> SimpleNamespace:
    nan = float("nan")
    summary = pd.DataFrame(
        {"year": 2030, "kpi": list(values), "p10": nan, "p50": list(values.values()), "p90": nan}
    )
    return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})


@pytest.fixture
def kpis(qtbot) -> tuple[QTableWidget, list[str], list[str]]:
    base = _run({k: v[0] for k, v in VALUES.items()})
    variant = _run({k: v[1] for k, v in VALUES.items()})
    rows = kpi_rows(kpi_table([base, variant], ["base", "new"]), ["base", "new"], diagnostics=False)
    table = QTableWidget()
    qtbot.addWidget(table)
    fill_table(table, rows.frame, headers=rows.headers)
    return table, rows.names, list(rows.frame.columns)


def test_kpi_changes_are_signed_and_zero_has_no_sign(kpis) -> None:
    table, names, columns = kpis
    diff, rel = columns.index("diff new"), columns.index("rel % new")
    shown = {
        name: (cell_text(table, r, diff), cell_text(table, r, rel)) for r, name in enumerate(names)
    }
    assert shown == {
        "population": (f"{MINUS}18", "0 %"),
        "births": ("+40", "0 %"),
        "deaths": ("+24", "+1.2 %"),
        "in_migrants": (f"{MINUS}90", f"{MINUS}3.0 %"),
        "out_migrants": ("+125", "+1,250.0 %"),
        "movers": ("0", "0 %"),
        "pupils_primary": ("+2,500", "+12.5 %"),
    }
    # the values themselves keep their separators and no sign
    assert cell_text(table, names.index("population"), columns.index("base")) == "450,000"


def test_signed_changes_still_sort_by_value(kpis) -> None:
    table, _names, columns = kpis
    rel = columns.index("rel % new")
    table.sortItems(rel, Qt.SortOrder.AscendingOrder)
    order = [cell_text(table, r, 0) for r in range(table.rowCount())]
    # −3.0 % < −0.004 % < 0 % < +0.04 % < +1.2 % < +12.5 % < +1,250 %
    assert order == [
        "In-migrants",
        "Population",
        "Movers within the city",
        "Births",
        "Deaths",
        "Primary pupils (placed or not)",
        "Out-migrants",
    ]
    assert cell_value(table, 0, rel) == pytest.approx(-3.0)


def test_school_utilisation_change_in_whole_signed_percent(qtbot) -> None:
    pressure = pd.DataFrame(
        {
            "school_id": ["P1", "P2", "P3", "P4"],
            "base": [0.94, 0.5, 0.9, 1.0],
            "new": [0.93996, 0.58, 0.87, 1.0],
        }
    )
    pressure["change new"] = pressure["new"] - pressure["base"]
    names = pd.Series({"P1": "Escuela Uno"})
    rows = school_rows(pressure, ["base", "new"], names)
    table = QTableWidget()
    qtbot.addWidget(table)
    fill_table(table, rows.frame, percent=["base", "new", "change new"], headers=rows.headers)
    change = list(rows.frame.columns).index("change new")
    assert [cell_text(table, r, change) for r in range(4)] == ["0 %", "+8 %", f"{MINUS}3 %", "0 %"]
    assert [cell_text(table, r, 3) for r in range(4)] == ["94 %", "58 %", "87 %", "100 %"]


def test_a_value_that_rounds_to_zero_never_reads_minus_zero() -> None:
    assert format_value(-0.004, percent=True) == "0 %"
    assert format_value(-0.006, percent=True) == "-1 %"
    assert format_value(-0.0) == "0"


def test_a_long_label_is_elided_on_one_line_not_wrapped_and_cut(qtbot) -> None:
    label = "Demand-supply gap (car matrix change over the last round)"
    table = QTableWidget()
    qtbot.addWidget(table)
    fill_table(table, pd.DataFrame({"indicator": [label], "value": [0.001778]}))
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(label)  # it is cut
    assert not table.wordWrap()  # so it ends in "…" on its line, not in a hidden 2nd line
    assert table.item(0, 0).toolTip() == label  # and its tooltip has it whole
