"""Traffic in every replication (``parameters.traffic_replications: all``).

The replications of a run share one road network with its access connectors
(:func:`sim.model.peak_roads`, built once per run) and run on worker processes
(:func:`sim.runs.run.replication_workers`): a replication must come out the same as when
it runs alone in this process on roads of its own, and the traffic KPIs then have a
p10-p90 band of their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _support import write_scenario

TRAFFIC_KPIS = ("vkt", "vht", "delay_vh")


@pytest.mark.slow
def test_every_replication_has_traffic_and_the_same_kpis_as_alone(tmp_path: Path) -> None:
    from sim.model import run_replication
    from sim.runs.run import prepare_run, run_scenario
    from sim.seeds import replication_seeds

    body = "parameters:\n  traffic_replications: all\n"
    scenario, city = prepare_run(write_scenario(tmp_path, "all", body, years=1))
    run = run_scenario(scenario, tmp_path / "runs", city=city, workers=2)
    kpis = pd.read_parquet(run / "kpis.parquet").set_index("replication")
    assert (kpis[list(TRAFFIC_KPIS)] > 0).all().all()  # both replications loaded traffic
    summary = pd.read_parquet(run / "kpis_summary.parquet").set_index("kpi")
    for name in TRAFFIC_KPIS:
        # two replications with their own demography and demand: a band of real width
        assert summary.loc[name, "p90"] > summary.loc[name, "p10"], name
    zones = pd.read_parquet(run / "zones_years.parquet")  # replication 0's, every year
    population = zones.groupby("year")["population"].sum()
    assert population.to_dict() == kpis.loc[[0]].set_index("year")["population"].to_dict()
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert not set(TRAFFIC_KPIS) & set(manifest["kpis_without_band"])
    assert manifest["traffic"]["replications"] == "all" and not manifest["traffic"]["sampled"]
    # each replication alone in this process on roads of its own (no shared network, no
    # worker) gives the very same KPIs, and replication 0 the very same link flows
    for rep, seed in enumerate(replication_seeds(scenario.seed, scenario.replications)):
        model = run_replication(scenario, city, seed, traffic=True)
        alone = model.kpi_frame()
        ran = kpis.loc[[rep]].reset_index(drop=True)[alone.columns]
        pd.testing.assert_frame_equal(ran, alone, check_dtype=False, check_exact=True)
        assert (ran["rel_gap"] <= scenario.parameters.assignment.rel_gap).all()
        if rep == 0:
            links = pd.concat(model.link_rows, ignore_index=True)
            pd.testing.assert_frame_equal(pd.read_parquet(run / "links.parquet"), links)


@pytest.mark.slow
def test_a_cancelled_run_on_workers_stops_them_and_writes_nothing(tmp_path: Path) -> None:
    import threading

    from sim.errors import RunCancelled
    from sim.runs.run import prepare_run, run_scenario

    body = "parameters:\n  traffic_replications: all\n"
    scenario, city = prepare_run(write_scenario(tmp_path, "all", body, years=3))
    cancel = threading.Event()
    stages = []

    def progress(p) -> None:
        stages.append(p.stage)
        if p.stage == "traffic":  # a worker has come this far: stop the run
            cancel.set()

    with pytest.raises(RunCancelled):
        run_scenario(scenario, tmp_path / "runs", city=city, progress=progress, cancel=cancel,
                     workers=2)  # fmt: skip
    assert "traffic" in stages and "writing" not in stages
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("all-*"))


@pytest.mark.parametrize(
    ("replications", "traffic", "cores", "workers"),
    [
        (5, "all", 2, 3),  # two rounds of 3 and 2 on 2 cores, not a third on one core
        (4, "all", 2, 2),
        (3, "all", 2, 3),
        (10, "all", 4, 5),
        (2, "all", 8, 2),
        (5, "1", 2, 1),  # one replication with traffic: the pool would not pay
        (5, "all", 1, 1),
    ],
)
def test_replication_workers_keep_the_cores_busy(
    tmp_path: Path, replications: int, traffic: str, cores: int, workers: int
) -> None:
    from sim.runs.run import replication_workers
    from sim.scenario import load_scenario

    body = f"parameters:\n  traffic_replications: {traffic}\n"
    path = write_scenario(tmp_path, "n", body, replications=replications)
    assert replication_workers(load_scenario(path), cores) == workers
