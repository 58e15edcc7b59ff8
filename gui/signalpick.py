"""Picking a signalised junction on the map for a ``signal_plan`` policy, and its plan.

:func:`nearest_signal` finds the city's signal nearest a click (within a few pixels'
distance); :func:`current_plan` reads that junction's plan from the city (greens, cycle,
offset), the starting point the planner then edits; :func:`cycle_note` says the cycle
the greens make (greens + lost time per phase), which the schema requires.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gui.i18n import tr
from sim.city import City
from sim.traffic.signals import LOST_TIME_PER_PHASE


def nearest_signal(city: City, x: float, y: float, within_m: float) -> int | None:
    """The id of the signal nearest (x, y), or None when none is within ``within_m``."""
    signals = city.signals
    if signals is None or len(signals) == 0:
        return None
    dist = np.hypot(signals.geometry.x.to_numpy() - x, signals.geometry.y.to_numpy() - y)
    best = int(np.argmin(dist))
    return int(signals.index[best]) if dist[best] <= within_m else None


def current_plan(city: City, signal: int) -> dict[str, Any]:
    """The city's plan of ``signal``: signal, greens (s per phase), cycle_s, offset_s."""
    row = city.signals.loc[signal]
    greens = [float(g) for g in str(row["green_s"]).split(",")]
    cycle = sum(greens) + LOST_TIME_PER_PHASE * len(greens)
    offset = float(row["offset_s"]) % cycle
    return {"signal": int(signal), "greens": greens, "cycle_s": cycle, "offset_s": offset}


def cycle_note(policy: dict[str, Any]) -> str:
    """``cycle = 72 s greens + 4 s × 2 phases = 80 s`` for the policy's greens ("" if none)."""
    greens = policy.get("greens")
    if not isinstance(greens, list) or not greens:
        return ""
    total = sum(float(g) for g in greens)
    cycle = total + LOST_TIME_PER_PHASE * len(greens)
    return tr("cycle = {greens:g} s greens + {lost:g} s × {n} phases = {cycle:g} s").format(
        greens=total, lost=LOST_TIME_PER_PHASE, n=len(greens), cycle=cycle
    )
