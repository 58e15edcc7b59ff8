"""``main.py export``: a run's tables as a package safe to share (small counts suppressed)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "export"
HELP = "Write a run's tables and zones as a shareable package with small counts suppressed."
DESCRIPTION = """\
Write the tables and the zones layer of a run to DIR with a data dictionary
(data_dictionary.csv: every column's meaning, unit and type). Every count below K is
suppressed (null, with a flag column), and so are the cells needed so that no
suppressed count can be recovered by subtraction from a row or column total
(complementary suppression; see sim/runs/export.py). K defaults to the city's
privacy.min_cell (import config), else 10. Figures are not exported.

RUN is a run folder, a run id or a scenario name (its newest run).

example:
  main.py export runs/default-1a2b3c4d5e --out share/ --min-cell 10 --format csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the export flags."""
    parser.add_argument("run", help="run folder, run id or scenario name")
    parser.add_argument("--out", type=Path, required=True, help="package folder to write")
    parser.add_argument("--min-cell", type=int, default=None, help="K: smallest count shown")
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "gpkg"),
        default="parquet",
        help="file format of the tables (default: parquet)",
    )
    parser.add_argument("--runs-folder", type=Path, help="where run ids and names are looked up")


def main(args: argparse.Namespace) -> int:
    """Run export."""
    from sim.runs.export import export_run
    from sim.runs.folder import resolve_run

    run_dir = resolve_run(args.run, args.runs_folder)
    summary = export_run(run_dir, args.out, args.min_cell, args.format)
    hidden = sum(summary["suppressed"].values())
    print(
        f"{args.out}: {len(summary['tables'])} tables ({args.format}) from {run_dir.name},"
        f" K = {summary['min_cell']}, {hidden} cells suppressed; see data_dictionary.csv"
    )
    return 0
