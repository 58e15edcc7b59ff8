"""Help text of a schema field, for the editor's tooltips: what it means and what is allowed.

:func:`field_help` joins the field's description (pydantic ``description`` or the
attribute docstring under it in the class body, its reST markup dropped) with what the
schema allows: the type, the bounds (``> 0``, ``≤ 40``), the choices and the default. Both
parts are in the current language: the descriptions' Chinese is
:data:`gui.fieldhelp_zh.FIELD_HELP_ZH`, keyed by the English shown.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap
import types
import typing
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from gui.i18n import tr

_BOUNDS = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))
#: Meanings of common fields whose schema says nothing about them.
MEANINGS = {
    "id": "A short unique id (letters, digits), e.g. P60.",
    "name": "A name shown in tables and on the map.",
    "level": "The school level.",
    "xy": "The point in the city's projected coordinates (metres): x, y. Click the map to set.",
    "lonlat": "The point as longitude, latitude (instead of xy).",
    "classes_per_grade": "Classes in every grade; seats = classes × class size × grades.",
    "class_size": "Pupils per class; blank = the school system's class size (e.g. 45).",
    "quality": "How attractive the school is to parents (0 = average).",
    "links": "The road links; pick them on the map.",
    "seed": "Random seed: the same scenario and seed give the same results.",
    "years": "How many years to simulate.",
    "description": "A sentence on what the scenario is about (shown in the scenario browser).",
    "school": "The school (its id); pick one from the list.",
    "mortality_multiplier": "Scales the age-specific death rates (1.0 = the city's own).",
    "enrollment_policy": "How pupils are given a school: by catchment, the nearest "
    "school, or parents' choice.",
    "dwellings_per_year": "Dwellings handed over each year.",
    "n_years": "How many years the dwellings are handed over for.",
    "from_node": "The node (junction id) the new link starts at.",
    "to_node": "The node (junction id) the new link ends at.",
    "lanes": "Lanes in each direction.",
    "speed_kmh": "Free-flow speed (km/h).",
    "capacity_per_lane": "Vehicles per hour one lane can carry.",
    "both_directions": "Build the reverse link too.",
    "start": "Cars departing from this time (HH:MM) pay.",
    "signals": "The signals (ids) to retime, or all.",
    "method": "Webster's method from the peak flows, or a fixed cycle.",
    "share": "Share of drivers it reaches (0–1).",
    "zones": "The zones (ids); pick them on the map.",
}
_TYPES = {int: "whole number", float: "number", str: "text", bool: "yes/no"}
#: reST roles (``:mod:`sim.x```) and literals (````x````) of the docstrings, shown plain.
_MARKUP = re.compile(r":[a-z]+:`~?([^`]+)`|``([^`]+)``")


def _plain(text: str) -> str:
    """``text`` without its reST markup."""
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2), text)


def _value(value: Any) -> str:
    """A schema value (a choice, a default) in the current language."""
    if isinstance(value, bool):
        return tr("yes" if value else "no")
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return tr(value) if isinstance(value, str) else str(value)


@cache
def _docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings of one class body: field name -> the string under it."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    found = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[node.target.id] = " ".join(after.value.value.split())
    return found


def _kind(annotation: Any) -> str:
    options = (
        typing.get_args(annotation)
        if typing.get_origin(annotation)
        in (
            typing.Union,
            types.UnionType,
        )
        else (annotation,)
    )
    words = []
    for option in options:
        if option is type(None):
            words.append(tr("blank allowed"))
        elif typing.get_origin(option) is Literal:
            words.append(tr("one of") + " " + ", ".join(_value(v) for v in typing.get_args(option)))
        elif typing.get_origin(option) in (list, tuple):
            words.append(tr("comma-separated list"))
        elif option in _TYPES:
            words.append(tr(_TYPES[option]))
    return "; ".join(words)


def field_help(model: type[BaseModel], name: str) -> str:
    """What field ``name`` of ``model`` means and which values it takes (one paragraph)."""
    info = model.model_fields[name]
    meaning = (
        info.description
        or next((d[name] for d in map(_docstrings, model.__mro__) if name in d), "")
        or MEANINGS.get(name, "")
    )
    meaning = tr(_plain(meaning)) if meaning else ""
    allowed = [_kind(info.annotation)]
    for meta in info.metadata:
        allowed += [
            f"{sign} {getattr(meta, attr)}" for attr, sign in _BOUNDS if hasattr(meta, attr)
        ]
    if not info.is_required():
        default = info.get_default(call_default_factory=True)
        if default not in (None, [], ""):
            allowed.append(tr("default {value}").format(value=_value(default)))
    rule = ", ".join(a for a in allowed if a)
    return " ".join(p for p in (meaning, f"({rule})" if rule else "") if p) or tr(
        name.replace("_", " ")
    )
