"""Bench: our dynamic model against UXsim 1.15 (C++ engine) on the same grid and demand.

Usage: python bench/dynamic_vs_uxsim.py [--quick] [--json]

A 10 × 10 grid of signalised junctions 200 m apart (one lane each way, 50 km/h, jam
density 1/7.5 m), fixed-time signals of two 30 s phases (east–west, then north–south,
no lost time, offset 0) and 10,000 vehicles between seeded random junctions over one
hour, each on a fixed route (east–west first, then north–south); ``--quick``: 5 × 5
and 2,000 vehicles. UXsim runs in its fastest mode (``cpp=True``, vehicle log off,
its own horizon) with platoon size 1 (``deltan=1``) and reaction time 1 s, so Δt = 1 s
like ours; our link capacity is set to UXsim's triangular-diagram capacity
``u w κ / (u + w)``, ``w = 1 / (τ κ)``.
Vehicle-seconds here are the sum of travel times (arrival − departure) in both
models; wall time is UXsim's ``exec_simulation`` and our second loading (compilation
excluded). UXsim runs in bench/_work/dyn-venv (see bench/dynamic_vs_sumo.py), as a
subprocess of this script (``--uxsim-driver SPEC``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPACING, SPEED, KAPPA, TAU, GREEN = 200.0, 13.89, 1 / 7.5, 1.0, 30.0
SEED = 42
#: UXsim logs every vehicle each step by default; -1 turns the log off (its fastest mode)
LOGGING = -1


def grid_spec(n: int, vehicles: int) -> dict:
    """Nodes, links (with signal group), and vehicles with routes of link names."""
    nodes = [(f"n{i}_{j}", i * SPACING, j * SPACING) for i in range(n) for j in range(n)]
    links = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                b = (i + di, j + dj)
                if 0 <= b[0] < n and 0 <= b[1] < n:
                    links.append(
                        (f"l{i}_{j}_{b[0]}_{b[1]}", f"n{i}_{j}", f"n{b[0]}_{b[1]}", 0 if di else 1)
                    )
    rng = np.random.default_rng(SEED)
    depart = np.sort(rng.uniform(0, 3600, vehicles))
    trips = []
    for k in range(vehicles):
        (x0, y0), (x1, y1) = rng.integers(0, n, (2, 2))
        while (x0, y0) == (x1, y1):
            x1, y1 = rng.integers(0, n, 2)
        route, (x, y) = [], (int(x0), int(y0))
        while (x, y) != (x1, y1):
            nx_, ny_ = (x + np.sign(x1 - x), y) if x != x1 else (x, y + np.sign(y1 - y))
            route.append(f"l{x}_{y}_{int(nx_)}_{int(ny_)}")
            x, y = int(nx_), int(ny_)
        trips.append((f"v{k}", f"n{x0}_{y0}", f"n{x1}_{y1}", float(depart[k]), route))
    return {"nodes": nodes, "links": links, "vehicles": trips}


def capacity_vph() -> float:
    """UXsim's capacity of a one-lane link: u w κ / (u + w) with w = 1 / (τ κ)."""
    w = 1.0 / (TAU * KAPPA)
    return SPEED * w * KAPPA / (SPEED + w) * 3600.0


def run_ours(spec: dict) -> dict[str, float]:
    """Our loading of the grid (second run: the first compiles or loads the kernel)."""
    sys.path.insert(0, str(ROOT))
    from sim.traffic.dynamic import DynamicNetwork, SignalSpec, TrafficControl, Vehicles

    node = {name: k for k, (name, _, _) in enumerate(spec["nodes"])}
    index = {name: k for k, (name, *_rest) in enumerate(spec["links"])}
    n_links = len(spec["links"])
    net = DynamicNetwork(
        link_ids=[name for name, *_ in spec["links"]],
        link_from=np.array([node[a] for _, a, _, _ in spec["links"]]),
        link_to=np.array([node[b] for _, _, b, _ in spec["links"]]),
        n_nodes=len(node),
        length_m=np.full(n_links, SPACING),
        lanes=np.ones(n_links, dtype=np.int64),
        speed_ms=np.full(n_links, SPEED),
        capacity_vph=np.full(n_links, capacity_vph()),
    )
    group = np.array([g for *_, g in spec["links"]])
    for k in range(len(node)):
        ins, outs = np.flatnonzero(net.link_to == k), np.flatnonzero(net.link_from == k)
        masks = {(int(a), int(b)): (1 << int(group[a]), 0) for a in ins for b in outs}
        net.signals.append(
            SignalSpec(node=k, greens=np.array([GREEN, GREEN]), lost_s=0.0, masks=masks)
        )
    veh = Vehicles.from_routes(
        [v[0] for v in spec["vehicles"]],
        np.array([v[3] for v in spec["vehicles"]]),
        [[index[name] for name in v[4]] for v in spec["vehicles"]],
    )
    model = TrafficControl(net, "fixed", dt=1.0)
    model.load(veh)
    res = model.load(veh)
    tt = res.travel_time[~np.isnan(res.arrive)]
    return {
        "completed": float(len(tt)),
        "mean_travel_time_s": float(tt.mean()),
        "vehicle_seconds": float(tt.sum()),
        "wall_s": res.wall_s,
    }


def uxsim_driver(spec_path: Path) -> None:
    """Run UXsim on a spec file and print its figures as one JSON line (in the bench venv)."""
    import uxsim

    spec = json.loads(spec_path.read_text())
    w = uxsim.World(
        name="grid",
        deltan=1,
        reaction_time=TAU,
        tmax=None,  # UXsim picks a horizon from the demand
        print_mode=0,
        save_mode=0,
        show_progress=0,
        random_seed=0,
        cpp=True,
        vehicle_logging_timestep_interval=LOGGING,
    )
    for name, x, y in spec["nodes"]:
        w.addNode(name, x, y, signal=[GREEN, GREEN])
    for name, a, b, g in spec["links"]:
        w.addLink(
            name, a, b, length=SPACING, free_flow_speed=SPEED, jam_density=KAPPA, signal_group=[g]
        )
    vehicles = []
    for name, o, d, t, route in spec["vehicles"]:
        v = w.addVehicle(o, d, t, name=name)
        v.enforce_route(route)
        vehicles.append(v)
    start = time.perf_counter()
    w.exec_simulation()
    wall = time.perf_counter() - start
    w.analyzer.basic_analysis()
    tts = [v.travel_time for v in w.VEHICLES.values() if v.state == "end"]
    print(
        json.dumps(
            {
                "completed": float(len(tts)),
                "mean_travel_time_s": float(np.mean(tts)),
                "vehicle_seconds": float(np.sum(tts)),
                "wall_s": wall,
                "link_capacity_vph": float(next(iter(w.LINKS)).capacity * 3600),
                "version": uxsim.__version__,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 x 5 grid, 2,000 vehicles")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--uxsim-driver", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.uxsim_driver is not None:
        uxsim_driver(args.uxsim_driver)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from dynamic_vs_sumo import WORK, ensure_venv

    n, vehicles = (5, 2000) if args.quick else (10, 10000)
    spec = grid_spec(n, vehicles)
    spec_path = WORK / f"uxsim_grid{n}_{vehicles}.json"
    spec_path.write_text(json.dumps(spec))
    ours = run_ours(spec)
    python = ensure_venv() / "python"
    proc = subprocess.run(
        [str(python), __file__, "--uxsim-driver", str(spec_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    ux = json.loads(proc.stdout.strip().splitlines()[-1])
    ours_vs = ours["vehicle_seconds"] / ours["wall_s"]
    ux_vs = ux["vehicle_seconds"] / ux["wall_s"]
    result = {
        "grid": f"{n}x{n}, {vehicles} vehicles",
        "ours_vehicle_seconds_per_s": ours_vs,
        "uxsim_vehicle_seconds_per_s": ux_vs,
        "ratio_vs_uxsim": ours_vs / ux_vs,
        "mean_travel_time_s": {
            "ours": ours["mean_travel_time_s"],
            "uxsim": ux["mean_travel_time_s"],
        },
        "completed": {"ours": ours["completed"], "uxsim": ux["completed"]},
        "wall_s": {"ours": ours["wall_s"], "uxsim": ux["wall_s"]},
        "link_capacity_vph": {"ours": capacity_vph(), "uxsim": ux["link_capacity_vph"]},
        "uxsim_version": ux["version"],
        "dt_s": 1.0,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
