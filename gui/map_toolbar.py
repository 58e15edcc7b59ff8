"""The map's buttons: navigation (Home that always works), tiles, print layout.

:class:`Toolbar` is matplotlib's navigation toolbar whose Home shows the whole city;
:class:`MapButtons` lets the user choose optional tiles (a local MBTiles or PMTiles file, or
a tile URL they type: nothing is fetched otherwise) and write the print layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)

from gui.i18n import tr
from gui.map_tiles import MBTiles, PMTiles, UrlTiles


class Toolbar(NavigationToolbar2QT):
    """The navigation toolbar, whose Home shows the whole city whatever came before."""

    def __init__(self, canvas: FigureCanvasQTAgg, mapview: Any) -> None:
        super().__init__(canvas, mapview)
        self.mapview = mapview

    def home(self, *_args: Any) -> None:
        """Show the whole city."""
        self.mapview.home()


class MapButtons(QWidget):
    """The Tiles menu (MBTiles or PMTiles file, tile URL, none) and the Print layout button."""

    def __init__(self, mapview: Any) -> None:
        super().__init__(mapview)
        self.mapview = mapview
        self.tiles = QToolButton()
        self.tiles.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.tiles)
        self.tiles.setMenu(self.menu)
        self.print_button = QToolButton()
        self.print_button.clicked.connect(self.print_layout)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.tiles)
        row.addWidget(self.print_button)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.tiles.setText(tr("Tiles"))
        self.print_button.setText(tr("Print layout…"))
        self.menu.clear()
        self.menu.addAction(tr("Open MBTiles file…"), self.open_mbtiles)
        self.menu.addAction(tr("Open PMTiles file…"), self.open_pmtiles)
        self.menu.addAction(tr("Tile URL…"), self.ask_url)
        self.menu.addAction(tr("No tiles"), lambda: self.mapview.set_tiles(None))

    def open_mbtiles(self, path: str | None = None) -> None:
        """Use a local MBTiles file (asked for when ``path`` is None)."""
        self._open_file(path, tr("Open MBTiles file…"), "MBTiles (*.mbtiles)", MBTiles)

    def open_pmtiles(self, path: str | None = None) -> None:
        """Use a local PMTiles v3 file of raster tiles (asked for when ``path`` is None)."""
        self._open_file(path, tr("Open PMTiles file…"), "PMTiles (*.pmtiles)", PMTiles)

    def _open_file(self, path: str | None, title: str, kinds: str, make: Any) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, title, "", kinds)
        if path:
            self._use(lambda: make(path))

    def ask_url(self) -> None:
        """Ask for a tile URL template ({z}/{x}/{y}); tiles are fetched only from it."""
        url, ok = QInputDialog.getText(
            self, tr("Tile URL…"), tr("Tile URL with {z}, {x} and {y} (fetched from now on):")
        )
        if ok and url.strip():
            self._use(lambda: UrlTiles(url.strip(), self.mapview.tiles_arrived.emit))

    def print_layout(self, path: str | None = None) -> Path | None:
        """Write the print layout (asked for when ``path`` is None); the file, or None."""
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, tr("Print layout…"), "", "PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"
            )
        if not path:
            return None
        try:
            return self.mapview.export_layout(Path(path))
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, tr("Cannot write the layout."), str(exc))
            return None

    def _use(self, make: Any) -> None:
        try:
            self.mapview.set_tiles(make())
        except ValueError as exc:
            QMessageBox.critical(self, tr("Cannot use these tiles."), str(exc))
