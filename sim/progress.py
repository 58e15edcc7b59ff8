"""Progress on the command line: one tqdm bar on stderr, or plain lines when not a terminal.

:class:`Progress` is the only progress bar of the package; ``run``, ``batch`` and
``assign`` draw theirs with it. It is shown when :data:`sim.settings.progress` is true
(a terminal, not under CI, not ``-q``); otherwise :meth:`Progress.note` prints a plain
line per step worth reporting, so logs of batch jobs still say what happened, unless
:data:`sim.settings.quiet` (``-q``) silences those too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sim import settings


class Progress:
    """A bar of ``total`` steps on stderr.

    Parameters
    ----------
    label
        Written before the bar and before each plain line.
    total
        Number of steps of a full bar.
    unit
        The unit of a step (``"task"``, ``"it"``).
    show
        Draw the bar; default :data:`sim.settings.progress`.
    leave
        Keep the finished bar on screen.
    quiet
        Neither bar nor plain lines; default :data:`sim.settings.quiet` (``-q``).
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "it",
        *,
        show: bool | None = None,
        leave: bool = True,
        quiet: bool | None = None,
    ) -> None:
        from tqdm import tqdm

        self.label = label
        self.quiet = settings.quiet if quiet is None else quiet
        self.show = (settings.progress if show is None else show) and not self.quiet
        self._bar = tqdm(
            total=total,
            desc=label,
            unit=unit,
            disable=not self.show,
            leave=leave,
            dynamic_ncols=True,
            file=sys.stderr,
        )

    def set(self, n: int, postfix: str = "") -> None:
        """Move the bar to step ``n`` with ``postfix`` after it."""
        self._bar.n = n
        self._bar.set_postfix_str(postfix, refresh=True)

    def advance(self, steps: int = 1, postfix: str = "") -> None:
        """Move the bar on by ``steps``."""
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(steps)

    def note(self, text: str) -> None:
        """A plain line ``label: text`` when there is no bar (logs, CI) and not quiet."""
        if not self.show and not self.quiet:
            print(f"  {self.label}: {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        self._bar.close()


@contextmanager
def cli_progress(label: str) -> Iterator[Callable[[Any], None]]:
    """A callback for :class:`sim.runs.run.RunProgress` updates drawing a :class:`Progress`.

    Without a bar it prints one line each time the stage changes.
    """
    bar = Progress(label, 1000, "‰")
    last = [""]

    def update(p: Any) -> None:
        bar.set(int(p.fraction * 1000), p.message)
        stage = p.message.split(" · ")[0]
        if stage != last[0]:
            last[0] = stage
            bar.note(p.message)

    try:
        yield update
    finally:
        bar.close()
