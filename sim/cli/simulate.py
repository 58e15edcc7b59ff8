"""``main.py simulate``: the dynamic traffic model on a SUMO or CityFlow network."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sim.cli._json import dumps
from sim.errors import UsageError
from sim.traffic.dynamic import CONTROLS, MAX_DT, DynamicNetwork, TrafficControl, Vehicles
from sim.traffic.readers import read_cityflow, read_sumo, read_sumocfg, read_tntp

NAME = "simulate"
#: Departure period of a TNTP trip table without --departures (s).
DEFAULT_PERIOD = (0.0, 3600.0)
HELP = "dynamic (mesoscopic) traffic simulation of a SUMO, CityFlow or TNTP network"
DESCRIPTION = """\
Load the vehicles of a SUMO (.sumocfg, or .net.xml + .rou.xml), CityFlow (roadnet +
flow JSON) or TNTP (_net.tntp + _trips.tntp: free-flow shortest paths, departures over
--departures, default uniform:0:3600) network on the dynamic model: a link
transmission model of individual vehicles with capacity, jam storage and spill-back.
Signals run the file's programs (fixed), Webster retiming from a first loading's
flows (webster), actuated control (min/max green and gap-out) or max-pressure. Prints
vehicles, completed, mean travel time and delay, vehicle-seconds and speed.

example:
  main.py simulate hangzhou_4x4.sumocfg --control max-pressure --json
  main.py simulate roadnet.json flow.json --dt 1 --out results/
"""


def _dt(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value <= MAX_DT):
        raise argparse.ArgumentTypeError(f"{text}: allowed 0 < dt <= {MAX_DT:g} s")
    return value


def _departures(text: str) -> tuple[float, float]:
    parts = text.split(":")
    try:
        if len(parts) != 3 or parts[0] != "uniform":
            raise ValueError
        t0, t1 = float(parts[1]), float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed uniform:T0:T1 (seconds)") from None
    if not (0 <= t0 <= t1):
        raise argparse.ArgumentTypeError(f"{text!r}: allowed 0 <= T0 <= T1")
    return t0, t1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` flags."""
    parser.add_argument(
        "inputs", nargs="+", type=Path,
        help="a .sumocfg; a .net.xml and .rou.xml; a CityFlow roadnet and flow JSON; or a "
        "TNTP _net.tntp and _trips.tntp",
    )  # fmt: skip
    parser.add_argument("--control", choices=CONTROLS, default="fixed", help="default: fixed")
    parser.add_argument("--dt", type=_dt, default=1.0, help="time step in s (default 1)")
    parser.add_argument(
        "--departures", type=_departures, metavar="uniform:T0:T1",
        help="spread the departures evenly over T0..T1 s, in their order",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path,
        help="write vehicles.csv, links.csv and links_t.csv (5-minute bins) here",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def read_inputs(
    paths: list[Path], period: tuple[float, float] = DEFAULT_PERIOD
) -> tuple[DynamicNetwork, Vehicles]:
    """The network and vehicles of the command's INPUT files (TNTP trips over ``period``)."""
    for p in paths:
        if not p.is_file():
            raise UsageError(f"INPUT {p}: no such file")
    names = [p.name for p in paths]
    if len(paths) == 1 and names[0].endswith(".sumocfg"):
        return read_sumocfg(paths[0])
    if len(paths) == 2:
        net = [p for p in paths if p.name.endswith(".net.xml")]
        rou = [p for p in paths if p.name.endswith(".rou.xml")]
        if len(net) == 1 and len(rou) == 1:
            return read_sumo(net[0], rou[0])
        net = [p for p in paths if p.name.endswith("_net.tntp")]
        trips = [p for p in paths if p.name.endswith("_trips.tntp")]
        if len(net) == 1 and len(trips) == 1:
            return read_tntp(net[0], trips[0], *period)
        if all(n.endswith(".json") for n in names):
            # a roadnet is a JSON object, a flow file a list
            with paths[0].open("rb") as f:
                is_roadnet = f.read(4096).lstrip().startswith(b"{")
            roadnet, flow = paths if is_roadnet else paths[::-1]
            return read_cityflow(roadnet, flow)
    raise UsageError(
        f"INPUT {' '.join(names)}: allowed a .sumocfg, a .net.xml with a .rou.xml, a "
        "CityFlow roadnet and flow .json, or a TNTP _net.tntp with a _trips.tntp"
    )


def _spread(veh: Vehicles, t0: float, t1: float) -> Vehicles:
    n = len(veh.depart)
    depart = np.linspace(t0, t1, n) if n > 1 else np.full(n, t0)
    return Vehicles(veh.ids, depart, veh.route_start, veh.route_links)


def main(args: argparse.Namespace) -> int:
    """Run the simulation and print (or write) its results."""
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")
    net, veh = read_inputs(args.inputs, args.departures or DEFAULT_PERIOD)
    if args.departures is not None:
        veh = _spread(veh, *args.departures)
    result = TrafficControl(net, args.control, args.dt).run(veh)
    summary = {**result.summary(), "control": args.control}
    if args.out is not None:
        ids = np.asarray(net.link_ids, dtype=object)
        first = veh.route_links[veh.route_start[:-1]]
        last = veh.route_links[veh.route_start[1:] - 1]
        vehicles = pd.DataFrame(
            {
                "id": veh.ids,
                "origin": ids[first],
                "destination": ids[last],
                "depart_s": result.depart,
                "arrive_s": result.arrive,
                "travel_time_s": result.travel_time,
            }
        )
        links = pd.DataFrame(
            {
                "link": ids,
                "inflow": result.link_inflow,
                "outflow": result.link_outflow,
                "vehicle_seconds": result.link_time_s,
                "max_queue": result.link_max_queue,
            }
        )
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            vehicles.to_csv(args.out / "vehicles.csv", index=False)
            links.to_csv(args.out / "links.csv", index=False)
            result.links_t(net.link_ids, net.length_m).to_csv(args.out / "links_t.csv", index=False)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write ({exc.strerror})") from exc
    if args.json:
        reasons = {"mean_travel_time_s": "no vehicle arrived"}
        print(dumps(summary, reasons))
    else:
        for key, value in summary.items():
            print(f"{key:24s} {value}")
    return 0
