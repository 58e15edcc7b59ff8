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
