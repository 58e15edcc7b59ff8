"""Application settings for CitySandbox.

One typed module instead of scattered globals (the osmnx way). Change a setting by
assignment, e.g. ``sim.settings.runs_folder = Path("/data/runs")``.

runs_folder
    Where ``main.py run`` writes run folders when ``--out`` is not given.
default_city
    The embedded default city GeoPackage.
catalog_name
    File name of the SQLite runs catalog inside a runs folder.
log_level
    Logging level of the ``sim`` logger.
progress
    Show progress bars on the command line (off when not a terminal or under CI).
quiet
    ``-q``: no progress at all, neither bars nor the plain lines that stand in for them.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT: Path = Path(__file__).resolve().parent.parent
runs_folder: Path = ROOT / "runs"
default_city: Path = ROOT / "geodata" / "default_city.gpkg"
scenarios_folder: Path = ROOT / "scenarios"
catalog_name: str = "catalog.sqlite"
log_level: int = logging.WARNING
progress: bool = sys.stderr.isatty() and not os.environ.get("CI")
quiet: bool = False
