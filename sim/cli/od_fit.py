"""``main.py od-fit``: calibrate an OD model on observed zone-to-zone flows and score it."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli._json import dumps
from sim.mobility.od import DETERRENCES
from sim.mobility.od_io import ID_COLUMNS, fit_od, read_flows, read_zones

NAME = "od-fit"
HELP = "Fit a gravity or radiation OD model to observed flows; report CPC and RMSE."
DESCRIPTION = f"""\
Fit a doubly-constrained gravity model (beta maximising the common part of commuters,
CPC) or the parameter-free radiation model to observed flows between zones, with
distances between zone centroids (haversine for lon/lat files, else Euclidean, km).
Intra-zone flows are not modelled: CPC and RMSE are over the inter-zone pairs.

The zone id column defaults to the first of {", ".join(ID_COLUMNS)} present.

example:
  main.py od-fit --zones counties.geojson --flows flows.csv --model gravity \\
      --deterrence exp --json --out fitted.csv
"""


#: why a score may not be a number, for the ``warnings`` of ``--json``
NAN_REASONS = {
    "cpc": "no inter-zone flow observed or fitted: the common part of commuters is 0/0",
    "rmse": "no inter-zone pairs to score",
    "params.mean_cost": "no fitted inter-zone trips to average the distance over",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the od-fit flags."""
    parser.add_argument("--zones", required=True, type=Path, help="zones (GeoJSON/GeoPackage)")
    parser.add_argument("--id-column", default=None, help="zone id column in the zones file")
    parser.add_argument(
        "--flows", required=True, type=Path, help="CSV with columns origin, destination, flow"
    )
    parser.add_argument(
        "--model",
        required=True,
        choices=("gravity", "radiation"),
        help="doubly-constrained gravity (calibrated) or the parameter-free radiation model",
    )
    parser.add_argument(
        "--deterrence", default="power", choices=DETERRENCES, help="gravity deterrence"
    )
    parser.add_argument(
        "--population-column",
        default="population",
        help="zone population column (radiation model)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, default=None, help="write fitted flows to this CSV")


def main(args: argparse.Namespace) -> int:
    """Run od-fit."""
    zones = read_zones(args.zones, args.id_column)
    observed = read_flows(args.flows, [str(z) for z in zones.index])
    result = fit_od(
        zones,
        observed,
        model=args.model,
        deterrence=args.deterrence,
        population_column=args.population_column,
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        result.pairs().to_csv(args.out, index=False)
    if args.json:
        print(dumps(result.summary(), reasons=NAN_REASONS))
    else:
        print(f"{'model':<11}{result.model}")
        print(f"{'zones':<11}{len(result.zone_ids)}")
        print(f"{'CPC':<11}{result.cpc:.4f}  (inter-zone flows)")
        print(f"{'RMSE':<11}{result.rmse:.2f}  (inter-zone pairs)")
        for key, value in result.params.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"{key:<11}{shown}")
        if args.out is not None:
            print(f"fitted flows written to {args.out}")
    return 0
