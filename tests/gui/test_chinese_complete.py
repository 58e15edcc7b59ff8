"""Chinese, complete: in Chinese mode no widget of the window shows an English text, and
switching back to English leaves no Chinese.

The walk reads every QLabel, button, line-edit placeholder, group box, tab, combo box item
(and its tooltip), table header, menu action and widget tooltip of the main window, with a
run in Results, a comparison in Compare, the run list and the scenario browser filled. Data
(school and street names, ids, file paths) is not text to translate; the matplotlib
navigation toolbar's own texts are the map owner's.

The editor's field help (every schema field's tooltip, built from the schema's
descriptions) is held to more: in Chinese it has no English word at all, for every form the
editor can show, so a schema field added or reworded without its Chinese fails here.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
from _fakerun import fake_run
from matplotlib.backends.backend_qtagg import NavigationToolbar2QT
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabBar,
    QTableWidget,
    QWidget,
)

from gui import i18n
from gui.background import cached_city
from gui.editor import SCENARIO_FIELDS
from gui.forms import ModelForm
from sim import scenario as schema
from sim import settings
from sim.policies import POLICY_CLASSES
from sim.runs.compare import kpi_table

CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{3,}")
#: Texts that are the same in both languages: the language menu's own names, units, brands.
SAME = {"English", "中文", "CitySandbox", "V/C"}
#: Product names the English UI keeps in Chinese too, as planners know them.
BRANDS = ("入学早知道", "规划新建学校")
#: Latin words Chinese field help keeps: a file name, an author, an example id.
KEPT = ("od_estimated.csv", "Simini", "P60")
#: Chinese terms the English field help keeps, as planners know them.
TERMS = ("安置房",)


def _in_toolbar(widget: QWidget) -> bool:
    while widget is not None:
        if isinstance(widget, NavigationToolbar2QT):
            return True
        widget = widget.parentWidget()
    return False


def _texts(win) -> list[tuple[str, str]]:
    """(where, text) of every user-visible text of the window."""
    found: list[tuple[str, str]] = []

    def add(where: str, widget: QWidget, text: str | None) -> None:
        if text and text.strip() and not _in_toolbar(widget):
            found.append((f"{where} {type(widget).__name__} {widget.objectName()}", text.strip()))

    for w in win.findChildren(QLabel):
        add("label", w, w.text())
    for w in win.findChildren(QAbstractButton):
        add("button", w, w.text())
    for w in win.findChildren(QLineEdit):
        add("placeholder", w, w.placeholderText())
    for w in win.findChildren(QGroupBox):
        add("group", w, w.title())
    for w in win.findChildren(QTabBar):
        for i in range(w.count()):
            add("tab", w, w.tabText(i))
    for w in win.findChildren(QWidget):
        add("tooltip", w, w.toolTip())
    for w in win.findChildren(QComboBox):
        if w.isEditable() or w in _data_choosers(win):
            continue
        for i in range(w.count()):
            add("combo", w, w.itemText(i))
            add("combo tooltip", w, w.itemData(i, Qt.ItemDataRole.ToolTipRole))
    for w in win.findChildren(QTableWidget):
        for c in range(w.columnCount()):
            item = w.horizontalHeaderItem(c)
            add("header", w, item.text() if item else "")
    for menu in win.findChildren(QMenu):
        add("menu", menu, menu.title())
        for action in menu.actions():
            if menu is not win.recent_menu:  # recent files are paths
                add("action", menu, action.text().replace("&", ""))
    return found


def _plain(text: str) -> str:
    """``text`` without the product names kept in Chinese."""
    for brand in BRANDS:
        text = text.replace(brand, "")
    return text


def _data_choosers(win) -> set[QComboBox]:
    """Combo boxes whose items are data: runs, years, run labels."""
    return {win.results.runs, win.compare.baseline, win.compare.variant}


def _english_left(texts: list[tuple[str, str]], data: set[str]) -> list[tuple[str, str]]:
    """Texts with an English word once the data in them (run labels, names) is left out."""
    left = []
    for where, text in texts:
        words = text
        for item in sorted(data | SAME, key=len, reverse=True):
            words = words.replace(item, "")
        if WORD.search(words) and not CJK.search(text):
            left.append((where, text))
    return left


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font needed
def test_no_english_in_chinese_and_no_chinese_back_in_english(window, qtbot, tmp_path):
    city = cached_city(settings.default_city)
    window.results.blockSignals(True)  # the side panels would read the (table-less) folder
    window.results.show_run(fake_run(city, tmp_path / "fake"), city)
    window.results.blockSignals(False)
    base = SimpleNamespace(
        kpis_summary=pd.DataFrame(
            {"year": 2030, "kpi": ["population", "vkt"], "p10": 0.5, "p50": [1.0, 2.0], "p90": 3.0}
        ),
        manifest={"end_year": 2030},
        schools=pd.DataFrame({"school_id": ["P1"], "name": ["Escuela Uno"]}),
    )
    comp = SimpleNamespace(
        kpis=kpi_table([base, base], ["base", "variant"]),
        labels=["base", "variant"],
        enrollment=pd.DataFrame({"school_id": ["P1"], "base": [0.9], "variant": [0.9]}).assign(
            **{"change variant": [0.0]}
        ),
        runs=[base, base],
    )
    window.compare.comparison = comp
    window.compare.show_tables()
    window.editor.place_point_policy("new_school", *city.schools.geometry.iloc[0].coords[0])
    data = {"base", "variant", "Escuela Uno"} | set(city.schools["name"])
    data |= set(window.browser.rows["name"]) | set(window.browser.rows["base"])
    assert len(_texts(window)) > 150  # the walk sees the window
    i18n.set_language("zh", cjk_font=True)
    window.retranslate()
    left = _english_left(_texts(window), data)
    assert left == [], left
    window.set_language("en")
    chinese = [(w, t) for w, t in _texts(window) if t not in SAME and CJK.search(_plain(t))]
    assert chinese == [], chinese


def _editor_forms() -> list[ModelForm]:
    """A form of every model the editor shows: the scenario, the parameters, each policy."""
    forms = [ModelForm(schema.Scenario, SCENARIO_FIELDS), ModelForm(schema.Parameters)]
    return forms + [ModelForm(cls) for cls in POLICY_CLASSES]


def _field_tips(forms: list[ModelForm]) -> list[tuple[str, str]]:
    """(model.field, tooltip) of every field label and widget of ``forms``."""
    tips = []
    for form in forms:
        for name, widget in form.widgets.items():
            where = f"{form.model.__name__}.{name}"
            tips += [(where, form._labels[name].toolTip()), (where, widget.toolTip())]
    return tips


def _english_words(text: str) -> list[str]:
    """Words of two or more Latin letters, acronyms (GTFS, TFR, CPU) and KEPT names aside."""
    for kept in KEPT:
        text = text.replace(kept, "")
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if not w.isupper()]


def test_every_field_help_is_chinese_in_chinese_and_english_back(qtbot):
    forms = _editor_forms()
    for form in forms:
        qtbot.addWidget(form)
    english = dict(_field_tips(forms))
    assert len(english) > 80 and all(english.values())  # every field has help
    assert not [t for t in english.values() if "``" in t or ":mod:" in t]  # reST shown plain
    assert english["NewLink.both_directions"] == "Build the reverse link too. (yes/no, default yes)"
    i18n.set_language("zh", cjk_font=True)
    for form in forms:
        form.retranslate()
    chinese = _field_tips(forms)
    left = [(where, tip) for where, tip in chinese if _english_words(tip)]
    assert left == [], left
    assert all(CJK.search(tip) for _where, tip in chinese)
    i18n.set_language("en", cjk_font=False)
    for form in forms:
        form.retranslate()
    back = _field_tips(forms)
    assert dict(back) == english
    terms = re.compile("|".join(TERMS))
    assert [(w, t) for w, t in back if CJK.search(terms.sub("", t))] == []
