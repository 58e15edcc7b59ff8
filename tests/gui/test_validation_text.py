"""Form validation messages follow the language: pydantic's English, or Chinese by kind."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui import i18n
from gui.forms import ModelForm
from sim.policies.schools import NewSchool

SCHOOL = {"type": "new_school", "year": 2025, "xy": [0.0, 0.0], "id": "N1", "level": "primary",
          "classes_per_grade": 4}  # fmt: skip


def _typed(qtbot, form: ModelForm, name: str, text: str) -> str:
    field = form.widgets[name]
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    return form.errors()[name]


def test_bounds_and_types_read_in_chinese(qtbot):
    form = ModelForm(NewSchool)
    qtbot.addWidget(form)
    form.set_values(SCHOOL)
    assert "40" in _typed(qtbot, form, "classes_per_grade", "60")  # pydantic's English
    i18n.set_language("zh", cjk_font=True)
    assert _typed(qtbot, form, "classes_per_grade", "60") == "应小于或等于 40"
    assert _typed(qtbot, form, "classes_per_grade", "abc") == "应为整数"
    assert _typed(qtbot, form, "quality", "9") == "应小于或等于 3"
    i18n.set_language("en", cjk_font=False)
    assert "less than or equal to 40" in _typed(qtbot, form, "classes_per_grade", "60")
