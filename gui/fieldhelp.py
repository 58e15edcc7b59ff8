"""Help text of a schema field, for the editor's tooltips: what it means and what is allowed.

:func:`field_help` joins the field's description (pydantic ``description`` or the
attribute docstring under it in the class body) with what the schema allows: the type,
the bounds (``> 0``, ``≤ 40``), the choices and the default.
"""

from __future__ import annotations

import ast
import inspect
import itertools
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
}
_TYPES = {int: "whole number", float: "number", str: "text", bool: "yes/no"}


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
            words.append(tr("one of") + " " + ", ".join(str(v) for v in typing.get_args(option)))
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
    allowed = [_kind(info.annotation)]
    for meta in info.metadata:
        allowed += [
            f"{sign} {getattr(meta, attr)}" for attr, sign in _BOUNDS if hasattr(meta, attr)
        ]
    if not info.is_required():
        default = info.get_default(call_default_factory=True)
        if default not in (None, [], ""):
            allowed.append(tr("default {value}").format(value=default))
    rule = ", ".join(a for a in allowed if a)
    return " ".join(p for p in (meaning, f"({rule})" if rule else "") if p) or tr(
        name.replace("_", " ")
    )
