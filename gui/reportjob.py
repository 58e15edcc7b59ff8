"""The comparison report, written in a child process (imports no Qt).

Drawing the report's maps holds Python's GIL for seconds (matplotlib renders each map in
one C call), so a worker thread would still freeze the window; a spawned process does
not. The child compares the runs again (a fraction of a second) and writes the report.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def write_report(run_dirs: list[str], out: str) -> str:
    """Compare ``run_dirs`` (baseline first) and write the HTML report to ``out``."""
    from sim.runs.compare import compare_runs
    from sim.runs.compare import write_report as write

    return str(write(compare_runs(run_dirs), Path(out)))


def report_in_child(run_dirs: list[str], out: Path) -> Path:
    """:func:`write_report` in a spawned process; waits for it (call from a worker thread).

    Raises whatever the child raised (e.g. RunError, OutputError).
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return Path(pool.submit(write_report, run_dirs, str(out)).result())
