"""The scenario being edited: a plain mapping with undo/redo.

:class:`ScenarioDocument` holds the scenario as a plain mapping (what the YAML file holds),
so a policy can be half-made (a road closure before any road is picked) while the user
works; :meth:`ScenarioDocument.scenario` validates the whole of it with
:func:`sim.scenario.scenario_from_dict`, the same schema as ``citysandbox validate``. Every
change is a snapshot command on a :class:`QUndoStack`. Saving keeps the file's own form
(``extends:``, comments, key order: :mod:`gui.scenariofile`); a shipped scenario (one in
the scenarios folder) opens read-only, so it changes only through Save As.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from gui.i18n import policy_label, tr
from gui.scenariofile import ScenarioFile, save_scenario
from sim import scenario as schema
from sim import settings
from sim.errors import ScenarioError


def scenario_data(path: Path) -> dict[str, Any]:
    """A scenario file as a validated, flattened mapping (``extends`` resolved).

    Raises
    ------
    ScenarioError
        The file is missing or invalid.
    """
    return schema.load_scenario(path).model_dump(mode="json")


def is_shipped(path: Path) -> bool:
    """Whether ``path`` is one of the scenarios shipped in the scenarios folder."""
    return Path(path).resolve().parent == Path(settings.scenarios_folder).resolve()


class _Snapshot(QUndoCommand):
    """An edit as (before, after) copies of the document; consecutive typing merges."""

    def __init__(self, doc: ScenarioDocument, text: str, after: dict, merge_key: Any) -> None:
        super().__init__(text)
        self.doc = doc
        self.before = copy.deepcopy(doc.data)
        self.after = after
        self.merge_key = merge_key

    def id(self) -> int:
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _Snapshot) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.doc._replace(self.after)

    def undo(self) -> None:
        self.doc._replace(self.before)


class ScenarioDocument(QObject):
    """The scenario being edited, its file and its undo stack.

    Signals
    -------
    changed
        After any edit, undo, redo, new or open.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.data: dict[str, Any] = {}
        self.path: Path | None = None
        self.file: ScenarioFile | None = None
        self.read_only = False
        self.generation = 0  # counts new()/open(): which scenario is being edited

    # -- files

    def new(
        self,
        data: dict[str, Any],
        path: Path | None = None,
        *,
        file: ScenarioFile | None = None,
        read_only: bool = False,
    ) -> None:
        """Start editing ``data`` (a scenario mapping); clears undo history.

        ``file`` is the round-trip form the data came from (or will extend), so a save
        writes only the changes; ``read_only`` makes :meth:`save` to ``path`` refuse.
        """
        self.data = copy.deepcopy(data)
        self.data.setdefault("policies", [])
        self.path = path
        self.file = file
        self.read_only = read_only
        self.generation += 1
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.changed.emit()

    def open(self, path: Path) -> None:
        """Load a scenario file; a shipped one opens read-only.

        ``extends`` is resolved for editing (the document holds the flattened scenario);
        the file's own form is kept for saving.

        Raises
        ------
        ScenarioError
            The file is missing or invalid (the message names the field and value).
        """
        path = Path(path).resolve()
        data = scenario_data(path)
        self.new(data, path, file=ScenarioFile.read(path, data), read_only=is_shipped(path))

    def set_read_only(self, read_only: bool) -> None:
        """Allow (False) or refuse (True) saving over the scenario's own file."""
        self.read_only = read_only
        self.changed.emit()

    def save(self, path: Path | None = None) -> Path:
        """Write the scenario as YAML to ``path`` (default: its file) and mark it clean.

        Only the changes go into the file's own form (``extends:``, comments, order kept).

        Raises
        ------
        ScenarioError
            The scenario does not validate, no path is known, or the file is read-only.
        OutputError
            The file cannot be written.
        """
        target = Path(path).resolve() if path is not None else self.path
        if target is None:
            msg = "the scenario has no file yet: use Save As"
            raise ScenarioError(msg)
        if self.read_only and target == self.path:
            msg = f"{target.name} is read-only (a shipped scenario): use Save As"
            raise ScenarioError(msg)
        save_scenario(self.data, target, self.file, self.scenario())
        self.path = target
        self.file = ScenarioFile.read(target, self.data)
        self.read_only = False
        self.undo_stack.setClean()
        self.changed.emit()
        return self.path

    # -- queries

    def scenario(self) -> schema.Scenario:
        """Validate the whole scenario (raises ScenarioError naming the field and value)."""
        return schema.scenario_from_dict(copy.deepcopy(self.data), source=self.display_name())

    def problem(self) -> str | None:
        """The validation message, or None when the scenario is valid."""
        try:
            self.scenario()
        except ScenarioError as exc:
            return str(exc)
        return None

    def display_name(self) -> str:
        """The file name, or "untitled"."""
        return self.path.name if self.path else tr("untitled")

    def is_dirty(self) -> bool:
        """Whether there are unsaved changes."""
        return not self.undo_stack.isClean()

    @property
    def policies(self) -> list[dict[str, Any]]:
        """The policy mappings (do not edit in place: use the edit methods)."""
        return self.data.get("policies", [])

    # -- edits (each one undoable)

    def set_field(self, key: str, value: Any) -> None:
        """Set a top-level scenario field (name, years, seed...)."""
        if self.data.get(key) == value:
            return
        after = copy.deepcopy(self.data)
        after[key] = value
        self._push(tr("Edit {field}").format(field=key), after, ("field", key))

    def set_parameter(self, key: str, value: Any) -> None:
        """Set one model parameter (``parameters.<key>``)."""
        params = dict(self.data.get("parameters") or {})
        if params.get(key) == value:
            return
        after = copy.deepcopy(self.data)
        after["parameters"] = {**params, key: value}
        self._push(tr("Edit {field}").format(field=key), after, ("param", key))

    def add_policy(self, policy: dict[str, Any]) -> int:
        """Append a policy; returns its index."""
        after = copy.deepcopy(self.data)
        after["policies"].append(copy.deepcopy(policy))
        self._push(tr("Add {policy}").format(policy=policy_label(policy["type"])), after)
        return len(self.policies) - 1

    def edit_policy(self, index: int, policy: dict[str, Any], merge: Any = None) -> None:
        """Replace policy ``index``; edits with the same ``merge`` key fold into one undo step."""
        if self.policies[index] == policy:
            return
        after = copy.deepcopy(self.data)
        after["policies"][index] = copy.deepcopy(policy)
        label = tr("Edit {policy}").format(policy=policy_label(policy["type"]))
        self._push(label, after, None if merge is None else ("policy", index, merge))

    def remove_policy(self, index: int) -> None:
        """Delete policy ``index``."""
        after = copy.deepcopy(self.data)
        gone = after["policies"].pop(index)
        self._push(tr("Remove {policy}").format(policy=policy_label(gone["type"])), after)

    def move_policy(self, index: int, to: int) -> None:
        """Move policy ``index`` to position ``to``."""
        if to == index or not 0 <= to < len(self.policies):
            return
        after = copy.deepcopy(self.data)
        after["policies"].insert(to, after["policies"].pop(index))
        self._push(tr("Move policy"), after)

    def _push(self, text: str, after: dict[str, Any], merge_key: Any = None) -> None:
        self.undo_stack.push(_Snapshot(self, text, after, merge_key))

    def _replace(self, data: dict[str, Any]) -> None:
        self.data = copy.deepcopy(data)
        self.changed.emit()
