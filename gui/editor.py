"""The scenario editor: the document (with undo/redo), forms generated from the schema, the panel.

:class:`ScenarioDocument` holds the scenario as a plain mapping (what the YAML file holds),
so a policy can be half-made (a road closure before any road is picked) while the user
works; :meth:`ScenarioDocument.scenario` validates the whole of it with
:func:`sim.scenario.scenario_from_dict`, the same schema as ``main.py validate``. Every
change is a snapshot command on a :class:`QUndoStack`.

:class:`ModelForm` builds a form from a pydantic model's fields and validates each field as
you type with the field's own type and constraints (a ``TypeAdapter`` of the field), then
the whole object for cross-field rules.
"""

from __future__ import annotations

import copy
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from sim import scenario as schema
from sim.errors import ScenarioError

POINT_POLICIES: tuple[str, ...] = ("new_school", "housing_development")
ROAD_POLICIES: tuple[str, ...] = (
    "road_closure",
    "lane_change",
    "speed_change",
    "congestion_charge",
)
POLICY_LABELS: dict[str, str] = {
    "new_school": "New school",
    "close_school": "Close school",
    "resize_school": "Resize school",
    "catchment_edit": "Catchment edit",
    "housing_development": "Housing development",
    "road_closure": "Road closure",
    "new_link": "New road link",
    "lane_change": "Lane change",
    "speed_change": "Speed change",
    "congestion_charge": "Congestion charge",
    "signal_retiming": "Signal retiming",
    "parking_guidance": "Parking guidance",
    "staggered_school_start": "Staggered school start",
}
SCENARIO_FIELDS: tuple[str, ...] = ("name", "description", "start_year")


def policy_model(kind: str) -> type[BaseModel]:
    """The pydantic model of a policy type (e.g. ``"new_school"`` -> ``NewSchool``)."""
    for model in typing.get_args(typing.get_args(schema.Policy)[0]):
        if model.model_fields["type"].annotation == Literal[kind]:
            return model
    msg = f"unknown policy type {kind!r}; allowed: {', '.join(schema.POLICY_TYPES)}"
    raise ScenarioError(msg)


# ---------------------------------------------------------------------- document


def scenario_data(path: Path) -> dict[str, Any]:
    """A scenario file as a validated, flattened mapping (``extends`` resolved).

    Raises
    ------
    ScenarioError
        The file is missing or invalid.
    """
    return schema.load_scenario(path).model_dump(mode="json")


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

    # -- files

    def new(self, data: dict[str, Any], path: Path | None = None) -> None:
        """Start editing ``data`` (a scenario mapping); clears undo history."""
        self.data = copy.deepcopy(data)
        self.data.setdefault("policies", [])
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.changed.emit()

    def open(self, path: Path) -> None:
        """Load a scenario file (``extends`` is resolved; the result is flattened).

        Raises
        ------
        ScenarioError
            The file is missing or invalid (the message names the field and value).
        """
        self.new(scenario_data(path), Path(path).resolve())

    def save(self, path: Path | None = None) -> Path:
        """Write the scenario as YAML to ``path`` (default: its file) and mark it clean.

        Raises
        ------
        ScenarioError
            The scenario does not validate, or no path is known.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            msg = "the scenario has no file yet: use Save As"
            raise ScenarioError(msg)
        text = self.scenario().to_yaml(target)
        target.write_text(text, encoding="utf-8")
        self.path = target.resolve()
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
        self._push(tr("Add {policy}").format(policy=tr(POLICY_LABELS[policy["type"]])), after)
        return len(self.policies) - 1

    def edit_policy(self, index: int, policy: dict[str, Any], merge: Any = None) -> None:
        """Replace policy ``index``; edits with the same ``merge`` key fold into one undo step."""
        if self.policies[index] == policy:
            return
        after = copy.deepcopy(self.data)
        after["policies"][index] = copy.deepcopy(policy)
        label = tr("Edit {policy}").format(policy=tr(POLICY_LABELS[policy["type"]]))
        self._push(label, after, None if merge is None else ("policy", index, merge))

    def remove_policy(self, index: int) -> None:
        """Delete policy ``index``."""
        after = copy.deepcopy(self.data)
        gone = after["policies"].pop(index)
        self._push(tr("Remove {policy}").format(policy=tr(POLICY_LABELS[gone["type"]])), after)

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


# ---------------------------------------------------------------------- policy templates


def policy_template(kind: str, doc: ScenarioDocument, city: Any = None, **where: Any) -> dict:
    """A new policy of type ``kind`` with sensible values (valid except for picks still to make).

    Parameters
    ----------
    kind
        A policy type from :data:`sim.scenario.POLICY_TYPES`.
    doc
        The document (for the simulated years and ids already used).
    city
        The loaded city (for a default school and zone), or None.
    where
        ``xy=(x, y)`` for point policies, ``links=[...]`` for road policies.
    """
    start = int(doc.data.get("start_year", 2024))
    years = int(doc.data.get("years", 10))
    year = start + 1 if years > 1 else start
    school = str(city.schools.index[0]) if city is not None and len(city.schools) else ""
    zone = int(city.zones.index[0]) if city is not None and len(city.zones) else 1
    xy = list(where.get("xy", ()))
    links = list(where.get("links", []))
    used = {p.get("id") for p in doc.policies}
    templates: dict[str, dict[str, Any]] = {
        "new_school": {
            "id": _next_id("S-new", used),
            "level": "primary",
            "classes_per_grade": 4,
            "year": year,
            "xy": xy,
        },
        "close_school": {"school": school, "year": year},
        "resize_school": {"school": school, "classes_per_grade": 4, "year": year},
        "catchment_edit": {"school": school, "zones": [zone], "year": year},
        "housing_development": {
            "id": _next_id("H-new", used),
            "dwellings_per_year": 500,
            "start_year": year,
            "n_years": 3,
            "xy": xy,
        },
        "road_closure": {"links": links, "year": year},
        "new_link": {"from_node": 0, "to_node": 0, "year": year},
        "lane_change": {"links": links, "lanes": 2, "year": year},
        "speed_change": {"links": links, "speed_kmh": 30.0, "year": year},
        "congestion_charge": {"toll": 2.0, "links": links, "year": year},
        "signal_retiming": {"signals": "all", "method": "webster", "year": year},
        "parking_guidance": {"share": 0.3, "year": year},
        "staggered_school_start": {"share_shifted": 0.3, "year": year},
    }
    return {"type": kind, **templates[kind]}


def _next_id(prefix: str, used: set[Any]) -> str:
    n = 1
    while f"{prefix}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"


def policy_summary(policy: dict[str, Any]) -> str:
    """One line describing a policy for the list, e.g. "New school S-new-1 · 2025"."""
    kind = policy.get("type", "?")
    label = tr(POLICY_LABELS.get(kind, kind))
    what = policy.get("id") or policy.get("school") or ""
    if kind in ROAD_POLICIES:
        what = tr("{n} links").format(n=len(policy.get("links") or []))
    year = policy.get("year", policy.get("start_year", ""))
    return " · ".join(str(p) for p in (label, what, year) if p != "")


# ---------------------------------------------------------------------- forms


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of a union annotation (or the annotation itself)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def _field_kind(annotation: Any) -> str:
    """How a field is edited: "choice", "bool", "list", "skip" (nested) or "text"."""
    options = _unwrap(annotation)
    if all(typing.get_origin(o) is Literal or o is type(None) for o in options):
        return "choice"
    if options == [bool]:
        return "bool"
    origins = {typing.get_origin(o) for o in options}
    if origins & {list, tuple}:
        return "list"
    if origins & {dict} or any(isinstance(o, type) and issubclass(o, BaseModel) for o in options):
        return "skip"
    return "text"


def _choices(annotation: Any) -> list[Any]:
    values: list[Any] = []
    for option in _unwrap(annotation):
        values.extend(typing.get_args(option) if typing.get_origin(option) is Literal else [None])
    return values


def _literal_words(annotation: Any) -> set[str]:
    return {
        v
        for o in _unwrap(annotation)
        if typing.get_origin(o) is Literal
        for v in typing.get_args(o)
        if isinstance(v, str)
    }


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_as_text(v) for v in value)
    return str(value)


class ModelForm(QWidget):
    """A form for some fields of a pydantic model, validated as you type.

    Each field is checked with its own type and constraints; a valid field is emitted at once
    (``fieldEdited(name, value)``), an invalid one turns red with the schema's message. Rules
    across fields (e.g. "give exactly one of xy or lonlat") are shown below the form.

    Parameters
    ----------
    model
        The pydantic model class (e.g. ``sim.scenario.NewSchool``).
    fields
        Field names to show (default: all but ``type`` and nested ones).
    choices
        Suggested values for free-text fields, e.g. ``{"school": ["P01", ...]}``.
    """

    fieldEdited = Signal(str, object)

    def __init__(
        self,
        model: type[BaseModel],
        fields: tuple[str, ...] | None = None,
        choices: dict[str, list[str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._errors: dict[str, str] = {}
        self._adapters: dict[str, TypeAdapter] = {}
        self._loading = False
        self._values: dict[str, Any] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        names = fields or tuple(n for n in model.model_fields if n != "type")
        for name in names:
            info = model.model_fields[name]
            kind = _field_kind(info.annotation)
            if kind == "skip":
                continue
            widget = self._make_widget(name, kind, info.annotation, (choices or {}).get(name))
            self._adapters[name] = TypeAdapter(typing.Annotated[info.annotation, info])
            label = QLabel()
            self._labels[name] = label
            layout.addRow(label, widget)
            self.widgets[name] = widget
        self.cross_errors = QLabel()
        self.cross_errors.setWordWrap(True)
        self.cross_errors.setStyleSheet("color: #b00020")
        layout.addRow(self.cross_errors)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated field labels."""
        for name, label in self._labels.items():
            label.setText(tr(name.replace("_", " ")))

    def _make_widget(
        self, name: str, kind: str, annotation: Any, suggest: list[str] | None
    ) -> QWidget:
        if kind == "choice":
            box = QComboBox()
            for value in _choices(annotation):
                box.addItem("" if value is None else str(value), value)
            box.currentIndexChanged.connect(lambda _i, n=name: self._edited(n))
            return box
        if kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda _b, n=name: self._edited(n))
            return check
        if suggest:
            box = QComboBox()
            box.setEditable(True)
            box.addItems(suggest)
            box.editTextChanged.connect(lambda _t, n=name: self._edited(n))
            return box
        edit = QLineEdit()
        if kind == "list":
            edit.setPlaceholderText(tr("comma-separated"))
        edit.textEdited.connect(lambda _t, n=name: self._edited(n))
        return edit

    # -- values

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (a policy mapping) without emitting edits."""
        self._loading = True
        self._values = dict(values)
        for name, widget in self.widgets.items():
            info = self.model.model_fields[name]
            value = values.get(name, info.get_default(call_default_factory=True))
            if isinstance(widget, QComboBox) and not widget.isEditable():
                widget.setCurrentIndex(max(widget.findData(value), 0))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif self._check(name) == value:
                continue  # keep what is being typed ("0." on the way to "0.3"): same value
            elif isinstance(widget, QComboBox):
                widget.setEditText(_as_text(value))
            else:
                widget.setText(_as_text(value))
        self._loading = False
        self._errors = {}
        for name in self.widgets:
            self._check(name)
        self._show_errors()

    def raw_value(self, name: str) -> Any:
        """The value of a field's widget, before validation."""
        widget = self.widgets[name]
        annotation = self.model.model_fields[name].annotation
        if isinstance(widget, QComboBox) and not widget.isEditable():
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        text = (widget.currentText() if isinstance(widget, QComboBox) else widget.text()).strip()
        if text == "" and type(None) in _unwrap(annotation):
            return None
        if _field_kind(annotation) == "list":
            if text in _literal_words(annotation):
                return text
            return [part.strip() for part in text.split(",") if part.strip()]
        return text

    def _check(self, name: str) -> Any:
        try:
            value = self._adapters[name].validate_python(self.raw_value(name))
        except ValidationError as exc:
            self._errors[name] = "; ".join(e["msg"] for e in exc.errors(include_url=False))
            return _INVALID
        self._errors.pop(name, None)
        return self._adapters[name].dump_python(value, mode="json")

    def _edited(self, name: str) -> None:
        if self._loading:
            return
        value = self._check(name)
        if value is not _INVALID:
            self._values[name] = value
        self._show_errors()
        if value is not _INVALID:
            self.fieldEdited.emit(name, value)

    def _show_errors(self) -> None:
        for name, widget in self.widgets.items():
            message = self._errors.get(name)
            widget.setStyleSheet("background: #ffd6d6" if message else "")
            widget.setToolTip(message or "")
        lines = [f"{tr(n.replace('_', ' '))}: {m}" for n, m in self._errors.items()]
        if not self._errors and "type" in self.model.model_fields:
            try:
                self.model.model_validate(self._values)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    where = ".".join(str(p) for p in err["loc"])
                    lines.append(
                        f"{where + ': ' if where else ''}{err['msg'].removeprefix('Value error, ')}"
                    )
        self.cross_errors.setText("\n".join(lines))

    def errors(self) -> dict[str, str]:
        """Field name -> message for the fields that do not validate now."""
        return dict(self._errors)


_INVALID = object()


# ---------------------------------------------------------------------- panel


class EditorPanel(QWidget):
    """Scenario fields, the policy list (add, remove, reorder) and the selected policy's form.

    Signals
    -------
    pickRequested(str)
        The user wants to place/choose on the map: a point policy type, ``"roads"`` or ``""``
        (stop picking).
    selectionChanged(int)
        The selected policy index (-1 = none).
    """

    pickRequested = Signal(str)
    selectionChanged = Signal(int)

    def __init__(self, doc: ScenarioDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.city: Any = None
        self._syncing = False
        self.scenario_box = QGroupBox()
        self.scenario_form = ModelForm(schema.Scenario, SCENARIO_FIELDS)
        self.scenario_form.fieldEdited.connect(self.doc.set_field)
        QVBoxLayout(self.scenario_box).addWidget(self.scenario_form)
        self.parameters_box = QGroupBox()
        self.parameters_box.setCheckable(True)
        self.parameters_box.setChecked(False)  # folded: most planners keep the defaults
        self.parameters_form = ModelForm(schema.Parameters)
        self.parameters_form.fieldEdited.connect(self.doc.set_parameter)
        self.parameters_box.toggled.connect(self.parameters_form.setVisible)
        self.parameters_form.setVisible(False)
        QVBoxLayout(self.parameters_box).addWidget(self.parameters_form)

        self.policy_list = QListWidget()
        self.policy_list.setMaximumHeight(150)
        self.policy_list.currentRowChanged.connect(self._row_changed)
        self.add_type = QComboBox()
        for kind in schema.POLICY_TYPES:
            self.add_type.addItem("", kind)
        self.add_button = QPushButton()
        self.add_button.clicked.connect(self.start_add)
        self.remove_button = QPushButton()
        self.remove_button.clicked.connect(self._remove)
        self.up_button = QPushButton("↑")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button = QPushButton("↓")
        self.down_button.clicked.connect(lambda: self._move(+1))
        self.pick_roads = QPushButton()
        self.pick_roads.setCheckable(True)
        self.pick_roads.toggled.connect(self._pick_roads_toggled)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_type, 1)
        add_row.addWidget(self.add_button)
        edit_row = QHBoxLayout()
        for button in (self.remove_button, self.up_button, self.down_button, self.pick_roads):
            edit_row.addWidget(button)

        self.form_box = QGroupBox()
        self.form_layout = QVBoxLayout(self.form_box)
        self.form: ModelForm | None = None
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.scenario_box)
        layout.addWidget(self.parameters_box)
        self.policies_label = QLabel()
        layout.addWidget(self.policies_label)
        layout.addWidget(self.policy_list)
        layout.addLayout(add_row)
        layout.addLayout(edit_row)
        layout.addWidget(self.form_box)
        layout.addWidget(self.status)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.doc.changed.connect(self.refresh)
        self.retranslate()
        self.refresh()

    # -- public

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.scenario_box.setTitle(tr("Scenario"))
        self.scenario_form.retranslate()
        self.parameters_box.setTitle(tr("Model parameters"))
        self.parameters_form.retranslate()
        self.policies_label.setText(tr("Policies"))
        for i in range(self.add_type.count()):
            self.add_type.setItemText(i, tr(POLICY_LABELS[self.add_type.itemData(i)]))
        self.add_button.setText(tr("Add"))
        self.add_button.setToolTip(tr("Point policies: click on the map to place them"))
        self.remove_button.setText(tr("Remove"))
        self.pick_roads.setText(tr("Pick roads"))
        self.pick_roads.setToolTip(tr("Click roads on the map to add/remove them"))
        self.form_box.setTitle(tr("Selected policy"))
        if self.form is not None:
            self.form.retranslate()
        self.refresh()

    def set_city(self, city: Any) -> None:
        """Use the loaded city for defaults and suggestions (school ids)."""
        self.city = city
        self._rebuild_form(self.current_index())

    def current_index(self) -> int:
        """The selected policy index, or -1."""
        return self.policy_list.currentRow()

    def select(self, index: int) -> None:
        """Select policy ``index``."""
        self.policy_list.setCurrentRow(index)

    def start_add(self) -> None:
        """Add a policy of the chosen type; point policies wait for a click on the map."""
        kind = self.add_type.currentData()
        if kind in POINT_POLICIES:
            self.pickRequested.emit(kind)
            return
        index = self.doc.add_policy(policy_template(kind, self.doc, self.city))
        self.select(index)
        if kind in ROAD_POLICIES:
            self.pick_roads.setChecked(True)

    def place_point_policy(self, kind: str, x: float, y: float) -> int:
        """Add a point policy at (x, y), select it, and return its index."""
        xy = (round(x, 1), round(y, 1))  # decimetres are plenty for a site on a city map
        index = self.doc.add_policy(policy_template(kind, self.doc, self.city, xy=xy))
        self.select(index)
        return index

    def toggle_links(self, link_ids: list[int]) -> bool:
        """Add (or, if all present, remove) links in the selected road policy; False if none."""
        index = self.current_index()
        if index < 0 or self.doc.policies[index].get("type") not in ROAD_POLICIES or not link_ids:
            return False
        policy = copy.deepcopy(self.doc.policies[index])
        current = [int(i) for i in policy.get("links") or []]
        if all(i in current for i in link_ids):
            current = [i for i in current if i not in link_ids]
        else:
            current += [i for i in link_ids if i not in current]
        policy["links"] = current
        self.doc.edit_policy(index, policy)
        return True

    # -- sync with the document

    def refresh(self) -> None:
        """Redraw the list, the forms and the status from the document."""
        self._syncing = True
        row = self.policy_list.currentRow()
        self.policy_list.clear()
        for pol in self.doc.policies:
            item = QListWidgetItem(policy_summary(pol))
            problem = _policy_problem(pol)
            if problem:
                item.setForeground(QColor("#b00020"))
                item.setToolTip(problem)
            self.policy_list.addItem(item)
        count = self.policy_list.count()
        self.policy_list.setCurrentRow(min(row, count - 1) if count else -1)
        self.scenario_form.set_values(self.doc.data)
        self.parameters_form.set_values(self.doc.data.get("parameters") or {})
        self._syncing = False
        self._rebuild_form(self.policy_list.currentRow())
        problem = self.doc.problem()
        self.status.setStyleSheet("color: #b00020" if problem else "color: #1b7f3b")
        self.status.setText(problem or tr("Scenario is valid."))

    def _row_changed(self, row: int) -> None:
        if self._syncing:
            return
        self._rebuild_form(row)
        self.selectionChanged.emit(row)

    def _rebuild_form(self, row: int) -> None:
        kind = self.doc.policies[row]["type"] if 0 <= row < len(self.doc.policies) else None
        if self.form is not None and (kind is None or self.form.model is not policy_model(kind)):
            self.form_layout.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        if kind is None:
            self.pick_roads.setChecked(False)
            self.pick_roads.setEnabled(False)
            return
        if self.form is None:
            choices = {}
            if self.city is not None:
                choices["school"] = [str(s) for s in self.city.schools.index]
            self.form = ModelForm(policy_model(kind), choices=choices)
            self.form.fieldEdited.connect(self._policy_field_edited)
            self.form_layout.addWidget(self.form)
        self.form.set_values(self.doc.policies[row])
        self.pick_roads.setEnabled(kind in ROAD_POLICIES)
        if kind not in ROAD_POLICIES:
            self.pick_roads.setChecked(False)

    def _policy_field_edited(self, name: str, value: Any) -> None:
        row = self.current_index()
        if row < 0:
            return
        policy = copy.deepcopy(self.doc.policies[row])
        policy[name] = value
        self.doc.edit_policy(row, policy, merge=name)

    def _remove(self) -> None:
        row = self.current_index()
        if row >= 0:
            self.doc.remove_policy(row)

    def _move(self, step: int) -> None:
        row = self.current_index()
        if row >= 0 and 0 <= row + step < len(self.doc.policies):
            self.doc.move_policy(row, row + step)
            self.select(row + step)

    def _pick_roads_toggled(self, on: bool) -> None:
        self.pickRequested.emit("roads" if on else "")


def _policy_problem(policy: dict[str, Any]) -> str | None:
    try:
        policy_model(policy.get("type", "")).model_validate(policy)
    except ScenarioError as exc:
        return str(exc)
    except ValidationError as exc:
        return schema.format_validation_error(tr("policy"), exc)
    return None
