"""``main.py validate``: check a scenario and the city it names without running."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "validate"
HELP = "check a scenario file and the city it names without running (exit 0 or 2)"
DESCRIPTION = """Check a scenario file, and the city data it names, without running.
Exit 0 when both are valid; exit 2 with one clear message per problem otherwise.

example:
  python main.py validate scenarios/road-closure.yaml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``validate``."""
    parser.add_argument("scenario", type=Path, help="scenario YAML file")


def main(args: argparse.Namespace) -> int:
    """Validate and print a one-line summary."""
    from sim.runs.run import load_for_run

    scenario = load_for_run(args.scenario)
    print(
        f"{args.scenario}: ok — scenario '{scenario.name}', "
        f"{_count(scenario.years, 'year')} from {scenario.start_year}, "
        f"{_count(scenario.replications, 'replication')}, "
        f"{_count(len(scenario.policies), 'policy', 'policies')}, city {scenario.city.name}"
    )
    return 0


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"
