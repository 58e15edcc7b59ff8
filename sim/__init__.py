"""CitySandbox simulation engine: population, enrollment, mobility and traffic.

Headless by design: nothing under ``sim`` imports Qt. The GUI in ``gui/`` builds on it.
"""

from __future__ import annotations

__version__ = "0.1.0"
