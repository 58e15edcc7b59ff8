"""The map and the scenario editor, driven as a user would (offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox

from gui.document import ScenarioDocument
from gui.editor import policy_model, policy_template
from gui.forms import ModelForm
from sim import scenario as schema


def test_map_draws_every_zone_road_and_school(window):
    city = window.city
    zones_coll = window.map._artists["zones"][0]
    n_parts = sum(len(getattr(g, "geoms", [g])) for g in city.zones.geometry)
    assert len(zones_coll.get_paths()) == n_parts
    # each undirected road once: count unordered node pairs independently
    a, b = city.links["a_node"].to_numpy(), city.links["b_node"].to_numpy()
    pairs = {(min(p), max(p)) for p in zip(a, b, strict=True)}
    starts = sum(
        int((patch.get_path().codes == patch.get_path().MOVETO).sum())
        for patch in window.map._artists["roads"]
    )
    assert starts == len(pairs)
    drawn = sum(len(sc.get_offsets()) for sc in window.map._artists["schools"])
    assert drawn == len(city.schools)


def test_layer_panel_switches_layers(window):
    layers = window.layers
    item = next(
        layers.item(i)
        for i in range(layers.count())
        if layers.item(i).data(Qt.ItemDataRole.UserRole) == "roads"
    )
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not any(a.get_visible() for a in window.map._artists["roads"])
    item.setCheckState(Qt.CheckState.Checked)
    assert all(a.get_visible() for a in window.map._artists["roads"])


def test_click_picks_school_road_and_zone(window, click_map):
    city = window.city
    school = city.schools.index[3]
    pt = city.schools.geometry.loc[school]
    click_map(window.map, pt.x, pt.y)
    assert window.info.item(1, 1).text() == str(school)
    # a road: zoom in around a link's midpoint, then click it
    link = city.links[city.links["link_type"] == "primary"].index[0]
    mid = city.links.geometry.loc[link].interpolate(0.5, normalized=True)
    window.map.set_view_limits((mid.x - 150, mid.x + 150), (mid.y - 150, mid.y + 150))
    kind, _, props = window.map.pick(mid.x, mid.y)
    assert kind == "road" and link in props["link_ids"]
    reverse = city.links[
        (city.links["a_node"] == city.links.loc[link, "b_node"])
        & (city.links["b_node"] == city.links.loc[link, "a_node"])
    ].index
    assert set(props["link_ids"]) == {link, *reverse}
    # a zone: a point inside a zone and away from roads and schools
    zone = city.zones.index[0]
    inside = city.zones.geometry.loc[zone].representative_point()
    window.map.set_layer_visible("roads", False)
    window.map.set_layer_visible("schools", False)
    assert window.map.pick(inside.x, inside.y)[:2] == ("zone", zone)


def test_add_school_by_click_edit_capacity_undo_and_save(window, qtbot, click_map, tmp_path):
    city = window.city
    target = city.zones.geometry.iloc[10].representative_point()
    window.editor.add_type.setCurrentIndex(window.editor.add_type.findData("new_school"))
    qtbot.mouseClick(window.editor.add_button, Qt.MouseButton.LeftButton)
    assert window.tool == "new_school"
    click_map(window.map, target.x, target.y)
    assert window.tool == ""
    policy = window.doc.policies[-1]
    assert policy["type"] == "new_school"
    metres_per_pixel = window.map.tolerance(1.0)
    assert np.hypot(policy["xy"][0] - target.x, policy["xy"][1] - target.y) < 2 * metres_per_pixel
    # the form: type a new number of classes per grade
    field = window.editor.form.widgets["classes_per_grade"]
    assert isinstance(field, QLineEdit)
    field.selectAll()
    qtbot.keyClicks(field, "6")
    assert window.doc.policies[-1]["classes_per_grade"] == 4  # nothing half-typed committed
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.doc.policies[-1]["classes_per_grade"] == 6
    # an invalid value is refused by the schema and not stored
    qtbot.keyClicks(field, "0")  # "60": more than the schema allows
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.doc.policies[-1]["classes_per_grade"] == 6
    assert "classes_per_grade" in window.editor.form.errors()
    assert "40" in window.editor.form.errors()["classes_per_grade"]  # le=40 in the schema
    # undo / redo
    window.doc.undo_stack.undo()
    assert window.doc.policies[-1]["classes_per_grade"] == 4
    window.doc.undo_stack.redo()
    assert window.doc.policies[-1]["classes_per_grade"] == 6
    assert window.windowTitle().endswith("*")
    # save, and read the file back with the model's own loader
    out = tmp_path / "with-school.yaml"
    assert window.save_as(out)
    saved = schema.load_scenario(out)
    assert saved.policies[-1].classes_per_grade == 6
    assert saved.policies[-1].xy == pytest.approx(tuple(policy["xy"]))
    assert saved.city == window.doc.scenario().city
    assert not window.windowTitle().endswith("*")
    assert window.recent_files()[0] == str(out.resolve())


def test_road_policy_picks_roads_on_click(window, qtbot, click_map):
    city = window.city
    link = city.links[city.links["link_type"] == "secondary"].index[0]
    mid = city.links.geometry.loc[link].interpolate(0.5, normalized=True)
    window.map.set_view_limits((mid.x - 120, mid.x + 120), (mid.y - 120, mid.y + 120))
    window.editor.add_type.setCurrentIndex(window.editor.add_type.findData("road_closure"))
    qtbot.mouseClick(window.editor.add_button, Qt.MouseButton.LeftButton)
    assert window.tool == "roads"
    assert window.doc.problem() is not None  # a closure without links does not validate yet
    click_map(window.map, mid.x, mid.y)
    links = window.doc.policies[-1]["links"]
    assert link in links
    assert window.doc.problem() is None
    click_map(window.map, mid.x, mid.y)  # a second click removes the road again
    assert window.doc.policies[-1]["links"] == []


def test_policy_list_remove_and_reorder(window):
    doc = window.doc
    for kind in ("parking_guidance", "signal_retiming"):
        doc.add_policy(policy_template(kind, doc, window.city))
    window.editor.select(1)
    window.editor._move(-1)
    assert [p["type"] for p in doc.policies] == ["signal_retiming", "parking_guidance"]
    window.editor.select(0)
    window.editor._remove()
    assert [p["type"] for p in doc.policies] == ["parking_guidance"]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert [p["type"] for p in doc.policies] == ["parking_guidance", "signal_retiming"]


@pytest.mark.parametrize("kind", schema.POLICY_TYPES)
def test_every_policy_type_has_a_form_and_a_template(qtbot, kind):
    form = ModelForm(policy_model(kind))
    qtbot.addWidget(form)
    doc = ScenarioDocument()
    doc.new({"name": "t", "city": "x.gpkg", "start_year": 2024, "years": 5})
    template = policy_template(kind, doc, None, xy=(1.0, 2.0), links=[1, 2])
    form.set_values(template)
    assert form.errors() == {}
    if kind != "new_link":  # from/to nodes must be picked by the user
        policy_model(kind).model_validate(template)


def test_unsaved_changes_prompt(window, dialogs):
    window.doc.set_field("description", "changed")
    dialogs["answers"].append(QMessageBox.StandardButton.Cancel)
    assert not window.maybe_save()
    dialogs["answers"].append(QMessageBox.StandardButton.Discard)
    assert window.new_scenario()
    assert len(dialogs["question"]) == 2
    assert window.doc.data["name"] == "new-scenario" and window.doc.path is None


def test_bad_scenario_and_bad_geodata_show_a_dialog(window, dialogs, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncity: missing.gpkg\nyears: -3\n", encoding="utf-8")
    assert not window.open_scenario(bad)
    _title, text = dialogs["critical"][-1]
    assert "years" in text and "bad.yaml" in text
    nocity = tmp_path / "nocity.yaml"
    nocity.write_text("name: nocity\ncity: missing.gpkg\n", encoding="utf-8")
    assert window.open_scenario(nocity)
    assert "missing.gpkg" in dialogs["critical"][-1][1]
    assert "not found" in dialogs["critical"][-1][1]


def test_roads_fold_values_per_road(window):
    roads = window.map.roads
    links = window.city.links
    values = links["lanes"].astype(float) * 10 + (links.index % 2)
    folded = roads.fold(values, "max")
    # an independent reference: max over each unordered node pair, in plain Python
    ref: dict[tuple[int, int], float] = {}
    for a, b, v in zip(links["a_node"], links["b_node"], values, strict=True):
        pair = (min(a, b), max(a, b))
        ref[pair] = max(ref.get(pair, -np.inf), v)
    first_link = roads.link_ids[np.unique(roads.road_of_link, return_index=True)[1]]
    for road in range(0, len(folded), 97):
        a, b = links.loc[first_link[road], ["a_node", "b_node"]]
        assert folded[road] == ref[(min(a, b), max(a, b))]
    assert isinstance(roads.tree, shapely.STRtree)


def test_scenario_and_parameter_forms_edit_the_document(window, qtbot):
    name = window.editor.scenario_form.widgets["name"]
    name.selectAll()
    qtbot.keyClicks(name, "bad name!")  # spaces and "!" are not allowed by the schema
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert window.doc.data["name"] == "default"  # an invalid name is never committed
    assert "pattern" in window.editor.scenario_form.errors()["name"]
    window.editor.parameters_box.setChecked(True)
    share = window.editor.parameters_form.widgets["car_share"]
    share.selectAll()
    qtbot.keyClicks(share, "0.3")
    typed = (window.doc.data.get("parameters") or {}).get("car_share", 0.45)
    assert typed == 0.45  # "0" and "0." on the way to "0.3" are never committed
    qtbot.keyClick(share, Qt.Key.Key_Return)
    assert window.doc.data["parameters"]["car_share"] == 0.3
    assert window.doc.scenario().parameters.car_share == 0.3
    window.doc.undo_stack.undo()
    assert window.doc.data["parameters"]["car_share"] == 0.45
