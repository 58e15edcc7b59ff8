"""Pointer events as the window system delivers them, for the map tests."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget


def hover(widget: QWidget, pos: QPointF) -> None:
    """Rest the pointer (no button) at ``pos`` of ``widget``.

    QTest's mouseMove moves the offscreen cursor, which sends nothing when an earlier
    test left the pointer there; a sent move event always arrives.
    """
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        widget.mapToGlobal(pos),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)
