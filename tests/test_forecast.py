"""Enrollment forecasts (sim.education.forecast, sim.education.forecast_methods) and their CLI."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main as cli
from sim.education import forecast_methods as fm
from sim.education.forecast import backtest, forecast
from sim.education.panel import load_history
from sim.errors import InputDataError

DATA = Path(__file__).resolve().parent / "data"
HISTORY = DATA / "forecast_history.csv"
BIRTHS = DATA / "forecast_births.csv"
NYC = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "enrollment"


def write(tmp_path: Path, rows: list[tuple], name: str = "h.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["entity", "grade", "year", "enrollment"]).to_csv(path, index=False)
    return path


def cohort_rows(entity: str, entries: dict[int, float], ratios: list[float], first: list[float]):
    """History of grades K..len(ratios) with exact ratios; ``first`` is year-0 grades 1..."""
    years = sorted(entries)
    rows, prev = [], None
    for y in years:
        cur = [entries[y]]
        for g in range(1, len(ratios) + 1):
            cur.append(first[g - 1] if prev is None else prev[g - 1] * ratios[g - 1])
        rows += [(entity, g, y, v) for g, v in enumerate(cur)]
        prev = cur
    return rows


# --- exact cases -----------------------------------------------------------------------

RATIOS = [0.9, 1.05, 1.0, 0.95]


def test_gpr_reproduces_constant_ratios_and_holds_entry(tmp_path):
    entries = {2014: 70.0, 2015: 100.0, 2016: 120.0, 2017: 90.0, 2018: 111.0}
    rows = cohort_rows("a", entries, RATIOS, [60.0, 66.0, 64.0, 61.0])
    panel = load_history(write(tmp_path, rows))
    fc = fm.gpr(panel, 4)
    last = panel.counts[0, -1]
    k_held = (120.0 + 90.0 + 111.0) / 3  # mean of the last three years
    for h in range(1, 5):
        for g in range(5):
            # the cohort now in grade g-h (or the held entry) times the ratios it passes
            start = last[g - h] if g >= h else k_held
            want = start * np.prod(RATIOS[max(g - h, 0) : g])
            assert fc[0, h - 1, g] == pytest.approx(want, rel=1e-12)


def test_shrunk_reproduces_constant_ratios_with_flat_entry(tmp_path):
    entries = dict.fromkeys(range(2013, 2019), 100.0)
    rows = cohort_rows("a", entries, RATIOS, [80.0, 90.0, 95.0, 85.0])
    rows += cohort_rows("b", {y: 2 * v for y, v in entries.items()}, RATIOS, [150.0] * 4)
    panel = load_history(write(tmp_path, rows))
    fc = fm.shrunk(panel, 3)
    steady = 100.0 * np.cumprod([1.0, *RATIOS])
    np.testing.assert_allclose(fc[0, 2, :5], steady, rtol=1e-10)  # all cohorts from held K
    np.testing.assert_allclose(fc[1, 2, :5], 2 * steady, rtol=1e-10)
    assert not fc[:, :, 5:].any()  # grades the schools do not teach stay empty


def test_births_method_follows_births(tmp_path):
    # K is exactly 0.8 x births five years earlier; births fall 30 % in the future years
    births = {y: 1000.0 if y < 2014 else 700.0 for y in range(2005, 2020)}
    entries = {y: 0.8 * births[y - 5] for y in range(2013, 2019)}
    rows = cohort_rows("a", entries, RATIOS, [800.0] * 4)
    bpath = tmp_path / "b.csv"
    pd.DataFrame({"entity": "a", "year": list(births), "births": list(births.values())}).to_csv(
        bpath, index=False
    )
    panel = load_history(write(tmp_path, rows), bpath)
    k = fm.births(panel, 2)[0, :, 0]
    np.testing.assert_allclose(k, [560.0, 560.0])
    assert fm.shrunk(panel, 2)[0, 0, 0] > 700.0  # without births it cannot see the drop


def test_hard_cases_open_close_phase_in_tiny(tmp_path):
    rows = []
    # a middle school phasing in: grade 6 in 2017, 6-7 in 2018 -> 8 opens in 2019
    rows += [("mid", 6, 2017, 100), ("mid", 6, 2018, 110), ("mid", 7, 2018, 95)]
    # a school phasing out from the bottom: K dropped in 2018, so grade 1 empties next
    rows += [("out", g, y, 30) for y in (2016, 2017) for g in (0, 1, 2)]
    rows += [("out", g, 2018, 30) for g in (1, 2)]
    # a school that opened last year with one year of data, and a tiny one
    rows += [("new", 0, 2018, 40), ("new", 1, 2018, 35)]
    rows += [("tiny", g, y, 1) for y in (2016, 2017, 2018) for g in (0, 1)]
    # a school that closed before the last year is not forecast
    rows += [("gone", 0, y, 50) for y in (2015, 2016)]
    # ordinary schools beside them give the band its past errors
    rows += synthetic(10, 6, np.random.default_rng(2), start=2013)
    panel = load_history(write(tmp_path, rows))
    with pytest.warns(UserWarning, match="1 entities have no rows in the last year 2018"):
        out = forecast(panel, 2, "shrunk")
    assert "gone" not in set(out["entity"])
    mid = out[(out["entity"] == "mid") & (out["year"] == 2020)].set_index("grade")
    assert set(mid.index) == {"6", "7", "8"}
    assert mid.loc["8", "forecast"] > 50
    gone_by = out[(out["entity"] == "out") & (out["grade"] == "1")]
    assert gone_by["forecast"].tolist() == [0.0, 0.0]
    new = out[out["entity"] == "new"]
    assert np.isfinite(new["forecast"]).all() and (new["forecast"] > 0).all()
    assert (out["p10"] <= out["forecast"] + 1e-9).all() and (out["forecast"] <= out["p90"]).all()


@pytest.mark.filterwarnings("ignore:too few past forecast errors")
def test_zero_padded_grades_change_nothing(tmp_path):
    rows = [("mid", g, y, 100.0 + y - 2014 + g) for y in range(2014, 2019) for g in (6, 7, 8)]
    padded = rows + [("mid", g, y, 0) for y in range(2014, 2019) for g in (0, 1, 2, 3, 4, 5)]
    plain = forecast(load_history(write(tmp_path, rows, "plain.csv")), 2)
    pad = forecast(load_history(write(tmp_path, padded, "pad.csv")), 2)
    taught = pad[pad["grade"].isin(["6", "7", "8"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        taught[["entity", "grade", "year", "forecast"]],
        plain[["entity", "grade", "year", "forecast"]],
    )
    assert (pad.loc[~pad["grade"].isin(["6", "7", "8"]), "forecast"] == 0).all()
    assert len(pad) == 2 * 9  # listed rows are forecast, as zeros


# --- bands ----------------------------------------------------------------------------


def synthetic(n: int, years: int, rng: np.random.Generator, start: int = 2000) -> list[tuple]:
    """Schools K-5 with lognormal noise on entries (10 %) and on ratios (4 %)."""
    rows = []
    for e in range(n):
        size = rng.uniform(30, 300)
        cur = size * np.ones(6)
        for y in range(start, start + years):
            nxt = np.empty(6)
            nxt[0] = size * np.exp(rng.normal(0, 0.10))
            nxt[1:] = cur[:-1] * 0.98 * np.exp(rng.normal(0, 0.04, 5))
            cur = np.round(nxt)
            rows += [(f"s{e}", g, y, cur[g]) for g in range(6)]
    return rows


def test_band_left_empty_with_warning_when_history_is_short(tmp_path):
    panel = load_history(write(tmp_path, GOOD))
    with pytest.warns(UserWarning, match="too few past forecast errors"):
        out = forecast(panel, 1)
    assert out["p10"].isna().all() and out["p90"].isna().all()
    assert out["forecast"].notna().all()


@pytest.mark.parametrize("method", ["gpr", "shrunk"])
def test_band_coverage_near_80_percent(tmp_path, method):
    panel = load_history(write(tmp_path, synthetic(150, 9, np.random.default_rng(3))))
    res = backtest(panel, 2, methods=[method])
    for h in (1, 2):
        assert 0.72 <= res.coverage[method][h] <= 0.88, res.coverage


# --- CLI ------------------------------------------------------------------------------


def test_cli_forecast_round_trip(tmp_path, capsys):
    out = tmp_path / "f.csv"
    args = ["forecast", "--history", str(HISTORY), "--horizon", "3", "--out", str(out)]
    assert cli(args) == 0
    table = pd.read_csv(out, dtype={"grade": str})
    assert list(table.columns) == ["entity", "grade", "year", "forecast", "p10", "p90"]
    hist = pd.read_csv(HISTORY, dtype={"grade": str})
    last = hist[hist["year"] == hist["year"].max()]
    want = {
        (e, g, y)
        for e, g in zip(last["entity"], last["grade"], strict=True)
        for y in (2021, 2022, 2023)
    }
    assert set(zip(table["entity"], table["grade"], table["year"], strict=True)) == want
    assert (table["p10"] <= table["forecast"]).all() and (table["forecast"] <= table["p90"]).all()
    births_out = tmp_path / "b.csv"
    args = ["forecast", "--history", str(HISTORY), "--births", str(BIRTHS), "--horizon", "2"]
    assert cli([*args, "--method", "births", "--out", str(births_out)]) == 0
    assert len(pd.read_csv(births_out)) == len(last) * 2


def test_cli_backtest_json(capsys):
    assert (
        cli(
            [
                "backtest",
                "--history",
                str(HISTORY),
                "--births",
                str(BIRTHS),
                "--horizon",
                "2",
                "--json",
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert set(res["gpr"]) == {"1", "2"}
    assert {"gpr", "shrunk", "births", "by_grade", "coverage"} <= set(res)
    assert set(res["by_grade"]["gpr"]) == {"K", "1", "2", "3", "4", "5", "6", "7", "8"}
    assert cli(["backtest", "--history", str(HISTORY), "--horizon", "1"]) == 0
    assert "MAPE" in capsys.readouterr().out


def test_backtest_skips_short_entities_with_warning(tmp_path, capsys):
    rows = [*synthetic(5, 6, np.random.default_rng(1)), ("young", 0, 2005, 10)]
    path = write(tmp_path, rows)
    assert cli(["backtest", "--history", str(path), "--horizon", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "skips 1 entities" in captured.err and "young" in captured.err
    assert json.loads(captured.out)["n_entities"] == 5


GOOD = [("a", "K", 2018, 10), ("a", "1", 2018, 9), ("a", "K", 2019, 11), ("a", "1", 2019, 10)]


@pytest.mark.parametrize(
    ("rows", "columns", "expect"),
    [
        (GOOD, ["entity", "grade", "year", "pupils"], "missing column(s) enrollment"),
        ([*GOOD[:3], ("a", "1", 2019, -3)], None, "value '-3'; allowed: a count >= 0"),
        ([*GOOD[:3], ("a", "1", 2019, "ten")], None, "column enrollment: value 'ten'"),
        ([*GOOD[:3], ("a", "1", "2019.5", 3)], None, "column year: value '2019.5'"),
        ([*GOOD[:3], ("a", "1", "2019-20", 3)], None, "an integer year"),
        ([*GOOD, ("a", "PK", 2019, 3)], None, "grade: value 'PK'; allowed: K or 0"),
        ([*GOOD, ("a", "13", 2019, 3)], None, "value '13'"),
        ([*GOOD, ("a", "0", 2019, 3)], None, "duplicate row for (entity=a, grade=0, year=2019)"),
        ([*GOOD, ("a", "K", 2021, 3)], None, "entity 'a' has a gap in its years: no rows for 2020"),
        ([("", "K", 2019, 3)], None, "column entity"),
    ],
)
def test_bad_history_exit_2(tmp_path, capsys, rows, columns, expect):
    path = tmp_path / "bad.csv"
    df = pd.DataFrame(rows, columns=["entity", "grade", "year", "enrollment"])
    if columns:
        df.columns = columns
    df.to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"bad\.csv"):
        load_history(path)
    out = tmp_path / "o.csv"
    assert cli(["forecast", "--history", str(path), "--horizon", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expect in err and str(path) in err
    assert err.count("\n") == 1 and not out.exists()


def test_bad_horizon_births_and_files_exit_2(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    base = ["forecast", "--history", str(path), "--out", str(tmp_path / "o.csv")]
    assert cli([*base, "--horizon", "0"]) == 2
    assert "horizon 0 is not allowed" in capsys.readouterr().err
    assert cli(["backtest", "--history", str(path), "--horizon", "-1"]) == 2
    assert "horizon -1" in capsys.readouterr().err
    births = tmp_path / "births.csv"
    births.write_text("entity,year,births\na,2014,-5\n")
    assert cli([*base, "--horizon", "1", "--births", str(births), "--method", "births"]) == 2
    assert "births.csv: line 2, column births: value '-5'" in capsys.readouterr().err
    assert cli([*base, "--horizon", "1", "--method", "births"]) == 2
    assert "needs --births" in capsys.readouterr().err
    assert cli([*base[:2], str(tmp_path / "nope.csv"), *base[3:], "--horizon", "1"]) == 2
    assert "nope.csv: history file not found" in capsys.readouterr().err
    (tmp_path / "empty.csv").write_text("")
    assert cli([*base[:2], str(tmp_path / "empty.csv"), *base[3:], "--horizon", "1"]) == 2
    assert "cannot read" in capsys.readouterr().err
    # too short for a backtest: one year of history plus one held out
    assert cli(["backtest", "--history", str(path), "--horizon", "1"]) == 2
    assert "backtest needs 3 history years" in capsys.readouterr().err


# --- real data: NYC -------------------------------------------------------------------


def nyc(tmp_path: Path, level: str = "district"):
    """The NYC wide table of ``level`` converted by the bench script and loaded."""
    if not (NYC / "nyc_district_enrollment_by_grade_2013_2020.csv").exists():
        pytest.skip("NYC enrollment benchmark data not present")
    bench = Path(__file__).resolve().parents[1] / "bench" / "nyc_enrollment.py"
    spec = importlib.util.spec_from_file_location("nyc_enrollment", bench)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if level == "district":
        long = mod.wide_to_long(NYC / mod.DISTRICTS, "district")
    else:
        long = mod.wide_to_long(NYC / mod.SCHOOLS, "dbn")
    path = tmp_path / f"{level}.csv"
    long.to_csv(path, index=False)
    return load_history(path)


def test_gpr_matches_published_baseline_on_nyc_districts(tmp_path):
    # SOURCE.md: community school districts 01-32, 1-yr MAPE of plain GPR by base year
    panel = nyc(tmp_path)
    csd = panel.select(np.array([int(e) <= 32 for e in panel.entities]))
    want = {2015: 1.055, 2016: 1.182, 2017: 1.867, 2018: 1.513, 2019: 2.106}
    for origin, mape in want.items():
        got = backtest(csd, 1, methods=["gpr"], origin=origin).mape["gpr"][1]
        assert got == pytest.approx(mape, abs=0.001)


def test_default_beats_gpr_on_nyc_districts(tmp_path):
    panel = nyc(tmp_path)
    res = backtest(panel, 2)
    default = fm.DEFAULT_METHOD
    assert default != "gpr"
    for h in (1, 2):
        assert res.mape[default][h] < res.mape["gpr"][h], res.mape
    assert 0.65 <= res.coverage[default][1] <= 0.95


def test_default_beats_gpr_on_nyc_schools(tmp_path):
    panel = nyc(tmp_path, "school")
    assert len(panel.entities) > 1800
    with pytest.warns(UserWarning, match="backtest skips"):  # schools that opened or closed
        res = backtest(panel, 2)
    for h in (1, 2):
        assert res.mape[fm.DEFAULT_METHOD][h] < 0.9 * res.mape["gpr"][h], res.mape
        assert 0.75 <= res.coverage[fm.DEFAULT_METHOD][h] <= 0.85
