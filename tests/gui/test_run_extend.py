"""A policy year after the run's end offers to extend the run instead of refusing it."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from sim import settings


def test_a_late_policy_offers_to_extend_the_run(window, dialogs, qtbot):
    assert window.open_scenario(settings.scenarios_folder / "new-school.yaml")
    panel = window.run_panel
    start = window.doc.data["start_year"]
    year = max(p["year"] for p in window.doc.policies)  # N01 opens in 2027
    panel.years.setValue(2)
    panel.replications.setValue(1)
    # Cancel: nothing runs, nothing changes, and no error dialog
    dialogs["answers"].append(QMessageBox.StandardButton.Cancel)
    assert not panel.start()
    assert not panel.running and panel.years.value() == 2 and not dialogs["critical"]
    _title, text = dialogs["question"][-1]
    assert str(year) in text and f"{start + 1}" in text  # starts 2027, the run ends 2025
    # Yes: the run is extended to reach the policy (a run setting: the scenario is unchanged)
    dialogs["answers"].append(QMessageBox.StandardButton.Yes)
    assert panel.start()
    assert panel.years.value() == year - start + 1
    assert panel.run_data()["years"] == year - start + 1
    assert not window.doc.is_dirty()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
