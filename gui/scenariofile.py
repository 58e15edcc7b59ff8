"""Round-trip saving of a scenario file: only what changed is written back.

A scenario file may inherit from another (``extends: default.yaml``), carries comments and
its own key order. :class:`ScenarioFile` keeps the file's own YAML tree (ruamel.yaml's
round-trip mode) and the flattened mapping it produced when it was read; saving writes
only the fields the user changed into that tree, so ``extends:``, comments and key order
stay as the author left them. The written text is re-read with the model's own loader
before it replaces the file; should it not give back exactly the edited scenario (e.g. an
inherited policy was edited), the scenario is written flattened instead, so a save is
never wrong.
"""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from sim import scenario as schema
from sim.errors import ScenarioError
from sim.inputs import read_yaml
from sim.outputs import tmp_name, write_atomically


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 96
    rt.preserve_quotes = True
    return rt


def _relative(target: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return target.resolve().as_posix()


class ScenarioFile:
    """A scenario file's own YAML tree and the flattened mapping it was read as.

    Parameters
    ----------
    tree
        The file's mapping in round-trip form (comments, order, ``extends``).
    loaded
        The validated, flattened mapping the file gave (``city`` absolute).
    folder
        The folder the file's relative paths (``extends``, ``city``) start from.
    """

    def __init__(self, tree: CommentedMap, loaded: dict[str, Any], folder: Path) -> None:
        self.tree = tree
        self.loaded = copy.deepcopy(loaded)
        self.folder = Path(folder).resolve()

    @classmethod
    def read(cls, path: Path, loaded: dict[str, Any]) -> ScenarioFile:
        """The round-trip tree of ``path`` (already checked by :func:`sim.inputs.read_yaml`)."""
        read_yaml(path, "scenario", ScenarioError)  # duplicate keys, alias bombs, size
        tree = _yaml().load(Path(path).read_text(encoding="utf-8"))
        if not isinstance(tree, CommentedMap):
            tree = CommentedMap()
        return cls(tree, loaded, Path(path).parent)

    @classmethod
    def extending(cls, parent: Path, loaded: dict[str, Any]) -> ScenarioFile:
        """A new file that inherits from ``parent`` (``name`` and ``extends`` only)."""
        tree = CommentedMap(name=loaded.get("name", "scenario"), extends=str(parent.resolve()))
        return cls(tree, loaded, parent.parent)

    def text(self, data: dict[str, Any], target: Path) -> str:
        """The YAML text of the file at ``target`` with ``data``'s changes written in."""
        tree = copy.deepcopy(self.tree)
        target_folder = Path(target).resolve().parent
        if isinstance(tree.get("extends"), str):
            parent = (self.folder / tree["extends"]).resolve()
            if target_folder != self.folder or Path(tree["extends"]).is_absolute():
                tree["extends"] = _relative(parent, target_folder)
        for key, value in data.items():
            before = self.loaded.get(key)
            if key == "policies":
                self._policies(tree, value)
            elif key == "city":
                if value != before or (target_folder != self.folder and "city" in tree):
                    tree["city"] = _relative(Path(value), target_folder)
            elif key not in self.loaded or value != before:
                _update(tree, key, value, before)
        out = io.StringIO()
        _yaml().dump(tree, out)
        return out.getvalue()

    def _policies(self, tree: CommentedMap, policies: list[Any]) -> None:
        loaded = self.loaded.get("policies", [])
        if policies == loaded:
            return
        inherited = loaded[: len(loaded) - len(tree.get("policies") or [])]
        if policies[: len(inherited)] != inherited:
            msg = "an inherited policy was edited"
            raise _Flatten(msg)
        tree["policies"] = policies[len(inherited) :]


class _Flatten(Exception):
    """The changes cannot be written into the file's own tree."""


def _update(tree: CommentedMap, key: str, value: Any, before: Any) -> None:
    """Set ``tree[key]`` to ``value``, editing nested mappings in place (keeps comments)."""
    node = tree.get(key)
    if isinstance(value, dict) and isinstance(before, dict) and isinstance(node, CommentedMap):
        for sub, sub_value in value.items():
            if sub not in before or sub_value != before[sub]:
                _update(node, sub, sub_value, before.get(sub))
        return
    if isinstance(value, dict) and isinstance(before, dict):
        changed = {k: v for k, v in value.items() if k not in before or v != before[k]}
        tree[key] = {**(node or {}), **changed} if isinstance(node, dict) else changed
        return
    tree[key] = value


def save_scenario(
    data: dict[str, Any], target: Path, source: ScenarioFile | None, scenario: schema.Scenario
) -> None:
    """Write ``data`` (validated as ``scenario``) to ``target``, keeping the file's own form.

    Raises
    ------
    ScenarioError
        The written file would not read back (should not happen: then nothing is written).
    OutputError
        The file cannot be written.
    """
    target = Path(target)
    text = None
    if source is not None:
        try:
            text = source.text(data, target)
        except _Flatten:
            text = None
    if text is not None and not _reads_back(text, target, scenario):
        text = None
    if text is None:
        text = scenario.to_yaml(target)
    write_atomically(target, text, field="scenario")


def _reads_back(text: str, target: Path, scenario: schema.Scenario) -> bool:
    """Whether ``text`` saved at ``target`` loads as exactly ``scenario``."""
    probe = target.with_name(tmp_name(target.name))
    try:
        probe.write_text(text, encoding="utf-8")
        again = schema.load_scenario(probe)
    except (ScenarioError, OSError):
        return False
    finally:
        probe.unlink(missing_ok=True)
    return again.model_dump(mode="json") == scenario.model_dump(mode="json")
