"""Helpers shared by the test modules (import as ``from _support import ...``).

Kept out of conftest.py: tests/gui has its own conftest, and ``from conftest import``
would resolve to whichever conftest pytest imported last.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
DEFAULT_CITY = ROOT / "geodata" / "default_city.gpkg"


def write_scenario(
    folder: Path, name: str = "short", body: str = "", years: int = 2, replications: int = 2
) -> Path:
    """A short scenario extending the default one (years × replications)."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nextends: {ROOT / 'scenarios' / 'default.yaml'}\n"
        f"years: {years}\nreplications: {replications}\n{body}",
        encoding="utf-8",
    )
    return path
