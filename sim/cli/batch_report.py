"""``main.py batch-report``: KPIs per variant with bands, sensitivity charts, CSV/Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "batch-report"
HELP = "report a batch: KPIs per variant with replication bands, tornado charts, CSV/Parquet"
DESCRIPTION = """Write an HTML report of a finished (or partly finished) batch.

The report shows each KPI per variant over the years (median, 10-90 % band over the
replications), box plots of the last year and one sensitivity (tornado) chart per sweep
axis. Every KPI of every task and year is written next to it as <report>-kpis.csv and
<report>-kpis.parquet.

example:
  python main.py batch-report runs/sweep-example --out runs/sweep-example/report.html
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``batch-report``."""
    parser.add_argument("dir", type=Path, help="the --out folder of a batch")
    parser.add_argument("--out", type=Path, help="HTML file (default: DIR/batch-report.html)")


def main(args: argparse.Namespace) -> int:
    """Write the report and print where it and the tables are."""
    from sim.batch.report import write_batch_report

    report = write_batch_report(args.dir, args.out)
    print(f"report: {report}")
    print(f"tables: {report.with_name(report.stem + '-kpis.csv')} (and .parquet)")
    return 0
