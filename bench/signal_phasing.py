"""Audit of the default city's signal phasing: the compass-sector rule against geometry.

Usage: python bench/signal_phasing.py [--json] [--quick]

Counts, over the default city's signals, for the old rule (an approach is north–south,
phase 0, when its chord is steeper than 45°, else east–west, phase 1; capacity
``capacity_vph × g/C``) and for the current one (:mod:`sim.traffic.signals`):

- ``main_road_not_main_phase``: 2-phase signals where a road of a higher class than any
  road in phase 0 (the plan's main green) gets the cross green;
- ``turn_phase_as_green``: 3-phase signals where some approach's main green is the
  12 s turn phase (phase 1);
- ``one_phase_for_all``: signals whose approaches all share one phase (right where all
  approaches are one road: two opposing approaches, ``one_road_signals``);
- ``crossing_in_one_phase``: signals where two crossing approaches (headings 45°..135°
  apart) get the same green;
- ``primary_capacity_per_lane``: mean capacity per lane of signalised primary approaches;
- ``travel_time_index``: of the default scenario's base-year peak (one replication),
  against the network's free-flow time (signal delay folded in, the old KPI) and against
  true free-flow time (the current KPI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.city import load_city  # noqa: E402
from sim.traffic.signals import (  # noqa: E402
    CLASS_RANK,
    OPPOSING_TOLERANCE_DEG,
    SignalPlans,
    angle_between,
    apply_signal_timing,
    approach_headings,
    approach_phases,
    phase_shares,
)


def compass_phases(links: pd.DataFrame) -> pd.Series:
    """The old rule: phase 0 for north–south chords, 1 for east–west."""
    sig = links[links["signal_id"] >= 0]
    starts = np.array([g.coords[0] for g in sig.geometry])
    ends = np.array([g.coords[-1] for g in sig.geometry])
    dx, dy = (ends - starts).T
    return pd.Series(np.where(np.abs(dy) >= np.abs(dx), 0, 1), index=sig.index)


def crossing_in_one_phase(sig: pd.DataFrame, phase: pd.Series, heading: pd.Series) -> int:
    """Signals where two approaches that cross (45°..135° apart) share a phase."""
    count = 0
    for ids in sig.groupby("signal_id").groups.values():
        h, p = heading.loc[ids].to_numpy(), phase.loc[ids].to_numpy()
        count += any(
            p[i] == p[j] and 45.0 < angle_between(h[i], h[j]) < 135.0
            for i in range(len(ids))
            for j in range(i + 1, len(ids))
        )
    return count


def audit(city) -> dict[str, dict[str, float]]:
    """The counts of the module docstring, for the old and the current rule."""
    links, signals = city.links, city.signals
    sig = links[links["signal_id"] >= 0].copy()
    sig["rank"] = sig["link_type"].map(CLASS_RANK).fillna(0)
    n_phases = signals["n_phases"]
    old = compass_phases(links)
    new = approach_phases(links)
    plans = SignalPlans.from_city(signals, links)
    new_main_phase = pd.Series(
        [
            int(np.argmax(phase_shares(int(new[k]), int(sig.at[k, "lanes"]), n_phases[s])))
            for k, s in sig["signal_id"].items()
        ],
        index=sig.index,
    )
    old_main_phase = pd.Series(
        [min(int(old[k]), n_phases[s] - 1) for k, s in sig["signal_id"].items()], index=sig.index
    )
    primary = sig.index[sig["link_type"] == "primary"]
    old_ratio = pd.Series(
        [
            plans.greens[s][old_main_phase[k]] / plans.cycle[s]
            for k, s in sig.loc[primary, "signal_id"].items()
        ],
        index=primary,
    )
    timed = apply_signal_timing(links, plans)
    heading = approach_headings(sig)
    one_road = sum(
        len(ids) == 2 and angle_between(*heading.loc[ids]) >= 180 - OPPOSING_TOLERANCE_DEG
        for ids in sig.groupby("signal_id").groups.values()
    )
    out = {}
    for name, phase in (("compass_rule", old_main_phase), ("geometry_rule", new_main_phase)):
        two = sig[sig["signal_id"].map(n_phases) == 2]
        rank_by_phase = two.groupby([two["signal_id"], phase.loc[two.index]])["rank"].max()
        by_phase = rank_by_phase.unstack().fillna(-1)
        three = sig[sig["signal_id"].map(n_phases) == 3]
        per_signal = phase.groupby(sig["signal_id"]).nunique()
        out[name] = {
            "signals": float(len(signals)),
            "two_phase_signals": float((n_phases == 2).sum()),
            "main_road_not_main_phase": float((by_phase[1] > by_phase[0]).sum()),
            "three_phase_signals": float((n_phases == 3).sum()),
            "turn_phase_as_green": float(
                three.loc[phase.loc[three.index] == 1, "signal_id"].nunique()
            ),
            "one_phase_for_all": float((per_signal == 1).sum()),
            "one_road_signals": float(one_road),
            "crossing_in_one_phase": float(crossing_in_one_phase(sig, phase, heading)),
        }
    out["compass_rule"]["primary_capacity_per_lane"] = float(
        (sig.loc[primary, "capacity_vph"] * old_ratio / sig.loc[primary, "lanes"]).mean()
    )
    out["geometry_rule"]["primary_capacity_per_lane"] = float(
        (timed.loc[primary, "capacity_vph"] / sig.loc[primary, "lanes"]).mean()
    )
    return out


def travel_time_index(city) -> dict[str, float]:
    """Base-year peak TTI of the default scenario against both free-flow times."""
    from sim.model import CityModel
    from sim.scenario import load_scenario
    from sim.traffic.network import network_from_links

    model = CityModel(load_scenario(ROOT / "scenarios" / "default.yaml"), city, rng=1)
    model.step()
    traffic = model.traffic
    links = traffic._road_links(model.year)
    flows = model.link_rows[-1].set_index("link_id")["flow"].reindex(links.index).to_numpy()
    timed = apply_signal_timing(links, traffic.plans)
    net = network_from_links(timed, city.nodes, traffic.centroids)
    vht = model.kpis["vht"]
    return {
        "with_signal_delay": vht / (float(flows @ net.fftime) / 60.0),
        "true_free_flow": model.kpis["travel_time_index"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="skip the peak assignment (TTI)")
    args = parser.parse_args()
    city = load_city(ROOT / "geodata" / "default_city.gpkg")
    result = audit(city)
    if not args.quick:
        result["travel_time_index"] = travel_time_index(city)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return
    for rule, counts in result.items():
        print(rule)
        for key, value in counts.items():
            print(f"  {key:28s} {value:10.3f}")


if __name__ == "__main__":
    main()
