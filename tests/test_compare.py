"""Comparing runs (sim.runs.compare, `main.py compare`): KPI deltas, school pressure, flows."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _support import ROOT, write_scenario

from sim.errors import RunError
from sim.kpis import KPI_BY_NAME
from sim.runs.compare import (
    NEUTRAL_REL,
    _kpi_html,
    compare_runs,
    consumer_surplus,
    kpi_table,
    write_report,
)
from sim.runs.folder import read_run
from sim.runs.run import load_for_run, run_scenario

# The variant: a new primary school taking zones 82 and 132 from P24, and staggered school
# start times halving the peak's school trips, both from the second simulated year.
VARIANT = (
    "policies:\n"
    "  - {type: new_school, id: N01, level: primary, xy: [285843, 6684796],"
    " classes_per_grade: 4, year: 2025, zones: [82, 132]}\n"
    "  - {type: staggered_school_start, share_shifted: 0.5, year: 2025}\n"
)


@pytest.fixture(scope="module")
def variant_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("variant")
    path = write_scenario(folder, "variant", VARIANT, replications=1)
    return run_scenario(load_for_run(path), folder / "runs")


@pytest.fixture(scope="module")
def comparison(finished_run: Path, variant_run: Path):
    return compare_runs([finished_run, variant_run])


def _final_p50(run_dir: Path) -> pd.Series:
    run = read_run(run_dir)
    s = run.kpis_summary
    return s[s["year"] == run.manifest["end_year"]].set_index("kpi")["p50"]


def test_kpi_deltas_are_the_differences_of_the_summaries(
    comparison, finished_run: Path, variant_run: Path
) -> None:
    a, b = _final_p50(finished_run), _final_p50(variant_run)
    assert comparison.labels == ["short", "variant"]
    table = comparison.kpis.set_index("kpi")
    assert set(table.index) <= set(a.index)
    assert {"population", "vkt", "car_trips_peak", "max_utilisation"} <= set(table.index)
    for kpi in table.index:
        np.testing.assert_allclose(table.loc[kpi, "short"], a[kpi], err_msg=kpi)
        np.testing.assert_allclose(table.loc[kpi, "variant"], b[kpi], err_msg=kpi)
        np.testing.assert_allclose(table.loc[kpi, "diff variant"], b[kpi] - a[kpi], err_msg=kpi)
        if a[kpi] != 0 and np.isfinite(a[kpi]):
            rel = 100 * (b[kpi] - a[kpi]) / abs(a[kpi])  # a negative logsum: sign of the change
            np.testing.assert_allclose(table.loc[kpi, "rel % variant"], rel, err_msg=kpi)


def test_better_follows_the_direction_of_each_kpi(comparison) -> None:
    table = comparison.kpis.set_index("kpi")
    # staggered start moved school trips out of the peak: fewer car trips, fewer vkt
    assert table.loc["car_trips_peak", "diff variant"] < 0
    assert table.loc["vkt", "diff variant"] < 0
    assert table.loc["vkt", "better variant"] == "better"
    assert table.loc["car_trips_peak", "better variant"] == "better"  # fewer cars in the peak
    for kpi, row in table.iterrows():
        base, diff = row["short"], row["diff variant"]
        info = KPI_BY_NAME[kpi]
        if info.diagnostic:  # solver diagnostics are never judged, NaN (static due_gap) or not
            assert row["better variant"] == "", kpi
            continue
        if not np.isfinite(diff) or diff == 0 or (base != 0 and abs(diff / base) < NEUTRAL_REL):
            assert row["better variant"] == "same", kpi
            continue
        if info.direction is None:
            assert row["better variant"] == ("up" if diff > 0 else "down"), kpi
        else:
            lower = info.direction == "lower"
            assert row["better variant"] == ("better" if (diff < 0) == lower else "worse"), kpi


def test_change_from_a_zero_baseline_is_coloured() -> None:
    def run(values: dict[str, float]) -> SimpleNamespace:
        summary = pd.DataFrame({"year": 2030, "kpi": list(values), "p50": list(values.values())})
        return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})

    base = run({"overflow_pupils": 0.0, "vkt": 0.0, "population": 0.0})
    variant = run({"overflow_pupils": 120.0, "vkt": 0.0, "population": 5.0})
    table = kpi_table([base, variant], ["a", "b"]).set_index("kpi")
    assert table.loc["overflow_pupils", "better b"] == "worse"  # 0 -> 120 overflowing pupils
    assert table.loc["population", "better b"] == "up"  # a count: neither better nor worse
    assert table.loc["vkt", "better b"] == "same"
    assert np.isnan(table.loc["overflow_pupils", "rel % b"])


def test_school_pressure_shows_the_new_school_relieving_p24(comparison) -> None:
    e = comparison.enrollment.set_index("school_id")
    assert np.isnan(e.loc["N01", "short"]) and e.loc["N01", "variant"] > 0
    assert e.loc["P24", "change variant"] < 0
    np.testing.assert_allclose(e["change variant"].dropna(), (e["variant"] - e["short"]).dropna())


def test_link_differences_match_the_link_tables(
    comparison, finished_run: Path, variant_run: Path
) -> None:
    links = comparison.links.set_index("link_id")

    def flows(run_dir: Path) -> pd.Series:
        li = read_run(run_dir).links
        return li[li["year"] == li["year"].max()].set_index("link_id")["flow"]

    a, b = flows(finished_run), flows(variant_run)
    np.testing.assert_allclose(links["diff variant"], (b - a).reindex(links.index).fillna(0.0))
    assert (links["diff variant"] != 0).any()
    assert links.loc[a.idxmax(), "short"] == a.max()


def test_report_has_the_kpi_table_and_embedded_figures(comparison, tmp_path: Path) -> None:
    out = write_report(comparison, tmp_path / "sub" / "report.html")
    text = out.read_text(encoding="utf-8")
    for kpi in comparison.kpis["kpi"]:
        assert f"<td>{kpi}</td>" in text, kpi
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) >= 2  # the KPI series and the flow-difference map
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert f"<td>{comparison.enrollment.iloc[0, 0]}</td>" in text  # the most pressed school
    assert not list(out.parent.glob(".*.tmp"))


def test_report_shows_the_am_profiles_side_by_side(comparison, tmp_path: Path) -> None:
    # issue 14: "compare shows the AM profile (departures and network speed by 15 minutes)"
    text = write_report(comparison, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "AM profile" in text
    section = text.split("AM profile", 1)[1]
    image = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", section)
    assert image and base64.b64decode(image.group(1))[:8] == b"\x89PNG\r\n\x1a\n"


def test_noise_kpis_mark_effects_but_are_no_rows(comparison, tmp_path: Path) -> None:
    assert not comparison.kpis["kpi"].str.endswith("_noise").any()
    assert "effect variant" in comparison.kpis.columns
    text = write_report(comparison, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "_noise</td>" not in text


def test_rel_change_of_a_negative_kpi_is_against_its_magnitude() -> None:
    def run(value: float) -> SimpleNamespace:
        summary = pd.DataFrame({"year": 2030, "kpi": ["accessibility_logsum"], "p50": [value]})
        return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})

    table = kpi_table([run(-2000.0), run(-2010.0)], ["a", "b"]).set_index("kpi")
    # 10 money units less of a -2000 logsum: half a percent down, a loss
    assert table.loc["accessibility_logsum", "rel % b"] == pytest.approx(-0.5)


def test_consumer_surplus_is_the_logsum_change_times_the_am_trips(comparison, tmp_path) -> None:
    surplus = consumer_surplus(comparison).set_index("run")
    first = comparison.runs[0].am_profile
    trips = first.loc[first["year"] == first["year"].max(), "departures"].sum()
    a, b = (_final_p50(r.path)["accessibility_logsum"] for r in comparison.runs)
    assert surplus.loc["variant", "am_trips"] == trips > 0
    assert surplus.loc["variant", "consumer_surplus_change"] == pytest.approx((b - a) * trips)
    text = write_report(comparison, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Change in consumer surplus, AM period (logsum, in money)" in text


def test_compare_needs_two_complete_runs(finished_run: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="at least two runs, got 1"):
        compare_runs([finished_run])
    with pytest.raises(RunError, match="not a complete run folder"):
        compare_runs([finished_run, tmp_path])
    broken = shutil.copytree(finished_run, tmp_path / "broken")
    (broken / "kpis.parquet").write_bytes(b"not parquet")
    with pytest.raises(RunError, match=r"broken: a run file is unreadable"):
        compare_runs([finished_run, broken])


@pytest.mark.slow
def test_cli_compare_writes_report_and_flow_png(
    finished_run: Path, variant_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "compare", str(finished_run), str(variant_run),
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in text
    assert "<td>vkt</td>" in text and "<td>population</td>" in text
    for name in ("flow_diff_variant", "am_profile"):
        png = tmp_path / f"report_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "vkt" in proc.stdout and str(out.resolve()) in proc.stdout


# Directions stated independently of the registry: what a planner reads as good or bad.
PLANNER_DIRECTIONS = {
    "population": None,
    "births": None,
    "pupils_primary": None,
    "pupils_junior": None,
    "overflow_pupils": "lower",
    "vkt": "lower",
    "delay_vh": "lower",
    "capacity_primary": "higher",
}


def test_registry_directions_match_the_planner_reading() -> None:
    for name, direction in PLANNER_DIRECTIONS.items():
        assert KPI_BY_NAME[name].direction == direction, name
    for name in ("rel_gap", "assignment_iterations"):
        assert KPI_BY_NAME[name].diagnostic, name


def test_counts_and_diagnostics_are_never_coloured() -> None:
    def run(values: dict[str, float]) -> SimpleNamespace:
        summary = pd.DataFrame({"year": 2030, "kpi": list(values), "p50": list(values.values())})
        return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030})

    base = run({"population": 1000.0, "births": 10.0, "rel_gap": 1e-3,
                "assignment_iterations": 10.0, "vkt": 100.0})  # fmt: skip
    variant = run({"population": 1500.0, "births": 5.0, "rel_gap": 1e-4,
                   "assignment_iterations": 30.0, "vkt": 150.0})  # fmt: skip
    table = kpi_table([base, variant], ["a", "b"]).set_index("kpi")
    assert table.loc["population", "better b"] == "up"
    assert table.loc["births", "better b"] == "down"
    assert table.loc["rel_gap", "better b"] == ""
    assert table.loc["assignment_iterations", "better b"] == ""
    assert table.loc["vkt", "better b"] == "worse"
    html_rows = _kpi_html(table.reset_index()).split("<tr>")[2:]
    coloured = {
        row.split("</td>")[0].removeprefix("<td>") for row in html_rows if "background" in row
    }
    assert coloured == {"vkt"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (461_900.0, "461,900"),  # a population, never 4.619e+05
        (3_638.0, "3,638"),
        (657.0, "657"),  # a count stays whole
        (2.178, "2.178"),
        (0.8727, "0.8727"),
        (13.012, "13.01"),
        (-753.4, "-753.4"),
        (0.0008488, "0.000849"),  # a solver gap keeps its digits
        (float("nan"), "n/a"),
    ],
)
def test_kpi_values_read_as_people_write_them(value, text):
    from sim.kpis import format_number

    assert format_number(value) == text
