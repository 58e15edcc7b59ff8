"""The dynamic model's inputs: a network on arrays, its signals, and the vehicles.

:class:`DynamicNetwork` is a directed road network by link index with its
:class:`SignalSpec` signals; :class:`Vehicles` are departures with routes (CSR of link
indices). :mod:`sim.traffic.dynamic` loads them; they live apart so that the modules the
loading uses (e.g. :mod:`sim.traffic.information`) can name them without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.traffic.signals import LOST_TIME_PER_PHASE


@dataclass
class SignalSpec:
    """One signal: its node, phases and the movements each phase gives green.

    ``masks`` maps (incoming link, outgoing link) to (full-rate phase bits, one-lane
    protected-turn phase bits).
    """

    node: int
    greens: np.ndarray  # effective green per phase (s)
    lost_s: float = LOST_TIME_PER_PHASE
    offset_s: float = 0.0
    masks: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)


@dataclass
class DynamicNetwork:
    """A directed network for the dynamic model (links by index)."""

    link_ids: list[str]
    link_from: np.ndarray
    link_to: np.ndarray
    n_nodes: int
    length_m: np.ndarray
    lanes: np.ndarray
    speed_ms: np.ndarray
    capacity_vph: np.ndarray  # discharge rate; at a signal the saturation flow
    signals: list[SignalSpec] = field(default_factory=list)
    #: Nodes ``0 .. zone_nodes - 1`` are zone centroids (a city's network; 0: none).
    zone_nodes: int = 0


@dataclass
class Vehicles:
    """Vehicles with departure times (s) and routes (CSR of link indices)."""

    ids: list[str]
    depart: np.ndarray
    route_start: np.ndarray
    route_links: np.ndarray

    @classmethod
    def from_routes(cls, ids: list[str], depart: np.ndarray, routes: list[list[int]]) -> Vehicles:
        """Vehicles from one list of link indices each."""
        start = np.zeros(len(routes) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in routes], out=start[1:])
        links = np.array([k for r in routes for k in r], dtype=np.int64)
        return cls(list(ids), np.asarray(depart, dtype=float), start, links)
