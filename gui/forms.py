"""Forms generated from a pydantic model, validated field by field as you type.

:class:`ModelForm` builds a form from a pydantic model's fields and validates each field as
you type with the field's own type and constraints (a ``TypeAdapter`` of the field), then
the whole object for cross-field rules. :class:`Foldable` folds a form away under its
header (only the header shows while folded).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.fieldhelp import field_help
from gui.i18n import tr
from gui.validation_text import error_text

#: An extra check of one field's value: the problem in words, or None when it is fine.
Check = Callable[[Any], str | None]

#: English labels of fields whose name is an abbreviation or ends in its unit ("cycle_s");
#: any other field reads as its name in words ("car_share" -> "car share").
FIELD_LABELS = {
    "xy": "x, y (m)",
    "lonlat": "lon, lat",
    "tfr": "total fertility rate (TFR)",
    "od_model": "OD model",
    "od_adjustment": "OD adjustment",
    "gtfs": "GTFS feed",
    "cycle_s": "cycle (s)",
    "offset_s": "offset (s)",
    "speed_kmh": "speed (km/h)",
    "shift_min": "shift (min)",
    "within_min": "within (min)",
    "mean_trip_km": "mean trip (km)",
    "choice_distance_km_weight": "choice weight per km",
    "n_years": "number of years",
    "id": "ID",
}


def field_label(name: str) -> str:
    """The label of field ``name`` in the current language.

    The catalogue translates the field's name in words (``tr("cycle s")``); where it has no
    translation (English), the label is :data:`FIELD_LABELS`' or the name in words.
    """
    words = name.replace("_", " ")
    shown = tr(words)
    return FIELD_LABELS.get(name, words) if shown == words else shown


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

    Each field is checked with its own type and constraints as you type; an invalid one turns
    red with the schema's message. A valid value is emitted (``fieldEdited(name, value)``)
    when it is complete: a choice at once, typed text at Enter or when the focus leaves the
    field, so a half-typed value ("0." on the way to "0.3") never reaches the document. Rules
    across fields (e.g. "give exactly one of xy or lonlat") are shown below the form.

    Parameters
    ----------
    model
        The pydantic model class (e.g. ``sim.policies.NewSchool``).
    fields
        Field names to show (default: all but ``type`` and nested ones).
    choices
        Suggested values for free-text fields, e.g. ``{"school": ["P01", ...]}``.
    checks
        Extra checks by field (e.g. zone ids against the city), run after the schema's.

    Every field's label and widget carry its help (:func:`gui.fieldhelp.field_help`) as a
    tooltip; :meth:`set_note` writes a remark beside a field (e.g. the seats it makes).
    """

    fieldEdited = Signal(str, object)

    def __init__(
        self,
        model: type[BaseModel],
        fields: tuple[str, ...] | None = None,
        choices: dict[str, list[str]] | None = None,
        checks: dict[str, Check] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.checks = dict(checks or {})
        self.notes: dict[str, QLabel] = {}
        self.widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._errors: dict[str, str] = {}
        self._adapters: dict[str, TypeAdapter] = {}
        self._loading = False
        self._values: dict[str, Any] = {}
        self._shown: dict[str, Any] = {}  # each field's value as last shown or committed
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        names = fields or tuple(n for n in model.model_fields if n != "type")
        for name in names:
            info = model.model_fields[name]
            kind = _field_kind(info.annotation)
            if kind == "skip":
                continue
            widget = self._make_widget(name, kind, info.annotation, (choices or {}).get(name))
            # the field's type and constraints (not its aliases, which only a model has)
            annotation: Any = info.annotation
            if info.metadata:
                annotation = typing.Annotated[(annotation, *info.metadata)]
            self._adapters[name] = TypeAdapter(annotation)
            label = QLabel()
            self._labels[name] = label
            note = QLabel()
            note.setStyleSheet("color: #555")
            note.setVisible(False)
            self.notes[name] = note
            row = QHBoxLayout()
            row.addWidget(widget, 1)
            row.addWidget(note)
            layout.addRow(label, row)
            self.widgets[name] = widget
        self.cross_errors = QLabel()
        self.cross_errors.setWordWrap(True)
        self.cross_errors.setStyleSheet("color: #b00020")
        layout.addRow(self.cross_errors)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated field labels."""
        for name, label in self._labels.items():
            label.setText(field_label(name))
            widget = self.widgets[name]
            if isinstance(widget, QLineEdit) and widget.placeholderText():
                widget.setPlaceholderText(tr("comma-separated"))  # list fields only have one
            if isinstance(widget, QComboBox) and not widget.isEditable():
                for i in range(widget.count()):  # choice values shown translated
                    value = widget.itemData(i)
                    widget.setItemText(i, "" if value is None else tr(str(value)))
            label.setToolTip(field_help(self.model, name))
        for name, widget in self.widgets.items():
            widget.setToolTip(self._errors.get(name) or self.help(name))

    def set_note(self, name: str, text: str) -> None:
        """Show ``text`` beside field ``name`` ("" hides it)."""
        self.notes[name].setText(text)
        self.notes[name].setVisible(bool(text))

    def help(self, name: str) -> str:
        """The help text of field ``name`` (its tooltip when it has no error)."""
        return field_help(self.model, name)

    def _make_widget(
        self, name: str, kind: str, annotation: Any, suggest: list[str] | None
    ) -> QWidget:
        if kind == "choice":
            box = QComboBox()
            for value in _choices(annotation):
                box.addItem("" if value is None else tr(str(value)), value)
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
            box.editTextChanged.connect(lambda _t, n=name: self._typed(n))
            line = box.lineEdit()
            if line is not None:
                line.editingFinished.connect(lambda n=name: self._edited(n))
            return box
        edit = QLineEdit()
        if kind == "list":
            edit.setPlaceholderText(tr("comma-separated"))
        edit.textEdited.connect(lambda _t, n=name: self._typed(n))
        edit.editingFinished.connect(lambda n=name: self._edited(n))
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
            elif isinstance(widget, QLineEdit):
                widget.setText(_as_text(value))
                widget.setCursorPosition(0)  # a long text shows its start, not its end
        self._loading = False
        self._errors = {}
        self._shown = {name: self._check(name) for name in self.widgets}
        self._show_errors()

    def raw_value(self, name: str) -> Any:
        """The value of a field's widget, before validation."""
        widget = self.widgets[name]
        annotation = self.model.model_fields[name].annotation
        if isinstance(widget, QComboBox) and not widget.isEditable():
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            text = widget.currentText().strip()
        else:
            assert isinstance(widget, QLineEdit)  # the widgets _make_widget makes
            text = widget.text().strip()
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
            self._errors[name] = "; ".join(error_text(e) for e in exc.errors(include_url=False))
            return _INVALID
        problem = self.checks[name](value) if name in self.checks else None
        if problem:
            self._errors[name] = problem
            return _INVALID
        self._errors.pop(name, None)
        return self._adapters[name].dump_python(value, mode="json")

    def _typed(self, name: str) -> None:
        """Check a text field while it is typed (red when invalid); commit nothing yet."""
        if not self._loading:
            self._check(name)
            self._show_errors()

    def _edited(self, name: str) -> None:
        """Commit a field: a choice at once, a text field at Enter or when focus leaves."""
        if self._loading:
            return
        value = self._check(name)
        if value is not _INVALID and self._shown.get(name, _INVALID) == value:
            self._show_errors()
            return  # focus left a field that did not change: no edit
        if value is not _INVALID:
            self._values[name] = value
            self._shown[name] = value
        self._show_errors()
        if value is not _INVALID:
            self.fieldEdited.emit(name, value)

    def _show_errors(self) -> None:
        for name, widget in self.widgets.items():
            message = self._errors.get(name)
            widget.setStyleSheet("background: #ffd6d6" if message else "")
            widget.setToolTip(message or self.help(name))
        lines = [f"{field_label(n)}: {m}" for n, m in self._errors.items()]
        if not self._errors and "type" in self.model.model_fields:
            try:
                self.model.model_validate(self._values)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    where = ".".join(str(p) for p in err["loc"])
                    lines.append(f"{where + ': ' if where else ''}{error_text(err)}")
        self.cross_errors.setText("\n".join(lines))
        self.cross_errors.setVisible(bool(lines))  # no blank row under a valid form

    def errors(self) -> dict[str, str]:
        """Field name -> message for the fields that do not validate now."""
        return dict(self._errors)


_INVALID = object()


class Foldable(QWidget):
    """Contents under a header that folds them away: folded, only the header shows.

    The header is a tool button with a disclosure arrow (right: folded, down: unfolded);
    unfolded, the contents sit in a frame below it. :meth:`setChecked`, :meth:`isChecked`
    and :meth:`setTitle` read as a checkable ``QGroupBox``'s (checked = unfolded), which
    drew an empty frame while folded.

    Parameters
    ----------
    contents
        The widget to fold (e.g. a :class:`ModelForm`).
    unfolded
        Whether it starts unfolded.
    """

    def __init__(
        self, contents: QWidget, *, unfolded: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.header = QToolButton()  # not checkable: a checked one would look pressed
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.frame = QGroupBox()
        QVBoxLayout(self.frame).addWidget(contents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.frame)
        self.setChecked(unfolded)
        self.header.clicked.connect(lambda: self.setChecked(not self._unfolded))

    def setTitle(self, text: str) -> None:
        """The header's text."""
        self.header.setText(text)

    def setChecked(self, unfolded: bool) -> None:
        """Unfold (True) or fold (False)."""
        self._unfolded = unfolded
        self.header.setArrowType(Qt.ArrowType.DownArrow if unfolded else Qt.ArrowType.RightArrow)
        self.frame.setVisible(unfolded)

    def isChecked(self) -> bool:
        """Whether the contents are unfolded."""
        return self._unfolded
