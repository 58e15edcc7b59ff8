"""``main.py calibrate-demand``: fit the base-year demand to counts, mode shares, trip lengths."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.cli._json import dumps

NAME = "calibrate-demand"
HELP = "OD estimation from link counts, mode constants and the gravity target; GEH and R²."
DESCRIPTION = """\
Simulate the scenario's base year once (replication 1), then adjust the busiest hour's car
matrix to observed link counts (Van Zuylen & Willumsen's balancing, routes refreshed by
re-assignment) and report GEH per count site, the share with GEH < 5 (85 % is the usual
acceptance test), R² before and after, and the matrix change (sum |change| / prior total).

The static model loads one hour, the busiest of its AM period: counts are compared as
hourly rates (count over the period's hours); periods outside 06:00-10:00 are ignored,
several periods of one link are averaged. --mode-shares (mode,share; modes car, pt, walk,
bike) gives each mode's constant change ln(observed/modelled); --trip-lengths
(km_lo,km_hi,share of commutes) gives the observed mean, the value for
parameters.mean_trip_km the gravity model is calibrated to.

--out DIR writes counts_fit.csv, od_estimated.csv, calibration.json and calibrated.yaml:
a scenario that extends the input one with `parameters.od_adjustment: od_estimated.csv`
(its busiest-hour matrix is multiplied by the file's factors estimated/prior per OD pair),
with --mode-shares `parameters.mode_constants` (the scenario's own plus each family's
constant_shift) and with --trip-lengths `parameters.mean_trip_km` (the observed mean).
Run it as it is: `main.py run DIR/calibrated.yaml`. The calibration itself starts from
the scenario's own matrix (an od_adjustment it has is left out).

example:
  main.py calibrate-demand scenarios/default.yaml --counts counts.csv --out calib --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the calibrate-demand flags."""
    parser.add_argument("scenario", type=Path, help="scenario YAML file")
    parser.add_argument(
        "--counts", required=True, type=Path, help="CSV link_id,period_start,period_end,count"
    )
    parser.add_argument("--mode-shares", type=Path, default=None, help="CSV mode,share")
    parser.add_argument("--trip-lengths", type=Path, default=None, help="CSV km_lo,km_hi,share")
    parser.add_argument("--out", type=Path, default=None, help="folder for the fitted tables")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _am_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Hourly rate per counted link over the periods within the AM period."""
    from sim.mobility.departure import AM_END, AM_START

    def minutes(col: str) -> pd.Series:
        parts = counts[col].str.split(":", expand=True).astype(int)
        return parts[0] * 60 + parts[1]

    inside = (minutes("period_start") >= AM_START) & (minutes("period_end") <= AM_END)
    return counts[inside].groupby("link_id", sort=True)["per_hour"].mean().to_frame()


def main(args: argparse.Namespace) -> int:
    """Run calibrate-demand."""
    from sim.errors import InputDataError
    from sim.mobility import calibrate as cal
    from sim.model import CityModel
    from sim.outputs import check_output_folder, write_atomically
    from sim.runs.run import prepare_run
    from sim.seeds import replication_seeds

    if args.out is not None:
        check_output_folder(args.out)
    scenario, city = prepare_run(args.scenario, years=1, replications=1)
    # factors are relative to the model's own matrix: a calibrated scenario's are left out
    params = scenario.parameters.model_copy(update={"od_adjustment": None})
    scenario = scenario.model_copy(update={"parameters": params})
    counts = cal.read_counts(args.counts, city.links.index)
    shares = cal.read_mode_shares(args.mode_shares) if args.mode_shares else None
    tld = cal.read_trip_lengths(args.trip_lengths) if args.trip_lengths else None
    sites = _am_counts(counts)
    if sites.empty:
        raise InputDataError(f"{args.counts}: no count period lies within 06:00-10:00")
    model = CityModel(scenario, city, rng=replication_seeds(scenario.seed, 1)[0], traffic=True)
    model.step()
    assert model.traffic is not None
    net, _ = model.traffic.network_times(scenario.start_year)
    order = pd.Index(model.link_rows[-1]["link_id"])
    positions = order.get_indexer(sites.index)
    known = positions >= 0  # a count on a link a policy removed is not compared
    a = scenario.parameters.assignment
    est = cal.estimate_od(
        net,
        model.car_peak,
        positions[known],
        sites["per_hour"].to_numpy()[known],
        algorithm=a.algorithm,
        rel_gap=a.rel_gap,
        max_iter=a.max_iter,
        toll_factor=a.toll_factor,
        distance_factor=a.distance_factor,
    )
    fit = sites[known].assign(
        modelled_before=est.modelled_before,
        modelled_after=est.modelled_after,
        geh_before=cal.geh(est.modelled_before, est.observed),
        geh=cal.geh(est.modelled_after, est.observed),
    )
    report: dict[str, Any] = {"scenario": scenario.name, "year": scenario.start_year}
    report["counts"] = {**est.summary(), "ignored_outside_am": int(len(counts) - len(sites))}
    report["geh_per_site"] = {str(k): float(v) for k, v in fit["geh"].items()}
    constants = None
    if shares is not None:
        modelled = {m: model.kpis[f"mode_share_{m}"] for m in cal.MODE_FAMILIES}
        shift = cal.mode_constant_shifts(shares, modelled)
        report["mode_shares"] = {
            "observed": shares,
            "modelled": {m: modelled[m] for m in shares},
            "constant_shift": shift,
        }
        own = params.mode_constants.model_dump()
        constants = {m: own[m] + v for m, v in shift.items()}
    if tld is not None:
        t = model.trips
        work = t.purpose == 0
        km = model.dist_km[t.origin[work], t.dest[work]]
        report["trip_lengths"] = cal.trip_length_fit(tld, km)
        report["trip_lengths"]["suggested_mean_trip_km"] = report["trip_lengths"][
            "observed_mean_km"
        ]
    if args.out is not None:
        ids = list(city.zones.index)
        o, d = np.nonzero((est.prior > 0) | (est.estimated > 0))
        od = pd.DataFrame(
            {
                "origin_zone": [ids[i] for i in o],
                "destination_zone": [ids[j] for j in d],
                "prior": est.prior[o, d],
                "estimated": est.estimated[o, d],
            }
        )
        write_atomically(args.out / "counts_fit.csv", fit.reset_index().to_csv(index=False))
        write_atomically(args.out / "od_estimated.csv", od.to_csv(index=False))
        write_atomically(args.out / "calibration.json", dumps(report))
        trip_km = report["trip_lengths"]["observed_mean_km"] if tld is not None else None
        yaml_text = cal.calibrated_scenario(
            args.scenario, f"{scenario.name}-calibrated", "od_estimated.csv", constants, trip_km
        )
        write_atomically(args.out / "calibrated.yaml", yaml_text)
    if args.json:
        print(dumps(report))
    else:
        c = report["counts"]
        print(f"counts compared    {c['counts']} sites (hourly rates, busiest hour)")
        before, after = c["share_geh_below_5_before"], c["share_geh_below_5"]
        print(f"GEH < 5            {before:.0%} -> {after:.0%}")
        print(f"R²                 {c['r2_before']:.3f} -> {c['r2']:.3f}")
        print(f"matrix change      {c['matrix_change']:.1%} of {c['matrix_total_prior']:.0f} trips")
        for key in ("mode_shares", "trip_lengths"):
            if key in report:
                print(f"{key:<19}{json.dumps(report[key], default=float)}")
    return 0
