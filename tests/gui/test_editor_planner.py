"""The editor follows the planner: seats beside classes, zone ids checked against the city,
help on every field, errors that name the policy, Delete removes the selected policy.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from gui.background import cached_city
from gui.document import ScenarioDocument
from gui.editor import EditorPanel
from sim import settings


@pytest.fixture
def editor(qtbot):
    default = settings.scenarios_folder / "default.yaml"
    if not settings.default_city.exists() or not default.exists():
        pytest.skip("the default city or scenario is not built")
    doc = ScenarioDocument()
    doc.open(default)
    panel = EditorPanel(doc)
    qtbot.addWidget(panel)
    panel.set_city(cached_city(settings.default_city))
    panel.show()
    return panel


def _new_school(editor: EditorPanel) -> int:
    zone = editor.city.zones.index[0]
    spot = editor.city.zones.geometry.loc[zone].representative_point()
    return editor.place_point_policy("new_school", spot.x, spot.y)


def _type(qtbot, field: QLineEdit, text: str) -> None:
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_seats_beside_classes_follow_the_class_size(editor, qtbot):
    index = _new_school(editor)
    policy = editor.doc.policies[index]
    assert policy["level"] == "primary" and policy.get("class_size") is None
    classes = policy["classes_per_grade"]
    # the default city's school system: 45 pupils per primary class, 6 primary grades
    note = editor.form.notes["classes_per_grade"]
    assert not note.isHidden()
    assert note.text() == f"= {classes * 45 * 6:,} seats ({classes} classes × 45 pupils × 6 grades)"
    _type(qtbot, editor.form.widgets["class_size"], "30")
    assert editor.doc.policies[index]["class_size"] == 30
    note = editor.form.notes["classes_per_grade"]
    assert note.text().startswith(f"= {classes * 30 * 6:,} seats")


def test_catchment_zones_must_be_zones_of_the_city(editor, qtbot):
    index = _new_school(editor)
    zones = editor.form.widgets["zones"]
    _type(qtbot, zones, "999")
    assert "999" in editor.form.errors()["zones"]  # a made-up zone is not "valid"
    assert editor.doc.policies[index].get("zones", []) == []
    real = [int(z) for z in editor.city.zones.index[:2]]
    _type(qtbot, zones, ", ".join(str(z) for z in real))
    assert editor.doc.policies[index]["zones"] == real
    assert "zones" not in editor.form.errors()


def test_every_field_has_help_and_errors_name_the_policy(editor, qtbot):
    index = _new_school(editor)
    for name, widget in editor.form.widgets.items():
        assert widget.toolTip(), name
    assert "system" in editor.form.widgets["class_size"].toolTip()  # blank = the system's
    broken = dict(editor.doc.policies[index], classes_per_grade=0)
    editor.doc.edit_policy(index, broken)
    status = editor.status.text()
    school = broken["id"]
    assert f"New school {school}" in status and "policies." not in status, status
    item = editor.policy_list.item(index)
    assert f"New school {school}" in item.toolTip()


def test_delete_key_removes_the_selected_policy(editor, qtbot):
    before = len(editor.doc.policies)
    index = _new_school(editor)
    editor.select(index)
    editor.policy_list.setFocus()
    qtbot.keyClick(editor.policy_list, Qt.Key.Key_Delete)
    assert len(editor.doc.policies) == before


def test_catchment_zones_are_picked_on_the_map(window, qtbot, click_map):
    city = window.city
    spot = city.zones.geometry.iloc[0].representative_point()
    index = window.editor.place_point_policy("new_school", spot.x, spot.y)
    assert window.editor.pick_zones.isVisible()
    qtbot.mouseClick(window.editor.pick_zones, Qt.MouseButton.LeftButton)
    assert window.tool == "zones"
    zone = city.zones["population"].idxmax()
    inside = city.zones.geometry.loc[zone].representative_point()
    click_map(window.map, inside.x, inside.y)
    assert window.doc.policies[index]["zones"] == [int(zone)]
    click_map(window.map, inside.x, inside.y)  # a second click removes it
    assert window.doc.policies[index]["zones"] == []
