"""``main.py enroll-query``: 入学早知道, the single-address school and crowding query."""

from __future__ import annotations

import argparse
import json
import re

from sim.education.query import format_answer, parse_lonlat, query
from sim.runs.folder import resolve_run

NAME = "enroll-query"
HELP = "which school a child born in YEAR at LON,LAT gets, and how full it will be (入学早知道)"
DESCRIPTION = """\
Answer a parent's question from a finished run: the catchment primary and junior middle
school of the address, the year the child enters grade 1 (born January-August: the year it
turns 6; September-December: a year later; both are shown unless --birth-month is given),
the projected utilisation of grade 1 that year (demand / places, with the 80 % band p10-p90
of the run's Monte Carlo replications), and the nearest school with projected room when the
catchment school may be full. The same for grade 7 (junior middle school).

example:
  python main.py enroll-query --lonlat -71.2190,-29.9490 --birth-year 2021
  python main.py enroll-query --lonlat -71.2190,-29.9490 --birth-year 2021 --run runs/default --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``enroll-query``."""
    # Let "--lonlat -71.25,-29.91" (western/southern hemisphere) parse as a value, as
    # argparse does natively from Python 3.13 on; this parser has no flags like "-1".
    parser._negative_number_matcher = re.compile(r"^-\.?\d")
    parser.add_argument("--lonlat", required=True, help="home address as LON,LAT in degrees")
    parser.add_argument("--birth-year", required=True, type=int, help="the child's birth year")
    parser.add_argument(
        "--birth-month", type=int, default=None, help="birth month 1-12 (picks one entry year)"
    )
    parser.add_argument(
        "--run",
        default=None,
        help="run folder, run id or scenario name (default: the newest finished run)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Answer the query; errors become one line and exit status 2 (sim.cli)."""
    lon, lat = parse_lonlat(args.lonlat)
    answer = query(resolve_run(args.run), lon, lat, args.birth_year, args.birth_month)
    print(json.dumps(answer, ensure_ascii=False) if args.json else format_answer(answer))
    return 0
