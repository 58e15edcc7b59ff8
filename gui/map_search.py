"""Find a school, street or zone by name: the map's search box and its matching.

:func:`find_place` matches a typed text against the basemap's places (exact name first,
then a name that starts with it, then one that contains it, case-insensitively);
:class:`SearchBox` is the line edit with completion that asks the map to zoom to it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from gui.i18n import tr
from gui.map_base import Place


def find_place(places: list[Place], text: str) -> Place | None:
    """The place whose name best matches ``text`` (None for no match or empty text)."""
    needle = text.strip().casefold()
    if not needle:
        return None
    names = [p.name.casefold() for p in places]
    for test in (
        lambda n: n == needle,
        lambda n: n.split(" (")[0] == needle,
        lambda n: n.startswith(needle),
        lambda n: needle in n,
    ):
        for place, name in zip(places, names, strict=True):
            if test(name):
                return place
    return None


class SearchBox(QLineEdit):
    """A search field with completion over the city's names; Enter calls ``found(text)``."""

    def __init__(self, found: Callable[[str], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.found = found
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(220)
        self.returnPressed.connect(lambda: self.found(self.text()))
        self.retranslate()

    def set_places(self, places: list[Place]) -> None:
        """Offer these places' names as completions."""
        completer = QCompleter([p.name for p in places], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self.found)
        self.setCompleter(completer)

    def retranslate(self) -> None:
        """Re-apply the translated placeholder."""
        self.setPlaceholderText(tr("Search a school, street or zone…"))
