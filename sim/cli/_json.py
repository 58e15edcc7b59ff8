"""Strictly valid JSON for the ``--json`` output of every command.

``json.dumps`` writes ``NaN`` and ``Infinity`` for non-finite floats, which strict JSON
parsers refuse. :func:`dumps` writes ``null`` for them instead and lists each one, with
its key path and the reason when known, in the object's ``warnings`` list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _clean(value: Any, path: str, notes: list[str], reasons: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): _clean(v, f"{path}.{k}" if path else str(k), notes, reasons)
            for k, v in value.items()
        }
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}[{i}]", notes, reasons) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        why = reasons.get(path, "not a finite number")
        notes.append(f"{path} is {value} ({why}); written as null")
        return None
    return value


def dumps(obj: Mapping[str, Any], reasons: Mapping[str, str] | None = None, **kwargs: Any) -> str:
    """One strictly valid JSON object: non-finite numbers become ``null``, with a warning.

    Parameters
    ----------
    obj
        The object to print.
    reasons
        Why a value may be non-finite, by key path (e.g. ``{"cpc": "no flows"}``).
    **kwargs
        Passed to :func:`json.dumps` (e.g. ``ensure_ascii=False``).

    Returns
    -------
    str
        The JSON text; when some value was not finite, ``warnings`` lists each one.
    """
    notes: list[str] = []
    clean = _clean(obj, "", notes, reasons or {})
    if notes:
        clean["warnings"] = [*clean.get("warnings", []), *notes]
    return json.dumps(clean, allow_nan=False, **kwargs)
