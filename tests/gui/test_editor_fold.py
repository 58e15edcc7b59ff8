"""The editor draws no empty frames: folded parameters show only their header.

Folded, "Model parameters" is one header line (a checkable group box drew an empty frame
under its title); no "Selected policy" frame stands empty while no policy is selected; a
valid form leaves no blank error row and a long description shows its start.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from gui.document import ScenarioDocument
from gui.editor import EditorPanel
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
