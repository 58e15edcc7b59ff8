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


def test_recorder_classifies_each_child_by_hand():
    from types import SimpleNamespace as NS

    import numpy as np

    from sim.education.explain import FlowRecorder
    from sim.kernels.demography import BORN, IN_MIGRANT, MOVED, NEW_HOUSING_OUTSIDE

    a, b, j = 0, 1, 2  # primary A, primary B (grades 1-6), junior J (7-9)
    system = NS(entry_age=6, n_grades=9, cutoff_month=8, level=np.array([0, 0, 1]))
    teaches = np.zeros((3, 9), dtype=bool)
    teaches[[a, b], :6] = True
    teaches[j, 6:] = True
    last_year = np.zeros((3, 9), dtype=np.int64)
    last_year[a, 1] = 3  # c1, c2 and a child who has since died, in grade 2
    last_year[a, 5] = 1  # c7, grade 6: moves on to junior
    last_year[b, 3] = 1  # c6, seated at B by overflow (its first school was A)
    last_year[b, 2] = 1  # c8, moves home this year
    ids = ["A", "B", "J"]
    rec = FlowRecorder()
    rec.record(2024, None, None, None, NS(school_id=ids, demand=last_year, enrolled=last_year,
                                          teaches=teaches), system)  # fmt: skip
    #        c1  c2  c3  c4          c5                   c6  c7  c8
    grade = [2, 2, 0, 3, 1, 4, 6, 3]
    persons = NS(
        age=np.array(grade) + 6,
        birth_month=np.ones(8, dtype=int),
        first_school=np.array([a, b, a, a, b, a, j, a]),
        arrival=np.array([BORN, BORN, BORN, IN_MIGRANT, NEW_HOUSING_OUTSIDE, BORN, BORN, MOVED]),
        arrival_year=np.array([-1, -1, -1, 2025, 2025, -1, -1, 2025]),
    )
    prev_school = np.array([a, a, -1, -1, -1, b, a, b])
    prev_first = np.array([a, a, -1, -1, -1, a, a, b])
    now = NS(school_id=ids, demand=np.zeros((3, 9)), enrolled=np.zeros((3, 9)), teaches=teaches)
    got = rec.record(2025, persons, prev_school, prev_first, now, system)
    table = got.pivot(index="school", columns="component", values="pupils")
    want = {
        "A": {"carried_from_grade_below": 3, "entry_cohort": 1, "net_migration": 0,
              "moves_within_city": 1, "catchment_or_policy_change": -1, "overflow": 1},
        "B": {"carried_from_grade_below": 2, "new_housing": 1, "catchment_or_policy_change": 1,
              "overflow": -1, "moves_within_city": -1, "net_migration": 0},
        "J": {"entry_cohort": 1},
    }  # fmt: skip
    for school, comps in want.items():
        for name, value in comps.items():
            assert table.loc[school, name] == value, (school, name)
    assert table.sum(axis=1).to_dict() == {"A": 5, "B": 2, "J": 1}  # the demand of each
