"""The comparison report, written in a child process (imports no Qt).

Drawing the report's maps holds Python's GIL for seconds (matplotlib renders each map in
one C call), so a worker thread would still freeze the window; a spawned process does
not. The child compares the runs again and writes the report to a temporary file beside
the target, renamed onto it only when complete: a failed or cancelled export never leaves
half a report (nor replaces an older one).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

_POOL: list[ProcessPoolExecutor] = []
_LOCK = threading.Lock()


def write_report(run_dirs: list[str], out: str) -> str:
    """Compare ``run_dirs`` (baseline first) and write the HTML report to ``out`` atomically."""
    from sim.runs.compare import compare_runs
    from sim.runs.compare import write_report as write

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    try:
        write(compare_runs(run_dirs), Path(temp))
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)
    return str(target)


def _pool() -> ProcessPoolExecutor:
    """The report's child process: started on the first export, kept for the next ones."""
    with _LOCK:
        if not _POOL:
            _POOL.append(ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")))
        return _POOL[0]


def cancel_reports() -> None:
    """Stop a report being written (its temporary file is left unrenamed, then removed).

    The child is terminated; the next export starts a new one.
    """
    with _LOCK:
        pools = list(_POOL)
        _POOL.clear()
    for pool in pools:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)


def report_in_child(run_dirs: list[str], out: Path) -> Path:
    """:func:`write_report` in a spawned process; waits for it (call from a worker thread).

    Raises whatever the child raised (e.g. RunError, OutputError); BrokenProcessPool when
    the child died or was cancelled (:func:`cancel_reports`).
    """
    out = Path(out)
    pool = _pool()
    try:
        return Path(pool.submit(write_report, run_dirs, str(out)).result())
    except BrokenProcessPool:  # the child died (killed, cancelled): a new one next time
        with _LOCK:
            if pool in _POOL:
                _POOL.remove(pool)
        for part in out.parent.glob(f".{out.name}.*.part"):  # the dead child's unfinished file
            part.unlink(missing_ok=True)
        raise
