"""Compare shows its result in steps, one per turn of the event loop (gui.background.in_turns).

A comparison's tables, the city's map and the maps' values each take a frame or more on
the default city; between them the window repaints and takes input. The tests check the
order, that nothing runs inside the caller, that busy() and the busy cursor hold until the
last step, and that a failing step ends the chain.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from gui import background


def _cursor_busy() -> bool:
    cursor = QApplication.overrideCursor()
    return cursor is not None and cursor.shape() == Qt.CursorShape.BusyCursor


def test_steps_run_in_separate_turns_of_the_event_loop(qtbot: Any) -> None:
    log: list[str] = []

    def first() -> None:
        log.append("tables")
        QTimer.singleShot(0, lambda: log.append("a repaint in between"))

    background.in_turns([first, lambda: log.append("maps")])
    assert log == [] and background.busy() and _cursor_busy()  # nothing ran in the caller
    qtbot.waitUntil(lambda: not background.busy(), timeout=10_000)
    assert log == ["tables", "a repaint in between", "maps"]
    assert not _cursor_busy()


def test_a_failing_step_ends_the_chain(qtbot: Any) -> None:
    log: list[str] = []

    def broken() -> None:
        raise ValueError("no such run")

    with qtbot.captureExceptions() as raised:
        background.in_turns([broken, lambda: log.append("never")])
        qtbot.waitUntil(lambda: not background.busy(), timeout=10_000)
    assert [str(e[1]) for e in raised] == ["no such run"]
    assert log == [] and not _cursor_busy()


def test_the_steps_left_are_dropped_when_their_widget_is_deleted(qtbot: Any) -> None:
    """A window closed mid-chain: its later steps must not touch deleted widgets."""
    from PySide6.QtWidgets import QSlider

    owner = QSlider()
    log: list[int] = []

    def first() -> None:
        log.append(owner.value())
        owner.deleteLater()  # deleted before the next turn's step

    background.in_turns([first, lambda: log.append(owner.value())], owner)
    qtbot.waitUntil(lambda: not background.busy(), timeout=10_000)
    assert log == [0]  # the second step would raise: its C++ object is gone
    assert not _cursor_busy()
