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


def test_explain_panel_waterfall_adds_up(window, finished_run):
    panel = window.explain
    panel.set_run(finished_run)
    panel.set_school("P01")
    res = panel.result
    assert res is not None and res["school"] == "P01"
    assert sum(res["components"].values()) == pytest.approx(res["demand"], abs=0.011)
    ax = panel.figure.axes[0]
    assert len(ax.patches) == sum(v != 0 for v in res["components"].values()) + 1
