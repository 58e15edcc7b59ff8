"""Find a CJK font so Chinese labels render, in matplotlib and in Qt.

Looked for, in order: a font file named by ``CITYSANDBOX_CJK_FONT``; system fonts known
to matplotlib whose family is a common CJK sans (Noto Sans CJK, Source Han, WenQuanYi,
Microsoft YaHei, SimHei, PingFang...); the system's font files scanned afresh (matplotlib's
font cache may predate a font installed since, e.g. ``fonts-noto-cjk``), by file name and
then by whether the font has Chinese glyphs; fonts bundled by an installed PyPI package
(``mplfonts``); a Simplified Chinese family Qt's font database knows (Qt then renders
Chinese; matplotlib charts use the file when Qt's family is also matplotlib's). Without one
the app still works, in English.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager

ENV_VAR = "CITYSANDBOX_CJK_FONT"
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "AR PL UMing CN",
)
#: Parts of font file names that suggest CJK fonts (checked for Chinese glyphs after).
CJK_FILE_HINTS: tuple[str, ...] = (
    "cjk",
    "sourcehan",
    "wqy",
    "wenquanyi",
    "droidsansfallback",
    "notosanssc",
    "notoserifsc",
    "msyh",
    "yahei",
    "simhei",
    "simsun",
    "pingfang",
    "hiragino",
    "heiti",
    "uming",
    "ukai",
)
#: A character every Chinese font has (中).
_PROBE = 0x4E2D
# Packages that ship CJK font files, and the files to prefer in them.
_PACKAGE_FONTS: tuple[tuple[str, str, str], ...] = (
    ("mplfonts", "fonts", "NotoSansCJKsc-Regular.otf"),
)


@dataclass(frozen=True)
class CjkFont:
    """A usable CJK font: its family name and, when known, the file."""

    family: str
    path: Path | None


def find_cjk_font() -> CjkFont | None:
    """Return a CJK-capable font found on this machine, or None.

    Returns
    -------
    CjkFont or None
        The first match in the order given in the module docstring.
    """
    named = os.environ.get(ENV_VAR)
    if named and Path(named).is_file():
        return _from_file(Path(named))
    by_family = {f.name: f for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in by_family:
            return CjkFont(family, Path(by_family[family].fname))
    scanned = _scan_system_fonts()
    if scanned is not None:
        return scanned
    for package, folder, filename in _PACKAGE_FONTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / folder / filename
        if path.is_file():
            return _from_file(path)
    return _from_qt()


def _has_chinese(path: Path) -> bool:
    """Whether the font file has Chinese glyphs (False when it cannot be read)."""
    try:
        return _PROBE in font_manager.get_font(str(path)).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False


def _scan_system_fonts() -> CjkFont | None:
    """A CJK font among the system's font files, scanned now (not matplotlib's cache)."""
    files = sorted(Path(p) for p in font_manager.findSystemFonts())
    hinted = [p for p in files if any(h in p.name.lower().replace(" ", "") for h in CJK_FILE_HINTS)]
    for path in hinted:
        if _has_chinese(path):
            return _from_file(path)
    return None


def _from_qt() -> CjkFont | None:
    """A Simplified Chinese family of Qt's font database (no file: Qt renders it)."""
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QApplication

    if not isinstance(QApplication.instance(), QApplication):
        return None  # Qt's font database needs a GUI application
    families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    known = [f for f in CJK_FAMILIES if f in families]
    return CjkFont((known or families)[0], None) if families else None


def _from_file(path: Path) -> CjkFont:
    font_manager.fontManager.addfont(str(path))
    return CjkFont(font_manager.FontProperties(fname=str(path)).get_name(), path)


def install_cjk_font(font: CjkFont) -> None:
    """Make ``font`` the first sans-serif fallback in matplotlib and in the Qt app.

    Parameters
    ----------
    font
        A font from :func:`find_cjk_font`.
    """
    import matplotlib as mpl
    from PySide6.QtGui import QFont, QFontDatabase
    from PySide6.QtWidgets import QApplication

    # The generic family first keeps Latin text as it was; matplotlib falls back per glyph to
    # the next family in the list (a generic name only ever stands for its first font).
    mpl.rcParams["font.family"] = ["sans-serif", font.family]
    mpl.rcParams["axes.unicode_minus"] = False
    qt_family = font.family
    if font.path is not None:
        loaded = QFontDatabase.applicationFontFamilies(
            QFontDatabase.addApplicationFont(str(font.path))
        )
        qt_family = loaded[0] if loaded else font.family
    app = QApplication.instance()
    if isinstance(app, QApplication):  # a bare QCoreApplication has no font
        base = app.font()
        base.setFamilies([base.family(), qt_family])
        app.setFont(QFont(base))
