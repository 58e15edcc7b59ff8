"""Every shipped scenario runs: a short run of each ``scenarios/*.yaml`` (1 replication).

Each run lasts until the scenario's last policy is in force (one year without policies;
a run must cover its policies' years), so a policy that crashes the model in its year is
caught here, as ``road-closure.yaml`` did in 2025 before it was fixed. The traffic
assignment stops early (4 iterations): this is about running, not accuracy. The sweep
file is expanded and its tasks checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import ROOT

from sim.batch.sweep import check_tasks, expand_sweep, load_sweep
from sim.runs.folder import is_complete, read_run
from sim.runs.run import prepare_run, run_scenario
from sim.scenario import load_scenario, scenario_from_dict

SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if p.stem != "sweep-example")
SHORT_ASSIGNMENT = {"max_iter": 4, "rel_gap": 0.01}


def _years(path: Path) -> int:
    """Years from the start until every policy of the scenario is in force."""
    scenario = load_scenario(path)
    last = max((p.year for p in scenario.policies), default=scenario.start_year)
    return last - scenario.start_year + 1


def test_the_shipped_scenarios_are_found() -> None:
    assert {"default", "new-school", "road-closure"} <= {p.stem for p in SCENARIOS}


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_runs(path: Path, tmp_path: Path) -> None:
    years = _years(path)
    full, city = prepare_run(path, years=years, replications=1)
    data = full.model_dump(mode="json")
    data["parameters"]["assignment"] |= SHORT_ASSIGNMENT
    scenario = scenario_from_dict(data, source=str(path))
    run_dir = run_scenario(scenario, tmp_path, city=city)
    assert is_complete(run_dir)
    kpis = read_run(run_dir).kpis
    assert sorted(kpis["year"]) == list(range(scenario.start_year, scenario.start_year + years))
    assert (kpis["population"] > 0).all()


def test_the_shipped_sweep_expands_into_valid_tasks() -> None:
    path = ROOT / "scenarios" / "sweep-example.yaml"
    tasks = expand_sweep(load_sweep(path))
    check_tasks(tasks, str(path))
    assert tasks and all(t.scenario.replications == 1 for t in tasks)
