"""Batch throughput and executor overhead: local process pool vs Dask (LocalCluster).

    python bench/batch.py [--quick] [--json]

* throughput: scenario-years per second of the real model on the default city, through
  ``run_batch`` on the local pool with 1 and 2 workers (and Dask with 2 workers unless
  --quick); the ratio is 2 workers against 1 in the same run.
* overhead: wall time per task of a tiny task (``SyntheticRunner``: writes a small run
  folder, no simulation) on 2 workers, local pool vs an already started Dask LocalCluster;
  the catalog writes are included, as every real task pays them. Aim: Dask < 50 ms per task.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.batch.dask_cluster import local_dask_cluster  # noqa: E402
from sim.batch.executor import run_batch  # noqa: E402
from sim.batch.sweep import expand_sweep, load_sweep  # noqa: E402
from sim.batch.tasks import SyntheticRunner  # noqa: E402


def make_tasks(folder: Path, replications: int, years: int, name: str) -> list:
    """Replications of the default scenario (one variant), ``years`` years each."""
    sweep = {
        "name": name,
        "base": str(ROOT / "scenarios" / "default.yaml"),
        "seed": 1,
        "replications": replications,
        "years": years,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sweep))
    return expand_sweep(load_sweep(path))


def timed_batch(tasks: list, out: Path, **kwargs) -> float:
    """Seconds for ``run_batch``; raises when any task did not finish."""
    t0 = time.perf_counter()
    summary = run_batch(tasks, out, progress=False, **kwargs)
    seconds = time.perf_counter() - t0
    if summary.done != len(tasks):
        msg = f"{out}: {summary.done}/{len(tasks)} done; errors: {summary.errors}"
        raise RuntimeError(msg)
    return seconds


def throughput(folder: Path, quick: bool, cluster) -> list[dict]:
    """Scenario-years per second of the real model for 1 and 2 local workers (and Dask)."""
    n_tasks, years = (2, 1) if quick else (4, 2)
    configs = [("local", 1), ("local", 2)] + ([] if quick else [("dask", 2)])
    rows = []
    for executor, workers in configs:
        tasks = make_tasks(folder, n_tasks, years, f"thr-{executor}-{workers}")
        scheduler = cluster.scheduler_address if executor == "dask" else None
        out = folder / f"thr-{executor}-{workers}"
        seconds = timed_batch(tasks, out, workers=workers, scheduler=scheduler)
        scenario_years = sum(t.scenario.years for t in tasks)
        rows.append(
            {
                "executor": executor,
                "workers": workers,
                "tasks": len(tasks),
                "scenario_years": scenario_years,
                "seconds": round(seconds, 2),
                "scenario_years_per_s": round(scenario_years / seconds, 4),
            }
        )
    return rows


def overhead(folder: Path, quick: bool, cluster) -> dict:
    """Milliseconds per tiny task, local pool vs Dask, both with 2 workers, warmed up."""
    n = 40 if quick else 200
    per_task = {}
    for executor in ("local", "dask"):
        scheduler = cluster.scheduler_address if executor == "dask" else None
        warm = make_tasks(folder, 2, 1, f"warm-{executor}")
        timed_batch(
            warm,
            folder / f"warm-{executor}",
            workers=2,
            scheduler=scheduler,
            runner=SyntheticRunner(),
        )
        tasks = make_tasks(folder, n, 1, f"ovh-{executor}")
        seconds = timed_batch(
            tasks,
            folder / f"ovh-{executor}",
            workers=2,
            scheduler=scheduler,
            runner=SyntheticRunner(),
        )
        per_task[executor] = 1000 * seconds / n
    return {
        "tasks": n,
        "local_ms_per_task": round(per_task["local"], 2),
        "dask_ms_per_task": round(per_task["dask"], 2),
        "dask_vs_local": round(per_task["dask"] / per_task["local"], 3),
        "dask_under_50ms": per_task["dask"] < 50,
    }


def main() -> int:
    """Run the benchmark and print a table (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter tasks")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, local_dask_cluster(2) as cluster:
        folder = Path(tmp)
        over = overhead(folder, args.quick, cluster)
        rows = throughput(folder, args.quick, cluster)
    one = next(r for r in rows if r["executor"] == "local" and r["workers"] == 1)
    two = next(r for r in rows if r["executor"] == "local" and r["workers"] == 2)
    result = {
        "benchmark": "batch",
        "quick": args.quick,
        "throughput": rows,
        "speedup_2_vs_1_workers": round(
            two["scenario_years_per_s"] / one["scenario_years_per_s"], 3
        ),
        "overhead": over,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{'executor':8} {'workers':>7} {'tasks':>5} {'scen-years':>10} {'s':>8} {'scen-yr/s':>9}"
    )
    for r in rows:
        print(
            f"{r['executor']:8} {r['workers']:>7} {r['tasks']:>5} {r['scenario_years']:>10} "
            f"{r['seconds']:>8.1f} {r['scenario_years_per_s']:>9.3f}"
        )
    print(f"speed-up 2 vs 1 local workers: {result['speedup_2_vs_1_workers']:.2f}x")
    print(
        f"overhead per tiny task ({over['tasks']} tasks, 2 workers): local pool "
        f"{over['local_ms_per_task']:.1f} ms, Dask {over['dask_ms_per_task']:.1f} ms "
        f"(Dask/local {over['dask_vs_local']:.2f}; aim Dask < 50 ms: "
        f"{'yes' if over['dask_under_50ms'] else 'no'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
