"""``main.py assign``: static user-equilibrium assignment of a TNTP network and trip table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import settings
from sim.errors import InputDataError, UsageError
from sim.progress import Progress
from sim.traffic import tntp
from sim.traffic.assignment import ALGORITHMS, assign, warm_up
from sim.traffic.network import network_from_tntp

NAME = "assign"
HELP = "static user-equilibrium traffic assignment of a TNTP network (FW, CFW, BFW)"
DESCRIPTION = """\
Static user-equilibrium traffic assignment (BPR link costs) of a TNTP network and
trip table, by Frank-Wolfe (fw), conjugate FW (cfw) or bi-conjugate FW (bfw), until
the relative gap (TSTT - SPTT) / TSTT reaches --rel-gap. The generalised cost is
BPR time + toll factor * toll + distance factor * length. Prints the iterations,
final relative gap, total system travel cost (TSTT) and Beckmann objective.

example:
  main.py assign SiouxFalls_net.tntp SiouxFalls_trips.tntp --rel-gap 1e-4 --json
  main.py assign ChicagoSketch_net.tntp ChicagoSketch_trips.tntp \\
      --toll-factor 0.02 --distance-factor 0.04 --out flows.csv
"""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``assign`` flags."""
    parser.add_argument("net", type=Path, help="network file (*_net.tntp)")
    parser.add_argument("trips", type=Path, help="trip table (*_trips.tntp)")
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="bfw", help="default: bfw")
    parser.add_argument(
        "--rel-gap", type=_positive_float, default=1e-4, help="target relative gap (default 1e-4)"
    )
    parser.add_argument(
        "--max-iter", type=_positive_int, default=1000, help="iteration limit (default 1000)"
    )
    parser.add_argument(
        "--toll-factor", type=_finite_float, default=0.0, help="minutes per toll unit (default 0)"
    )
    parser.add_argument(
        "--distance-factor",
        type=_finite_float,
        default=0.0,
        help="minutes per length unit (default 0)",
    )
    parser.add_argument(
        "--out", type=Path, help="write link flows (init_node,term_node,flow,cost) to this CSV"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _progress(max_iter: int, target: float) -> tuple[Progress | None, Any]:
    """A progress bar and its callback, or (None, None) when not on a terminal."""
    if not settings.progress:
        return None, None
    bar = Progress("assign", max_iter, "it", leave=False)

    def callback(iteration: int, gap: float) -> None:
        bar.set(iteration, f"gap {gap:.2e} -> {target:.0e}")

    return bar, callback


def main(args: argparse.Namespace) -> int:
    """Run the assignment and print (or write) its results."""
    if args.out is not None and not args.out.parent.exists():
        raise UsageError(f"--out {args.out}: folder {args.out.parent} does not exist")
    net = network_from_tntp(args.net)
    demand = tntp.read_trips(args.trips)
    if demand.shape[0] != net.n_zones:
        raise InputDataError(
            f"{args.trips}: {demand.shape[0]} zones but {args.net} has {net.n_zones} zones"
        )
    warm_up()  # numba compilation is not part of the timed assignment
    bar, callback = _progress(args.max_iter, args.rel_gap)
    try:
        result = assign(
            net,
            demand,
            algorithm=args.algorithm,
            rel_gap=args.rel_gap,
            max_iter=args.max_iter,
            toll_factor=args.toll_factor,
            distance_factor=args.distance_factor,
            callback=callback,
        )
    finally:
        if bar is not None:
            bar.close()
    if args.out is not None:
        table = pd.DataFrame(
            {
                "init_node": net.node_ids[net.link_from],
                "term_node": net.node_ids[net.link_to],
                "flow": result.flows,
                "cost": result.costs,
            }
        )
        try:
            table.to_csv(args.out, index=False)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write ({exc.strerror})") from exc
    summary = {
        "iterations": result.iterations,
        "rel_gap": result.rel_gap,
        "tstt": result.tstt,
        "objective": result.objective,
        "seconds": result.seconds,
    }
    if result.rel_gap > args.rel_gap:
        print(
            f"warning: relative gap {result.rel_gap:.3e} did not reach {args.rel_gap:g} "
            f"in {result.iterations} iterations (raise --max-iter)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"algorithm       {args.algorithm}")
        print(f"iterations      {result.iterations}")
        print(f"relative gap    {result.rel_gap:.3e} (target {args.rel_gap:g})")
        print(f"TSTT            {result.tstt:.6f}")
        print(f"Beckmann obj.   {result.objective:.6f}")
        print(f"seconds         {result.seconds:.3f}")
        if args.out is not None:
            print(f"link flows      {args.out}")
    return 0
