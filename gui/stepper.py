"""A slider with a Play button that steps through a list of values (years, 5-minute bins).

:class:`Stepper` shows the current value's text beside the slider; Play advances one step
every :attr:`Stepper.interval_ms` and stops at the end (Play again starts from the first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gui.i18n import tr


class Stepper(QWidget):
    """Step through values with a slider or an animation.

    Signals
    -------
    changed(object)
        The value now chosen (by the slider, the animation or :meth:`set_value`).
    """

    changed = Signal(object)

    def __init__(
        self,
        text: Callable[[object], str] = str,
        interval_ms: int = 800,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._values: list[object] = []
        self._text = text
        self.interval_ms = interval_ms
        self.label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._moved)
        self.play = QPushButton()
        self.play.setCheckable(True)
        self.play.toggled.connect(self._toggled)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply the translated button text."""
        self.play.setText(tr("Pause") if self.play.isChecked() else tr("Play"))
        self.play.setToolTip(tr("Step through the values one by one"))
        self._show_label()

    def set_values(self, values: Sequence[object], current: int = -1) -> None:
        """Offer ``values`` and choose index ``current`` (default the last); emits ``changed``."""
        self.play.setChecked(False)
        self._values = list(values)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self._values) - 1, 0))
        self.slider.setValue(current % len(self._values) if self._values else 0)
        self.slider.blockSignals(False)
        self.setEnabled(len(self._values) > 1)
        self._moved(self.slider.value())

    def values(self) -> list[object]:
        """The values offered."""
        return list(self._values)

    def value(self) -> object:
        """The value chosen (None when there are none)."""
        return self._values[self.slider.value()] if self._values else None

    def set_value(self, value: object) -> None:
        """Choose ``value`` (a ValueError if it is not offered)."""
        self.slider.setValue(self._values.index(value))

    def _show_label(self) -> None:
        self.label.setText(self._text(self.value()) if self._values else "")

    def _moved(self, _index: int) -> None:
        self._show_label()
        if self._values:
            self.changed.emit(self.value())

    def _toggled(self, on: bool) -> None:
        if on and self.slider.value() == self.slider.maximum():
            self.slider.setValue(0)
        if on:
            self.timer.start(self.interval_ms)
        else:
            self.timer.stop()
        self.retranslate()

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.play.setChecked(False)
        else:
            self.slider.setValue(self.slider.value() + 1)
