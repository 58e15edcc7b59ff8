"""Honest KPI bands: a KPI that only one replication computed has no p10-p90 band.

Traffic runs in the first ``parameters.traffic_replications`` replications (1 by
default, so its KPIs have no band); ``all`` gives the traffic KPIs a band of their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

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


def test_by_default_only_the_first_replication_has_traffic(finished_run: Path) -> None:
    kpis = pd.read_parquet(finished_run / "kpis.parquet").set_index("replication")
    assert (kpis.loc[0, "vkt"] > 0).all() and kpis.loc[1, "vkt"].isna().all()
    assert kpis["pupils_primary"].notna().all()
    manifest = json.loads((finished_run / "manifest.json").read_text(encoding="utf-8"))
    assert "vkt" in manifest["kpis_without_band"]
    assert manifest["traffic"]["replications"] == 1 and manifest["traffic"]["sampled"]


def test_all_replications_with_traffic_is_not_sampled(short_scenario: Path) -> None:
    from sim.runs.run import load_for_run, traffic_replications, traffic_sampling

    scenario = load_for_run(short_scenario)
    data = scenario.model_copy(deep=True)
    data.parameters.traffic_replications = "all"
    assert traffic_replications(scenario) == 1
    assert traffic_replications(data) == scenario.replications == 2
    assert traffic_sampling(data)["replications"] == "all"
    assert not traffic_sampling(data)["sampled"]
