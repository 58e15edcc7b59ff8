"""School siting and catchment MILPs (sim.education.planning) against brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.education.planning import siting

W_KM, W_EMPTY = siting.W_KM, siting.W_EMPTY


def small_problem(rng: np.random.Generator, n_cand: int, n_z: int = 5, n_t: int = 2):
    """Zones on a line, two crowded existing schools, candidates anywhere."""
    zx = rng.uniform(0, 10, n_z)
    sx = np.array([2.0, 8.0])
    cx = rng.uniform(0, 10, n_cand)
    demand = rng.uniform(50, 300, (n_t, n_z)).round()
    current = np.tile(np.where(zx < 5, 0, 1), (n_t, 1))
    capacity = np.full((n_t, 2), 300.0)
    return siting.SitingProblem(
        demand=demand,
        current=current,
        capacity=capacity,
        km_current=np.abs(zx[:, None] - sx[None, :]),
        km_candidate=np.abs(zx[:, None] - cx[None, :]),
        places=np.array([150.0, 400.0]),
        budget=2,
    )


def brute_force(p: siting.SitingProblem) -> float:
    """Least objective over every set of <= budget sites, sizes and zone assignment."""
    n_t, n_z = p.demand.shape
    n_j = p.km_candidate.shape[1]
    best = np.inf
    zi = np.arange(n_z)
    for n_open in range(p.budget + 1):
        for sites in itertools.combinations(range(n_j), n_open):
            for sizes in itertools.product(range(len(p.places)), repeat=n_open):
                # every zone: stay (-1) or one of the opened sites; all at once as an array
                choices = np.array(list(itertools.product(range(-1, n_open), repeat=n_z)))
                total = np.zeros(len(choices))
                for t in range(n_t):
                    d = p.demand[t]
                    km = p.km_current[zi, p.current[t]][None, :].repeat(len(choices), 0)
                    for s in range(p.capacity.shape[1]):
                        load = ((choices < 0) & (p.current[t] == s)[None, :]) @ d
                        total += np.maximum(load - p.capacity[t, s], 0)
                    for i, (j, k) in enumerate(zip(sites, sizes, strict=True)):
                        load = (choices == i) @ d
                        total += np.maximum(load - p.places[k], 0)
                        total += W_EMPTY * np.maximum(p.places[k] - load, 0)
                        km = np.where(choices == i, p.km_candidate[:, j][None, :], km)
                    total += W_KM * (km @ d)
                best = min(best, float(total.min()))
    return best


@pytest.mark.parametrize(("seed", "n_cand"), [(1, 4), (2, 6), (3, 30)])
def test_siting_milp_equals_brute_force(seed, n_cand):
    p = small_problem(np.random.default_rng(seed), n_cand, n_z=5 if n_cand < 30 else 4)
    sol = siting.solve(p, gap=1e-9)
    assert sol.objective == pytest.approx(brute_force(p), rel=1e-6)
    assert len(sol.opened) <= p.budget
    assign = -np.ones(p.demand.shape[1], dtype=int)
    for i, zones in enumerate(sol.zones):
        assign[zones] = i
    assert siting.plan_cost(p, sol.opened, assign) == pytest.approx(sol.objective, rel=1e-9)


def test_catchment_milp_equals_brute_force_and_is_contiguous():
    from sim.education.planning import catchments

    rng = np.random.default_rng(4)
    n_z, n_s = 7, 3
    zx = np.arange(n_z, dtype=float)  # zones in a row: i borders i + 1
    sx = np.array([0.5, 3.2, 6.1])
    adj = np.abs(zx[:, None] - zx[None, :]) == 1
    p = catchments.CatchmentProblem(
        demand=rng.uniform(50, 200, (2, n_z)).round(),
        current=np.array([0, 0, 0, 0, 0, 1, 2]),
        capacity=np.full((2, n_s), 300.0),
        km=np.abs(zx[:, None] - sx[None, :]),
        adjacency=adj,
    )
    sol = catchments.solve(p, gap=1e-9)

    def shortage(a):
        return sum(
            np.maximum(np.bincount(a, weights=p.demand[t], minlength=n_s) - p.capacity[t], 0).sum()
            for t in range(2)
        )

    root = [0, 5, 6]  # nearest current zone of each school (zone 0 and 1 tie for school 0)
    best = np.inf
    for assign in itertools.product(range(n_s), repeat=n_z):
        a = np.array(assign)
        pieces = [np.flatnonzero(a == s) for s in range(n_s)]
        if any(
            len(z) and (np.ptp(z) + 1 != len(z) or root[s] not in z) for s, z in enumerate(pieces)
        ):
            continue  # a catchment in two pieces, or without its root zone
        if shortage(a) > shortage(p.current):
            continue  # never more seats short than today
        cost = shortage(a) + W_KM * sum(
            (p.demand[t] * p.km[np.arange(n_z), a]).sum() for t in range(2)
        )
        best = min(best, cost)
    assert sol.objective == pytest.approx(best, rel=1e-6)
    for s in range(n_s):
        z = np.flatnonzero(sol.school == s)
        assert not len(z) or np.ptp(z) + 1 == len(z)


# --- end to end on the default city ------------------------------------------------------

CROWDED = """\
policies:
  - {type: resize_school, school: P03, classes_per_grade: 1, year: 2025}
  - {type: resize_school, school: P45, classes_per_grade: 1, year: 2025}
  - {type: resize_school, school: P49, classes_per_grade: 1, year: 2025}
"""


@pytest.fixture(scope="module")
def crowded_run(tmp_path_factory):
    """Two years, two replications, three primary schools cut to one class per grade."""
    from _support import write_scenario

    from sim.runs.run import load_for_run, run_scenario

    folder = tmp_path_factory.mktemp("crowded")
    path = write_scenario(folder, "crowded", CROWDED, years=2)
    return run_scenario(load_for_run(path), folder / "runs")


def cli_json(capsys, args: list[str]) -> dict:
    import json

    from sim.cli import main as cli

    assert cli(args) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


KEYS = (
    "seats_short_baseline",
    "seats_short_plan",
    "seats_short_heuristic",
    "mean_km_baseline",
    "mean_km_plan",
    "optimality_gap",
)


@pytest.mark.slow
def test_site_schools_verify_cuts_simulated_seats_short(crowded_run, capsys, tmp_path):
    import pandas as pd

    from sim.education.planning.simulate import seats_short
    from sim.scenario import load_scenario

    out = tmp_path / "plan.yaml"
    args = ["site-schools", "--run", str(crowded_run), "--level", "primary", "--budget", "2"]
    flags = ["--max-km", "3", "--robust", "p90", "--verify", "--json", "--out", str(out)]
    res = cli_json(capsys, [*args, *flags])
    assert set(KEYS) <= set(res)
    assert 0.0 <= res["optimality_gap"] <= 0.05
    # the baseline is the run itself: seats short from its enrollment.parquet, by hand
    enr = pd.read_parquet(crowded_run / "enrollment.parquet")
    primary = {s for s in enr["school"].unique() if s.startswith("P")}
    assert res["seats_short_baseline"] == pytest.approx(seats_short(enr, primary))
    per = enr[enr["school"].isin(primary)].groupby(["year", "school"])[["demand", "capacity"]]
    by_hand = (per.sum()["demand"] - per.sum()["capacity"]).clip(lower=0).sum()
    assert res["seats_short_baseline"] == pytest.approx(by_hand) and by_hand > 0
    assert res["seats_short_plan"] < res["seats_short_baseline"]
    assert 1 <= len(res["policies"]) <= 2
    # the written plan merges into a scenario as it is
    merged = tmp_path / "merged.yaml"
    body = out.read_text(encoding="utf-8")
    merged.write_text(
        f"name: merged\nextends: {crowded_run.parent.parent / 'crowded.yaml'}\n{body}"
    )
    assert [p.type for p in load_scenario(merged).policies].count("new_school") == len(
        res["policies"]
    )


@pytest.mark.slow
def test_optimise_catchments_verify_fewer_seats_short(crowded_run, capsys):
    args = ["optimise-catchments", "--run", str(crowded_run), "--level", "primary"]
    res = cli_json(capsys, [*args, "--contiguous", "--max-km", "4", "--verify", "--json"])
    assert set(KEYS) <= set(res)
    assert res["seats_short_baseline"] > 0
    assert res["seats_short_plan"] < res["seats_short_baseline"]
    assert all(p["type"] == "catchment_edit" for p in res["policies"])


def test_bad_level_and_budget_exit_2(finished_run, capsys):
    from sim.cli import main as cli

    base = ["site-schools", "--run", str(finished_run)]
    assert cli([*base, "--level", "secondary", "--budget", "1"]) == 2
    assert "level" in capsys.readouterr().err
    assert cli([*base, "--level", "primary", "--budget", "0"]) == 2
    assert "budget" in capsys.readouterr().err


def test_candidates_csv_xy_lonlat_and_bad(tmp_path):
    from pyproj import Transformer

    from sim.city import load_city
    from sim.education.planning.plans import candidates
    from sim.errors import InputDataError

    city = load_city(Path(__file__).resolve().parents[1] / "geodata" / "default_city.gpkg")
    default = candidates(city, None)
    assert len(default) == len(city.sites) + len(city.zones)
    x, y = 285843.0, 6684796.0
    lon, lat = Transformer.from_crs(city.crs, 4326, always_xy=True).transform(x, y)
    (tmp_path / "ll.csv").write_text(f"id,lon,lat\nA,{lon},{lat}\n")
    got = candidates(city, tmp_path / "ll.csv")
    assert got["id"].tolist() == ["A"]
    assert (got["x"].iloc[0], got["y"].iloc[0]) == pytest.approx((x, y), abs=0.01)
    (tmp_path / "bad.csv").write_text("id,x,y\nA,1,2\nB,oops,3\n")
    with pytest.raises(InputDataError, match="line 3"):
        candidates(city, tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("id,east,north\nA,1,2\n")
    with pytest.raises(InputDataError, match="x,y"):
        candidates(city, tmp_path / "cols.csv")


def test_contiguous_keeps_todays_pieces_feasible():
    from sim.education.planning import catchments

    zx = np.arange(5, dtype=float)
    adj = np.abs(zx[:, None] - zx[None, :]) == 1
    p = catchments.CatchmentProblem(
        demand=np.array([[100.0, 100, 100, 100, 100]]),
        current=np.array([0, 1, 0, 1, 1]),  # zones 1 and 2 are cut off from their roots
        capacity=np.array([[250.0, 250.0]]),
        km=np.abs(zx[:, None] - np.array([0.0, 3.0])[None, :]),
        adjacency=adj,
    )
    root = catchments.roots(p)
    assert root.tolist() == [0, 3]
    assert catchments.exclaves(p, root).tolist() == [False, True, True, False, False]
    sol = catchments.solve(p, gap=1e-9)
    # 500 children in blocks of 100 for 2 x 250 places: 50 short at best; then least travel
    # (3 zone-km), and both catchments in one piece again
    assert sol.school.tolist() == [0, 0, 1, 1, 1]
    assert sol.gap == pytest.approx(0.0, abs=1e-6)
