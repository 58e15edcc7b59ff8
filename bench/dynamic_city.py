"""Bench: the dynamic model on the default city's morning peak hour.

Usage: python bench/dynamic_city.py [--quick] [--json] [--scale K]

The default scenario's base-year peak-hour car OD matrix (one replication, seed 1,
captured from the run's static assignment) is loaded as whole vehicles on the shortest
paths of the static equilibrium's link times, departing evenly over the hour, on the
city's network with its signal plans (fixed time, Δt = 1 s). ``--scale K`` multiplies
the demand (``--scale 1`` is the peak hour; the issue's 1M-vehicle case is a larger
K). Reports vehicles, completed, mean travel time and delay, wall time of a second
loading (numba compilation excluded), vehicle-seconds per second and the peak
resident memory of the process; on gridlock, the message (links involved) and the
wall time until it was detected. ``--quick`` is the same run (the peak hour is the
smallest meaningful case).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.city import load_city  # noqa: E402
from sim.model import CityModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.traffic.city_dynamic import city_network  # noqa: E402
from sim.traffic.dynamic import GridlockError, TrafficControl  # noqa: E402
from sim.traffic.od_vehicles import od_vehicles  # noqa: E402

SEED = 1


def peak_demand(city):
    """The base-year peak-hour car OD of the default scenario, and the model's traffic."""
    model = CityModel(load_scenario(ROOT / "scenarios" / "default.yaml"), city, rng=SEED)
    captured = {}
    step = model.traffic.step

    def capture(year, demand, **kwargs):
        captured["demand"] = demand.copy()  # the last (converged) demand of the year
        return step(year, demand, **kwargs)

    model.traffic.step = capture
    model.step()
    return captured["demand"], model.traffic, model.year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the peak hour (the default)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="demand multiplier")
    args = parser.parse_args()
    city = load_city(ROOT / "geodata" / "default_city.gpkg")
    demand, traffic, year = peak_demand(city)
    links = traffic._road_links(year)
    net, static = city_network(links, city.nodes, city.signals, traffic.plans, traffic.centroids)
    # routes: shortest paths on the static equilibrium's link times (all-or-nothing)
    _, ue_minutes = traffic.network_times(year)
    vehicles = od_vehicles(static, demand * args.scale, 0.0, 3600.0, SEED, cost=ue_minutes)
    model = TrafficControl(net, "fixed", dt=1.0)
    result: dict = {"links": len(net.link_ids), "signals": len(net.signals), "scale": args.scale}
    start = time.perf_counter()
    try:
        model.load(vehicles)
        start = time.perf_counter()
        result |= model.load(vehicles).summary()
    except GridlockError as err:
        result |= {
            "vehicles": float(len(vehicles.depart)),
            "gridlock": str(err)[:300],
            "wall_s": time.perf_counter() - start,  # compilation included
        }
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
