"""Two to four maps side by side whose pan and zoom follow each other.

:class:`MapGrid` lays out one :class:`gui.mapview.MapView` per run (one row of two, or two
rows of two) and keeps their views linked: a pan or zoom in any map moves the others
(:class:`ViewLinker`, which also ties the difference map to the grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from gui.mapview import MapView

MAX_MAPS = 4


@dataclass
class MapPanel:
    """What one map of the grid shows: a title, road values per link_id, school utilisation.

    ``zones`` (name -> value per zone_id) colours the zones by the run's own indicators;
    ``policies`` are the run's scenario policies, drawn as on the editor's map.
    """

    title: str
    roads: pd.Series | None
    schools: pd.DataFrame
    utilisation: pd.Series | None
    zones: dict[str, pd.Series] | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)


class ViewLinker:
    """Copies the view of the map that moved to the other linked maps, once (no echo).

    Call :meth:`hook` again after a map's ``set_city`` (which renews its axes' callbacks).
    """

    def __init__(self) -> None:
        self.maps: list[MapView] = []
        self._busy = False

    def hook(self, mapview: MapView) -> None:
        """Link ``mapview`` (again, after it was given a city)."""
        if mapview not in self.maps:
            self.maps.append(mapview)
        mapview.ax.callbacks.connect("xlim_changed", lambda _ax: self.moved(mapview))
        mapview.ax.callbacks.connect("ylim_changed", lambda _ax: self.moved(mapview))

    def moved(self, source: MapView) -> None:
        """Give every other linked map the view of ``source``."""
        if self._busy or source.city is None:
            return
        self._busy = True
        try:
            limits = source.view_limits()
            for other in self.maps:
                if other is not source and other.city is not None:
                    other.set_view_limits(*limits)
        finally:
            self._busy = False


class MapGrid(QWidget):
    """Up to :data:`MAX_MAPS` maps in a grid with linked views (:attr:`linker`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maps = [MapView() for _ in range(MAX_MAPS)]
        self.titles = [QLabel() for _ in range(MAX_MAPS)]
        self.cells = [QWidget() for _ in range(MAX_MAPS)]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, (title, mapview, cell) in enumerate(
            zip(self.titles, self.maps, self.cells, strict=True)
        ):
            title.setStyleSheet("font-weight: bold")
            inner = QVBoxLayout(cell)
            inner.setContentsMargins(2, 2, 2, 2)
            inner.addWidget(title)
            inner.addWidget(mapview, 1)
            grid.addWidget(cell, i // 2, i % 2)
        self.linker = ViewLinker()
        self.panels: list[MapPanel] = []

    def set_panels(self, city: object, panels: Sequence[MapPanel], label: str) -> None:
        """Show one map per panel (2-4) of ``city``; roads coloured by ``label`` values."""
        self.panels = list(panels[:MAX_MAPS])
        for i, mapview in enumerate(self.maps):
            on = i < len(self.panels)
            self.cells[i].setVisible(on)
            if not on:
                continue
            panel = self.panels[i]
            if mapview.city is not city:
                mapview.set_city(city)
                self.linker.hook(mapview)
            self.titles[i].setText(panel.title)
            mapview.set_road_values(panel.roads, label=label)
            mapview.set_schools(panel.schools, panel.utilisation)
            mapview.set_policies(panel.policies, movable=False)
            if panel.zones:
                mapview.set_zone_values(panel.zones, select=next(iter(panel.zones)))

    def retranslate(self) -> None:
        """Re-apply translated labels of the maps."""
        for mapview in self.maps:
            mapview.retranslate()
