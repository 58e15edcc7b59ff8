"""Heavy reads off the UI thread: a worker thread per task, a busy cursor, a city cache.

Reading a run's tables, comparing runs, loading a city and writing an export take seconds
on the default city; :func:`run_in_background` does such work in a ``QThread`` while the
window keeps turning, shows a busy cursor, and hands the result (or the exception) back to
the UI thread, where the drawing happens; meanwhile the window's status bar shows a busy
bar (:data:`INDICATOR_NAME`). :func:`cached_city` loads each city file once
(again only when the file changes), so a compare never reloads the city; its objects are
made with the garbage collector paused and then frozen out of its full passes
(:func:`long_lived`).
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import shiboken6
from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QProgressBar, QWidget

from gui.map_base import long_lived
from sim.city import City, load_city

_CITIES: dict[Path, tuple[int, City]] = {}
#: Held while a worker draws a figure (a map, a chart): drawing holds the interpreter, so
#: two at once finish no sooner than one after the other, and each one more takes a share
#: of it from the UI thread (three at once after a Results load: UI steps ~3x as long).
DRAWING = threading.Lock()
_CITY_LOCK = threading.Lock()


def cached_city(path: str | Path) -> City:
    """The city of ``path``, loaded once per file version (thread-safe).

    Raises
    ------
    GeodataError
        The file is missing or invalid (as :func:`sim.city.load_city`).
    """
    path = Path(path).resolve()
    stamp = path.stat().st_mtime_ns if path.exists() else -1
    with _CITY_LOCK:
        hit = _CITIES.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    with long_lived():
        city = load_city(path)
    with _CITY_LOCK:
        _CITIES[path] = (stamp, city)
    return city


class _Task(QThread):
    """One call of ``fn`` in a worker thread; ``succeeded``/``errored`` carry the outcome."""

    succeeded = Signal(object)
    errored = Signal(object)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.busy_cursor = True  # whether it holds the busy cursor and bar

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # handed to the UI thread, which reports it
            self.errored.emit(exc)
        else:
            self.succeeded.emit(result)


_RUNNING: set[_Task] = set()
#: Object name of the status bar's busy bar (shown while a task of that window runs).
INDICATOR_NAME = "background-busy"


def _indicator(parent: QObject) -> QProgressBar | None:
    """The busy bar in the status bar of ``parent``'s main window (made on first use)."""
    window = parent.window() if isinstance(parent, QWidget) else None
    if not isinstance(window, QMainWindow):
        return None
    bar = window.statusBar().findChild(QProgressBar, INDICATOR_NAME)
    if bar is None:
        bar = QProgressBar()
        bar.setObjectName(INDICATOR_NAME)
        bar.setRange(0, 0)  # no known length: an indeterminate, moving bar
        bar.setMaximumWidth(120)
        bar.setTextVisible(False)
        window.statusBar().addPermanentWidget(bar)
    return bar


def _window_of(owner: QObject | None) -> QWidget | None:
    return owner.window() if isinstance(owner, QWidget) else None


def _show_indicator(parent: QObject) -> None:
    """Show the busy bar of ``parent``'s window while any task of that window runs."""
    bar = _indicator(parent)
    if bar is not None:
        window = _window_of(parent)
        bar.setVisible(any(_window_of(t.parent()) is window for t in _RUNNING))


def run_in_background(
    parent: QObject,
    fn: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[Exception], None],
    *,
    quiet: bool = False,
) -> QThread:
    """Call ``fn()`` in a worker thread; then ``done(result)`` or ``failed(exc)`` on the UI thread.

    A busy cursor (and a busy bar in the main window's status bar) shows and
    :func:`busy` holds until the outcome is handed over (just before ``done`` or
    ``failed``). A ``quiet`` task (a map drawn again after a pan, the old picture on
    show meanwhile) shows neither and is not counted by :func:`busy`. ``fn`` must not
    touch widgets.
    """
    task = _Task(fn, parent)
    task.busy_cursor = not quiet
    queued = Qt.ConnectionType.QueuedConnection
    task.succeeded.connect(functools.partial(_hand_over, task, done), queued)
    task.errored.connect(functools.partial(_hand_over, task, failed), queued)
    task.finished.connect(lambda: _finished(task), queued)
    _ALIVE.add(task)
    if not quiet:
        _RUNNING.add(task)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        _show_indicator(parent)
    task.start()
    return task


def _over(task: _Task) -> None:
    """The task's outcome is in: it no longer counts as busy (before its handler runs)."""
    if task in _RUNNING:
        _RUNNING.discard(task)
        QApplication.restoreOverrideCursor()
        owner = task.parent()
        if owner is not None:
            _show_indicator(owner)


def _hand_over(task: _Task, handler: Callable[[Any], None], outcome: Any) -> None:
    _over(task)
    handler(outcome)


def _finished(task: _Task) -> None:
    _over(task)  # (the outcome is always handed over first; this is for safety)
    _ALIVE.discard(task)
    _DETACHED.discard(task)
    task.deleteLater()


_ALIVE: set[_Task] = set()  # every task whose thread has not finished (kept referenced)
_DETACHED: set[_Task] = set()  # tasks owned by the application (:func:`run_detached`)


def run_detached(
    fn: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[Exception], None],
    *,
    quiet: bool = False,
) -> QThread:
    """:func:`run_in_background` owned by the application, not by a widget.

    For drawing a widget asks for (a chart, a map): a widget closed meanwhile is not
    waited on (``done`` must check that its widget still exists), and the tasks still
    running when Python exits are waited for (a running ``QThread`` must not be freed).
    """
    task = run_in_background(cast(QObject, QApplication.instance()), fn, done, failed, quiet=quiet)
    _DETACHED.add(cast(_Task, task))
    return task


@atexit.register
def _finish_detached() -> None:
    for task in list(_DETACHED):
        if shiboken6.isValid(task):
            task.wait(10_000)


_CHAINS = [0]  # chains of UI steps (:func:`in_turns`) not yet finished


def in_turns(steps: list[Callable[[], None]], owner: QObject | None = None) -> None:
    """Run ``steps`` on the UI thread, each in its own turn of the event loop.

    For drawing that must happen on the UI thread (widgets, the maps) but takes longer in
    one piece than a frame: between steps the window repaints and takes input. The busy
    cursor shows and :func:`busy` holds until the last step has run; a step that raises
    ends the chain (Qt reports the exception). With ``owner``, the steps left are dropped
    once that widget is deleted (a window closed mid-chain), the chain still ending cleanly.
    """
    _CHAINS[0] += 1
    QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)

    def step(i: int) -> None:
        last = i == len(steps) - 1
        try:
            if owner is not None and not shiboken6.isValid(owner):
                last = True
                return
            steps[i]()
        except BaseException:
            last = True
            raise
        finally:
            if last:
                _CHAINS[0] -= 1
                QApplication.restoreOverrideCursor()
                if not _CHAINS[0]:
                    for fn in _AFTER_STEPS:
                        QTimer.singleShot(0, functools.partial(_after, fn))
                    _AFTER_STEPS.clear()
            else:
                QTimer.singleShot(0, lambda: step(i + 1))

    QTimer.singleShot(0, lambda: step(0))


_AFTER_STEPS: list[Callable[[], None]] = []  # to call once no chain of steps runs
_AFTER = [0]  # of those, not yet called


def _after(fn: Callable[[], None]) -> None:
    _AFTER[0] -= 1
    fn()


def after_steps(fn: Callable[[], None]) -> None:
    """Call ``fn`` on the UI thread once no chain of :func:`in_turns` steps runs (now if none).

    A map asked to redraw by each step of a load is rendered once, after the last: a
    render in a worker meanwhile would only compete with the steps for the interpreter.
    """
    if _CHAINS[0]:
        _AFTER_STEPS.append(fn)
        _AFTER[0] += 1  # busy() holds until it has run
    else:
        fn()


def stepping() -> bool:
    """Whether a chain of :func:`in_turns` steps has steps left."""
    return _CHAINS[0] > 0


def busy() -> bool:
    """Whether a task or step chain runs, or waits to (tests and the bench wait on this).

    Quiet tasks are not counted (a map's render: ``MapCanvas.rendering`` says).
    """
    return bool(_RUNNING) or stepping() or _AFTER[0] > 0


def run_and_wait(parent: QObject, fn: Callable[[], Any]) -> Any:
    """Call ``fn()`` in a worker thread and return its result, the window turning meanwhile.

    For actions whose caller wants the result (an export's path): a local event loop runs
    until the task ends, so the UI thread keeps drawing; ``fn``'s exception is re-raised.
    """
    loop = QEventLoop()
    outcome: dict[str, Any] = {}

    def done(result: Any) -> None:
        outcome["result"] = result
        loop.quit()

    def failed(exc: Exception) -> None:
        outcome["error"] = exc
        loop.quit()

    run_in_background(parent, fn, done, failed)
    if not outcome:
        loop.exec()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
