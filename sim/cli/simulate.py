"""``main.py simulate``: the dynamic traffic model on a SUMO or CityFlow network."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from sim.cli._json import dumps
from sim.errors import UsageError
from sim.outputs import check_output_folder, tmp_name
from sim.traffic.dynamic import (
    CONTROLS,
    DRAIN_S,
    MAX_DT,
    DynamicNetwork,
    LoadResult,
    TrafficControl,
    Vehicles,
)
from sim.traffic.readers import read_cityflow, read_sumo, read_sumocfg, read_tntp

log = logging.getLogger(__name__)

NAME = "simulate"
#: The tables ``--out`` writes.
TABLES = ("vehicles.csv", "links.csv", "links_t.csv")
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
    if args.out is not None:
        _check_out(args.out)
    net, veh = read_inputs(args.inputs, args.departures or DEFAULT_PERIOD)
    if args.departures is not None:
        veh = _spread(veh, *args.departures)
    result = TrafficControl(net, args.control, args.dt).run(veh)
    counts = result.summary()
    summary: dict[str, object] = {**counts, "control": args.control}
    unfinished = int(counts["vehicles"] - counts["completed"])
    if unfinished:
        note = (
            f"{unfinished:,} of {int(counts['vehicles']):,} vehicles had not arrived when the "
            f"simulation ended at {counts['simulated_s']:g} s (the last departure + "
            f"{DRAIN_S / 3600:g} h); mean_travel_time_s and mean_delay_s are of those that arrived"
        )
        log.warning(note)
        summary["warnings"] = [note]
    if args.out is not None:
        _write_out(args.out, net, veh, result)
    if args.json:
        reasons = {"mean_travel_time_s": "no vehicle arrived"}
        print(dumps(summary, reasons))
    else:
        for key, value in summary.items():
            if key != "warnings":  # logged above
                print(f"{key:24s} {value}")
    return 0


def _check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot take the tables before anything is simulated."""
    check_output_folder(out, "--out")
    for name in TABLES:
        if (out / name).is_dir():
            raise UsageError(f"--out {out}: {name} is a folder; allowed: a file or nothing")


def _write_out(out: Path, net: DynamicNetwork, veh: Vehicles, result: LoadResult) -> None:
    """Write the tables into a temporary folder in ``out``, then move them into place."""
    ids = np.asarray(net.link_ids, dtype=object)
    first = veh.route_links[veh.route_start[:-1]]
    last = veh.route_links[veh.route_start[1:] - 1]
    frames = (  # in the order of TABLES
        pd.DataFrame(
            {
                "id": veh.ids,
                "origin": ids[first],
                "destination": ids[last],
                "depart_s": result.depart,
                "arrive_s": result.arrive,
                "travel_time_s": result.travel_time,
            }
        ),
        pd.DataFrame(
            {
                "link": ids,
                "inflow": result.link_inflow,
                "outflow": result.link_outflow,
                "vehicle_seconds": result.link_time_s,
                "max_queue": result.link_max_queue,
            }
        ),
        result.links_t(net.link_ids, net.length_m),
    )
    tables = dict(zip(TABLES, frames, strict=True))
    tmp = out / tmp_name(NAME)
    try:
        tmp.mkdir(parents=True)
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False)
        for name in tables:  # all written: a failure above leaves the old tables whole
            os.replace(tmp / name, out / name)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write ({exc.strerror or exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
