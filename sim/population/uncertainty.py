"""Parameter uncertainty: what a replication draws before it starts.

Monte Carlo replications that differ only by demographic noise give bands a few per cent
wide that do not widen with the horizon: the noise of one school grade is a binomial
draw, but the real uncertainty of a ten-year projection is in its assumptions. Each
replication therefore draws, once for its whole horizon, a multiplier for each uncertain
assumption from its own seeded stream (``sim.seeds``: ``uncertainty``), so a policy run
with the same seed draws the same multipliers (common random numbers) and the p10-p90
band of a KPI spans the assumptions a planner would vary. A multiplier that holds for
the whole run compounds year by year, so the bands widen with the horizon.

The ranges (uniform between ``low`` and ``high``) and their reasons are listed in
``geodata/README.md`` (section *Honest bands*); ``parameters.parameter_uncertainty:
false`` turns the draws off (every multiplier 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain assumption: a multiplier drawn uniformly in [low, high]."""

    name: str
    low: float
    high: float
    what: str


UNCERTAIN: tuple[UncertainParameter, ...] = (
    UncertainParameter("fertility", 0.85, 1.15, "age-specific fertility rates"),
    UncertainParameter("in_migration", 0.7, 1.3, "the in-migration rate"),
    UncertainParameter("out_migration", 0.8, 1.2, "the out-migration rate"),
    UncertainParameter("pupil_yield", 0.75, 1.25, "children of households moving into new housing"),
    UncertainParameter("takeup", 0.8, 1.1, "the occupancy ramp of new dwellings"),
)


def draw_multipliers(rng: np.random.Generator, enabled: bool = True) -> dict[str, float]:
    """One replication's multipliers, by name (all 1 when not ``enabled``).

    The draws are taken in :data:`UNCERTAIN` order, one uniform number each, also when
    disabled, so the stream is consumed the same way either way.
    """
    u = rng.random(len(UNCERTAIN))
    return {
        p.name: (p.low + (p.high - p.low) * float(v)) if enabled else 1.0
        for p, v in zip(UNCERTAIN, u, strict=True)
    }
