"""Helpers shared by the test modules (import as ``from _support import ...``).

Kept out of conftest.py: tests/gui has its own conftest, and ``from conftest import``
would resolve to whichever conftest pytest imported last.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from sim.traffic.dynamic_network import DynamicNetwork

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


def tiny_network(
    links: list[tuple[int, int, float, int, float, float]], n_nodes: int
) -> DynamicNetwork:
    """A dynamic network from ``links``: (from, to, length m, lanes, speed m/s, capacity veh/h).

    Links are named ``L0``, ``L1``... in order.
    """
    a = np.array(links, dtype=float)
    return DynamicNetwork(
        link_ids=[f"L{i}" for i in range(len(links))],
        link_from=a[:, 0].astype(np.int64),
        link_to=a[:, 1].astype(np.int64),
        n_nodes=n_nodes,
        length_m=a[:, 2],
        lanes=a[:, 3].astype(np.int64),
        speed_ms=a[:, 4],
        capacity_vph=a[:, 5],
    )


def street_graph(
    n: int, rng: np.random.Generator, chained: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """A random street-like graph: a ring of ``n`` nodes with chords, links both ways.

    With ``chained``, every fifth street is split by 1-3 bend nodes (numbered from
    ``n`` on), and every tenth is one way only. Returns ``link_from``, ``link_to``
    (int64, links sorted) and the number of nodes.
    """
    pairs = {(i, (i + 1) % n) for i in range(n)} | {
        (int(a), int(b)) for a, b in rng.integers(0, n, (2 * n, 2)) if a != b
    }
    edges = sorted(pairs | {(b, a) for a, b in pairs})
    if chained:
        out: list[tuple[int, int]] = []
        for i, (a, b) in enumerate(sorted({(min(e), max(e)) for e in edges})):
            if i % 5:
                out += [(a, b), (b, a)]
                continue
            bends = list(range(n, n + int(rng.integers(1, 4))))
            n += len(bends)
            path = [a, *bends, b]
            out += list(pairwise(path))
            if i % 10:  # a two-way street; else one way only
                out += list(pairwise(path[::-1]))
        edges = sorted(out)
    link_from = np.array([a for a, _ in edges], dtype=np.int64)
    link_to = np.array([b for _, b in edges], dtype=np.int64)
    return link_from, link_to, n
