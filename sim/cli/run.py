"""``main.py run``: simulate one scenario and write its run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "run"
HELP = "simulate a scenario and write its run folder (tables, figures, manifest)"
DESCRIPTION = """Simulate a scenario headless and write runs/<scenario>-<hash>/ atomically.

example:
  python main.py run scenarios/default.yaml
  python main.py run scenarios/new-school.yaml --years 3 --seed 7 --out /tmp/runs
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``run``."""
    parser.add_argument("scenario", type=Path, help="scenario YAML file")
    parser.add_argument("--out", type=Path, help="runs folder (default: runs/ of the project)")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("--years", type=int, help="override the number of simulated years")
    parser.add_argument("--replications", type=int, help="override the Monte Carlo replications")


def main(args: argparse.Namespace) -> int:
    """Run the scenario and print where the run folder is."""
    from sim import settings
    from sim.outputs import check_output_folder
    from sim.progress import cli_progress
    from sim.runs.run import prepare_run, run_scenario

    check_output_folder(args.out or settings.runs_folder)  # before loading anything
    scenario, city = prepare_run(
        args.scenario, seed=args.seed, years=args.years, replications=args.replications
    )
    with cli_progress(scenario.name) as progress:
        run_dir = run_scenario(scenario, args.out, city=city, progress=progress)
    print(f"run folder: {run_dir}")
    return 0
