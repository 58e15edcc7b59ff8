"""CJK font detection looks past matplotlib's font cache: a fresh scan, then Qt's database."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager
from PySide6.QtGui import QFontDatabase

from gui import fonts

LATIN = font_manager.FontEntry(fname="/x/DejaVuSans.ttf", name="DejaVu Sans")


def _no_cached_cjk(monkeypatch) -> None:
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [LATIN])  # a cache from before
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda _name: None)


def test_a_font_installed_after_the_cache_is_found_by_a_fresh_scan(monkeypatch, tmp_path):
    _no_cached_cjk(monkeypatch)
    noto = tmp_path / "NotoSansCJK-Regular.ttc"
    fake_hinted = tmp_path / "wqy-latin-only.ttf"  # a CJK-looking name without Chinese glyphs
    files = [str(tmp_path / "DejaVuSans.ttf"), str(fake_hinted), str(noto)]
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: files)
    checked: list[str] = []

    def has_chinese(path: Path) -> bool:
        checked.append(path.name)
        return path == noto

    monkeypatch.setattr(fonts, "_has_chinese", has_chinese)
    monkeypatch.setattr(fonts, "_from_file", lambda path: fonts.CjkFont("Noto Sans CJK SC", path))
    assert fonts.find_cjk_font() == fonts.CjkFont("Noto Sans CJK SC", noto)
    assert "DejaVuSans.ttf" not in checked  # only files whose name suggests CJK are opened


def test_qt_font_database_is_asked_last(monkeypatch, qtbot):
    _no_cached_cjk(monkeypatch)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    monkeypatch.setattr(
        QFontDatabase, "families", staticmethod(lambda *_a: ["AR PL UKai CN", "SimHei"])
    )
    assert fonts.find_cjk_font() == fonts.CjkFont("SimHei", None)  # a known family first


def test_the_chinese_glyph_probe_reads_real_font_files():
    latin = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert latin.is_file()
    assert not fonts._has_chinese(latin)
    assert not fonts._has_chinese(latin.with_name("no-such-font.ttf"))
