"""Chinese/English labels and the CJK font finder (both the found and the missing path)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib import font_manager
from PySide6.QtCore import Qt

from gui import fonts, i18n
from gui.compare import EXPORT_TEXTS, LABEL_TEXTS
from gui.editor import POLICY_LABELS, SCENARIO_FIELDS, policy_model
from gui.forms import ModelForm
from gui.mainwindow import ACTION_TEXTS, MAIN_TABS, MENU_TEXTS, SIDE_TABS, MainWindow
from gui.mapview import LAYER_LABELS
from gui.resultcharts import SERIES
from gui.runpanel import FIELD_TEXTS, STAGES
from sim import scenario as schema
from sim.kpis import KPI_BY_NAME

GUI = Path(__file__).resolve().parents[2] / "gui"


def _literal_labels() -> set[str]:
    found = set()
    for path in GUI.glob("*.py"):
        found |= set(re.findall(r'\btr\(\s*"((?:[^"\\]|\\.)*)"\s*\)', path.read_text("utf-8")))
    return found


def test_every_label_has_a_chinese_translation():
    labels = _literal_labels()
    assert len(labels) > 60  # the scan found the labels
    labels |= set(POLICY_LABELS.values()) | set(LAYER_LABELS.values()) | set(STAGES)
    labels |= set(MAIN_TABS) | set(SIDE_TABS) | set(MENU_TEXTS.values()) | set(FIELD_TEXTS)
    labels |= set(LABEL_TEXTS) | set(EXPORT_TEXTS.values())
    labels |= {t for t, _ in SERIES if t} | {KPI_BY_NAME[k].label for _, ks in SERIES for k in ks}
    labels |= {v for k, v in ACTION_TEXTS.items() if k != "lang_zh"}
    missing = sorted(label for label in labels if label not in i18n.ZH)
    assert missing == []


def test_schema_field_labels_are_mostly_translated(qtbot):
    """Field labels come from the schema, which grows; an untranslated one shows in English."""
    labels = {n.replace("_", " ") for n in SCENARIO_FIELDS}
    labels |= {n.replace("_", " ") for n in ModelForm(schema.Parameters).widgets}
    for kind in schema.POLICY_TYPES:
        labels |= {n.replace("_", " ") for n in policy_model(kind).model_fields if n != "type"}
    translated = [label for label in labels if label in i18n.ZH]
    assert len(translated) >= 0.9 * len(labels), sorted(labels - set(translated))


def test_placeholders_survive_translation():
    for english, chinese in i18n.ZH.items():
        assert sorted(re.findall(r"\{[^}]*\}", english)) == sorted(
            re.findall(r"\{[^}]*\}", chinese)
        ), english


def test_tr_follows_the_language():
    assert i18n.set_language("zh", cjk_font=True) == "zh"
    assert i18n.tr("Map") == "地图"
    assert i18n.tr("a label with no entry") == "a label with no entry"
    assert i18n.set_language("en", cjk_font=True) == "en"
    assert i18n.tr("Map") == "Map"
    with pytest.raises(ValueError, match="not one of"):
        i18n.set_language("fr", cjk_font=True)


def test_switch_language_at_runtime_with_a_cjk_font(qtbot, tmp_path):
    win = MainWindow(tmp_path / "runs", cjk_font=fonts.CjkFont("Noto Sans CJK SC", None))
    qtbot.addWidget(win)
    assert win.actions_["lang_zh"].isEnabled()
    assert win.set_language("zh") == "zh"
    assert win.tabs.tabText(0) == "地图"
    assert win.editor.add_button.text() == "添加"
    assert win.run_panel.run_button.text() == "运行"
    assert win.menus["file"].title() == "文件(&F)"
    assert win.set_language("en") == "en"
    assert win.tabs.tabText(0) == "Map"


def test_policy_tooltips_follow_the_language(qtbot, tmp_path):
    """Each shipped policy type says what it does in Chinese too (the editor's tooltip)."""
    han = re.compile(r"[\u4e00-\u9fff]")
    for kind in schema.POLICY_TYPES:
        assert han.search(policy_model(kind).help_zh), kind
    win = MainWindow(tmp_path / "runs", cjk_font=fonts.CjkFont("Noto Sans CJK SC", None))
    qtbot.addWidget(win)
    box = win.editor.add_type
    kind = box.itemData(0)
    win.set_language("zh")
    tip = box.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert han.search(tip) and tip == i18n.policy_help(kind)
    win.set_language("en")
    assert box.itemData(0, Qt.ItemDataRole.ToolTipRole) == policy_model(kind).help
    assert i18n.policy_help("no_such_policy") == ""


def test_without_a_cjk_font_the_app_stays_in_english(qtbot, tmp_path):
    win = MainWindow(tmp_path / "runs", cjk_font=None)
    qtbot.addWidget(win)
    assert not win.actions_["lang_zh"].isEnabled()
    assert win.set_language("zh") == "en"
    assert win.tabs.tabText(0) == "Map"
    assert "No CJK font" in win.statusBar().currentMessage()


def test_font_finder_prefers_a_known_system_family(monkeypatch, tmp_path):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    entry = font_manager.FontEntry(fname=str(tmp_path / "wqy.ttc"), name="WenQuanYi Micro Hei")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [entry])
    found = fonts.find_cjk_font()
    assert found == fonts.CjkFont("WenQuanYi Micro Hei", tmp_path / "wqy.ttc")


def test_font_finder_returns_none_without_any_cjk_font(monkeypatch):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    latin = font_manager.FontEntry(fname="/x/DejaVuSans.ttf", name="DejaVu Sans")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [latin])
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda _name: None)
    assert fonts.find_cjk_font() is None


# The CJK font is faked (no such file here), so matplotlib draws the Chinese labels with
# DejaVu Sans and says which glyphs it lacks: expected in this test, and only here.
@pytest.mark.filterwarnings(r"ignore:Glyph \d+ .* missing from font\(s\):UserWarning")
def test_screenshot_in_chinese_and_in_english_fallback(monkeypatch, tmp_path):
    """`main.py gui --screenshot` works with and without a CJK font (faked here)."""
    from gui import app

    monkeypatch.setattr(fonts, "find_cjk_font", lambda: fonts.CjkFont("Noto Sans CJK SC", None))
    monkeypatch.setattr(fonts, "install_cjk_font", lambda _font: None)
    out = tmp_path / "zh.png"
    argv = ["--screenshot", str(out), "--runs", str(tmp_path / "runs"), "--lang", "zh"]
    assert app.main(argv) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert i18n.language() == "zh"
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    assert app.main([*argv[:1], str(tmp_path / "en.png"), *argv[2:]]) == 0
    assert i18n.language() == "en"
