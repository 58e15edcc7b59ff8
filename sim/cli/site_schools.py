"""``main.py site-schools``: where to build new schools (规划新建学校), as a MILP."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MAX_KM = 5.0  # km: keeps the MILP small; catchments farther than this are not planned
NAME = "site-schools"
HELP = "choose sites and sizes of new schools that cut seats short and travel (MILP)"
DESCRIPTION = """\
Re-simulate a finished run's scenario, then choose up to BUDGET new schools of LEVEL
(sites, classes per grade, and the zones each takes over) that minimise seats short
(Σ over the years from the plan year and the level's schools of max(0, demand - places),
pupil-years) plus 0.1 x pupil-km of travel, as a capacitated multi-year p-median MILP
(HiGHS). Candidates: the city's development sites and every zone centroid, or a CSV
(id,x,y in the city CRS, or id,lon,lat). --robust p90 plans for the p90 of each zone's
children over the replications; a new school takes zones within --max-km (default 5).
The plan is written as new_school policies (--out).

--verify simulates the scenario again with the plan, and with the same number of schools
at the development sites with the most dwellings; --json reports seats_short_baseline,
seats_short_plan, seats_short_heuristic, mean_km_baseline, mean_km_plan,
mean_km_heuristic (all simulated) and the optimality_gap HiGHS proves (a fraction).

example:
  python main.py site-schools --run runs/default --level primary --budget 2 --verify --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``site-schools``."""
    parser.add_argument("--run", default=None, help="run folder, run id or scenario name")
    parser.add_argument("--level", required=True, help="primary or junior")
    parser.add_argument("--budget", required=True, type=int, help="most new schools (>= 1)")
    parser.add_argument("--candidates", type=Path, help="CSV of candidate sites")
    parser.add_argument("--robust", default="mean", help="p90: plan for the p90 of demand")
    parser.add_argument(
        "--max-km", type=float, default=MAX_KM, help=f"farthest zone a school takes ({MAX_KM:g})"
    )
    parser.add_argument("--year", type=int, default=None, help="opening year (default base + 1)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="MILP seconds (60)")
    parser.add_argument("--out", type=Path, help="write the new_school policies here (YAML)")
    parser.add_argument("--verify", action="store_true", help="simulate the plan and a heuristic")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Solve, write the plan, print the result."""
    from sim.education.planning.plans import site_schools, write_plan
    from sim.runs.folder import resolve_run

    result = site_schools(
        resolve_run(args.run),
        args.level,
        args.budget,
        candidates_file=args.candidates,
        robust=args.robust,
        max_km=args.max_km,
        year=args.year,
        verify=args.verify,
        time_limit=args.time_limit,
    )
    if args.out is not None:
        write_plan(args.out, result["policies"], f"site-schools: {args.budget} {args.level}")
        print(f"wrote {len(result['policies'])} new_school policies to {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_result(result))
    return 0


def format_result(result: dict) -> str:
    """The plan and its figures as text."""
    n = len(result["policies"])
    lines = [f"{n} polic{'y' if n == 1 else 'ies'} for {result['level']} from {result['year']}:"]
    lines += [
        f"  {s['id']} at {s['candidate']} {s['xy']}: {s['classes_per_grade']} classes/grade, "
        f"{s['places']} places, zones {s['zones']}"
        for s in result.get("sites", [])
    ]
    lines += [f"  {k}: {v}" for k, v in result.items() if k.startswith(("seats_", "mean_km"))]
    lines.append(f"  optimality gap {result['optimality_gap']:.4f}")
    return "\n".join(lines)
