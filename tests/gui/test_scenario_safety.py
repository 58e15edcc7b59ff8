"""Scenarios cannot be overwritten by accident; saving keeps the file's own form.

Driven through the window: a shipped scenario opens read-only, Save goes to Save As with a
new name, the run settings leave the scenario clean, "Save changes?" defaults to Cancel,
and a saved file keeps ``extends:``, comments and key order.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from sim import settings
from sim.scenario import load_scenario

CHILD = """\
# A child scenario: comments and order must survive a save.
name: child
extends: default.yaml   # inherit the baseline
description: a test child
years: 3  # short
policies:
  - type: road_closure
    links: [15767, 15768]
    year: 2025
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenarios folder of the test's own: the default scenario and a child of it."""
    shutil.copy(settings.scenarios_folder / "default.yaml", tmp_path / "default.yaml")
    text = (tmp_path / "default.yaml").read_text(encoding="utf-8")
    city = settings.default_city.resolve().as_posix()
    (tmp_path / "default.yaml").write_text(
        text.replace("../geodata/default_city.gpkg", city), encoding="utf-8"
    )
    (tmp_path / "child.yaml").write_text(CHILD, encoding="utf-8")
    return tmp_path


def test_shipped_scenario_is_read_only_and_save_proposes_a_new_name(
    window: Any, monkeypatch: pytest.MonkeyPatch, screenshots: Path
) -> None:
    default = settings.scenarios_folder / "default.yaml"
    before = default.read_bytes()
    assert window.doc.read_only and "read-only" in window.windowTitle()
    window.doc.set_field("description", "edited")
    asked: list[str] = []

    def dialog(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        asked.append(start)
        return "", ""  # the user cancels the Save As dialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.actions_["save"].trigger()  # Ctrl+S on a shipped scenario
    assert asked, "Save on a read-only scenario must ask for a new file"
    proposed = Path(asked[0])
    assert proposed.name != "default.yaml" and not proposed.exists()
    assert default.read_bytes() == before
    window.grab().save(str(screenshots / "read_only.png"))


def test_save_as_names_the_scenario_after_the_file(window: Any, tmp_path: Path) -> None:
    out = tmp_path / "my-plan.yaml"
    window.doc.set_field("description", "mine")
    assert window.save_as(out)
    assert load_scenario(out).name == "my-plan"
    assert window.doc.data["name"] == "my-plan"
    assert not window.doc.read_only and "read-only" not in window.windowTitle()


def test_save_as_over_another_shipped_scenario_is_refused(window: Any, dialogs: dict) -> None:
    target = settings.scenarios_folder / "road-closure.yaml"
    before = target.read_bytes()
    assert not window.save_as(target)
    assert "shipped" in dialogs["critical"][-1][1]
    assert target.read_bytes() == before


def test_run_settings_do_not_dirty_the_scenario(window: Any) -> None:
    panel = window.run_panel
    window.side.setCurrentWidget(panel)
    panel.years.setFocus()
    panel.years.selectAll()
    panel.years.setValue(3)
    panel.replications.setValue(1)
    panel.seed.setValue(7)
    assert not window.doc.is_dirty()
    assert not window.windowTitle().endswith("*")
    assert panel.run_data()["years"] == 3 and panel.run_data()["seed"] == 7
    assert (
        window.doc.data["years"] == load_scenario(settings.scenarios_folder / "default.yaml").years
    )
    window.doc.set_field("description", "an edit keeps the run settings")
    assert panel.years.value() == 3


def test_unsaved_changes_question_defaults_to_cancel(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple] = []

    def question(*args: Any) -> Any:
        seen.append(args)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    window.doc.set_field("description", "changed")
    assert not window.new_scenario()
    assert seen[0][4] == QMessageBox.StandardButton.Cancel


def test_save_keeps_extends_comments_and_order(window: Any, folder: Path, qtbot: Any) -> None:
    child = folder / "child.yaml"
    assert window.open_scenario(child)
    assert not window.doc.read_only  # not in the shipped scenarios folder
    window.doc.set_field("description", "changed text")
    window.doc.set_parameter("car_share", 0.4)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    text = child.read_text(encoding="utf-8")
    assert "extends: default.yaml   # inherit the baseline" in text
    assert "# A child scenario: comments and order must survive a save." in text
    assert "years: 3  # short" in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == ["name", "extends", "description", "years", "policies", "parameters"]
    assert "enrollment_policy" not in text  # inherited, not copied in
    saved = load_scenario(child)
    assert saved.description == "changed text"
    assert saved.parameters.car_share == pytest.approx(0.4)
    assert saved.parameters.mean_trip_km == pytest.approx(6.0)  # still from default.yaml
    assert [p.links for p in saved.policies] == [[15767, 15768]]
    assert not window.doc.is_dirty()


def test_save_as_to_another_folder_keeps_extends_working(
    window: Any, folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert window.open_scenario(folder / "child.yaml")
    window.doc.set_field("years", 4)
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "moved.yaml"
    assert window.save_as(elsewhere)
    text = elsewhere.read_text(encoding="utf-8")
    assert "extends:" in text and "default.yaml" in text
    saved = load_scenario(elsewhere)
    assert (saved.name, saved.years) == ("moved", 4)
    assert saved.model_dump(mode="json") == window.doc.scenario().model_dump(mode="json")


def test_new_scenario_saves_as_a_child_of_default(
    window: Any, dialogs: dict, tmp_path: Path
) -> None:
    window.doc.undo_stack.setClean()
    assert window.new_scenario()
    out = tmp_path / "fresh.yaml"
    assert window.save_as(out)
    text = out.read_text(encoding="utf-8")
    assert "extends:" in text and "parameters" not in text
    assert (
        load_scenario(out).years == load_scenario(settings.scenarios_folder / "default.yaml").years
    )
