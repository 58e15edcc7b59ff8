"""``explain``: a school's demand as flows of children that add up to it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.cli import main as cli
from sim.education.explain import ADJUSTMENT, BASE_YEAR, COMPONENTS


def test_flows_add_up_to_demand_in_every_replication(finished_run):
    flows = pd.read_parquet(finished_run / "enrollment_flows.parquet")
    assert set(flows["component"]) <= {BASE_YEAR, *COMPONENTS}
    enrollment = pd.read_parquet(finished_run / "enrollment.parquet")
    n_rep = flows["replication"].nunique()
    assert n_rep == 2
    per = flows.groupby(["replication", "year", "school"])["pupils"].sum()
    # with two replications the median per grade is their mean: the mean flow sums match
    mean = per.groupby(["year", "school"]).mean()
    demand = enrollment.groupby(["year", "school"])["demand"].sum()
    joined = pd.concat([mean.rename("flows"), demand], axis=1).dropna()
    assert len(joined) == len(demand)
    assert (joined["flows"] - joined["demand"]).abs().max() < 1e-9
    later = flows[flows["year"] > flows["year"].min()]
    assert (later["component"] != BASE_YEAR).all()
    by = later.groupby("component")["pupils"].sum()
    assert by["carried_from_grade_below"] > 0 and by["entry_cohort"] > 0


def test_explain_json_sums_to_enrollment_demand(finished_run, capsys):
    enrollment = pd.read_parquet(finished_run / "enrollment.parquet")
    year = int(enrollment["year"].max())
    school = enrollment.loc[enrollment["year"] == year, "school"].iloc[0]
    args = ["explain", "--run", str(finished_run), "--school", school, "--year", str(year)]
    assert cli([*args, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["school"] == school and res["year"] == year
    want = enrollment.loc[
        (enrollment["school"] == school) & (enrollment["year"] == year), "demand"
    ].sum()
    assert res["demand"] == pytest.approx(want)
    assert sum(res["components"].values()) == pytest.approx(res["demand"], abs=0.011)
    assert set(res["components"]) == {*COMPONENTS, ADJUSTMENT}
    assert cli(args) == 0
    assert "carried_from_grade_below" in capsys.readouterr().out


def test_explain_unknown_school_or_year_exit_2(finished_run, capsys):
    base = ["explain", "--run", str(finished_run)]
    assert cli([*base, "--school", "NOPE", "--year", "2025"]) == 2
    assert "school" in capsys.readouterr().err
    assert cli([*base, "--school", "P01", "--year", "1990"]) == 2
    assert "year" in capsys.readouterr().err
