"""A click on a placed point selects its policy in the editor; a pick tool keeps its click.

The rule: with no map tool on (inspect), a click on a point policy's marker selects that
policy (the editor tab comes to the front, its form shows the point) and the property
table lists the policy's fields; a click beside every marker changes no selection. With a
pick tool on (streets, zones, signal, query, placing a point), the tool takes the click
even on a marker: the street under a new school is picked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _pointer import hover
from PySide6.QtCore import QPointF, Qt

from gui.editor import policy_template

STREET = "Camino Ovalle La Serena"


@pytest.fixture
def sites(window: Any) -> dict[str, Any]:
    """Two new schools (one on the street's longest piece, one 300 m east) and a road closure.

    The road closure is selected and the Run tab is in front; the map shows both schools.
    """
    doc, city = window.doc, window.city
    links = city.links
    piece = int(links.loc[links["name"] == STREET, "length_m"].idxmax())
    mid = links.geometry.loc[piece].interpolate(0.5, normalized=True)
    on_road = (round(mid.x, 1), round(mid.y, 1))
    east = (on_road[0] + 300.0, on_road[1])
    schools = [
        doc.add_policy(policy_template("new_school", doc, city, xy=xy)) for xy in (on_road, east)
    ]
    closure = doc.add_policy(policy_template("road_closure", doc, city))
    window.editor.select(closure)
    window.side.setCurrentWidget(window.run_panel)
    x, y = on_road
    window.map.set_view_limits((x - 500, x + 700), (y - 600, y + 600))
    return {"schools": schools, "xy": [on_road, east], "closure": closure, "piece": piece}


def _shown_xy(window: Any) -> list[float]:
    return [float(v) for v in window.editor.form.widgets["xy"].text().split(",")]


def test_a_click_on_a_marker_selects_its_policy(
    window: Any, qtbot: Any, click_map: Any, sites: dict[str, Any], screenshots: Path
) -> None:
    editor, doc = window.editor, window.doc
    steps = doc.undo_stack.count()
    for index, (x, y) in zip(sites["schools"], sites["xy"], strict=True):
        click_map(window.map, x, y)
        assert editor.current_index() == index
        assert window.side.currentWidget() is editor  # the form is on show
        assert _shown_xy(window) == [x, y]
        # the properties are the policy's, not those of the zone or school beneath it
        shown = {window.info.item(r, 0).text(): window.info.item(r, 1).text() for r in range(2)}
        assert shown == {"kind": "New school", "id": doc.policies[index]["id"]}
    qtbot.wait(50)  # the form laid out
    window.grab().save(str(screenshots / "map_marker_selected.png"))
    # beside every marker (400 m south of the first): the selection stays, the map inspects
    x, y = sites["xy"][0]
    click_map(window.map, x, y - 400)
    assert editor.current_index() == sites["schools"][1]
    assert window.info.rowCount() > 0
    assert doc.undo_stack.count() == steps  # selecting is no edit


def test_with_the_street_pick_on_a_click_on_a_marker_picks_the_street(
    window: Any, qtbot: Any, click_map: Any, sites: dict[str, Any]
) -> None:
    editor, doc = window.editor, window.doc
    qtbot.mouseClick(editor.pick_roads, Qt.MouseButton.LeftButton)
    assert window.tool == "roads"
    x, y = sites["xy"][0]
    click_map(window.map, x, y)  # on the school's marker, which stands on the street
    assert editor.current_index() == sites["closure"]  # still the road closure
    assert sites["piece"] in doc.policies[sites["closure"]]["links"]
    assert doc.policies[sites["schools"][0]]["xy"] == [x, y]  # the school neither moved
    assert window.tool == "roads"  # ... nor ended the pick


def test_while_placing_a_point_a_click_on_a_marker_places_a_new_one(
    window: Any, qtbot: Any, click_map: Any, sites: dict[str, Any]
) -> None:
    editor, doc = window.editor, window.doc
    count = len(doc.policies)
    editor.add_type.setCurrentIndex(editor.add_type.findData("new_school"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    x, y = sites["xy"][1]
    click_map(window.map, x, y)
    assert len(doc.policies) == count + 1 and editor.current_index() == count
    assert doc.policies[count]["type"] == "new_school"
    assert window.tool == ""  # placed: back to inspecting


def test_hovering_a_marker_names_its_policy(window: Any, qtbot: Any, sites: dict[str, Any]) -> None:
    mapview, doc = window.map, window.doc

    def tooltip(x: float, y: float) -> str:
        mapview.canvas.draw()
        mapview.hovering.text = ""
        hover(mapview.canvas, QPointF(*mapview.data_to_pixel(x, y)))
        qtbot.waitUntil(lambda: mapview.hovering.text != "", timeout=5000)
        return mapview.hovering.text

    x, y = sites["xy"][1]
    school = doc.policies[sites["schools"][1]]
    assert tooltip(x, y) == f"New school · {school['id']} · {school['year']}"
    assert "New school" not in tooltip(x, y - 400)  # beside it: what the map has there


def test_with_the_zone_pick_on_a_click_on_a_marker_picks_the_zone(
    window: Any, qtbot: Any, click_map: Any, sites: dict[str, Any]
) -> None:
    editor, doc, city = window.editor, window.doc, window.city
    catchment = doc.add_policy(policy_template("catchment_edit", doc, city))
    editor.select(catchment)
    before = list(doc.policies[catchment].get("zones") or [])
    qtbot.mouseClick(editor.pick_zones, Qt.MouseButton.LeftButton)
    assert window.tool == "zones"
    x, y = sites["xy"][1]
    click_map(window.map, x, y)  # on the second school's marker
    zone = int(city.zone_at(x, y))
    assert editor.current_index() == catchment
    assert doc.policies[catchment]["zones"] == [*before, zone]
