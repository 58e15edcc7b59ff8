"""Exceptions raised by CitySandbox.

Every error a user can cause (a bad scenario file, bad geodata, a bad CSV, a bad
command-line flag) is a :class:`CitySandboxError`. The command line prints its
message as one line and exits with status 2; it never shows a traceback for them.
Messages name the file, the field, the bad value and what is allowed.
"""

from __future__ import annotations


class CitySandboxError(Exception):
    """Base class of every error a user can act on."""


class ScenarioError(CitySandboxError, ValueError):
    """A scenario or sweep file is malformed or names things that do not exist."""


class GeodataError(CitySandboxError, ValueError):
    """City data (GeoPackage, GeoJSON, OSM, TNTP files) is missing or inconsistent."""


class InputDataError(CitySandboxError, ValueError):
    """A tabular input (history CSV, births CSV, flows CSV) is malformed."""


class RunError(CitySandboxError):
    """A run folder or catalog is missing, incomplete or inconsistent."""


class UsageError(CitySandboxError, ValueError):
    """A command-line flag has a value that is not allowed."""
