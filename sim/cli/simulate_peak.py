"""``main.py simulate-peak``: one year's morning peak of a scenario on the dynamic model."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "simulate-peak"
HELP = "one year's morning peak of a scenario on the dynamic (mesoscopic) traffic model"
DESCRIPTION = """\
Simulate the scenario's demography and schools up to --year (default the first year)
without traffic, then that year's traffic on the dynamic peak model (whatever the
scenario's parameters.traffic_model): the AM period's vehicles with route swapping,
queues, spill-back, the signal plans and policies, parking. Prints the last loading's
vehicles, completed, mean travel time and delay, vehicle-seconds and speed, and the
year's traffic KPIs (the busiest hour's vkt, vht, delay_vh = signal_delay_vh +
congestion_delay_vh, travel_time_index, max_queue_veh, spillback_link_min,
school_zone_delay_vh, the route swapping's due_gap, ...).

example:
  main.py simulate-peak scenarios/default.yaml --year 2027 --json
  main.py simulate-peak scenarios/congestion-charge.yaml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate-peak`` flags."""
    parser.add_argument("scenario", type=Path, help="scenario YAML file")
    parser.add_argument("--year", type=int, help="the simulated year (default: the first)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    """Run the scenario up to the year and print its dynamic peak."""
    from sim.cli._json import dumps
    from sim.runs.peak_year import year_peak
    from sim.runs.run import prepare_run

    scenario, city = prepare_run(args.scenario, replications=1)
    year = scenario.start_year if args.year is None else args.year
    peak = year_peak(scenario, city, year)
    out = {
        "scenario": scenario.name,
        "year": year,
        "links": len(peak.net.link_ids),
        "signals": len(peak.net.signals),
        **peak.result.summary(),
        **peak.kpis,
    }
    if args.json:
        print(dumps(out, {"mean_travel_time_s": "no vehicle arrived"}))
    else:
        for key, value in out.items():
            print(f"{key:24s} {value}")
    return 0
