"""Logging: the library logs through ``logging.getLogger(__name__)``; ``-v``/``-q`` set the level.

Fresh processes, so the city is read (and logged) rather than served from the in-process
cache, and nothing configured by other tests leaks in.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from _support import ROOT

SCENARIO = str(ROOT / "scenarios" / "default.yaml")


def _validate(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("argv", "city_line"),
    [
        (["validate", SCENARIO], False),  # default: settings.log_level (WARNING)
        (["-v", "validate", SCENARIO], True),  # before the command
        (["validate", SCENARIO, "--verbose"], True),  # or after it
        (["-q", "validate", SCENARIO], False),
    ],
)
def test_verbose_shows_the_city_load_and_quiet_hides_it(argv: list[str], city_line: bool) -> None:
    proc = _validate(*argv)
    assert proc.returncode == 0, proc.stderr
    logged = [line for line in proc.stderr.splitlines() if line.startswith("INFO sim.city: ")]
    assert bool(logged) == city_line, proc.stderr
    if city_line:
        assert "zones" in logged[0] and "links" in logged[0]


def test_log_level_setting_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from sim import settings
    from sim.cli import configure_logging

    monkeypatch.setattr(settings, "log_level", logging.DEBUG)
    configure_logging()
    assert logging.getLogger("sim").getEffectiveLevel() == logging.DEBUG
    configure_logging(verbose=1)
    assert logging.getLogger("sim").getEffectiveLevel() == logging.INFO
    monkeypatch.setattr(settings, "log_level", logging.WARNING)
    configure_logging()
    assert logging.getLogger("sim").getEffectiveLevel() == logging.WARNING
