"""Bench: our bi-conjugate Frank–Wolfe vs AequilibraE 1.7.2 BFW on TNTP networks.

Usage: python bench/assignment.py [--quick] [--json] [--repeats N]

Both solve the same network and trip table to the same relative gap (1e-4) on this
machine in the same run, using all cores. Sioux Falls and Chicago Sketch (toll
factor 0.02, distance factor 0.04, as its README states); --quick runs Sioux Falls
only. Timed: our ``assign()`` after a warm-up call (numba compilation excluded), and
AequilibraE's ``TrafficAssignment.execute()`` only (graph and matrix build excluded,
``AEQ_SHOW_PROGRESS=FALSE``, zero free-flow times raised to 1e-6 as it rejects them).
ratio = our seconds / AequilibraE seconds. Objective and TSTT errors are against the
best-known solutions in ../shared/benchmarks/tntp/best_known.json, evaluated with the
same formulas on both solvers' link flows.

AequilibraE runs as a subprocess of this script (``--aeq-driver``) in its own venv,
bench/_work/aeq-venv (created with ``pip install aequilibrae==1.7.2`` when missing), or
in the Python named by the ``AEQ_PYTHON`` environment variable.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TNTP = ROOT.parent / "shared" / "benchmarks" / "tntp"
AEQ_VENV = ROOT / "bench" / "_work" / "aeq-venv"
AEQ_VERSION = "1.7.2"
REL_GAP = 1e-4
MAX_ITER = 1000
EPS_FFT = 1e-6
# name: (folder/stem, toll factor, distance factor) -- weights from each network's README
NETWORKS = {
    "SiouxFalls": ("SiouxFalls/SiouxFalls", 0.0, 0.0),
    "Chicago-Sketch": ("Chicago-Sketch/ChicagoSketch", 0.02, 0.04),
}


def _aeq_python() -> str:
    """The Python with AequilibraE: $AEQ_PYTHON, else bench/_work/aeq-venv (created if missing)."""
    if os.environ.get("AEQ_PYTHON"):
        return os.environ["AEQ_PYTHON"]
    python = AEQ_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {AEQ_VENV} with aequilibrae=={AEQ_VERSION} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AEQ_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"aequilibrae=={AEQ_VERSION}"],
            check=True,
        )
    return str(python)


def _aeq_driver(stem: str, toll_factor: float, distance_factor: float, repeats: int) -> None:
    """Run inside the AequilibraE venv: assign once per repeat, print one JSON line."""
    os.environ["AEQ_SHOW_PROGRESS"] = "FALSE"  # its progress bars dominate small networks
    sys.path.insert(0, str(ROOT))
    import importlib.metadata

    import numpy as np
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    from sim.traffic import tntp

    meta, links = tntp.read_net(TNTP / f"{stem}_net.tntp")
    trips = tntp.read_trips(TNTP / f"{stem}_trips.tntp")
    n_zones = len(trips)
    df = links.rename(columns={"init_node": "a_node", "term_node": "b_node"})
    df["link_id"] = df["id"] = np.arange(1, len(df) + 1)
    df["direction"] = np.int8(1)
    df["free_flow_time"] = np.maximum(df["free_flow_time"], EPS_FFT)
    df["fixed_cost"] = toll_factor * df["toll"] + distance_factor * df["length"]
    columns = ["link_id", "a_node", "b_node", "direction", "id", "capacity", "free_flow_time"]
    columns += ["b", "power", "fixed_cost", "length"]
    runs = []
    for _ in range(repeats):
        graph = Graph()
        graph.network = df[columns].copy()
        graph.network_ok = True
        graph.status = "OK"
        centroids = np.arange(1, n_zones + 1, dtype=np.int64)
        graph.prepare_graph(centroids)
        graph.set_graph("free_flow_time")
        graph.set_skimming([])
        graph.set_blocked_centroid_flows(int(meta["FIRST THRU NODE"].split("~")[0]) > 1)
        matrix = AequilibraeMatrix()
        matrix.create_empty(zones=n_zones, matrix_names=["matrix"], memory_only=True)
        matrix.index[:] = centroids
        matrix.matrix["matrix"][:, :] = trips
        matrix.computational_view(["matrix"])
        cls = TrafficClass("car", graph, matrix)
        if toll_factor or distance_factor:
            cls.set_fixed_cost("fixed_cost", 1.0)
            cls.set_vot(1.0)
        assig = TrafficAssignment()
        assig.set_classes([cls])
        assig.set_vdf("BPR")
        assig.set_vdf_parameters({"alpha": "b", "beta": "power"})
        assig.set_capacity_field("capacity")
        assig.set_time_field("free_flow_time")
        assig.set_algorithm("bfw")
        assig.max_iter = MAX_ITER
        assig.rgap_target = REL_GAP
        assig.set_cores(os.cpu_count() or 1)
        start = time.perf_counter()
        assig.execute(log_specification=False)
        seconds = time.perf_counter() - start
        report = assig.assignment.convergence_report
        flows = assig.results().loc[df["link_id"].to_numpy(), "PCE_AB"].to_numpy(dtype=float)
        runs.append((seconds, int(report["iteration"][-1]), float(report["rgap"][-1]), flows))
    seconds, iterations, gap, flows = min(runs, key=lambda r: r[0])
    out = {
        "version": importlib.metadata.version("aequilibrae"),
        "seconds": seconds,
        "iterations": iterations,
        "rel_gap": gap,
        "flows": flows.tolist(),
    }
    print(json.dumps(out))


def _run_aeq(python: str, stem: str, toll: float, dist: float, repeats: int) -> dict:
    cmd = [python, __file__, "--aeq-driver", stem, str(toll), str(dist), str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"AequilibraE driver failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _evaluate(net, flows, fixed) -> tuple[float, float]:
    """TSTT and Beckmann objective of ``flows`` with the TNTP BPR generalised cost."""
    import numpy as np

    from sim.kernels import assign_links as kl

    times = kl.bpr_time(flows, net.fftime, net.alpha, net.beta, net.capacity)
    tstt = float(np.dot(flows, times + fixed))
    return tstt, float(kl.beckmann(flows, net.fftime, net.alpha, net.beta, net.capacity, fixed))


def bench_network(name: str, aeq_python: str, repeats: int) -> dict:
    """Time our BFW and AequilibraE's BFW on one network; return the figures."""
    import numba
    import numpy as np

    from sim.traffic import tntp
    from sim.traffic.assignment import assign
    from sim.traffic.network import network_from_tntp

    stem, toll, dist = NETWORKS[name]
    net = network_from_tntp(TNTP / f"{stem}_net.tntp")
    demand = tntp.read_trips(TNTP / f"{stem}_trips.tntp")
    best = json.loads((TNTP / "best_known.json").read_text())[name]
    ref_flows = tntp.read_flow(TNTP / f"{stem}_flow.tntp")["volume"].to_numpy()
    options = {"toll_factor": toll, "distance_factor": dist, "max_iter": MAX_ITER}
    assign(net, demand, **{**options, "max_iter": 6})  # warm-up: numba compilation not timed
    ours = min(
        (assign(net, demand, rel_gap=REL_GAP, **options) for _ in range(repeats)),
        key=lambda r: r.seconds,
    )
    aeq = _run_aeq(aeq_python, stem, toll, dist, repeats)
    fixed = toll * net.toll + dist * net.length
    row = {"links": net.n_links, "zones": net.n_zones, "threads": numba.get_num_threads()}
    for who, flows, seconds, iters, gap in (
        ("ours", ours.flows, ours.seconds, ours.iterations, ours.rel_gap),
        ("aeq", np.asarray(aeq["flows"]), aeq["seconds"], aeq["iterations"], aeq["rel_gap"]),
    ):
        tstt, objective = _evaluate(net, flows, fixed)
        r2 = 1 - np.sum((flows - ref_flows) ** 2) / np.sum((ref_flows - ref_flows.mean()) ** 2)
        row |= {
            f"{who}_seconds": seconds,
            f"{who}_iterations": iters,
            f"{who}_rel_gap": gap,
            f"{who}_objective_error": objective / best["beckmann_generalized"] - 1,
            f"{who}_tstt_error": tstt / best["tstt_bpr_generalized"] - 1,
            f"{who}_flow_r2": float(r2),
        }
    row["aeq_version"] = aeq["version"]
    row["ratio"] = row["ours_seconds"] / row["aeq_seconds"]
    return row


def _table(rows: dict[str, dict]) -> str:
    head = (
        f"{'network':<15}{'solver':<13}{'seconds':>9}{'iters':>7}{'rel gap':>10}"
        f"{'obj err':>11}{'TSTT err':>11}{'flow R2':>10}"
    )
    lines = [head, "-" * len(head)]
    for name, row in rows.items():
        for who, label in (("ours", "ours BFW"), ("aeq", "AequilibraE")):
            lines.append(
                f"{name:<15}{label:<13}{row[f'{who}_seconds']:>9.3f}{row[f'{who}_iterations']:>7d}"
                f"{row[f'{who}_rel_gap']:>10.2e}{row[f'{who}_objective_error']:>11.2e}"
                f"{row[f'{who}_tstt_error']:>11.2e}{row[f'{who}_flow_r2']:>10.6f}"
            )
        lines.append(
            f"{name:<15}{'ratio':<13}{row['ratio']:>9.3f}  (ours / AequilibraE; aim <= 0.5)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; print a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Sioux Falls only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=1, help="runs per solver, fastest kept")
    args = parser.parse_args(argv)
    if not TNTP.exists():
        sys.exit(f"missing benchmark data: {TNTP}")
    aeq_python = _aeq_python()
    names = ["SiouxFalls"] if args.quick else list(NETWORKS)
    rows = {name: bench_network(name, aeq_python, args.repeats) for name in names}
    result = {
        "bench": "assignment",
        "peer": f"aequilibrae {next(iter(rows.values()))['aeq_version']} bfw",
        "rel_gap_target": REL_GAP,
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "notes": (
            "ours: sim.traffic.assignment.assign(algorithm='bfw') after a warm-up call, so numba "
            "compile time is excluded; peer: TrafficAssignment.execute() only, "
            "AEQ_SHOW_PROGRESS=FALSE, zero free-flow times set to 1e-6. Same gap target, same "
            "machine, same run; ratio = ours/peer seconds. Errors vs best_known.json."
        ),
        "networks": rows,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(_table(rows))
        print(result["notes"])
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--aeq-driver":
        _aeq_driver(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.path.insert(0, str(ROOT))
        sys.exit(main())
