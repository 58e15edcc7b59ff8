"""Run a scenario in a separate process, so the window never waits on the model.

A process (not a thread) because numba kernels and large numpy/pandas calls hold the GIL
for long stretches; in another process they cannot stall the UI. The child calls
:func:`sim.runs.run.run_scenario` and sends progress and the outcome back through a queue; the
UI polls it with a timer. This module imports no Qt, so the child starts light.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

#: After Cancel, how long the child may take to stop by itself before it is terminated.
CANCEL_GRACE_S = 0.8


def _child(data: dict[str, Any], runs_folder: str, events: Any, cancel: Any) -> None:
    """The worker process: validate, run, report ("progress" | "done" | "cancelled" | "error")."""
    from sim.errors import CitySandboxError, RunCancelled
    from sim.runs.run import run_scenario
    from sim.scenario import scenario_from_dict
    from sim.validate import check_scenario

    stop = threading.Event()

    def relay() -> None:  # the parent's cancel event -> the run's threading.Event
        cancel.wait()
        stop.set()

    threading.Thread(target=relay, daemon=True).start()
    try:
        scenario = scenario_from_dict(data, source=str(data.get("name", "scenario")))
        city = check_scenario(scenario)  # loaded and checked once, then run
        run_dir = run_scenario(
            scenario,
            Path(runs_folder),
            city=city,
            progress=lambda p: events.put(("progress", asdict(p))),
            cancel=stop,
        )
        events.put(("done", str(run_dir)))
    except RunCancelled:
        events.put(("cancelled", ""))
    except CitySandboxError as exc:  # fields named as the editor names them
        events.put(("error", exc.describe()))
    except Exception:  # an unexpected bug: show it rather than losing it
        events.put(("error", traceback.format_exc(limit=6)))


class RunProcess:
    """One scenario run in a spawned process.

    Parameters
    ----------
    data
        The scenario mapping (as :class:`gui.editor.ScenarioDocument` holds it).
    runs_folder
        Where the run folder and catalog are written.
    """

    def __init__(self, data: dict[str, Any], runs_folder: Path) -> None:
        ctx = mp.get_context("spawn")
        self._events = ctx.Queue()
        self._cancel = ctx.Event()
        self._process = ctx.Process(
            target=_child,
            args=(data, str(runs_folder), self._events, self._cancel),
            daemon=True,
        )
        self._cancel_at: float | None = None
        self.outcome: tuple[str, str] | None = None

    def start(self) -> None:
        """Start the child process."""
        self._process.start()

    def cancel(self) -> None:
        """Ask the run to stop; :meth:`poll` terminates it if it has not stopped in time."""
        if self._cancel_at is None:
            self._cancel.set()
            self._cancel_at = time.monotonic()

    def poll(self) -> list[tuple[str, Any]]:
        """Events since the last poll, without blocking; the last one is the outcome, if any."""
        out: list[tuple[str, Any]] = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                break
        for kind, value in out:
            if kind != "progress":
                self.outcome = (kind, value)
        if self.outcome is None and self._cancel_at is not None:
            if time.monotonic() - self._cancel_at > CANCEL_GRACE_S:
                self._process.terminate()
                self.outcome = ("cancelled", "")
                out.append(self.outcome)
        elif self.outcome is None and not self._process.is_alive() and self._events.empty():
            code = self._process.exitcode
            self.outcome = ("error", f"the run process ended unexpectedly (exit code {code})")
            out.append(self.outcome)
        if self.outcome is not None:
            self._process.join(timeout=0.05)
        return out

    @property
    def finished(self) -> bool:
        """Whether the run has an outcome (done, cancelled or error)."""
        return self.outcome is not None
