"""A road policy just added says what it needs (a street clicked), not the schema's words."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from gui import i18n
from gui.planner import missing_pick

STREET = "Camino Ovalle La Serena"
NO_ROAD = "no road picked yet: with Pick roads on, click a street on the map"


def test_a_new_road_closure_asks_for_a_street_until_one_is_clicked(
    window: Any, qtbot: Any, click_map: Any
) -> None:
    editor = window.editor
    editor.add_type.setCurrentIndex(editor.add_type.findData("road_closure"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    index = len(window.doc.policies) - 1
    expected = f"policy {index + 1} (Road closure): {NO_ROAD}"
    assert editor.status.text() == expected  # not "links = []: List should have at least 1"
    assert editor.policy_list.item(index).toolTip() == expected
    i18n.set_language("zh", cjk_font=True)
    editor.retranslate()
    assert "尚未选取道路" in editor.status.text()
    i18n.set_language("en", cjk_font=False)
    editor.retranslate()
    links = window.city.links
    piece = int(links.loc[links["name"] == STREET, "length_m"].idxmax())
    mid = links.geometry.loc[piece].interpolate(0.5, normalized=True)
    window.map.set_view_limits((mid.x - 150, mid.x + 150), (mid.y - 150, mid.y + 150))
    assert window.tool == "roads"  # Add turned the pick on
    click_map(window.map, mid.x, mid.y)
    assert piece in window.doc.policies[index]["links"]
    assert editor.status.text() == "Scenario is valid."


def test_the_hint_names_the_cordon_where_the_type_has_one() -> None:
    charge = missing_pick({"type": "congestion_charge"}, 1)
    assert charge is not None and charge.startswith("policy 2 (")
    assert "Pick zones" in charge
    assert missing_pick({"type": "road_closure", "links": [5]}, 0) is None
    assert missing_pick({"type": "congestion_charge", "cordon_zones": [3]}, 0) is None
    assert missing_pick({"type": "new_school"}, 0) is None  # placed by a click, no roads
