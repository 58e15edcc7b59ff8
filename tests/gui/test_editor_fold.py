"""The editor draws no empty frames: folded parameters show only their header.

Folded, "Model parameters" is one header line (a checkable group box drew an empty frame
under its title); no "Selected policy" frame stands empty while no policy is selected; a
valid form leaves no blank error row and a long description shows its start. English field
labels read as words with units ("x, y (m)", not "xy").
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from gui import i18n
from gui.document import ScenarioDocument
from gui.editor import EditorPanel, policy_model
from gui.forms import ModelForm
from sim import settings

ROAD = {"type": "road_closure", "year": 2026, "links": [1]}


@pytest.fixture
def editor(qtbot) -> EditorPanel:
    default = settings.scenarios_folder / "default.yaml"
    if not default.exists():
        pytest.skip("the default scenario is not built")
    doc = ScenarioDocument()
    doc.open(default)
    panel = EditorPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(500, 900)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_folded_parameters_show_only_their_header(editor, qtbot) -> None:
    box, form = editor.parameters_box, editor.parameters_form
    line = box.fontMetrics().height()
    assert not form.isVisible()
    assert box.height() < 2 * line  # one header line; the old empty frame took ~2.5 lines
    qtbot.mouseClick(box.header, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(form.isVisible)
    assert box.isChecked()
    qtbot.waitUntil(lambda: box.height() > 5 * line)  # every parameter has its row
    qtbot.mouseClick(box.header, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.height() < 2 * line)
    assert not form.isVisible() and not box.isChecked()


def test_the_selected_policy_frame_shows_only_with_a_selection(editor, qtbot) -> None:
    assert not editor.doc.policies
    assert not editor.form_box.isVisible()
    index = editor.doc.add_policy(dict(ROAD))
    editor.policy_list.setCurrentRow(index)
    qtbot.waitUntil(lambda: editor.form is not None and editor.form.isVisible())
    assert editor.form_box.isVisible()
    editor.doc.remove_policy(index)
    qtbot.waitUntil(lambda: not editor.form_box.isVisible())


def test_a_valid_form_has_no_blank_error_row_and_long_text_shows_its_start(editor) -> None:
    form = editor.scenario_form
    assert editor.status.text() == "Scenario is valid."
    assert not form.cross_errors.isVisible()
    description = form.widgets["description"]
    assert isinstance(description, QLineEdit)
    assert len(description.text()) > 40  # the shipped description is a sentence
    assert description.cursorPosition() == 0  # its start is shown, not its end


def test_field_labels_read_as_words_with_units_in_english_and_stay_chinese(editor) -> None:
    form = editor.parameters_form
    labels = {name: label.text() for name, label in form._labels.items()}
    assert labels["tfr"] == "total fertility rate (TFR)"  # not the bare field name "tfr"
    assert labels["od_model"] == "OD model"
    assert labels["car_share"] == "car share"  # a name in words stays itself
    i18n.set_language("zh", cjk_font=True)
    try:
        form.retranslate()
        assert form._labels["tfr"].text() == "总和生育率"
        assert form._labels["od_model"].text() == "OD 分布模型"
    finally:
        i18n.set_language("en", cjk_font=False)
        form.retranslate()
    assert form._labels["tfr"].text() == "total fertility rate (TFR)"


def test_a_field_error_names_the_field_by_its_label(qtbot) -> None:
    form = ModelForm(policy_model("new_school"))
    qtbot.addWidget(form)
    form.set_values({"type": "new_school", "year": 2026, "xy": [1.0, 2.0], "level": "primary"})
    xy = form.widgets["xy"]
    assert form._labels["xy"].text() == "x, y (m)"
    assert isinstance(xy, QLineEdit)
    xy.setText("1, north")
    form._typed("xy")
    lines = form.cross_errors.text().splitlines()
    assert any(line.startswith("x, y (m): ") for line in lines), lines
    assert not any(line.startswith("xy") for line in lines)
    assert form.cross_errors.isVisibleTo(form)
