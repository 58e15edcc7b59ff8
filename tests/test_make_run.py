"""End to end, the path of `make run` on a shortened scenario: run, run a variant, compare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _support import ROOT


def _main(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.slow
def test_run_variant_and_compare(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for name, base in (("base", "default"), ("school", "new-school")):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nextends: {ROOT / 'scenarios' / base}.yaml\nyears: 4\nreplications: 2\n"
        )
        out = _main("run", str(tmp_path / f"{name}.yaml"), "--out", str(runs)).stdout
        assert "run folder:" in out
    report = tmp_path / "report.html"
    printed = _main("compare", "base", "school", "--runs-folder", str(runs), "--out", str(report))
    assert "max_utilisation" in printed.stdout
    html = report.read_text()
    assert "data:image/png;base64" in html and "school" in html
    assert list(tmp_path.glob("report_flow_diff_*.png"))
    # The new school (2027) takes zone 82 from P24, which takes the smaller zone 132 from P49.
    enr = {
        name: pd.read_parquet(next(runs.glob(f"{name}-*")) / "enrollment.parquet")
        for name in ("base", "school")
    }
    p24 = {n: e[(e.school == "P24") & (e.year == 2027)]["demand"].sum() for n, e in enr.items()}
    assert p24["school"] < p24["base"]
    assert (enr["school"]["school"] == "N01").any()
