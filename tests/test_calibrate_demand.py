"""OD estimation from link counts (sim.mobility.calibrate) on a small synthetic network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputDataError
from sim.mobility.calibrate import estimate_od, geh, r_squared, read_counts
from sim.traffic.assignment import assign
from sim.traffic.network import build_network

SIDE = 4  # 4 × 4 grid of nodes; the four corners and two mid-edge nodes are zones


def _grid():
    rng = np.random.default_rng(0)
    ids = np.arange(SIDE * SIDE)
    a, b = [], []
    for i in ids:
        r, c = divmod(i, SIDE)
        for dr, dc in ((0, 1), (1, 0)):
            if r + dr < SIDE and c + dc < SIDE:
                j = (r + dr) * SIDE + c + dc
                a += [i, j]
                b += [j, i]
    n = len(a)
    zones = np.array([0, 3, 12, 15, 1, 14])
    # zones first in node order (first_thru_node = number of zones)
    order = np.concatenate([zones, np.setdiff1d(ids, zones)])
    pos = np.empty_like(order)
    pos[order] = np.arange(len(order))
    return build_network(
        node_ids=order,
        link_from=pos[np.array(a)],
        link_to=pos[np.array(b)],
        capacity=np.full(n, 1e6),  # uncongested: routes do not depend on the matrix
        fftime=rng.uniform(1.0, 3.0, n),  # no ties between routes
        alpha=np.full(n, 0.15),
        beta=np.full(n, 4.0),
        length=np.ones(n),
        toll=np.zeros(n),
        first_thru_node=len(zones),
        zone_nodes=np.arange(len(zones), dtype=np.int32),
    )


def test_geh_and_r2_by_hand() -> None:
    # GEH(m=120, c=100) = sqrt(2 * 400 / 220) = 1.907
    assert geh(np.array([120.0]), np.array([100.0]))[0] == pytest.approx(1.9069, abs=1e-4)
    assert r_squared(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 1.0
    assert r_squared(np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0])) == 0.0


def test_recovers_a_known_matrix_from_the_counts_it_generated() -> None:
    net = _grid()
    rng = np.random.default_rng(1)
    n = len(net.zone_nodes)
    truth = rng.uniform(50, 400, (n, n))
    np.fill_diagonal(truth, 0.0)
    counted = np.arange(net.n_links)  # every link counted
    counts = assign(net, truth, rel_gap=1e-6, max_iter=50).flows[counted]
    prior = truth * rng.lognormal(0.0, 0.4, (n, n))  # a wrong prior, ~40 % off per cell
    est = estimate_od(net, prior, counted, counts, rel_gap=1e-6, max_iter=50)
    s = est.summary()
    assert s["share_geh_below_5"] == 1.0 and s["r2"] > 0.999
    assert s["share_geh_below_5_before"] < s["share_geh_below_5"]
    # stated tolerance: the estimate's error is under a third of the prior's
    err_prior = np.abs(prior - truth).sum()
    err_est = np.abs(est.estimated - truth).sum()
    assert err_est < err_prior / 3
    assert est.estimated.sum() == pytest.approx(truth.sum(), rel=0.02)


def test_counts_file_is_checked(tmp_path) -> None:
    links = pd.Index([10, 11], name="link_id")
    good = tmp_path / "counts.csv"
    good.write_text(
        "link_id,period_start,period_end,count\n10,07:00,07:15,120\n11,07:00,08:00,90\n"
    )
    df = read_counts(good, links)
    assert df["per_hour"].tolist() == [480.0, 90.0]
    bad = {
        "link_id,period_start,period_end,count\n99,07:00,08:00,5\n": "link_id = 99",
        "link_id,period_start,period_end,count\n10,08:00,07:00,5\n": "period_end = 07:00",
        "link_id,period_start,period_end,count\n10,7h,08:00,5\n": "period_start = '7h'",
        "link_id,period_start,period_end,count\n10,07:00,08:00,-1\n": "count = -1",
        "link_id,count\n10,5\n": "missing column(s) period_start, period_end",
    }
    for text, needle in bad.items():
        good.write_text(text)
        with pytest.raises(InputDataError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            read_counts(good, links)


def test_cli_refuses_a_count_on_an_unknown_link(tmp_path, capsys) -> None:
    from sim.cli import main

    counts = tmp_path / "counts.csv"
    counts.write_text("link_id,period_start,period_end,count\n-5,07:00,08:00,100\n")
    out = tmp_path / "calib"
    rc = main(
        ["calibrate-demand", "scenarios/default.yaml", "--counts", str(counts), "--out", str(out)]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "link_id = -5" in err[0] and "counts.csv" in err[0]
    assert not out.exists()


def test_od_adjustment_file_is_checked(tmp_path) -> None:
    from sim.mobility.calibrate import read_od_adjustment

    zones = pd.Index([10, 20, 30])
    path = tmp_path / "od_estimated.csv"
    path.write_text(
        "origin_zone,destination_zone,prior,estimated\n10,20,4,6\n20,10,0,0\n30,10,2,1\n"
    )
    factor = read_od_adjustment(path, zones)
    expected = np.ones((3, 3))
    expected[0, 1], expected[2, 0] = 1.5, 0.5  # estimated / prior; prior 0 keeps 1
    np.testing.assert_allclose(factor, expected)
    path.write_text("origin_zone,destination_zone,prior,estimated\n10,99,4,6\n")
    with pytest.raises(InputDataError, match=r"row 2, destination_zone = 99.*not a zone"):
        read_od_adjustment(path, zones)
    path.write_text("origin_zone,destination_zone,prior,estimated\n10,20,4,-1\n")
    with pytest.raises(InputDataError, match=r"row 2, estimated = -1"):
        read_od_adjustment(path, zones)


@pytest.mark.slow
def test_a_calibrated_run_reproduces_the_counts_better(tmp_path) -> None:
    # counts: the base run's busiest-hour flows on its 60 busiest city links, a fifth
    # higher (a demand the model misses); calibrate-demand --out, then the same scenario
    # with parameters.od_adjustment = the od_estimated.csv it wrote
    from _support import DEFAULT_CITY, write_scenario

    from sim.city import load_city
    from sim.cli import main
    from sim.runs.folder import read_run
    from sim.runs.run import load_for_run, run_scenario

    static = "parameters:\n  traffic_model: static\n"
    base = write_scenario(tmp_path, "base", static, years=1, replications=1)
    flows = read_run(run_scenario(load_for_run(base), tmp_path / "runs")).links
    city_links = flows["link_id"].isin(load_city(DEFAULT_CITY).links.index)  # no connectors
    busiest = flows[city_links].sort_values("flow", ascending=False).head(60)
    busiest = busiest.reset_index(drop=True)
    observed = busiest["flow"] * 1.2
    counts = pd.DataFrame(
        {
            "link_id": busiest["link_id"],
            "period_start": "07:00",
            "period_end": "08:00",
            "count": observed.round(),
        }
    )
    counts.to_csv(tmp_path / "counts.csv", index=False)
    calib = ["--counts", str(tmp_path / "counts.csv"), "--out", str(tmp_path / "calib")]
    rc = main(["calibrate-demand", str(base), *calib])
    assert rc == 0
    body = static + f"  od_adjustment: {tmp_path / 'calib' / 'od_estimated.csv'}\n"
    calibrated = write_scenario(tmp_path, "calibrated", body, years=1, replications=1)
    after = read_run(run_scenario(load_for_run(calibrated), tmp_path / "runs")).links
    counted = counts.set_index("link_id")["count"]
    fit = {}
    for name, links in (("before", flows), ("after", after)):
        modelled = links.set_index("link_id")["flow"].reindex(counted.index)
        fit[name] = geh(modelled.to_numpy(), counted.to_numpy())
    assert fit["after"].mean() < 0.7 * fit["before"].mean()
    assert (fit["after"] < 5).mean() > (fit["before"] < 5).mean()
