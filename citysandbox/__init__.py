"""The ``citysandbox`` command: the desktop app without arguments, headless subcommands else.

This tiny package is the console-script entry (``citysandbox``) and what the repository's
``main.py`` calls. It sits outside ``sim`` because it may start the GUI, and ``sim`` never
imports Qt; the GUI is imported only when it is asked for.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the GUI (no arguments, or ``gui``) or to a headless subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "gui":
        from gui.app import main as gui_main

        return gui_main(argv[1:])
    from sim.cli import main as cli_main

    return cli_main(argv)
