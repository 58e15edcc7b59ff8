"""``main.py optimise-catchments``: redraw catchments (学区) to cut seats short and travel."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MAX_KM = 5.0  # km: keeps the MILP small; catchments farther than this are not planned
NAME = "optimise-catchments"
HELP = "reassign zones to schools (contiguous catchments, places, distance) as a MILP"
DESCRIPTION = """\
Re-simulate a finished run's scenario, then give every zone one open school of LEVEL so
that seats short (Σ over the years from the plan year and the level's schools of
max(0, demand - places), pupil-years) plus 0.1 x pupil-km of travel is least (MILP,
HiGHS). --contiguous keeps each catchment one piece of adjacent zones around its school;
--max-km (default 5) bounds how far a zone may be sent (its current school is always
allowed).
The plan is written as catchment_edit policies (--out).

--verify simulates the scenario again with the plan, and with nearest-school
catchments; --json reports seats_short_baseline, seats_short_plan,
seats_short_heuristic, mean_km_baseline, mean_km_plan, mean_km_heuristic (simulated)
and optimality_gap.

example:
  python main.py optimise-catchments --run runs/default --level primary --contiguous --verify --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``optimise-catchments``."""
    parser.add_argument("--run", default=None, help="run folder, run id or scenario name")
    parser.add_argument("--level", required=True, help="primary or junior")
    parser.add_argument("--contiguous", action="store_true", help="one piece per catchment")
    parser.add_argument(
        "--max-km", type=float, default=MAX_KM, help=f"farthest school for a zone ({MAX_KM:g})"
    )
    parser.add_argument("--year", type=int, default=None, help="year of the new catchments")
    parser.add_argument("--time-limit", type=float, default=60.0, help="MILP seconds (60)")
    parser.add_argument("--out", type=Path, help="write the catchment_edit policies here (YAML)")
    parser.add_argument("--verify", action="store_true", help="simulate the plan and a heuristic")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Solve, write the plan, print the result."""
    from sim.cli.site_schools import format_result
    from sim.education.planning.plans import optimise_catchments, write_plan
    from sim.runs.folder import resolve_run

    result = optimise_catchments(
        resolve_run(args.run),
        args.level,
        contiguous=args.contiguous,
        max_km=args.max_km,
        year=args.year,
        verify=args.verify,
        time_limit=args.time_limit,
    )
    if args.out is not None:
        write_plan(args.out, result["policies"], f"optimise-catchments: {args.level}")
        n = len(result["policies"])
        print(f"wrote {n} catchment_edit policies to {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_result(result))
    return 0
