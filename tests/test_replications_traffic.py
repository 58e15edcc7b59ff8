"""Traffic in every replication (``parameters.traffic_replications: all``).

The replications of a run share one road network with its access connectors
(:func:`sim.model.peak_roads`, built once per run): a replication must come out the same
as when it builds its own, and the traffic KPIs then have a p10-p90 band of their own.
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
    run = run_scenario(scenario, tmp_path / "runs", city=city)
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
    # replication 1 on roads of its own (no shared network) gives the very same KPIs
    seed = replication_seeds(scenario.seed, scenario.replications)[1]
    alone = run_replication(scenario, city, seed, traffic=True).kpi_frame()
    ran = kpis.loc[[1]].reset_index(drop=True)[alone.columns]
    pd.testing.assert_frame_equal(ran, alone, check_dtype=False)
    assert (ran["rel_gap"] <= scenario.parameters.assignment.rel_gap).all()
