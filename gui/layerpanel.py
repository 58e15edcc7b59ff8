"""The layer list beside the map: a check box and symbol per layer, opacity, the legend.

Each layer of :data:`gui.mapview.LAYERS` has a row (check box, symbol, name); the slider
under the list sets the opacity of the selected layer; the legend below explains the
symbols of schools, policies and catchments (it is not drawn in the map, where its text
layout would cost every redraw; the print layout has it too).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.map_base import RANK_COLOURS
from gui.mapdecor import legend_handles
from gui.mapview import CATCHMENT_STYLES, LAND, LAYER_LABELS, LAYERS, MapView

ICON_PX = 18
Paint = Callable[[QPainter], None]


def _icon(draw: Paint) -> QIcon:
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw(painter)
    painter.end()
    return QIcon(pixmap)


def _line(colour: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Paint:
    def paint(p: QPainter) -> None:
        p.setPen(QPen(QColor(colour), width, style))
        p.drawLine(QPointF(2, ICON_PX - 4), QPointF(ICON_PX - 2, 4))

    return paint


def _box(fill: QBrush | QColor, edge: str = "#555555") -> Paint:
    def paint(p: QPainter) -> None:
        p.setPen(QPen(QColor(edge), 1))
        p.setBrush(fill)
        p.drawRect(QRectF(2, 2, ICON_PX - 4, ICON_PX - 4))

    return paint


def _marker(shape: str, colour: str, edge: str = "white") -> Paint:
    def paint(p: QPainter) -> None:
        p.setPen(QPen(QColor(edge), 1))
        p.setBrush(QColor(colour))
        box = QRectF(4, 4, ICON_PX - 8, ICON_PX - 8)
        if shape == "s":
            p.drawRect(box)
        elif shape in "*^":
            pts = [
                QPointF(ICON_PX / 2, 2),
                QPointF(ICON_PX - 2, ICON_PX - 3),
                QPointF(2, ICON_PX - 3),
            ]
            p.drawPolygon(pts)
        else:
            p.drawEllipse(box)

    return paint


def _text(p: QPainter) -> None:
    p.setPen(QColor("#333333"))
    p.drawText(QRectF(0, 0, ICON_PX, ICON_PX), Qt.AlignmentFlag.AlignCenter, "Aa")


def _ramp() -> QBrush:
    ramp = QLinearGradient(0, 0, ICON_PX, 0)
    ramp.setColorAt(0, QColor("#ffffd9"))
    ramp.setColorAt(1, QColor("#225ea8"))
    return QBrush(ramp)


def layer_icon(layer: str) -> QIcon:
    """The symbol of a map layer."""
    painters = {
        "tiles": _box(QBrush(QColor("#cfd8dc"), Qt.BrushStyle.CrossPattern)),
        "basemap": _box(QColor(LAND), "#dbe6ee"),
        "zones": _box(_ramp()),
        "catchments": _line(CATCHMENT_STYLES["primary"][0], 1.6),
        "roads": _line(RANK_COLOURS[3], 2.5),
        "labels": _text,
        "schools": _marker("o", "#1f5fbf"),
        "policies": _marker("*", "orange", "black"),
    }
    return _icon(painters[layer])


def legend_icon(handle: object) -> QIcon:
    """The symbol of one legend entry (a matplotlib Line2D handle)."""
    marker = str(handle.get_marker())  # type: ignore[attr-defined]
    colour = str(handle.get_color())  # type: ignore[attr-defined]
    if marker and marker != "None":
        return _icon(_marker(marker, colour, str(handle.get_markeredgecolor())))  # type: ignore[attr-defined]
    dashed = handle.get_linestyle() not in ("-", "solid")  # type: ignore[attr-defined]
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return _icon(_line(colour, 1.8, style))


class LayerPanel(QWidget):
    """Check boxes that switch the map's layers on and off, opacity, and the legend.

    ``list`` holds one checkable item per layer (data: the layer name); ``opacity`` is
    the slider (0..100 %) of the selected layer.
    """

    def __init__(self, mapview: MapView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mapview = mapview
        self.list = QListWidget()
        for layer in LAYERS:
            item = QListWidgetItem(layer_icon(layer), "")
            item.setData(Qt.ItemDataRole.UserRole, layer)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        self.list.itemChanged.connect(self._changed)
        self.list.currentItemChanged.connect(self._selected)
        self.opacity_label = QLabel()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.legend_title = QLabel()
        self.legend = QListWidget()
        self.legend.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        for box in (self.list, self.legend):  # long names wrap instead of hiding
            box.setWordWrap(True)
            box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list, 3)
        column.addWidget(self.opacity_label)
        column.addWidget(self.opacity)
        column.addWidget(self.legend_title)
        column.addWidget(self.legend, 2)
        self.setMaximumWidth(210)
        self.list.setCurrentRow(LAYERS.index("zones"))
        self.retranslate()

    def item(self, row: int) -> QListWidgetItem:
        """The layer list's item in ``row``."""
        return self.list.item(row)

    def count(self) -> int:
        """How many layers the list has."""
        return self.list.count()

    def layer_item(self, layer: str) -> QListWidgetItem:
        """The list item of ``layer``."""
        return self.list.item(LAYERS.index(layer))

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setText(tr(LAYER_LABELS[item.data(Qt.ItemDataRole.UserRole)]))
        self.list.blockSignals(False)
        self.legend_title.setText(tr("Legend"))
        self.legend.clear()
        for handle in legend_handles(CATCHMENT_STYLES):
            label = str(handle.get_label())
            entry = QListWidgetItem(legend_icon(handle), label)
            entry.setToolTip(label)
            self.legend.addItem(entry)
        self._selected()

    def _changed(self, item: QListWidgetItem) -> None:
        layer = item.data(Qt.ItemDataRole.UserRole)
        self.mapview.set_layer_visible(layer, item.checkState() == Qt.CheckState.Checked)

    def _selected(self, *_args: object) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        layer = item.data(Qt.ItemDataRole.UserRole)
        self.opacity_label.setText(tr("Opacity: {layer}").format(layer=item.text()))
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(100 * self.mapview.layer_opacity(layer)))
        self.opacity.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.mapview.set_layer_opacity(item.data(Qt.ItemDataRole.UserRole), value / 100)
