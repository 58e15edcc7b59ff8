"""A junction's signal plan is edited as a planner would: pick the signal on the map, start
from its current plan, change the greens, read the cycle they make.
"""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_pick_a_signal_on_the_map_and_edit_its_plan(window, qtbot, click_map):
    editor = window.editor
    editor.add_type.setCurrentIndex(editor.add_type.findData("signal_plan"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    index = editor.current_index()
    assert window.doc.policies[index]["type"] == "signal_plan"
    assert editor.pick_signal.isVisible()
    signals = window.city.signals
    target = int(signals.index[len(signals) // 2])
    spot = signals.geometry.loc[target]
    window.map.set_view_limits((spot.x - 300, spot.x + 300), (spot.y - 300, spot.y + 300))
    qtbot.mouseClick(editor.pick_signal, Qt.MouseButton.LeftButton)
    assert window.tool == "signal"
    click_map(window.map, spot.x + 3, spot.y - 3)
    policy = window.doc.policies[index]
    greens = [float(g) for g in str(signals.at[target, "green_s"]).split(",")]
    assert policy["signal"] == target and policy["greens"] == greens
    assert policy["cycle_s"] == sum(greens) + 4 * len(greens)  # 4 s lost per phase
    assert window.tool == "" and window.doc.problem() is None
    note = editor.form.notes["greens"].text()
    assert note.endswith(f"= {sum(greens) + 4 * len(greens):g} s")
    # greens that no longer fit the cycle: the policy is named, and the note says the fit
    field = editor.form.widgets["greens"]
    field.selectAll()
    qtbot.keyClicks(field, ", ".join(str(g + 5) for g in greens))
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.doc.policies[index]["greens"] == [g + 5 for g in greens]
    assert "Signal plan" in editor.status.text() and "policies." not in editor.status.text()
    fitted = sum(greens) + 5 * len(greens) + 4 * len(greens)
    assert editor.form.notes["greens"].text().endswith(f"= {fitted:g} s")
