"""The layer list beside the map: a check box per layer of :data:`gui.mapview.LAYERS`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from gui.i18n import tr
from gui.mapview import LAYER_LABELS, LAYERS, MapView


class LayerPanel(QListWidget):
    """Check boxes that switch the map's layers on and off."""

    def __init__(self, mapview: MapView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mapview = mapview
        for layer in LAYERS:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, layer)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.addItem(item)
        self.itemChanged.connect(self._changed)
        self.setMaximumWidth(170)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.blockSignals(True)
        for i in range(self.count()):
            item = self.item(i)
            item.setText(tr(LAYER_LABELS[item.data(Qt.ItemDataRole.UserRole)]))
        self.blockSignals(False)

    def _changed(self, item: QListWidgetItem) -> None:
        layer = item.data(Qt.ItemDataRole.UserRole)
        self.mapview.set_layer_visible(layer, item.checkState() == Qt.CheckState.Checked)
