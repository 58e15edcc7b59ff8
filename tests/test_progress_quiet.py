"""``-q`` silences progress: neither a bar nor the plain lines that stand in for one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sim import settings
from sim.cli import configure_logging
from sim.progress import Progress, cli_progress


def _drive(update) -> None:
    for stage in ("demography", "education", "mobility"):
        update(SimpleNamespace(fraction=0.5, message=f"{stage} · replication 1/1"))


def test_plain_lines_without_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    bar = Progress("road-closure", 10, show=False, quiet=False)
    bar.note("2025 · replication 1/1 · demography")
    bar.close()
    assert "road-closure: 2025 · replication 1/1 · demography" in capsys.readouterr().err


def test_quiet_flag_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    bar = Progress("road-closure", 10, show=True, quiet=True)
    bar.advance(3, "demography")
    bar.note("2025 · replication 1/1 · demography")
    bar.close()
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", "")


def test_cli_q_silences_cli_progress(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "progress", False)  # as in a log or under CI
    monkeypatch.setattr(settings, "quiet", False)
    configure_logging(quiet=True)
    try:
        with cli_progress("road-closure") as update:
            _drive(update)
        out = capsys.readouterr()
        assert (out.out, out.err) == ("", "")
    finally:
        configure_logging()
    with cli_progress("road-closure") as update:  # without -q the lines are back
        _drive(update)
    assert capsys.readouterr().err.count("road-closure:") == 3
