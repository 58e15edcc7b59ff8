"""The policy and KPI registries: one class makes a policy type, one entry makes a KPI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.kpis import DYNAMIC_ONLY_KPIS, KPI_BY_NAME, KPI_NAMES, KPIS
from sim.policies import POLICY_CLASSES, HousingDevelopment
from sim.runs.folder import read_run
from sim.scenario import POLICY_TYPES, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]

# A policy type defined outside the package, before anything reads the registry: if the
# scenario, the editor and the translations pick it up, adding a type is one class.
NEW_TYPE = """
import json
from typing import ClassVar, Literal

from sim.policies.base import Policy, TemplateContext


class TreePlanting(Policy):
    type: Literal["tree_planting"]
    trees: int = 10

    label: ClassVar[str] = "Tree planting"
    label_zh: ClassVar[str] = "植树"
    help: ClassVar[str] = "Plants trees."
    stage: ClassVar = "trips"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict:
        return {**super().template(ctx), "trees": 500}


from gui import i18n
from gui.document import ScenarioDocument
from gui.editor import POLICY_LABELS, policy_summary, policy_template
from sim import scenario

doc = ScenarioDocument()
doc.new({"name": "t", "city": "x.gpkg", "start_year": 2024, "years": 3})
template = policy_template("tree_planting", doc)
i18n.set_language("zh", cjk_font=True)
doc.add_policy(template)
valid = scenario.scenario_from_dict(doc.data).policies[0]
print(json.dumps({
    "types": list(scenario.POLICY_TYPES),
    "template": template,
    "validated": type(valid).__name__,
    "editor_label": POLICY_LABELS["tree_planting"],
    "summary_zh": policy_summary(template),
    "tr_zh": i18n.tr("Tree planting"),
    "undo_zh": doc.undo_stack.text(0),
}, ensure_ascii=False))
"""


def test_a_new_policy_type_is_one_class() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", NEW_TYPE], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["types"][-1] == "tree_planting" and "new_school" in out["types"]
    assert out["template"] == {"type": "tree_planting", "year": 2025, "trees": 500}
    assert out["validated"] == "TreePlanting"
    assert out["editor_label"] == "Tree planting"
    assert out["summary_zh"] == "植树 · 2025"
    assert out["tr_zh"] == "植树"
    assert out["undo_zh"] == "添加 植树"


def test_policy_types_are_named_only_by_their_class() -> None:
    """No hand list of policy types survives in the engine or the GUI."""
    sources = [p for d in ("sim", "gui") for p in (ROOT / d).rglob("*.py")]
    for kind in POLICY_TYPES:
        pattern = re.compile(rf"Literal\[\"{kind}\"\]")
        homes = [p for p in sources if pattern.search(p.read_text(encoding="utf-8"))]
        assert [p.parent.name for p in homes] == ["policies"], (kind, homes)
    assert len(POLICY_CLASSES) == len(POLICY_TYPES) == 17


def test_every_policy_class_describes_itself() -> None:
    for cls in POLICY_CLASSES:
        assert cls.label and cls.help and re.search(r"[\u4e00-\u9fff]", cls.label_zh), cls
        assert cls.stage in {"schools", "housing", "trips", "roads", "signals", "parking",
                             "information"}  # fmt: skip
        assert "year" in cls.model_fields, cls


def test_housing_is_dated_by_year_and_accepts_start_year() -> None:
    base = {"type": "housing_development", "id": "H", "dwellings_per_year": 10, "xy": [0, 0]}
    for key in ("year", "start_year"):
        data = {"name": "h", "city": "x.gpkg", "years": 5, "policies": [{**base, key: 2026}]}
        (pol,) = scenario_from_dict(data).policies
        assert isinstance(pol, HousingDevelopment) and pol.year == 2026
        assert "start_year" not in pol.model_dump()
    late = {"name": "h", "city": "x.gpkg", "years": 2, "policies": [{**base, "start_year": 2030}]}
    with pytest.raises(Exception, match=r"policies\.0\.year\b.*2030 is outside"):
        scenario_from_dict(late)


def test_kpi_registry_entries_are_complete() -> None:
    assert len(set(KPI_NAMES)) == len(KPIS)
    for k in KPIS:
        assert re.fullmatch(r"[a-z0-9_]+", k.name) and k.label
        assert re.search(r"[\u4e00-\u9fff]", k.label_zh), k.name
        assert k.direction in ("lower", "higher", None)
        if k.diagnostic:
            assert k.direction is None and not k.headline, k.name
    with pytest.raises(ValueError, match="diagnostic"):
        type(KPIS[0])("x", "x", "x", "", "lower", diagnostic=True)


def test_the_run_reports_exactly_the_registered_kpis(finished_run: Path) -> None:
    """Every collected KPI is registered, and every registered one is computed (no KPI is
    computed and then dropped, as parking_cruise_vkt and assignment_iterations were)."""
    kpis = read_run(finished_run).kpis
    assert [c for c in kpis.columns if c not in ("year", "replication")] == list(KPI_NAMES)
    # the second year of the replication with traffic has every process run
    row = kpis[(kpis["year"] == kpis["year"].max()) & (kpis["replication"] == 0)].iloc[0]
    missing = [name for name in KPI_NAMES if not np.isfinite(row[name])]
    assert missing == list(DYNAMIC_ONLY_KPIS)  # a static run: only the dynamic model's
    assert row["assignment_iterations"] >= 1
    assert KPI_BY_NAME["assignment_iterations"].diagnostic
