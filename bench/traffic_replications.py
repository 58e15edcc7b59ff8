"""Bench: the cost of the static peak traffic in every replication-year of a run.

Usage: python bench/traffic_replications.py [--quick] [--json] [--scenario PATH]
                                            [--years N] [--replications R] [--workers W]

The scenario (default ``scenarios/default.yaml``) runs with ``traffic_replications: all``
for ``--years`` x ``--replications`` (default 3 x 2; ``--quick`` 1 x 1), one replication
after another in this process (numba compiled beforehand), timing every stage of every
year with the process's CPU clock (user + sys of all its threads). Prints one JSON
object: ``cpu_s`` and ``wall_s`` of the replications, ``traffic_cpu_per_replication_year``
(the demand-supply loop and its assignments, skims and choices), ``cpu_per_replication_year``
(every stage), ``stages_cpu_s``, the mean ``assignment_iterations`` and ``demand_rounds``
and the largest final ``rel_gap``. With ``--workers W`` > 1 it then times the same run
through :func:`sim.runs.run.run_scenario` on W worker processes (``pool_wall_s``; the
workers' CPU is not this process's) and checks its KPIs equal the serial ones
(``pool_identical``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.model import peak_roads, run_replication  # noqa: E402
from sim.runs.run import prepare_run, run_scenario  # noqa: E402
from sim.scenario import scenario_from_dict  # noqa: E402
from sim.seeds import replication_seeds  # noqa: E402
from sim.traffic.assignment import warm_up  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=HERE.parent / "scenarios" / "default.yaml")
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    years, reps = (1, 1) if args.quick else (args.years, args.replications)
    scenario, city = prepare_run(args.scenario, years=years, replications=reps)
    data = scenario.model_dump(mode="json")
    data["parameters"]["traffic_replications"] = "all"
    scenario = scenario_from_dict(data, source=str(args.scenario))
    warm_up()
    cpu: dict[str, float] = defaultdict(float)
    clock: list = [None, 0.0]  # the stage running and the CPU time it began at

    def on_stage(year: int, stage: str) -> None:
        now = time.process_time()
        if clock[0] is not None:
            cpu[clock[0]] += now - clock[1]
        clock[0], clock[1] = stage, now

    t0, w0 = time.process_time(), time.perf_counter()
    roads = peak_roads(city, scenario)
    kpis = []
    for rep, seed in enumerate(replication_seeds(scenario.seed, reps)):
        model = run_replication(
            scenario, city, seed, traffic=True, on_stage=on_stage, tables=rep == 0, roads=roads
        )
        on_stage(0, "")  # the last stage of the replication ends here
        clock[0] = None
        kpis.append(model.kpi_frame().assign(replication=rep))
    out = {
        "scenario": scenario.name,
        "years": years,
        "replications": reps,
        "cpu_s": round(time.process_time() - t0, 2),
        "wall_s": round(time.perf_counter() - w0, 2),
        "traffic_cpu_per_replication_year": round(cpu["traffic"] / (years * reps), 3),
        "cpu_per_replication_year": round(sum(cpu.values()) / (years * reps), 3),
        "stages_cpu_s": {k: round(v, 2) for k, v in cpu.items()},
    }
    frame = pd.concat(kpis, ignore_index=True)
    out["assignment_iterations_mean"] = float(frame["assignment_iterations"].mean())
    out["demand_rounds_mean"] = float(frame["demand_rounds"].mean())
    out["rel_gap_max"] = float(frame["rel_gap"].max())
    if args.workers > 1:
        with tempfile.TemporaryDirectory() as folder:
            w = time.perf_counter()
            run = run_scenario(scenario, Path(folder), city=city, workers=args.workers)
            out["pool_wall_s"] = round(time.perf_counter() - w, 2)
            pooled = pd.read_parquet(run / "kpis.parquet")
        serial = frame[pooled.columns.drop("replication")]
        out["pool_identical"] = bool(
            serial.equals(pooled.drop(columns="replication").astype(serial.dtypes))
        )
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
