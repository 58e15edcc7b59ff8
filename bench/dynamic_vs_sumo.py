"""Bench: our dynamic model against SUMO 1.28 (micro and meso) on the same files.

Usage: python bench/dynamic_vs_sumo.py [--quick] [--json]

Two cases, each run by SUMO and by ``TrafficControl`` on the same ``.net.xml`` and
routed ``.rou.xml``, all with fixed-time signals:

- a generated grid (``netgenerate --grid``, 10 × 10 junctions 200 m apart, one lane,
  a traffic light at every junction; 10,000 vehicles between seeded random edges over
  one hour, routed by ``duarouter``; ``--quick``: 5 × 5 and 2,000 vehicles);
- the Hangzhou 4 × 4 Gudang grid with its real one-hour flows (LibSignal's SUMO files),
  also under Webster, actuated and max-pressure control (ours).

On the grid SUMO micro also runs with drivers that do not dawdle (``sigma`` 0 instead
of the Krauss default 0.5), ``sumo_micro_sigma0``, to show how much of the gap to our
model is driver imperfection. Ours moves off from a standstill with SUMO's default car
acceleration (``accel_ms2`` 2.6 m/s²: v / 2a lost per start) and crosses SUMO's
junction internal lanes at their speeds (the reader); ``ours_without_startup`` is the
same without the acceleration loss. Mean travel time is arrival minus desired departure
(SUMO: tripinfo ``duration`` + ``departDelay``). Vehicle-seconds are the time vehicles
spend on the network (SUMO: sum of ``duration``; ours: time on links). Wall time:
SUMO's own ``Duration`` of the simulation loop (loading excluded; meso: the median of
five runs), ours the median kernel time of five loadings after a first (numba
compilation excluded). SUMO meso runs with
``--meso-junction-control`` so its signals act. SUMO comes from PyPI
(``eclipse-sumo``) in its own venv, bench/_work/dyn-venv, created when missing; it is
never needed by the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.cli.simulate import read_inputs  # noqa: E402
from sim.traffic.dynamic import CONTROLS, TrafficControl  # noqa: E402
from sim.traffic.readers import SUMO_ACCEL  # noqa: E402

WORK = ROOT / "bench" / "_work"
VENV = WORK / "dyn-venv"
PACKAGES = ("eclipse-sumo==1.28.0", "uxsim==1.15.1")
HANGZHOU = (
    ROOT.parent
    / "shared"
    / "benchmarks"
    / "cityflow"
    / "libsignal"
    / "sumo_4x4_gudang"
    / "hangzhou_4x4_gudang_18041610_1h"
)
SEED = 42


def ensure_venv() -> Path:
    """The bench venv's bin folder (created with SUMO and UXsim when missing)."""
    if not (VENV / "bin" / "sumo").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *PACKAGES], check=True)
    return VENV / "bin"


def make_grid(bin_: Path, n: int, vehicles: int) -> tuple[Path, Path]:
    """A generated signalised grid and routed random trips (seeded)."""
    folder = WORK / f"grid{n}_{vehicles}"
    folder.mkdir(parents=True, exist_ok=True)
    net, trips, rou = folder / "grid.net.xml", folder / "trips.xml", folder / "grid.rou.xml"
    subprocess.run(
        [
            str(bin_ / "netgenerate"),
            "--grid",
            "--grid.number",
            str(n),
            "--grid.length",
            "200",
            "--default.lanenumber",
            "1",
            "--default-junction-type",
            "traffic_light",
            "--no-turnarounds",
            "true",
            "-o",
            str(net),
        ],
        check=True,
        capture_output=True,
    )
    edges = [e.get("id") for e in ET.parse(net).getroot().iter("edge") if e.get("function") is None]
    rng = np.random.default_rng(SEED)
    depart = np.sort(rng.uniform(0, 3600, vehicles))
    with trips.open("w") as f:
        f.write("<routes>\n")
        for i, t in enumerate(depart):
            a, b = rng.choice(len(edges), 2, replace=False)
            f.write(f'  <trip id="{i}" depart="{t:.2f}" from="{edges[a]}" to="{edges[b]}"/>\n')
        f.write("</routes>\n")
    subprocess.run(
        [
            str(bin_ / "duarouter"),
            "-n",
            str(net),
            "-r",
            str(trips),
            "-o",
            str(rou),
            "--ignore-errors",
            "true",
            "--no-step-log",
            "true",
        ],
        check=True,
        capture_output=True,
    )
    return net, rou


def perfect_drivers(rou: Path) -> Path:
    """The routes with SUMO's default vehicle type made free of dawdling (sigma 0)."""
    out = rou.with_name(rou.name.replace(".rou.xml", "_sigma0.rou.xml"))
    text = rou.read_text()
    start = text.index(">", text.index("<routes")) + 1
    vtype = '\n    <vType id="DEFAULT_VEHTYPE" sigma="0"/>'
    out.write_text(text[:start] + vtype + text[start:])
    return out


def run_sumo(bin_: Path, net: Path, rou: Path, meso: bool, runs: int = 1) -> dict[str, float]:
    """SUMO's mean travel time, vehicle-seconds and median simulation wall time of ``runs``."""
    trip = rou.parent / f"{rou.stem}_trips_{'meso' if meso else 'micro'}.xml"
    cmd = [
        str(bin_ / "sumo"),
        "-n",
        str(net),
        "-r",
        str(rou),
        "--no-step-log",
        "true",
        "--duration-log.statistics",
        "true",
        "--tripinfo-output",
        str(trip),
        "--end",
        "36000",
    ]
    if meso:
        cmd += ["--mesosim", "true", "--meso-junction-control", "true"]
    walls = []
    for _ in range(runs):  # same seed, same trips: only the wall time varies
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        walls.append(float(re.search(r"Duration: ([0-9.]+)s", out).group(1)))  # type: ignore[union-attr]
    wall = float(np.median(walls))
    teleports = re.search(r"Teleports: (\d+)", out)
    infos = list(ET.parse(trip).getroot().iter("tripinfo"))
    dur = np.array([float(t.get("duration", "0")) for t in infos])
    delay = np.array([float(t.get("departDelay", "0")) for t in infos])
    vs = float(dur.sum())
    return {
        "vehicles": float(len(infos)),
        "mean_travel_time_s": float((dur + delay).mean()),
        "vehicle_seconds": vs,
        "wall_s": wall,
        "vehicle_seconds_per_s": vs / wall if wall > 0 else float("inf"),
        "teleports": float(teleports.group(1)) if teleports else 0.0,
    }


#: Timed runs whose median sets the ratio: loadings of ours after the first (which compiles
#: or loads the kernel; ~30 ms on the grid, where one run's noise is a few ms) and SUMO
#: meso runs (0.6-1.0 s on the grid from one run to the next on one machine).
TIMED_RUNS = 5


def run_ours(
    net: Path, rou: Path, control: str = "fixed", accel: float | None = SUMO_ACCEL
) -> dict[str, float]:
    """Our summary of a loading, with the median kernel wall time of :data:`TIMED_RUNS`."""
    network, vehicles = read_inputs([net, rou])
    model = TrafficControl(network, control, dt=1.0, accel_ms2=accel)
    model.run(vehicles)
    runs = [model.run(vehicles).summary() for _ in range(TIMED_RUNS)]
    assert all(r["mean_travel_time_s"] == runs[0]["mean_travel_time_s"] for r in runs)
    wall = float(np.median([r["wall_s"] for r in runs]))
    return {**runs[0], "wall_s": wall, "vehicle_seconds_per_s": runs[0]["vehicle_seconds"] / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 5 x 5 grid, 2,000 vehicles")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bin_ = ensure_venv()
    n, vehicles = (5, 2000) if args.quick else (10, 10000)
    net, rou = make_grid(bin_, n, vehicles)
    ours = run_ours(net, rou)
    no_startup = run_ours(net, rou, accel=None)
    micro, meso = run_sumo(bin_, net, rou, False), run_sumo(bin_, net, rou, True, TIMED_RUNS)
    calm = run_sumo(bin_, net, perfect_drivers(rou), False)
    result: dict = {
        "grid": f"{n}x{n}, {vehicles} vehicles",
        "ours_vehicle_seconds_per_s": ours["vehicle_seconds_per_s"],
        "sumo_meso_vehicle_seconds_per_s": meso["vehicle_seconds_per_s"],
        "sumo_micro_vehicle_seconds_per_s": micro["vehicle_seconds_per_s"],
        "ratio_vs_meso": ours["vehicle_seconds_per_s"] / meso["vehicle_seconds_per_s"],
        "mean_travel_time_s": {
            "ours": ours["mean_travel_time_s"],
            "sumo_meso": meso["mean_travel_time_s"],
            "sumo_micro": micro["mean_travel_time_s"],
            "sumo_micro_sigma0": calm["mean_travel_time_s"],
            "ours_without_startup": no_startup["mean_travel_time_s"],
        },
        "ours_vs_micro_travel_time": ours["mean_travel_time_s"] / micro["mean_travel_time_s"] - 1,
        "completed": {
            "ours": ours["completed"],
            "sumo_micro": micro["vehicles"],
            "sumo_meso": meso["vehicles"],
        },
        "sumo_teleports": {"micro": micro["teleports"], "meso": meso["teleports"]},
        "wall_s": {
            "ours": ours["wall_s"],
            "sumo_meso": meso["wall_s"],
            "sumo_micro": micro["wall_s"],
        },
    }
    if HANGZHOU.parent.exists():
        hz_net, hz_rou = HANGZHOU.with_suffix(".net.xml"), HANGZHOU.with_suffix(".rou.xml")
        hz_micro = run_sumo(bin_, hz_net, hz_rou, False)
        hz_meso = run_sumo(bin_, hz_net, hz_rou, True)
        by_control = {c: run_ours(hz_net, hz_rou, c) for c in CONTROLS}
        fixed = by_control["fixed"]
        result["hangzhou_4x4"] = {
            "mean_travel_time_s": {
                **{f"ours_{c}": s["mean_travel_time_s"] for c, s in by_control.items()},
                "sumo_micro": hz_micro["mean_travel_time_s"],
                "sumo_meso": hz_meso["mean_travel_time_s"],
            },
            "ours_fixed_vs_micro": fixed["mean_travel_time_s"] / hz_micro["mean_travel_time_s"] - 1,
            "ours_vehicle_seconds_per_s": fixed["vehicle_seconds_per_s"],
            "sumo_meso_vehicle_seconds_per_s": hz_meso["vehicle_seconds_per_s"],
            "sumo_micro_vehicle_seconds_per_s": hz_micro["vehicle_seconds_per_s"],
            "sumo_teleports": {"micro": hz_micro["teleports"], "meso": hz_meso["teleports"]},
        }
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
