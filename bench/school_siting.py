"""School siting on the default city: our MILP (HiGHS) against PySAL spopt's p-median.

The problem: the default scenario with three crowded primary schools (cut to one class
per grade from 2025), simulated without traffic; choose ``--budget`` new primary schools
among the development sites and zone centroids (zones within 3 km) from 2025.

* ours: :func:`sim.education.planning.siting.solve` (seats short + 0.1 pupil-km + 0.02
  empty places, multi-year, sizes chosen, HiGHS via scipy.optimize.milp);
* peer: ``spopt.locate.PMedian`` (capacitated p-median on the mean year's zone children,
  existing schools predefined with their places, candidates at the largest size, CBC via
  PuLP) — the textbook formulation a planner would reach for.

Both plans are scored on our objective (and on pupil-km); times are wall-clock solves.

    python bench/school_siting.py [--quick] [--json] [--budget N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.education.planning import plans, siting  # noqa: E402
from sim.education.planning.simulate import simulate_level, with_policies  # noqa: E402
from sim.runs.run import prepare_run  # noqa: E402
from sim.validate import check_scenario  # noqa: E402

CROWDED = [
    {"type": "resize_school", "school": s, "classes_per_grade": 1, "year": 2025}
    for s in ("P03", "P45", "P49")
]


def problem(years: int, budget: int) -> siting.SitingProblem:
    """The crowded default city's siting problem (one replication, ``years`` years)."""
    scenario, city = prepare_run(ROOT / "scenarios" / "default.yaml", years=years, replications=1)
    scenario = with_policies(scenario, CROWDED)
    check_scenario(scenario, city)
    base = simulate_level(scenario, city, "primary")
    cand = plans.candidates(city, None)
    return plans.siting_problem(base, city, "primary", 2025, cand, budget, max_km=3.0)


def pupil_km(p: siting.SitingProblem, opened: list[tuple[int, int]], assign: np.ndarray) -> float:
    """Σ_t Σ_zone children × km to their school under a plan."""
    zi = np.arange(p.demand.shape[1])
    total = 0.0
    for t in range(p.demand.shape[0]):
        km = p.km_current[zi, np.maximum(p.current[t], 0)]
        for i, (j, _) in enumerate(opened):
            km = np.where(assign == i, p.km_candidate[:, j], km)
        total += float((p.demand[t] * km).sum())
    return total


def ours(p: siting.SitingProblem) -> dict:
    t0 = time.perf_counter()
    sol = siting.solve(p)
    seconds = time.perf_counter() - t0
    assign = -np.ones(p.demand.shape[1], dtype=int)
    for i, zones in enumerate(sol.zones):
        assign[zones] = i
    return {
        "seconds": round(seconds, 3),
        "objective": round(siting.plan_cost(p, sol.opened, assign), 2),
        "pupil_km": round(pupil_km(p, sol.opened, assign), 1),
        "optimality_gap": sol.gap,
        "sites": [int(j) for j, _ in sol.opened],
    }


def peer(p: siting.SitingProblem) -> dict:
    import pulp
    from spopt.locate import PMedian

    n_s = p.capacity.shape[1]
    n_j = p.km_candidate.shape[1]
    cost = np.hstack([p.km_current, p.km_candidate])
    weights = p.demand.mean(axis=0)
    keep = weights > 0
    caps = np.r_[p.capacity.min(axis=0), np.full(n_j, p.places.max())]
    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(
        cost[keep],
        weights[keep],
        p_facilities=n_s + p.budget,
        predefined_facilities_arr=np.r_[np.ones(n_s), np.zeros(n_j)].astype(int),
        facility_capacities=caps,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=300))
    seconds = time.perf_counter() - t0
    zones = np.flatnonzero(keep)
    opened, assign = [], -np.ones(p.demand.shape[1], dtype=int)
    big = len(p.places) - 1
    for f, clients in enumerate(model.fac2cli):
        if f >= n_s and len(clients):
            assign[zones[np.asarray(clients, dtype=int)]] = len(opened)
            opened.append((f - n_s, big))
    return {
        "seconds": round(seconds, 3),
        "objective": round(siting.plan_cost(p, opened, assign), 2),
        "pupil_km": round(pupil_km(p, opened, assign), 1),
        "status": str(pulp.LpStatus[model.problem.status]),
        "sites": [j for j, _ in opened],
    }


def main(argv: list[str] | None = None) -> int:
    """Build the problem, solve it both ways, print a table or one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 simulated years, not 6")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--budget", type=int, default=2, help="new schools (2)")
    args = parser.parse_args(argv)
    try:
        import spopt  # noqa: F401
    except ImportError:
        print("spopt is not installed (pip install spopt)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    p = problem(3 if args.quick else 6, args.budget)
    res = {
        "zones": int((p.demand.sum(axis=0) > 0).sum()),
        "candidates": int(p.km_candidate.shape[1]),
        "years": int(p.demand.shape[0]),
        "budget": args.budget,
        "milp_highs": ours(p),
        "spopt_pmedian_cbc": peer(p),
    }
    res["seconds_total"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(res))
    else:
        for name in ("milp_highs", "spopt_pmedian_cbc"):
            r = res[name]
            print(
                f"{name:>18}: objective {r['objective']:>10}  pupil-km {r['pupil_km']:>10}  "
                f"{r['seconds']:>7} s  sites {r['sites']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
