"""A report job for the export tests, run in the report's spawned child process.

:func:`report_job` stands in for :func:`gui.reportjob.write_report` (picklable: the
child imports this module by name). It keeps the real atomic write and replaces only
sim's compare and report writer, so a test controls how long the child writes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

WHOLE = "<html>the whole report</html>"


def report_job(run_dirs: list[str], out: str) -> str:
    """:func:`gui.reportjob.write_report` whose writer a test steers with ``run_dirs``.

    ``run_dirs`` is ``[gate, mode]``: the writer puts half a report into its temporary
    file and creates the file ``gate`` (the test then knows the child is mid-write); with
    ``mode`` "hang" it then waits two minutes, with "finish" it writes :data:`WHOLE`.
    """
    from gui import reportjob
    from sim.runs import compare

    gate, mode = run_dirs

    def write(_comparison: Any, part: Path) -> Path:
        part.write_text("<html>half a report", encoding="utf-8")
        Path(gate).touch()
        if mode == "hang":
            time.sleep(120)
        part.write_text(WHOLE, encoding="utf-8")
        return part

    compare.compare_runs = lambda dirs: dirs  # this child's own modules: nothing shared
    compare.write_report = write
    return reportjob.write_report(run_dirs, out)
