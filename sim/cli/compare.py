"""``main.py compare``: KPI deltas, school pressure and flow differences of 2+ runs."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "compare"
HELP = "compare two or more runs: KPI table with deltas, school pressure, flow difference map"
DESCRIPTION = """Compare finished runs; the first is the baseline. A run is a run folder or
the name of a scenario (its newest run in the runs catalog).

Writes one HTML report with the figures embedded, the link-flow difference map(s) as PNG
beside it, and prints the KPI table.

example:
  python main.py compare runs/default-1a2b3c4d5e runs/new-school-9f8e7d6c5b --out report.html
  python main.py compare default new-school road-closure
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``compare``."""
    parser.add_argument("runs", nargs="+", help="run folders or scenario names (2 or more)")
    parser.add_argument("--out", type=Path, default=Path("report.html"), help="HTML report path")
    parser.add_argument("--runs-folder", type=Path, help="where scenario names are looked up")


def main(args: argparse.Namespace) -> int:
    """Compare, write the report and print the KPI table."""
    import io

    import pandas as pd

    from sim.kpis import format_number
    from sim.outputs import check_output_file, write_atomically
    from sim.runs.compare import compare_runs, consumer_surplus, write_report
    from sim.runs.folder import resolve_run

    out = check_output_file(Path(args.out))
    dirs = [resolve_run(r, args.runs_folder, field="runs") for r in args.runs]
    comp = compare_runs(dirs)
    for name, fig in comp.figures.items():
        if name.startswith("flow_diff_") or name == "am_profile":
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
            write_atomically(out.with_name(f"{out.stem}_{name}.png"), png.getvalue())
    out = write_report(comp, out)
    table = comp.kpis[[c for c in comp.kpis.columns if not c.startswith("better ")]]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=format_number))
    for r in consumer_surplus(comp).itertuples():
        change, per_trip = r.consumer_surplus_change, r.logsum_change_per_trip
        print(
            f"consumer surplus change, AM period, {r.run}: {format_number(change)}"
            f" (logsum {format_number(per_trip)}/trip x {format_number(r.am_trips)} trips)"
        )
    print(f"report: {out.resolve()}")
    return 0
