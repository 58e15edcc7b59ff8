"""Shared fixtures: repository paths, the shared benchmarks, a short scenario and its run."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _support import DEFAULT_CITY, ROOT, SHARED, write_scenario  # noqa: F401


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    """../shared/benchmarks, or skip when this checkout has no shared folder beside it."""
    if not SHARED.is_dir():
        pytest.skip("../shared/benchmarks is not available")
    return SHARED


@pytest.fixture(scope="session")
def short_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-year, 2-replication scenario on the default city."""
    return write_scenario(tmp_path_factory.mktemp("scenarios"))


@pytest.fixture(scope="session")
def finished_run(short_scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short scenario run once, shared by the tests that read a run folder."""
    from sim.runs.run import load_for_run, run_scenario

    return run_scenario(load_for_run(short_scenario), tmp_path_factory.mktemp("runs"))
