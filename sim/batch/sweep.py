"""Sweep files: many scenario variants and Monte Carlo replications from one base scenario.

A sweep names a base scenario, parameter axes, named policy sets and a number of
replications; every variant × replication becomes one independent :class:`SweepTask`
holding a validated :class:`~sim.scenario.Scenario` with ``replications: 1``::

    name: fert-car
    base: default.yaml              # relative to the sweep file
    seed: 7                         # replication seeds derive from it (sim.seeds.task_seeds)
    replications: 3
    years: 3                        # optional: overrides the base scenario
    mode: grid                      # grid: every combination; list: axes zipped element-wise
    axes:
      parameters.fertility_multiplier: [0.8, 1.2]
      parameters.car_share: [0.35, 0.55]
      policies.S-new-1.classes_per_grade: [3, 5]   # a field of a policy, by id/school or index
    policy_sets:                    # crossed with the axes in both modes
      baseline: []
      new-school:
        - {type: new_school, id: S-new-1, level: primary, xy: [281000, 6680000],
           classes_per_grade: 4, year: 2025}

Replication ``k`` gets the same seed in every variant (common random numbers), so the
differences between variants are not drowned in replication noise.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.errors import ScenarioError
from sim.inputs import read_yaml
from sim.scenario import (
    MAX_YEAR,
    MAX_YEARS,
    MIN_YEAR,
    Parameters,
    Policy,
    Scenario,
    format_validation_error,
    load_scenario,
    scenario_from_dict,
)
from sim.seeds import task_seeds

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
AXIS_ROOTS = ("parameters", "policies")
POLICY_SET_KEY = "policy_set"


class Sweep(BaseModel):
    """A validated sweep file; ``base`` is an absolute path once loaded from a file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=NAME_PATTERN)
    description: str = ""
    base: Path
    seed: int = Field(0, ge=0, lt=2**63)
    replications: int = Field(1, ge=1, le=1000)
    years: int | None = Field(None, ge=1, le=MAX_YEARS)
    start_year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR)
    mode: Literal["grid", "list"] = "grid"
    axes: dict[str, list[Any]] = Field(default_factory=dict)
    """Dotted scenario paths (``parameters.car_share``) to the values they take."""
    policy_sets: dict[str, list[Policy]] = Field(default_factory=dict)
    """Named lists of policy edits appended to the base scenario's policies."""

    @field_validator("name")
    @classmethod
    def _plain_folder_name(cls, name: str) -> str:
        if name.startswith("."):
            msg = "must be a plain folder name (letters, digits, _ . -), not starting with '.'"
            raise ValueError(msg)
        return name

    @model_validator(mode="after")
    def _check_axes(self) -> Sweep:
        for key, values in self.axes.items():
            _check_axis_path(key)
            if not values:
                msg = f"axes.{key}: give at least one value"
                raise ValueError(msg)
        if self.mode == "list":
            lengths = {key: len(v) for key, v in self.axes.items()}
            if len(set(lengths.values())) > 1:
                msg = f"mode list zips the axes, so they need equal lengths; got {lengths}"
                raise ValueError(msg)
        for set_name in self.policy_sets:
            if not _is_name(set_name):
                msg = f"policy_sets.{set_name}: use letters, digits, '_', '.', '-' only"
                raise ValueError(msg)
        return self


@dataclass(frozen=True)
class SweepTask:
    """One variant × replication: an independent scenario run.

    Attributes
    ----------
    task_id
        The run folder name of the task's scenario (``<sweep>-<variant>-r<k>-<hash>``).
    sweep, variant, replication, seed
        Where the task sits in the sweep; ``seed`` is the scenario's seed.
    parameters
        The axis values of the variant, plus ``policy_set`` when the sweep has policy sets.
    scenario
        The validated scenario to run (``replications: 1``).
    """

    task_id: str
    sweep: str
    variant: str
    replication: int
    seed: int
    parameters: dict[str, Any] = field(hash=False)
    scenario: Scenario = field(hash=False, repr=False)


def _is_name(text: str) -> bool:
    return re.fullmatch(NAME_PATTERN, text) is not None


def _check_axis_path(key: str) -> None:
    parts = key.split(".")
    if parts[0] not in AXIS_ROOTS or len(parts) < 2:
        msg = (
            f"axes.{key}: an axis is a dotted path starting with one of {', '.join(AXIS_ROOTS)} "
            "(e.g. parameters.car_share or policies.S-new-1.classes_per_grade)"
        )
        raise ValueError(msg)
    if parts[0] == "parameters":
        model: type[BaseModel] = Parameters
        for part in parts[1:]:
            fields = model.model_fields
            if part not in fields:
                msg = f"axes.{key}: unknown parameter {part!r}; allowed: {', '.join(fields)}"
                raise ValueError(msg)
            annotation = fields[part].annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                break
            model = annotation
    elif len(parts) != 3:
        msg = f"axes.{key}: a policy axis is policies.<id, school or index>.<field>"
        raise ValueError(msg)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file.

    Parameters
    ----------
    path
        The sweep YAML file; ``base`` resolves against its folder.

    Returns
    -------
    Sweep
        The validated sweep (``name`` defaults to the file's stem).

    Raises
    ------
    ScenarioError
        Naming the file, the field, the bad value and what is allowed.
    """
    path = Path(path)
    data = read_yaml(path, "sweep", ScenarioError)
    if not isinstance(data, dict):
        msg = f"{path}: a sweep must be a YAML mapping (base:, axes:, ...)"
        raise ScenarioError(msg)
    data.setdefault("name", path.stem)
    if isinstance(data.get("base"), str):
        data["base"] = str((path.resolve().parent / data["base"]).resolve())
    try:
        return Sweep.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(str(path), exc, data)) from None


def variant_label(values: dict[str, Any]) -> str:
    """A short label of a variant's values, e.g. ``car_share=0.35, P24.classes_per_grade=6``."""
    return ", ".join(f"{key.split('.', 1)[-1]}={value}" for key, value in values.items())


def variants(sweep: Sweep) -> list[dict[str, Any]]:
    """The variants of a sweep: one mapping of axis path (and ``policy_set``) to value each."""
    keys = list(sweep.axes)
    if sweep.mode == "grid":
        combos = list(itertools.product(*sweep.axes.values()))
    else:
        combos = list(zip(*sweep.axes.values(), strict=True)) if keys else [()]
    out = [dict(zip(keys, combo, strict=True)) for combo in combos]
    if sweep.policy_sets:
        out = [{**v, POLICY_SET_KEY: name} for name in sweep.policy_sets for v in out]
    return out


def expand_sweep(sweep: Sweep, source: str | None = None) -> list[SweepTask]:
    """Expand a sweep into its tasks, variant-major, each with a validated scenario.

    Parameters
    ----------
    sweep
        The sweep to expand.
    source
        The name used in error messages (default: the sweep's name).

    Returns
    -------
    list of SweepTask
        ``len(variants) * replications`` tasks; scenarios are named ``<sweep>-v<i>-r<k>``
        and task ids are their run ids, ``<sweep>-v<i>-r<k>-<hash>``.

    Raises
    ------
    ScenarioError
        When a variant is not a valid scenario (e.g. a value outside a parameter's range).
    """
    source = source or sweep.name
    base = load_scenario(sweep.base).model_dump(mode="json")
    base["replications"] = 1
    if sweep.years is not None:
        base["years"] = sweep.years
    if sweep.start_year is not None:
        base["start_year"] = sweep.start_year
    seeds = task_seeds(sweep.seed, sweep.replications)
    all_variants = variants(sweep)
    width = len(str(len(all_variants) - 1))
    tasks = []
    for i, values in enumerate(all_variants):
        variant = f"v{i:0{width}d}"
        data = _variant_data(sweep, base, values, f"{source} (variant {variant})")
        for k, seed in enumerate(seeds):
            name = f"{sweep.name}-{variant}-r{k}"
            scenario = scenario_from_dict(
                {**data, "name": name, "seed": seed}, source=f"{source} ({name})"
            )
            tasks.append(
                SweepTask(scenario.run_id(), sweep.name, variant, k, seed, values, scenario)
            )
    return tasks


def _variant_data(
    sweep: Sweep, base: dict[str, Any], values: dict[str, Any], source: str
) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(base))  # a deep copy of plain data
    set_name = values.get(POLICY_SET_KEY)
    if set_name is not None:
        extra = [p.model_dump(mode="json") for p in sweep.policy_sets[set_name]]
        data["policies"] = list(data.get("policies") or []) + extra
    for key, value in values.items():
        if key != POLICY_SET_KEY:
            _set_path(data, key, value, source)
    return data


def _set_path(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    root, *rest = key.split(".")
    if root == "policies":
        ref, leaf = rest
        target = _find_policy(data.get("policies") or [], ref, key, source)
    else:
        target = data.setdefault(root, {})
        *middle, leaf = rest
        for part in middle:
            target = target.setdefault(part, {})
    target[leaf] = value


def _find_policy(policies: list[dict[str, Any]], ref: str, key: str, source: str) -> dict:
    if ref.isdigit():
        if int(ref) < len(policies):
            return policies[int(ref)]
        msg = f"{source}: axes.{key}: policy index {ref} but the variant has {len(policies)}"
        raise ScenarioError(msg)
    found = [p for p in policies if ref in (p.get("id"), p.get("school"))]
    if len(found) == 1:
        return found[0]
    named = sorted({str(p.get("id") or p.get("school")) for p in policies} - {"None"})
    what = "no policy" if not found else f"{len(found)} policies"
    msg = (
        f"{source}: axes.{key}: {what} with id or school {ref!r}; "
        f"policies named in this variant: {', '.join(named) or 'none'}"
    )
    raise ScenarioError(msg)


def check_tasks(tasks: list[SweepTask], source: str) -> None:
    """Check every variant against its city (school, zone, link ids; locations).

    Raises
    ------
    ScenarioError
        Naming the sweep file, the variant and the policy field at fault.
    """
    from sim.validate import check_scenario

    city = None
    for task in tasks:
        if task.replication != 0:
            continue  # replications differ only in their seed
        try:
            city = check_scenario(task.scenario, city)
        except ScenarioError as exc:
            msg = f"{source} (variant {task.variant}: {variant_label(task.parameters)}): {exc}"
            raise ScenarioError(msg) from None
