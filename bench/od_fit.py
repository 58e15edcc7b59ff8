"""OD model fit on NY State county commuting (2011): CPC against the reference baselines.

Peer: ``shared/benchmarks/mobility/compute_cpc_baselines.py`` (numpy reference of the
doubly-constrained gravity at gamma = 3.15 and the radiation model), run in the same
process tree; its CPC figures are parsed from its output. Ours: ``sim.mobility.od_io.fit_od`` on the
same files (gravity with beta fitted to maximise CPC; radiation parameter-free).

    python bench/od_fit.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.mobility import od_io  # noqa: E402

MOBILITY = ROOT.parent / "shared" / "benchmarks" / "mobility"
PEER_LINES = {
    "gravity-power": r"doubly-constrained gravity \(power gamma=[\d.]+\) CPC ([\d.]+)",
    "radiation": r"radiation \(out-flow constrained, normalized\) CPC ([\d.]+)",
}


def peer_cpc() -> dict[str, float]:
    """Run the reference script and parse its CPC figures."""
    script = MOBILITY / "compute_cpc_baselines.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    ).stdout
    return {key: float(re.search(pat, out).group(1)) for key, pat in PEER_LINES.items()}


def ours(quick: bool) -> dict[str, dict[str, float]]:
    """Fit each model on the NY files; CPC, RMSE, beta and seconds."""
    zones = od_io.read_zones(MOBILITY / "NY_counties_2011.geojson")
    observed = od_io.read_flows(MOBILITY / "NY_commuting_flows_2011.csv", list(zones.index))
    runs = {"gravity-power": ("gravity", "power"), "radiation": ("radiation", "power")}
    if not quick:
        runs["gravity-exp"] = ("gravity", "exp")
    results = {}
    for key, (model, deterrence) in runs.items():
        start = time.perf_counter()
        fit = od_io.fit_od(zones, observed, model=model, deterrence=deterrence)
        results[key] = {
            "cpc": fit.cpc,
            "rmse": fit.rmse,
            "beta": fit.params.get("beta"),
            "seconds": time.perf_counter() - start,
        }
    return results


def main() -> int:
    """Print the comparison table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the exponential gravity fit")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not MOBILITY.exists():
        print(f"benchmark data missing: {MOBILITY}", file=sys.stderr)
        return 2
    peer = peer_cpc()
    mine = ours(args.quick)
    for key, row in mine.items():
        row["peer_cpc"] = peer.get(key)
        row["cpc_ratio"] = row["cpc"] / peer[key] if key in peer else None
    if args.json:
        print(json.dumps({"benchmark": "od_fit", "peer": "compute_cpc_baselines.py", **mine}))
        return 0
    print(f"{'model':<15}{'CPC':>8}{'peer CPC':>10}{'ratio':>8}{'RMSE':>10}{'beta':>9}{'s':>7}")
    for key, row in mine.items():
        peer_text = f"{row['peer_cpc']:.3f}" if row["peer_cpc"] else "-"
        ratio = f"{row['cpc_ratio']:.3f}" if row["cpc_ratio"] else "-"
        beta = f"{row['beta']:.4g}" if row["beta"] is not None else "-"
        print(
            f"{key:<15}{row['cpc']:>8.3f}{peer_text:>10}{ratio:>8}{row['rmse']:>10.0f}"
            f"{beta:>9}{row['seconds']:>7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
