"""The ``citysandbox`` command: the desktop app without arguments, headless subcommands else.

This tiny package is the console-script entry (``citysandbox``) and what the repository's
``main.py`` calls. It sits outside ``sim`` because it may start the GUI, and ``sim`` never
imports Qt; the GUI is imported only when it is asked for.
"""

from __future__ import annotations

import logging
import os
import sys

#: The exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the GUI (no arguments, or ``gui``) or to a headless subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "gui":
        from gui.app import main as gui_main

        return gui_main(argv[1:])
    from sim.cli import main as cli_main

    return cli_main(argv)


def run() -> None:
    """The console script: :func:`main`, leaving at once after Ctrl-C.

    A command stopped by Ctrl-C has recorded what it finished and removed what it left
    half-done before it returns, so the interpreter's teardown of numpy, pandas and numba
    (one to three seconds on a busy machine) is skipped: the prompt is back within two.
    """
    try:
        code = main()
    except BrokenPipeError:
        # The reader went away (``citysandbox enroll-query ... | head``): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    if code == EXIT_INTERRUPTED:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
