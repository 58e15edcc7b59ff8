"""Find a CJK font so Chinese labels render, in matplotlib and in Qt.

Looked for, in order: a font file named by ``CITYSANDBOX_CJK_FONT``; system fonts known
to matplotlib whose family is a common CJK sans (Noto Sans CJK, Source Han, WenQuanYi,
Microsoft YaHei, SimHei, PingFang...); fonts bundled by an installed PyPI package
(``mplfonts``). Without one the app still works, in English.
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
    for package, folder, filename in _PACKAGE_FONTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / folder / filename
        if path.is_file():
            return _from_file(path)
    return None


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
