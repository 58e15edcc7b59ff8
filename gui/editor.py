"""The scenario editor panel: scenario fields, the policy list and the selected policy's form.

Policy types, their labels, their map picks and the templates of new policies come from the
policy registry (:mod:`sim.policies`); the document with undo is :mod:`gui.document`, the
generated forms :mod:`gui.forms`.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.document import ScenarioDocument
from gui.forms import Foldable, ModelForm
from gui.i18n import policy_help, policy_label, tr
from gui.planner import missing_pick, name_policies, policy_name, seats_note, zone_check
from gui.signalpick import current_plan, cycle_note
from gui.streetpick import street_label
from sim import scenario as schema
from sim.city import City
from sim.errors import ScenarioError
from sim.policies import Policy, TemplateContext, policy_class

#: Policy types placed by a click on the map.
POINT_POLICIES: tuple[str, ...] = tuple(
    k for k in schema.POLICY_TYPES if policy_class(k).pick == "point"
)
#: Policy types whose links are picked on the map.
ROAD_POLICIES: tuple[str, ...] = tuple(
    k for k in schema.POLICY_TYPES if policy_class(k).pick == "links"
)
#: Policy types that name one signalised junction (picked on the map).
SIGNAL_POLICIES: tuple[str, ...] = tuple(
    k for k in schema.POLICY_TYPES if "signal" in policy_class(k).model_fields
)
#: The field of zone ids picked on the map, per policy type that has one.
ZONE_FIELDS: dict[str, str] = {
    k: next(n for n in ("zones", "cordon_zones") if n in policy_class(k).model_fields)
    for k in schema.POLICY_TYPES
    if {"zones", "cordon_zones"} & set(policy_class(k).model_fields)
}
#: English label of every policy type (translated with :func:`gui.i18n.policy_label`).
POLICY_LABELS: dict[str, str] = {k: policy_class(k).label for k in schema.POLICY_TYPES}
SCENARIO_FIELDS: tuple[str, ...] = ("name", "description", "start_year")


def policy_model(kind: str) -> type[Policy]:
    """The pydantic model of a policy type (e.g. ``"new_school"`` -> ``NewSchool``)."""
    return policy_class(kind)


def policy_template(
    kind: str, doc: ScenarioDocument, city: City | None = None, **where: Any
) -> dict[str, Any]:
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
    ctx = TemplateContext(
        year=start + 1 if years > 1 else start,
        school=str(city.schools.index[0]) if city is not None and len(city.schools) else "",
        zone=int(city.zones.index[0]) if city is not None and len(city.zones) else 1,
        xy=tuple(where.get("xy", ())),
        links=tuple(where.get("links", ())),
        used_ids=frozenset(p.get("id") for p in doc.policies),
    )
    return policy_class(kind).template(ctx)


def policy_summary(policy: dict[str, Any], city: City | None = None) -> str:
    """One line describing a policy for the list, e.g. "New school S-new-1 · 2025".

    With the city, a road policy names its streets: "Road closure · Camino Ovalle La
    Serena · 1.2 km · both directions · 2025".
    """
    kind = policy.get("type", "?")
    label = policy_label(kind)
    what = policy.get("id") or policy.get("school") or ""
    if kind in ROAD_POLICIES:
        links = [int(i) for i in policy.get("links") or []]
        what = street_label(city.links, links) if city is not None else ""
        what = what or tr("{n} links").format(n=len(links))
    year = policy.get("year", "")
    return " · ".join(str(p) for p in (label, what, year) if p != "")


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
        self.city: City | None = None
        self._syncing = False
        self.scenario_box = QGroupBox()
        self.scenario_form = ModelForm(schema.Scenario, SCENARIO_FIELDS)
        self.scenario_form.fieldEdited.connect(self.doc.set_field)
        QVBoxLayout(self.scenario_box).addWidget(self.scenario_form)
        self.parameters_form = ModelForm(schema.Parameters)
        self.parameters_form.fieldEdited.connect(self.doc.set_parameter)
        # folded: most planners keep the defaults
        self.parameters_box = Foldable(self.parameters_form)

        self.policy_list = QListWidget()
        self.policy_list.setMaximumHeight(150)
        self.policy_list.currentRowChanged.connect(self._row_changed)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.policy_list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._remove)
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
        self.pick_signal = QPushButton()
        self.pick_signal.setCheckable(True)
        self.pick_signal.setVisible(False)
        self.pick_signal.toggled.connect(lambda on: self.pickRequested.emit("signal" if on else ""))
        self.pick_zones = QPushButton()
        self.pick_zones.setCheckable(True)
        self.pick_zones.setVisible(False)
        self.pick_zones.toggled.connect(lambda on: self.pickRequested.emit("zones" if on else ""))
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_type, 1)
        add_row.addWidget(self.add_button)
        edit_row = QHBoxLayout()
        buttons = (self.remove_button, self.up_button, self.down_button, self.pick_roads)
        for button in (*buttons, self.pick_signal, self.pick_zones):
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
            kind = self.add_type.itemData(i)
            self.add_type.setItemText(i, policy_label(kind))
            self.add_type.setItemData(i, policy_help(kind), Qt.ItemDataRole.ToolTipRole)
        self.add_button.setText(tr("Add"))
        self.add_button.setToolTip(tr("Point policies: click on the map to place them"))
        self.remove_button.setText(tr("Remove"))
        self.pick_roads.setText(tr("Pick roads"))
        self.pick_roads.setToolTip(tr("Click roads on the map to add/remove them"))
        self.pick_signal.setText(tr("Pick signal"))
        self.pick_signal.setToolTip(tr("Click a signalised junction on the map"))
        self.pick_zones.setText(tr("Pick zones"))
        self.pick_zones.setToolTip(tr("Click zones on the map to add/remove them"))
        self.form_box.setTitle(tr("Selected policy"))
        if self.form is not None:
            self.form.retranslate()
        self.refresh()

    def set_city(self, city: City | None) -> None:
        """Use the loaded city for defaults and suggestions (school ids)."""
        self.city = city
        self.refresh()  # road policies are named by their streets once the city is known

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

    def set_signal(self, signal: int) -> bool:
        """Point the selected signal policy at ``signal``, starting from the city's plan."""
        index = self.current_index()
        if index < 0 or self.city is None:
            return False
        if self.doc.policies[index].get("type") not in SIGNAL_POLICIES:
            return False
        policy = copy.deepcopy(self.doc.policies[index]) | current_plan(self.city, signal)
        self.doc.edit_policy(index, policy)
        return True

    def toggle_zone(self, zone: int) -> bool:
        """Add ``zone`` to the selected policy's zones, or remove it; False if it has none."""
        index = self.current_index()
        kind = self.doc.policies[index].get("type") if index >= 0 else None
        if kind not in ZONE_FIELDS:
            return False
        field = ZONE_FIELDS[kind]
        policy = copy.deepcopy(self.doc.policies[index])
        zones = [int(z) for z in policy.get(field) or []]
        policy[field] = [z for z in zones if z != zone] if zone in zones else [*zones, zone]
        self.doc.edit_policy(index, policy)
        return True

    # -- sync with the document

    def refresh(self) -> None:
        """Redraw the list, the forms and the status from the document."""
        self._syncing = True
        row = self.policy_list.currentRow()
        self.policy_list.clear()
        first = None  # the first policy's problem: named, and in a planner's words
        for i, pol in enumerate(self.doc.policies):
            item = QListWidgetItem(policy_summary(pol, self.city))
            problem = _policy_problem(pol, i)
            if problem:
                item.setForeground(QColor("#b00020"))
                item.setToolTip(problem)
                first = first or problem
            self.policy_list.addItem(item)
        count = self.policy_list.count()
        self.policy_list.setCurrentRow(min(row, count - 1) if count else -1)
        self.scenario_form.set_values(self.doc.data)
        self.parameters_form.set_values(self.doc.data.get("parameters") or {})
        self._syncing = False
        self._rebuild_form(self.policy_list.currentRow())
        problem = self.doc.problem()
        problem = problem and (first or name_policies(problem, self.doc.policies))
        self.status.setStyleSheet("color: #b00020" if problem else "color: #1b7f3b")
        self.status.setText(problem or tr("Scenario is valid."))

    def _row_changed(self, row: int) -> None:
        if self._syncing:
            return
        self._rebuild_form(row)
        self.selectionChanged.emit(row)

    def _rebuild_form(self, row: int) -> None:
        kind = self.doc.policies[row]["type"] if 0 <= row < len(self.doc.policies) else None
        self.form_box.setVisible(kind is not None)  # no empty frame while none is selected
        if self.form is not None and (kind is None or self.form.model is not policy_model(kind)):
            self.form_layout.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        if kind is None:
            self.pick_roads.setChecked(False)
            self.pick_roads.setEnabled(False)
            self.pick_signal.setChecked(False)
            self.pick_signal.setVisible(False)
            self.pick_zones.setChecked(False)
            self.pick_zones.setVisible(False)
            return
        if self.form is None:
            choices = {}
            if self.city is not None:
                choices["school"] = [str(s) for s in self.city.schools.index]
            checks = {"zones": zone_check(self.city)}
            self.form = ModelForm(policy_model(kind), choices=choices, checks=checks)
            self.form.fieldEdited.connect(self._policy_field_edited)
            self.form_layout.addWidget(self.form)
        self.form.set_values(self.doc.policies[row])
        if "classes_per_grade" in self.form.notes:
            self.form.set_note("classes_per_grade", seats_note(self.doc.policies[row], self.city))
        if "greens" in self.form.notes:
            self.form.set_note("greens", cycle_note(self.doc.policies[row]))
        self.pick_signal.setVisible(kind in SIGNAL_POLICIES)
        if kind not in SIGNAL_POLICIES:
            self.pick_signal.setChecked(False)
        self.pick_zones.setVisible(kind in ZONE_FIELDS)
        if kind not in ZONE_FIELDS:
            self.pick_zones.setChecked(False)
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


def _policy_problem(policy: dict[str, Any], index: int) -> str | None:
    try:
        policy_model(policy.get("type", "")).model_validate(policy)
    except ScenarioError as exc:
        return str(exc)
    except ValidationError as exc:
        return missing_pick(policy, index) or schema.format_validation_error(
            policy_name(policy, index), exc
        )
    return None
