"""Sweep files: validation, expansion into tasks, deterministic replication seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.batch.sweep import (
    expand_sweep,
    load_sweep,
    variant_label,
    variants,
)
from sim.errors import ScenarioError
from sim.seeds import task_seeds

REPO = Path(__file__).resolve().parents[1]

BASE = {
    "name": "tiny",
    "city": "city.gpkg",  # never opened: expansion does not load the city
    "seed": 1,
    "start_year": 2024,
    "years": 5,
    "replications": 5,
    "parameters": {"car_share": 0.45},
    "policies": [
        {"type": "resize_school", "school": "P24", "classes_per_grade": 4, "year": 2025},
    ],
}


def write_sweep(tmp_path: Path, **sweep) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    path = tmp_path / "sw.yaml"
    path.write_text(yaml.safe_dump({"base": "base.yaml", **sweep}))
    return path


def test_grid_sweep_expands_every_combination_with_policy_sets(tmp_path):
    path = write_sweep(
        tmp_path,
        seed=7,
        replications=3,
        years=2,
        axes={
            "parameters.fertility_multiplier": [0.8, 1.2],
            "parameters.assignment.max_iter": [5, 10],
        },
        policy_sets={
            "none": [],
            "school": [
                {
                    "type": "new_school",
                    "id": "N1",
                    "level": "primary",
                    "xy": [1.0, 2.0],
                    "classes_per_grade": 2,
                    "year": 2025,
                }
            ],
        },
    )
    sweep = load_sweep(path)
    assert sweep.name == "sw"  # defaults to the file stem
    assert sweep.base == (tmp_path / "base.yaml").resolve()
    tasks = expand_sweep(sweep)
    assert len(tasks) == 2 * 2 * 2 * 3
    assert len({t.task_id for t in tasks}) == len(tasks)
    first = tasks[0]
    assert first.variant == "v0" and first.replication == 0
    assert first.task_id == f"sw-v0-r0-{first.scenario.fingerprint()}"
    assert first.scenario.name == "sw-v0-r0"
    s = first.scenario
    assert (s.replications, s.years, s.start_year) == (1, 2, 2024)
    assert s.parameters.fertility_multiplier == 0.8
    assert s.parameters.assignment.max_iter == 5
    assert s.parameters.car_share == 0.45  # untouched base value
    assert s.city == (tmp_path / "city.gpkg").resolve()
    by_set = {t.parameters["policy_set"]: t for t in tasks if t.replication == 0}
    assert [p.type for p in by_set["none"].scenario.policies] == ["resize_school"]
    assert [p.type for p in by_set["school"].scenario.policies] == ["resize_school", "new_school"]
    combos = {
        (t.scenario.parameters.fertility_multiplier, t.scenario.parameters.assignment.max_iter)
        for t in tasks
    }
    assert combos == {(0.8, 5), (0.8, 10), (1.2, 5), (1.2, 10)}


def test_replication_seeds_are_deterministic_and_shared_across_variants(tmp_path):
    path = write_sweep(tmp_path, seed=11, replications=4, axes={"parameters.car_share": [0.3, 0.6]})
    tasks = expand_sweep(load_sweep(path))
    seeds = task_seeds(11, 4)
    assert len(set(seeds)) == 4 and all(0 <= s < 2**63 for s in seeds)
    assert seeds == task_seeds(11, 4)
    assert seeds != task_seeds(12, 4)
    for variant in ("v0", "v1"):
        assert [t.seed for t in tasks if t.variant == variant] == seeds
        assert [t.scenario.seed for t in tasks if t.variant == variant] == seeds
    again = expand_sweep(load_sweep(path))
    assert [t.task_id for t in again] == [t.task_id for t in tasks]


def test_list_mode_zips_axes_and_policy_axis_edits_the_named_policy(tmp_path):
    path = write_sweep(
        tmp_path,
        mode="list",
        axes={
            "parameters.car_share": [0.3, 0.5, 0.7],
            "policies.P24.classes_per_grade": [4, 6, 8],
        },
    )
    sweep = load_sweep(path)
    assert variants(sweep) == [
        {"parameters.car_share": 0.3, "policies.P24.classes_per_grade": 4},
        {"parameters.car_share": 0.5, "policies.P24.classes_per_grade": 6},
        {"parameters.car_share": 0.7, "policies.P24.classes_per_grade": 8},
    ]
    tasks = expand_sweep(sweep)
    assert [
        (t.scenario.parameters.car_share, t.scenario.policies[0].classes_per_grade) for t in tasks
    ] == [(0.3, 4), (0.5, 6), (0.7, 8)]
    assert variant_label(tasks[1].parameters) == "car_share=0.5, P24.classes_per_grade=6"


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        ({"axes": {"parameters.car_share": [0.3]}, "bogus": 1}, "bogus = 1: unknown field"),
        ({"axes": {"parameters.car_share": [0.3]}, "mode": "zip"}, "mode = 'zip'"),
        ({"axes": {"seed": [1, 2]}}, "axes.seed: an axis is a dotted path"),
        ({"axes": {"parameters.no_such": [1]}}, "unknown parameter 'no_such'"),
        ({"axes": {"parameters.car_share": []}}, "axes.parameters.car_share: give at least"),
        (
            {"mode": "list", "axes": {"parameters.car_share": [0.3], "parameters.tfr": [1, 2]}},
            "equal lengths",
        ),
        ({"policy_sets": {"a": [{"type": "teleport", "year": 2025}]}}, "unknown policy type"),
        ({"replications": 0}, "replications = 0"),
    ],
)
def test_bad_sweep_files_name_the_file_and_field(tmp_path, sweep, expected):
    path = write_sweep(tmp_path, **sweep)
    with pytest.raises(ScenarioError) as err:
        load_sweep(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("axes", "expected"),
    [
        ({"parameters.car_share": [0.5, 1.5]}, "parameters.car_share = 1.5"),
        ({"policies.P99.classes_per_grade": [3]}, "no policy with id or school 'P99'"),
        ({"policies.5.classes_per_grade": [3]}, "policy index 5"),
    ],
)
def test_invalid_variants_name_the_variant(tmp_path, axes, expected):
    path = write_sweep(tmp_path, axes=axes)
    with pytest.raises(ScenarioError) as err:
        expand_sweep(load_sweep(path), source=str(path))
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="sweep file not found"):
        load_sweep(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [unclosed")
    with pytest.raises(ScenarioError, match="malformed YAML"):
        load_sweep(bad)


def test_example_sweep_has_at_least_two_variants_and_replications():
    sweep = load_sweep(REPO / "scenarios" / "sweep-example.yaml")
    tasks = expand_sweep(sweep)
    assert len({t.variant for t in tasks}) >= 2 and sweep.replications >= 2
    assert sweep.base == (REPO / "scenarios" / "default.yaml").resolve()
    assert all(t.scenario.years == sweep.years for t in tasks)
