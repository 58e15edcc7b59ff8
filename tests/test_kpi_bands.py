"""Honest KPI bands: a KPI that only one replication computed has no p10-p90 band.

Traffic runs in the first ``parameters.traffic_replications`` replications (the schema's
default 1 leaves its KPIs without band; the shipped default scenario sets ``all``, which
gives the traffic KPIs a band of their own).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from _support import write_scenario

from sim.runs.run import kpi_summary, unbanded_kpis


def _kpis() -> pd.DataFrame:
    # pupils in all three replications; vkt in replication 0 only (as if one had traffic)
    return pd.DataFrame(
        {
            "year": [2024, 2024, 2024, 2025, 2025, 2025],
            "replication": [0, 1, 2, 0, 1, 2],
            "pupils": [100.0, 110.0, 120.0, 101.0, 111.0, 121.0],
            "vkt": [5.0, np.nan, np.nan, 6.0, np.nan, np.nan],
        }
    )


def test_single_replication_kpi_has_no_band() -> None:
    s = kpi_summary(_kpis()).set_index(["year", "kpi"])
    vkt = s.loc[(2025, "vkt")]
    assert vkt["p50"] == 6.0
    assert np.isnan(vkt["p10"]) and np.isnan(vkt["p90"])  # not a zero-width band
    pupils = s.loc[(2024, "pupils")]
    # linear interpolation between 100, 110, 120 at 0.1 / 0.9
    assert (pupils["p10"], pupils["p50"], pupils["p90"]) == (102.0, 110.0, 118.0)


def test_manifest_names_the_kpis_without_band() -> None:
    assert unbanded_kpis(_kpis()) == ["vkt"]
    one = _kpis()[_kpis()["replication"] == 0]
    assert unbanded_kpis(one) == ["pupils", "vkt"]


def test_the_default_scenario_has_traffic_in_every_replication(finished_run: Path) -> None:
    # the short scenario extends scenarios/default.yaml (traffic_replications: all)
    kpis = pd.read_parquet(finished_run / "kpis.parquet").set_index("replication")
    assert (kpis.loc[0, "vkt"] > 0).all() and (kpis.loc[1, "vkt"] > 0).all()
    assert (kpis.loc[0, "vkt"].to_numpy() != kpis.loc[1, "vkt"].to_numpy()).any()  # own demand
    manifest = json.loads((finished_run / "manifest.json").read_text(encoding="utf-8"))
    assert "vkt" not in manifest["kpis_without_band"]
    assert manifest["traffic"]["replications"] == "all" and not manifest["traffic"]["sampled"]
    band = kpi_summary(kpis.reset_index()).set_index("kpi").loc["vkt"]
    assert (band["p90"] > band["p10"]).all()


def test_traffic_in_the_first_replication_only_is_said_to_be_sampled(tmp_path: Path) -> None:
    from sim.runs.run import load_for_run, run_scenario

    body = "parameters:\n  traffic_replications: 1\n"
    run = run_scenario(load_for_run(write_scenario(tmp_path, "one", body, years=1)), tmp_path)
    kpis = pd.read_parquet(run / "kpis.parquet").set_index("replication")
    first, second = kpis.loc[[0], "vkt"], kpis.loc[[1], "vkt"]
    assert (first > 0).all() and second.isna().all()
    assert kpis["pupils_primary"].notna().all()
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert "vkt" in manifest["kpis_without_band"]
    assert manifest["traffic"]["replications"] == 1 and manifest["traffic"]["sampled"]


def test_sampling_follows_traffic_replications(short_scenario: Path) -> None:
    from sim.runs.run import load_for_run, traffic_replications, traffic_sampling

    scenario = load_for_run(short_scenario)
    assert traffic_replications(scenario) == scenario.replications == 2
    assert traffic_sampling(scenario)["replications"] == "all"
    assert not traffic_sampling(scenario)["sampled"]
    one = scenario.model_copy(deep=True)
    one.parameters.traffic_replications = 1
    assert traffic_replications(one) == 1 and traffic_sampling(one)["sampled"]
