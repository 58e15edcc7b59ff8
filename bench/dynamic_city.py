"""Bench: the dynamic model on the default city's whole AM peak, and on 1M vehicles.

Usage: python bench/dynamic_city.py [--quick] [--json] [--vehicles N] [--iterations K]
                                   [--share S]

The default scenario's base year (one replication, seed 1, the static peak model for the
demand loop) gives the AM period's vehicles (06:00-10:00: residents' car trips by their
5-minute departure bins, those leaving in the warm-up from 05:00 included, plus through
traffic and freight, as the dynamic peak model loads them; the loading's clock starts at
05:00); their routes come from ``K`` rounds of route swapping (sim.traffic.due, warm start
from the static equilibrium's route split, PeakTraffic.first_routes) on the city's network
and fixed-time signal plans, with the Δt, time-to-teleport (``max_wait_s``) and share of
informed drivers (``informed_share``) of the scenario's dynamic model. Then, timed
(numba compiled by then):

- the AM peak (the top-level keys): one loading of the AM period's vehicles on their
  routes;
- ``million``: ``--vehicles`` N (default 1,000,000) vehicles: the AM period's vehicles on
  the same routes, repeated in back-to-back AM periods (the departure rate of the AM
  period, so the network is as busy as in the peak, for about 7 periods of 05:00-10:00).

Prints one JSON object: the AM peak's ``vehicles, completed, wall_s,
vehicle_seconds_per_s, dt_s`` at the top level (and ``arrived_by_10_30``: vehicles arrived
half an hour after the AM period's end; ``departed_06_00_06_05``, ``warmup_departures``
and ``max_bin_over_mean``: the departures in the AM period's first bin, before 06:00, and
the busiest 5-minute bin of 05:00-10:00 over their mean) with the process's
``peak_rss_mib`` after it,
the size of one year's ``links_t`` rows of the AM period (``links_t_rows``,
``links_t_mb`` as parquet), and the same keys under ``million`` (``peak_rss_mib`` after
both); on gridlock, the message (links involved) and the wall time until it was
detected (if the route swapping
itself gridlocks, ``gridlock`` and ``due_s`` only). ``--share S`` keeps every trip with
a seeded uniform draw below S (a thinner AM period, labelled ``share``). ``--quick``: the
AM period only, one round of route swapping.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.city import load_city  # noqa: E402
from sim.mobility.departure import N_BINS  # noqa: E402
from sim.model import CityModel  # noqa: E402
from sim.scenario import load_scenario, scenario_from_dict  # noqa: E402
from sim.traffic import due  # noqa: E402
from sim.traffic.city_dynamic import city_network  # noqa: E402
from sim.traffic.dynamic import BIN_S, GridlockError, TrafficControl, Vehicles  # noqa: E402
from sim.traffic.peak_outputs import links_t_frame  # noqa: E402

SEED = 1
#: The loading's clock: the warm-up, then the AM period.
PERIOD_S = due.WARMUP_S + N_BINS * BIN_S


def am_period(city):
    """The default scenario's base-year AM-period trips, its traffic and dynamic settings."""
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    data = scenario.model_dump(mode="json")
    data["parameters"]["traffic_model"] = "static"  # the demand loop only; loaded below
    scenario = scenario_from_dict(data, source="default.yaml (static demand loop)")
    model = CityModel(scenario, city, rng=SEED)
    assert model.traffic is not None
    model.traffic.dynamic = scenario.parameters.dynamic  # keep the route mix: first routes
    model.step()
    table, choices, demand = model.trips, model.choices, model.demand
    drivers = demand.vehicle_trips(table, choices.mode)  # as CityModel._dynamic_peak
    trips = due.period_trips(
        table.origin[drivers], choices.dest[drivers], choices.bins[drivers].astype(np.int64),
        choices.extra_bins, np.random.default_rng(SEED),
    )  # fmt: skip
    return trips, model.traffic, model.year, scenario.parameters.dynamic


def repeated(veh: Vehicles, n: int, period_s: float) -> Vehicles:
    """``n`` vehicles: ``veh`` again and again in back-to-back periods of ``period_s``."""
    k = -(-n // len(veh.depart))
    depart = (veh.depart[None, :] + period_s * np.arange(k)[:, None]).ravel()[:n]
    lengths = np.diff(veh.route_start)
    starts = np.tile(veh.route_start[:-1], k)[:n]
    sizes = np.tile(lengths, k)[:n]
    route_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = np.repeat(starts - route_start[:-1], sizes) + np.arange(route_start[-1])
    return Vehicles([str(i) for i in range(n)], depart, route_start, veh.route_links[idx])


def departure_burst(depart: np.ndarray) -> dict:
    """Departures in 06:00-06:05 and before 06:00, and the busiest bin over the mean bin."""
    per_bin = np.bincount((depart // BIN_S).astype(np.int64), minlength=round(PERIOD_S / BIN_S))
    return {
        "departed_06_00_06_05": float(per_bin[round(due.WARMUP_S / BIN_S)]),
        "warmup_departures": float((depart < due.WARMUP_S).sum()),
        "max_bin_over_mean": float(per_bin.max() / per_bin.mean()),
    }


def timed_load(control: TrafficControl, vehicles: Vehicles) -> dict:
    """One loading's summary, or the gridlock and the wall time until it was detected."""
    start = time.perf_counter()
    try:
        load = control.load(vehicles)
        out = load.summary()
        out["arrived_by_10_30"] = float((load.arrive < PERIOD_S + 1800.0).sum())
    except GridlockError as err:
        out = {"gridlock": str(err)[:300], "wall_s": time.perf_counter() - start}
    out["vehicles"] = float(len(vehicles.depart))
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="AM period only, one round")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--vehicles", type=int, default=1_000_000, help="the large demand")
    parser.add_argument("--iterations", type=int, default=3, help="route-swapping rounds")
    parser.add_argument("--share", type=float, default=1.0, help="share of the trips kept")
    args = parser.parse_args()
    city = load_city(ROOT / "geodata" / "default_city.gpkg")
    t0 = time.perf_counter()
    trips, traffic, year, params = am_period(city)
    if args.share < 1.0:
        keep = np.random.default_rng(SEED).random(len(trips)) < args.share
        trips = due.Trips(trips.origin[keep], trips.dest[keep], trips.depart[keep])
    links = traffic._road_links(year)
    net, static = city_network(links, city.nodes, city.signals, traffic.plans, traffic.centroids)
    _, ue_minutes = traffic.network_times(year)
    control = TrafficControl(
        net,
        "fixed",
        dt=params.dt_s,
        max_wait_s=params.max_wait_s,
        informed_share=params.informed_share,
    )
    t1 = time.perf_counter()
    result: dict = {"links": len(net.link_ids), "signals": len(net.signals),
                    "share": args.share, "trips": len(trips), "demand_s": t1 - t0,
                    "informed_share": params.informed_share}  # fmt: skip
    try:
        eq = due.equilibrate(
            static, control, trips, ue_minutes * 60.0, gap=params.due_gap,
            max_iter=1 if args.quick else args.iterations, seed=SEED,
            first_routes=traffic.first_routes(year, static, trips, SEED),
        )  # fmt: skip
    except GridlockError as err:
        result |= {"gridlock": str(err)[:300], "due_s": time.perf_counter() - t1}
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return
    result |= {"due_s": time.perf_counter() - t1, "due_gaps": eq.gaps}
    result |= timed_load(control, eq.vehicles)
    result |= departure_burst(trips.depart)
    rows = links_t_frame(eq.load, net, list(links.index), year, round(due.WARMUP_S / BIN_S))
    buffer = io.BytesIO()
    rows.to_parquet(buffer, index=False)
    result |= {"links_t_rows": len(rows), "links_t_mb": len(buffer.getvalue()) / 1e6}
    if not args.quick:
        big = repeated(eq.vehicles, args.vehicles, PERIOD_S)
        result["million"] = timed_load(control, big)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
