"""Exceptions raised by CitySandbox.

Every error a user can cause (a bad scenario file, bad geodata, a bad CSV, a bad
argument) is a :class:`CitySandboxError`. Messages name the file, the field, the bad
value and what is allowed, in the library's own words: an error about one argument
carries ``field``, ``value`` and ``allowed``, and each front end names the field its
own way (the command line as a flag, ``--birth-year``; the GUI as the field name,
``birth_year``) through :meth:`CitySandboxError.describe`. The command line prints the
message as one line and exits with status 2; it never shows a traceback for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CitySandboxError(Exception):
    """Base class of every error a user can act on.

    Parameters
    ----------
    message
        The whole message, or (with ``field``) what follows ``field value:``; when
        empty, ``expected <allowed>``.
    field
        The argument or setting that is wrong (a Python name, e.g. ``birth_year``).
    value
        Its bad value, shown as given (``str``).
    allowed
        What is allowed instead, e.g. ``">= 0"`` (for front ends that show it apart).
    where
        The file or object the field belongs to; the message starts with it.
    """

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        value: Any = None,
        allowed: str | None = None,
        where: str | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.value = value
        self.allowed = allowed
        self.where = where
        super().__init__(self.describe())

    def describe(self, name: Callable[[str], str] | None = None) -> str:
        """The message, with the field named by ``name`` (default: the field itself)."""
        body = self.message or (f"expected {self.allowed}" if self.allowed else "")
        if self.field is not None:
            label = name(self.field) if name is not None else self.field
            head = " ".join(p for p in (label, "" if self.value is None else str(self.value)) if p)
            body = f"{head}: {body}" if body else head
        return f"{self.where}: {body}" if self.where else body

    def located(self, where: str) -> CitySandboxError:
        """The same error (same class and fields) with ``where`` put in front of its place."""
        place = f"{where}: {self.where}" if self.where else where
        return type(self)(
            self.message, field=self.field, value=self.value, allowed=self.allowed, where=place
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the keyword fields (errors cross process boundaries in batches)."""
        kwargs = {"field": self.field, "value": self.value, "allowed": self.allowed}
        return (_rebuild, (type(self), self.message, kwargs, self.where))


def _rebuild(
    cls: type[CitySandboxError], message: str, kwargs: dict[str, Any], where: str | None
) -> CitySandboxError:
    return cls(message, where=where, **kwargs)


class ScenarioError(CitySandboxError, ValueError):
    """A scenario or sweep file is malformed or names things that do not exist."""


class GeodataError(CitySandboxError, ValueError):
    """City data (GeoPackage, GeoJSON, OSM, TNTP files) is missing or inconsistent."""


class InputDataError(CitySandboxError, ValueError):
    """A tabular input (history CSV, births CSV, flows CSV) is malformed."""


class RunError(CitySandboxError):
    """A run folder or catalog is missing, incomplete or inconsistent."""


class UsageError(CitySandboxError, ValueError):
    """An argument (a command-line flag, a GUI field) has a value that is not allowed."""


class OutputError(CitySandboxError, OSError):
    """An output path cannot be written: not a folder, read-only, full, or a bad name."""


class RunCancelled(CitySandboxError):
    """The run was cancelled; nothing was written."""
