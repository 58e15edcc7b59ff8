"""CitySandbox from a checkout: ``python main.py`` is the installed ``citysandbox`` command.

python main.py                 open the desktop app
python main.py run SCENARIO    run a scenario headless
python main.py --help          every subcommand
"""

from __future__ import annotations

from citysandbox import run

if __name__ == "__main__":
    run()
