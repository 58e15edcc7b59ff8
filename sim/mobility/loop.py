"""The demand–supply loop of one year: choices and assignment until the car matrix settles.

Round ``k`` takes the skims of the last assignment, lets the trips choose
(:meth:`sim.mobility.demand.TravelDemand.choose`: modes and departure times; the other
trips' destinations are drawn once, in the first round, on this year's network at last
year's link times, because a redrawn destination moves a whole trip between matrix cells
and kept the old loop from settling) and averages the *expected* busiest-hour
car matrix and departure profile of those choices (their probabilities, not one draw of
them, so the response is smooth in the skims and the loop can settle) into the loaded
state by the method of successive averages with self-regulated steps (Liu, Ban, Ran &
Mirchandani 2009, *An analysis of the self-regulated averaging method*, Transportation
Research Record 2090): the step is ``1 / eta``; ``eta`` grows by :data:`SRA_UP` after a
round whose gap rose and by :data:`SRA_DOWN` after one whose gap fell (the paper's ranges
are 1.5–2 and 0.01–0.5). The gap of a round is the L1 distance between the response and the
loaded matrix over the loaded matrix; the loop stops when it is at most
``parameters.demand_gap`` or after ``parameters.demand_iterations`` rounds, and the last
assignment uses the scenario's assignment gap (earlier ones the looser
:data:`INNER_REL_GAP`). Each year starts from the previous year's departure profile and
final link times (a warm start).

The network loads the averaged expected matrix; the trip KPIs (car trips, mode shares, ...)
count the last round's drawn choices; ``demand_rounds`` (:attr:`LoopResult.rounds`) says
how many rounds the loop ran. A calibrated scenario (``parameters.od_adjustment``)
loads the averaged matrix times the calibration's factors per OD pair. The solver noise of
a traffic KPI is its change over the loop's last round (:meth:`LoopResult.noise`, reported
as ``<kpi>_noise``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.kpis import NOISY_KPIS
from sim.mobility.demand import Choices, TravelDemand, TripTable
from sim.mobility.skims import Skims
from sim.scenario import Parameters

#: Relative gap of the loop's inner assignments (the last one uses the scenario's).
INNER_REL_GAP = 0.01
#: Self-regulated averaging: growth of the step denominator after a worse / better round.
SRA_UP, SRA_DOWN = 1.5, 0.5


@dataclass
class LoopResult:
    """The settled demand of one year and how it got there."""

    choices: Choices
    #: The loaded busiest-hour car matrix (PCU per OD; with ``parameters.od_adjustment``'s
    #: factors).
    od: np.ndarray
    #: The last assignment's result (``.kpis``, ``.links``).
    result: Any
    gap: float
    #: Per round: ``gap`` (NaN in the first), ``step`` and every KPI of the round's choices
    #: and assignment.
    trace: list[dict[str, float]] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        """The rounds the loop ran (KPI ``demand_rounds``): one per entry of :attr:`trace`."""
        return len(self.trace)

    def noise(self) -> dict[str, float]:
        """``<kpi>_noise``: each traffic KPI's change over the last round (NaN after one)."""
        out = {}
        for name in NOISY_KPIS:
            values = [r[name] for r in self.trace[-2:] if name in r]
            out[f"{name}_noise"] = abs(values[1] - values[0]) if len(values) == 2 else math.nan
        return out


def equilibrate(
    demand: TravelDemand,
    table: TripTable,
    skims: Skims,
    reskim: Callable[[], Skims],
    assign: Callable[[np.ndarray, float | None], Any],
    params: Parameters,
) -> LoopResult:
    """Iterate choices and assignment for one year's trips (see the module docstring).

    Parameters
    ----------
    demand
        The run's demand model; its departure profile is the loop's state and carries over.
    table
        The year's trips.
    skims
        Skims of the first round (the network at last year's final link times).
    reskim
        Skims of the network at the last assignment's link times (later rounds).
    assign
        ``assign(od, rel_gap)`` loads a car matrix (``rel_gap`` None: the scenario's) and
        returns a result with ``kpis``.
    params
        Scenario parameters (``demand_gap``, ``demand_iterations``, ``assignment.rel_gap``).
    """
    od: np.ndarray | None = None
    dest: np.ndarray | None = None
    gap, eta = math.nan, 1.0
    trace: list[dict[str, float]] = []
    for k in range(1, params.demand_iterations + 1):
        if k > 1:
            skims = reskim()
        choices = demand.choose(table, skims, dest)
        dest = choices.dest
        target = choices.expected_peak
        if od is None:
            od = target.copy()
            demand.departures = choices.expected_vehicles.copy()
        else:
            previous, gap = gap, float(np.abs(target - od).sum() / max(od.sum(), 1e-9))
            eta += 1.0 if k == 2 else (SRA_UP if gap >= previous else SRA_DOWN)
            od = od + (target - od) / eta
            demand.departures = (
                demand.departures + (choices.expected_vehicles - demand.departures) / eta
            )
        last = gap <= params.demand_gap or k == params.demand_iterations  # NaN: not yet
        inner = None if last else max(params.assignment.rel_gap, INNER_REL_GAP)
        loaded = od if demand.od_factor is None else od * demand.od_factor
        result = assign(loaded, inner)
        trace.append({"gap": gap, "step": 1.0 / eta, **choices.kpis, **result.kpis})
        if last:
            break
    return LoopResult(choices, loaded, result, gap, trace)
