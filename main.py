"""CitySandbox entry point: the desktop app by default, subcommands headless.

python main.py                 open the desktop app
python main.py run SCENARIO    run a scenario headless
python main.py --help          every subcommand
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the GUI (no arguments) or to a headless subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "gui":
        # The GUI lives outside sim/ (sim never imports Qt), so it is dispatched here.
        from gui.app import main as gui_main

        return gui_main(argv[1:])
    from sim.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
