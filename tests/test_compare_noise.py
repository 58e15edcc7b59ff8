"""compare marks each KPI delta against the solver's noise and the replication band."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from _support import DEFAULT_CITY, write_scenario

from sim.city import load_city
from sim.kpis import NOISY_KPIS
from sim.runs.compare import (
    BEYOND,
    BEYOND_NOISE_NO_BAND,
    WITHIN_BAND,
    WITHIN_NOISE,
    compare_runs,
    effect_mark,
    kpi_table,
)
from sim.runs.folder import read_run
from sim.runs.run import load_for_run, run_scenario


def test_effect_marks() -> None:
    assert effect_mark(5.0, noise=10.0, band=50.0) == WITHIN_NOISE
    assert effect_mark(-20.0, noise=10.0, band=50.0) == WITHIN_BAND
    assert effect_mark(60.0, noise=10.0, band=50.0) == BEYOND
    assert effect_mark(60.0, noise=10.0, band=math.nan) == BEYOND_NOISE_NO_BAND
    assert effect_mark(0.0, noise=10.0, band=50.0) == ""  # no change
    assert effect_mark(60.0, noise=math.nan, band=50.0) == ""  # noise unknown: no claim


def _run(values: dict[str, tuple[float, float, float]]) -> SimpleNamespace:
    rows = [(2030, k, *v) for k, v in values.items()]
    summary = pd.DataFrame(rows, columns=["year", "kpi", "p10", "p50", "p90"])
    return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})


def test_noise_and_band_of_a_delta_add_both_runs() -> None:
    nan = math.nan
    base = _run(
        {
            "vkt": (nan, 1000.0, nan),
            "vkt_noise": (nan, 4.0, nan),
            "population": (990.0, 1000.0, 1010.0),  # band half-width 10
            "delay_vh": (nan, 50.0, nan),  # no noise reported: no mark
        }
    )
    variant = _run(
        {
            "vkt": (nan, 1007.0, nan),
            "vkt_noise": (nan, 4.0, nan),
            "population": (1005.0, 1015.0, 1025.0),  # +15: over the noise (0), under 10 + 10
            "delay_vh": (nan, 80.0, nan),
        }
    )
    table = kpi_table([base, variant], ["a", "b"]).set_index("kpi")["effect b"]
    assert table["vkt"] == WITHIN_NOISE  # 7 <= 4 + 4
    assert table["population"] == WITHIN_BAND
    assert table["delay_vh"] == ""
    assert "vkt_noise" not in table  # a <kpi>_noise marks its KPI and is no row of its own
    variant.kpis_summary.loc[variant.kpis_summary["kpi"] == "vkt", "p50"] = 1009.0
    assert kpi_table([base, variant], ["a", "b"]).set_index("kpi").loc["vkt", "effect b"] == (
        BEYOND_NOISE_NO_BAND
    )


# A lane more on a quiet link vs a cordon charge over the whole AM period, both from the
# base year, each against the same baseline (1 year, 1 replication: no band).
STATIC = "parameters:\n  traffic_model: static\n"  # the loop's noise describes the static peak
QUIET_LANE = "policies:\n  - {{type: lane_change, links: [{link}], lanes: {lanes}, year: 2024}}\n"
CORDON = (
    "policies:\n"
    "  - {type: congestion_charge, toll: 3000, cordon_zones: [74, 106, 107, 108, 112],"
    " year: 2024}\n"
)


@pytest.mark.slow
def test_a_tiny_policy_is_within_noise_and_a_charge_beyond(tmp_path: Path) -> None:
    def run(name: str, body: str) -> Path:
        path = write_scenario(tmp_path, name, STATIC + body, years=1, replications=1)
        return run_scenario(load_for_run(path), tmp_path / "runs")

    base = run("base", "")
    links = read_run(base).links.set_index("link_id")
    city_lanes = load_city(DEFAULT_CITY).links["lanes"]
    # a link with traffic far below its capacity (v/c 0.2-0.4): a lane more there barely
    # changes its time (BPR: 0.15 (v/c)^4 of free flow), so routes hardly move
    calm = links[links.index.isin(city_lanes.index) & links["vc"].between(0.2, 0.4)]
    quiet = int(calm["flow"].sort_values().index[len(calm) // 2])
    lanes = int(city_lanes.loc[quiet]) + 1
    tiny = run("tiny", QUIET_LANE.format(link=quiet, lanes=lanes))
    big = run("cordon", CORDON)
    comp = compare_runs([base, tiny, big], figures=False)
    table = comp.kpis.set_index("kpi")
    noisy = [k for k in NOISY_KPIS if k in table.index]
    tiny_marks = table.loc[noisy, "effect tiny"]
    moved = table.loc[noisy, "diff tiny"] != 0
    assert moved.any()  # the lane does change something, by less than the noise
    assert (tiny_marks[moved] == WITHIN_NOISE).all(), tiny_marks.to_dict()
    for kpi in ("car_trips", "car_trips_peak", "toll_revenue"):
        assert table.loc[kpi, "effect cordon"] in (BEYOND, BEYOND_NOISE_NO_BAND), kpi
    assert table.loc["car_trips", "diff cordon"] < 0
