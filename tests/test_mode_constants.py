"""``parameters.mode_constants`` and ``calibrate-demand --out DIR/calibrated.yaml``.

Expectations come from the observed shares the tests give (the CSV a user would write),
not from the model's own constants.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from _support import ROOT
from test_demand import _city, _dist, _skims, _table

from sim.errors import ScenarioError
from sim.mobility.calibrate import calibrated_scenario, mode_constant_shifts
from sim.mobility.demand import TravelDemand
from sim.scenario import Parameters, load_scenario

FAMILIES = ("car", "pt", "walk", "bike")


def _shares(constants: dict[str, float] | None = None) -> dict[str, float]:
    params = Parameters(mode_constants=constants or {})
    demand = TravelDemand(_city(), params, _dist())
    table = _table(demand)
    kpis = demand.choose(table, _skims(congestion=1.2)).kpis
    return {m: kpis[f"mode_share_{m}"] for m in FAMILIES}


def test_one_shift_step_moves_every_share_toward_the_observed_one() -> None:
    before = _shares()
    # an observed split unlike the model's: half the car share moved to the bus and bike
    car = before["car"] / 2
    observed = {"car": car, "pt": before["pt"] + car * 0.7, "walk": before["walk"]}
    observed["bike"] = 1.0 - sum(observed.values())
    after = _shares(mode_constant_shifts(observed, before))
    for m in ("car", "pt", "bike"):
        assert abs(after[m] - observed[m]) < 0.5 * abs(before[m] - observed[m]), m
    assert sum(after.values()) == pytest.approx(1.0)


def test_mode_constants_are_validated() -> None:
    with pytest.raises(ValueError, match="bus"):
        Parameters(mode_constants={"bus": 0.5})
    with pytest.raises(ValueError, match="pt"):
        Parameters(mode_constants={"pt": 50.0})


def test_calibrated_yaml_extends_the_input_and_loads(tmp_path) -> None:
    base = ROOT / "scenarios" / "default.yaml"
    out = tmp_path / "calib"
    out.mkdir()
    shifts = {"car": -0.4, "pt": 0.3, "walk": float("nan"), "bike": 0.1}
    text = calibrated_scenario(base, "default-calibrated", "od_estimated.csv", shifts, 7.5)
    (out / "calibrated.yaml").write_text(text, encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["extends"] == str(base.resolve())
    scenario = load_scenario(out / "calibrated.yaml")
    p = scenario.parameters
    assert p.od_adjustment == str(out / "od_estimated.csv")
    assert (p.mode_constants.car, p.mode_constants.pt, p.mode_constants.bike) == (-0.4, 0.3, 0.1)
    assert p.mode_constants.walk == 0.0  # a family with no fit keeps the input's
    assert p.mean_trip_km == 7.5
    assert scenario.years == load_scenario(base).years  # the rest is the input's


def test_calibrated_yaml_without_mode_shares_sets_only_the_od(tmp_path) -> None:
    text = calibrated_scenario(ROOT / "scenarios" / "default.yaml", "c", "od_estimated.csv")
    assert set(yaml.safe_load(text)["parameters"]) == {"od_adjustment"}


def test_a_bad_mode_constant_in_a_scenario_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"name: bad\nextends: {ROOT / 'scenarios' / 'default.yaml'}\n"
        "parameters:\n  mode_constants: {tram: 1.0}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="mode_constants"):
        load_scenario(path)


@pytest.mark.slow
def test_calibrate_demand_writes_a_calibrated_scenario_that_validates_and_runs(
    tmp_path, capsys
) -> None:
    # observed shares: the base run's, with half its car share moved to pt; counts: the
    # base run's flows on 20 links. calibrated.yaml must validate, and one year of it
    # must land nearer those observed shares than the base run
    from _support import write_scenario

    from sim.cli import main
    from sim.runs.folder import read_run
    from sim.runs.run import load_for_run, run_scenario

    static = "parameters:\n  traffic_model: static\n"
    base = write_scenario(tmp_path, "base", static, years=1, replications=1)
    run = read_run(run_scenario(load_for_run(base), tmp_path / "runs"))
    before = {m: float(run.kpis[f"mode_share_{m}"].iloc[0]) for m in FAMILIES}
    observed = dict(before, car=before["car"] / 2, pt=before["pt"] + before["car"] / 2)
    pd.DataFrame({"mode": list(observed), "share": list(observed.values())}).to_csv(
        tmp_path / "shares.csv", index=False
    )
    links = run.links.sort_values("flow", ascending=False).head(20)
    pd.DataFrame(
        {"link_id": links["link_id"], "period_start": "07:00", "period_end": "08:00",
         "count": links["flow"].round()}
    ).to_csv(tmp_path / "counts.csv", index=False)  # fmt: skip
    out = tmp_path / "calib"
    args = ["--counts", str(tmp_path / "counts.csv"), "--mode-shares", str(tmp_path / "shares.csv")]
    assert main(["calibrate-demand", str(base), *args, "--out", str(out), "--json"]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert isinstance(report["counts"]["counts"], int)
    assert main(["validate", str(out / "calibrated.yaml")]) == 0
    calibrated = read_run(run_scenario(load_for_run(out / "calibrated.yaml"), tmp_path / "runs"))
    after = {m: float(calibrated.kpis[f"mode_share_{m}"].iloc[0]) for m in FAMILIES}
    for m in ("car", "pt"):
        assert abs(after[m] - observed[m]) < 0.6 * abs(before[m] - observed[m]), (m, after)
    assert calibrated.kpis["demand_rounds"].iloc[0] >= 1
