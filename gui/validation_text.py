"""Validation messages of the forms in the current language.

pydantic writes its messages in English; :func:`error_text` keeps them in English mode and,
in Chinese, writes the common kinds (bounds, numbers, patterns, choices, lengths, required)
from the error's type and context. An unknown kind keeps pydantic's English message.
"""

from __future__ import annotations

from pydantic_core import ErrorDetails

from gui.i18n import language

#: pydantic error type -> Chinese template over the error's ``ctx``.
ZH_ERRORS: dict[str, str] = {
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数值",
    "float_type": "应为数值",
    "bool_parsing": "应为是或否",
    "string_pattern_mismatch": "应符合格式 {pattern}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "literal_error": "应为以下之一：{expected}",
    "missing": "必填",
    "list_type": "应为逗号分隔的列表",
    "finite_number": "应为有限数值",
}


def error_text(error: ErrorDetails) -> str:
    """One pydantic error (``ValidationError.errors()`` item) as shown in the form."""
    message = str(error["msg"]).removeprefix("Value error, ")
    template = ZH_ERRORS.get(str(error.get("type"))) if language() == "zh" else None
    if template is None:
        return message
    ctx = {k: f"{v:g}" if isinstance(v, float) else v for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return message
