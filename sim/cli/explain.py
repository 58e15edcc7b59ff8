"""``main.py explain``: a school's demand in one year, broken into the flows behind it."""

from __future__ import annotations

import argparse
import json

NAME = "explain"
HELP = "break a school's demand in a year into the flows of children that add up to it"
DESCRIPTION = """\
Show how a run's projected demand for a school (enrollment.parquet's demand summed over
the school's grades) was made: pupils carried from last year's grade below, the entry
cohort (births, ageing, primary to junior), net migration of school-age children, new
housing, moves within the city, catchment or policy changes and overflow (in minus
out), as means over the replications; median_vs_mean closes the gap to the run's
median demand (0 with one replication). The components add up to the demand.

example:
  python main.py explain --run runs/default --school P24 --year 2030 --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``explain``."""
    parser.add_argument("--run", default=None, help="run folder, run id or scenario name")
    parser.add_argument("--school", required=True, help="school id, e.g. P24")
    parser.add_argument("--year", required=True, type=int, help="simulated year")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Print the breakdown as a table or one JSON object."""
    from sim.education.explain import explain
    from sim.runs.folder import resolve_run

    result = explain(resolve_run(args.run), args.school, args.year)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"{result['school']} {result['year']}: demand {result['demand']:g} "
        f"(places {result['capacity']}, {result['replications']} replications)"
    )
    for name, value in result["components"].items():
        print(f"  {name:<28} {value:+10.2f}")
    return 0
