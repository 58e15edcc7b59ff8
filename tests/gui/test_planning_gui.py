"""The "Plan schools" and "Explain" side panels of the main window."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_plan_schools_off_the_ui_thread_draws_and_adds(window, qtbot, finished_run):
    panel = window.planning
    assert window.side.indexOf(panel) >= 0 and window.side.indexOf(window.explain) >= 0
    panel.set_run(finished_run)
    panel.budget.setValue(1)
    before = len(window.doc.policies)
    panel.start()
    assert panel.busy  # the solve runs in a worker process; the UI keeps polling
    qtbot.waitUntil(lambda: not panel.busy, timeout=240_000)
    assert panel.result is not None, panel.status.text()
    sites = panel.result["sites"]
    assert 1 <= len(sites) == panel.table.rowCount()
    # a star per site, its zones' outlines and every catchment's boundary
    assert len(panel._artists) > len(sites) + sum(len(s["zones"]) for s in sites)
    assert panel.add_to_scenario() == len(sites)
    added = window.doc.policies[before:]
    assert [p["type"] for p in added] == ["new_school"] * len(sites)
    assert added[0]["zones"] == sites[0]["zones"]


def _chart(qtbot, window):
    """The Explain panel's figure once its tab is in front and the worker has drawn it."""
    from gui import background

    window.side.setCurrentWidget(window.explain)
    qtbot.waitUntil(
        lambda: not background.busy() and not window.explain.chart.drawing, timeout=60_000
    )
    return window.explain.figure


def test_explain_panel_waterfall_adds_up(window, qtbot, finished_run):
    panel = window.explain
    panel.set_run(finished_run)
    panel.set_school("P01")
    res = panel.result
    assert res is not None and res["school"] == "P01"
    assert sum(res["components"].values()) == pytest.approx(res["demand"], abs=0.011)
    ax = _chart(qtbot, window).axes[0]
    assert len(ax.patches) == sum(v != 0 for v in res["components"].values()) + 1


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font on CI
def test_explain_panel_names_schools_and_flows_and_keeps_a_clicked_school(
    window, qtbot, finished_run
):
    """The chooser reads 'id · name' from the run's schools table, the bars are named in
    words (not the flow table's snake_case), and a school clicked on the map before the
    run was read is the one shown once it is (a load used to reset it to the first)."""
    import pandas as pd

    from gui.i18n import set_language

    panel = window.explain
    names = pd.read_parquet(finished_run / "schools.parquet").set_index("school_id")["name"]
    panel.set_run(None)
    panel.set_school("P01")  # clicked while no run lists it yet
    panel.load_async(finished_run)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60_000)
    assert panel.school.currentData() == "P01"
    assert panel.school.currentText() == f"P01 · {names['P01']}"
    labels = [t.get_text() for t in _chart(qtbot, window).axes[0].get_yticklabels()]
    assert labels[-1] == "Demand" and not any("_" in t for t in labels), labels
    set_language("zh", cjk_font=True)
    try:
        panel.retranslate()
        zh = [t.get_text() for t in _chart(qtbot, window).axes[0].get_yticklabels()]
        assert zh[-1] == "需求" and not any(c.isascii() and c.isalpha() for t in zh for c in t)
    finally:
        set_language("en", cjk_font=False)
        panel.retranslate()
