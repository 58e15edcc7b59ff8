"""Honest KPI bands: a KPI that only one replication computed has no p10-p90 band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.runs.run import kpi_summary, unbanded_kpis


def _kpis() -> pd.DataFrame:
    # pupils in all three replications; vkt (traffic) in replication 0 only
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
