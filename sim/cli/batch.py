"""``main.py batch``: every variant × replication of a sweep on a local pool or a Dask cluster."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

NAME = "batch"
HELP = "run a sweep (variants × replications) on a local process pool or a Dask cluster"
DESCRIPTION = """Run every variant × replication of a sweep file as an independent task.

Each finished task writes OUT/<sweep>-<variant>-r<k>-<hash>/ atomically and a row in
OUT/catalog.sqlite (table batch_tasks: variant, parameters, seed, status, timings, KPIs,
error). A worker that dies is retried --retries times; Ctrl-C stops cleanly and keeps every
finished run; --resume skips them next time.

example:
  python main.py batch scenarios/sweep-example.yaml --workers 2 --out runs/sweep-example
  python main.py batch-report runs/sweep-example

on a Dask cluster (OUT on a file system every worker sees at the same path):
  dask scheduler --port 8786 &
  dask worker tcp://127.0.0.1:8786 --nworkers 4 --nthreads 1 &
  python main.py batch scenarios/sweep-example.yaml --scheduler tcp://127.0.0.1:8786
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``batch``."""
    parser.add_argument("sweep", type=Path, help="sweep YAML file")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="local worker processes"
    )
    parser.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--out", type=Path, help="runs folder (default: ./runs/<sweep name>)")
    parser.add_argument("--resume", action="store_true", help="skip tasks finished earlier")
    parser.add_argument(
        "--retries", type=int, default=2, help="extra attempts when a worker dies (default 2)"
    )


def main(args: argparse.Namespace) -> int:
    """Expand the sweep, run it and print a one-line summary; 1 when a task failed."""
    from sim import settings
    from sim.batch.dask_cluster import require_dask
    from sim.batch.executor import run_batch
    from sim.batch.sweep import check_tasks, expand_sweep, load_sweep
    from sim.outputs import check_output_folder

    if args.scheduler is not None:
        require_dask()  # before the sweep is expanded: say at once what is missing
    sweep = load_sweep(args.sweep)
    tasks = expand_sweep(sweep, source=str(args.sweep))
    check_tasks(tasks, str(args.sweep))
    out = check_output_folder(args.out or settings.runs_folder / sweep.name)
    where = args.scheduler or f"{args.workers} local worker(s)"
    print(f"batch {sweep.name}: {len(tasks)} tasks on {where} -> {out}", file=sys.stderr)
    # SIGTERM (kill, a cluster job's time limit) stops as cleanly as Ctrl-C
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        summary = run_batch(
            tasks,
            out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            retries=args.retries,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    for task_id, error in summary.errors.items():  # the worker's log is in the catalog
        print(f"failed: {task_id}: {error.splitlines()[0]}", file=sys.stderr)
    print(
        f"{summary.done} done, {summary.skipped} skipped (finished before), "
        f"{summary.failed} failed, {summary.locked} left to another batch, "
        f"{summary.remaining} remaining; catalog: {out / settings.catalog_name}"
    )
    if summary.interrupted:
        print("interrupted: run again with --resume to finish", file=sys.stderr)
        return 130
    return 1 if summary.failed else 0
