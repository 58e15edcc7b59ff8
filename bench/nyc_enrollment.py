"""NYC enrollment backtest: the default method (auto) against plain GPR and shrunk on real data.

Converts the wide NYC DOE tables in ../shared/benchmarks/enrollment (one column per
grade) to the long ``entity,grade,year,enrollment`` format (K-12), then backtests
every method (auto, gpr, shrunk, blend) at district and school level. ``auto`` has no
constant fitted to NYC: it chooses per grade-span group by a backtest on the history
it is given, so these figures are an out-of-sample check of that rule, not its tuning:

* hold-out: fit up to 2017, score 2018-2020 (h = 1..3), and (not with --quick) fit up
  to 2015, score 2016-2020 (h = 1..5, the splits of SOURCE.md's 4- and 5-year figures);
* rolling origins: one-year-ahead MAPE from origins 2015..2019, reported with and
  without the COVID year 2020 as target.

Usage: ``python bench/nyc_enrollment.py [--quick] [--json] [--out-dir DIR]``.
``--out-dir`` also writes the long CSVs (for ``main.py forecast/backtest``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.education.forecast import Backtest, backtest
from sim.education.forecast_methods import DEFAULT_METHOD
from sim.education.panel import Panel, load_history

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "enrollment"
DISTRICTS = "nyc_district_enrollment_by_grade_2013_2020.csv"
SCHOOLS = "nyc_school_enrollment_by_grade_2013_2020.csv"
GRADE_COLUMNS = ["grade_k"] + [f"grade_{g}" for g in range(1, 13)]
PEER = "gpr"


def wide_to_long(path: Path, key: str) -> pd.DataFrame:
    """One row per entity, grade (K, 1..12) and year with pupils (grades with 0 dropped).

    An entity whose years have a gap (2 NYC schools closed and reopened) keeps its
    latest run of consecutive years.
    """
    wide = pd.read_csv(path, dtype={key: str, "district": str}).sort_values([key, "year"])
    new_run = wide.groupby(key)["year"].diff().fillna(1).ne(1)
    run = new_run.groupby(wide[key]).cumsum()
    wide = wide[run == run.groupby(wide[key]).transform("max")]
    long = wide.melt(id_vars=[key, "year"], value_vars=GRADE_COLUMNS, value_name="enrollment")
    long["grade"] = long["variable"].str.removeprefix("grade_").str.upper()
    long = long[long["enrollment"] > 0].rename(columns={key: "entity"})
    return long[["entity", "grade", "year", "enrollment"]].reset_index(drop=True)


def _summary(result: Backtest) -> dict:
    out = result.to_json()
    out.pop("by_grade")
    return out


def rolling(panel: Panel, origins: list[int], min_size: float) -> dict:
    """One-year-ahead MAPE and band coverage per method and origin."""
    rows: dict = {"mape": {}, "coverage": {}}
    for origin in origins:
        res = backtest(panel, 1, origin=origin, min_size=min_size)
        for m in res.mape:
            rows["mape"].setdefault(m, {})[str(origin)] = res.mape[m][1]
            rows["coverage"].setdefault(m, {})[str(origin)] = res.coverage[m][1]
    for key in ("mape", "coverage"):
        for v in rows[key].values():
            pre = [x for o, x in v.items() if int(o) + 1 < 2020]
            v["mean"] = round(float(np.mean([x for o, x in v.items() if o != "mean"])), 3)
            v["mean_pre2020"] = round(float(np.mean(pre)), 3)
    return rows


def run(quick: bool, out_dir: Path) -> dict:
    """Convert, backtest every level and return the result tree."""
    t0 = time.perf_counter()
    levels = {}
    for name, file, key in (("district", DISTRICTS, "district"), ("school", SCHOOLS, "dbn")):
        path = out_dir / f"nyc_{name}_long.csv"
        wide_to_long(DATA / file, key).to_csv(path, index=False)
        levels[name] = load_history(path)
    csd = np.array([e.isdigit() and int(e) <= 32 for e in levels["district"].entities])
    cases = {
        "district_csd01-32": (levels["district"].select(csd), 0.0),
        "district_all35": (levels["district"], 0.0),
        "school_all": (levels["school"], 0.0),
        "school_100plus": (levels["school"], 100.0),
    }
    origins = [2018, 2019] if quick else [2015, 2016, 2017, 2018, 2019]
    out: dict = {"peer": PEER, "default": DEFAULT_METHOD}
    for name, (panel, min_size) in cases.items():
        t = time.perf_counter()
        hold = _summary(backtest(panel, 3, min_size=min_size))
        out[name] = {"holdout_2018_2020": hold}
        out[name]["mape_ratio_vs_peer"] = {
            h: round(hold[DEFAULT_METHOD][h] / hold[PEER][h], 3) for h in hold[PEER]
        }
        if not quick:
            long = backtest(panel, 5, origin=2015, min_size=min_size)
            out[name]["holdout_2016_2020"] = _summary(long)
        out[name]["rolling_h1"] = rolling(panel, origins, min_size)
        out[name]["seconds"] = round(time.perf_counter() - t, 2)
    out["seconds_total"] = round(time.perf_counter() - t0, 2)
    return out


def print_tables(res: dict) -> None:
    """Human-readable tables of the result tree."""
    for name, r in res.items():
        if not isinstance(r, dict) or "holdout_2018_2020" not in r:
            continue
        h = r["holdout_2018_2020"]
        print(f"\n== {name}: fit <= {h['origin']}, {h['n_entities']} entities ({r['seconds']} s)")
        print(f"{'method':>8} {'h=1':>7} {'h=2':>7} {'h=3':>7}   coverage h=1..3")
        for m in h["coverage"]:
            mape = " ".join(f"{h[m][k]:7.2f}" for k in ("1", "2", "3"))
            cov = " ".join(f"{h['coverage'][m][k]:5.3f}" for k in ("1", "2", "3"))
            print(f"{m:>8} {mape}   {cov}")
        if "holdout_2016_2020" in r:
            h5 = r["holdout_2016_2020"]
            print(f"  fit <= 2015, {h5['n_entities']} entities: MAPE % h=1..5, coverage h=5")
            for m in h5["coverage"]:
                cells = " ".join(f"{h5[m][str(k)]:7.2f}" for k in range(1, 6))
                print(f"{m:>8} {cells}   {h5['coverage'][m]['5']:5.3f}")
        roll = r["rolling_h1"]
        origins = [o for o in next(iter(roll["mape"].values())) if o[0].isdigit()]
        print("  one-year-ahead MAPE % by origin (target = origin + 1)")
        print(f"{'method':>8} " + " ".join(f"{o:>7}" for o in origins) + "    mean  pre2020  cover")
        for m, v in roll["mape"].items():
            cells = " ".join(f"{v[o]:7.2f}" for o in origins)
            cover = roll["coverage"][m]["mean"]
            print(f"{m:>8} {cells} {v['mean']:7.2f} {v['mean_pre2020']:8.2f} {cover:6.3f}")
    print(f"\ntotal {res['seconds_total']} s")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print tables or one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two rolling origins only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out-dir", type=Path, help="keep the long CSVs here")
    args = parser.parse_args(argv)
    if not (DATA / SCHOOLS).exists():
        print(f"NYC data not found in {DATA}", file=sys.stderr)
        return 2
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")  # skipped new/closed schools are expected here
        out_dir = args.out_dir or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        res = run(args.quick, out_dir)
    if args.json:
        print(json.dumps(res))
    else:
        print_tables(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
