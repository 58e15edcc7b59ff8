"""``main.py backtest``: hold out the last years and score every forecast method."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "backtest"
HELP = "score forecast methods on the held-out last years of a history CSV (MAPE)"
DESCRIPTION = """\
Fit every method on the history up to the last H years, forecast those years and
print the MAPE of entity totals (sum over grades) per horizon and method, the MAPE of
single grades, and the share of held-out entity-grade counts inside the p10-p90 band.
Entities with too few years are skipped with a warning.

example:
  python main.py backtest --history districts.csv --horizon 3 --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``backtest`` flags."""
    parser.add_argument("--history", required=True, type=Path, help="history CSV")
    parser.add_argument("--births", type=Path, help="births CSV (adds the births method)")
    parser.add_argument("--horizon", required=True, type=int, help="held-out years (>= 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Run the backtest; print the tables or the JSON object."""
    from sim.cli._json import dumps
    from sim.cli.forecast import warnings_to_stderr
    from sim.education.forecast import backtest
    from sim.education.panel import load_history

    with warnings_to_stderr():
        panel = load_history(args.history, args.births)
        result = backtest(panel, args.horizon)
    if args.json:
        print(dumps(result.to_json()))
    else:
        print(result.table())
    return 0
