"""The compare view colours only judged KPIs: never a count (population) or a diagnostic."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from gui.compare import CompareView
from gui.results import fill_table
from sim.runs.compare import kpi_table


def _run(values: dict[str, float]) -> SimpleNamespace:
    summary = pd.DataFrame({"year": 2030, "kpi": list(values), "p50": list(values.values())})
    return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})


def test_counts_and_diagnostics_stay_uncoloured(qtbot, tmp_path) -> None:
    base = _run({"population": 1000.0, "rel_gap": 1e-3, "assignment_iterations": 9.0,
                 "vkt": 100.0, "overflow_pupils": 40.0})  # fmt: skip
    variant = _run({"population": 2000.0, "rel_gap": 1e-5, "assignment_iterations": 30.0,
                    "vkt": 80.0, "overflow_pupils": 60.0})  # fmt: skip
    view = CompareView(tmp_path)
    qtbot.addWidget(view)
    table = kpi_table([base, variant], ["base", "variant"])
    view.comparison = SimpleNamespace(kpis=table, labels=["base", "variant"])
    fill_table(view.kpis, table, digits=3)
    view._label_kpis()
    view._colour_verdicts()
    assert view.kpi_verdicts() == {
        "population": "up",
        "overflow_pupils": "worse",
        "vkt": "better",
        "rel_gap": "",
        "assignment_iterations": "",
    }
    diff_col = list(table.columns).index("diff variant")
    colours = {"#c8efc8", "#f7c6c6"}  # the view's green and red
    coloured = {
        view.kpis.item(r, 0).text()
        for r in range(view.kpis.rowCount())
        if view.kpis.item(r, diff_col).background().color().name() in colours
    }
    assert coloured == {"vkt", "overflow_pupils"}
    tips = {view.kpis.item(r, 0).text(): view.kpis.item(r, 0).toolTip() for r in range(5)}
    assert tips["vkt"] == "Peak-hour VKT (veh·km)"
    assert "solver diagnostic" in tips["rel_gap"]
