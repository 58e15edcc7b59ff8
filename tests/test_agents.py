"""The institutions' decisions: a school's over-capacity streak and the KPI built on it."""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np

from sim.agents import (
    PERSISTENT_YEARS,
    SchoolAgent,
    schools_over_capacity,
    schools_persistently_over_capacity,
)


class _Model(mesa.Model):
    """Just enough of CityModel for SchoolAgent: demand and capacity arrays."""

    def __init__(self, demand: list[float], capacity: list[float]) -> None:
        super().__init__(rng=1)
        self.enrollment_total = np.array(demand, dtype=float)
        self.enrollment_capacity = np.array(capacity, dtype=float)
        self.schools = SimpleNamespace(quality=np.zeros(len(demand)))
        for i in range(len(demand)):
            SchoolAgent(self, i, f"S{i}")


def test_streak_counts_consecutive_years_and_resets() -> None:
    model = _Model([120, 80, 0], [100, 100, 0])  # over, under, no places
    for year in range(PERSISTENT_YEARS):
        assert schools_persistently_over_capacity(model) == 0, year
        model.agents_by_type[SchoolAgent].do("step")
    assert schools_over_capacity(model) == 1
    assert schools_persistently_over_capacity(model) == 1
    model.enrollment_total[0] = 90  # relieved: the streak starts again
    model.agents_by_type[SchoolAgent].do("step")
    assert schools_persistently_over_capacity(model) == 0
    assert schools_over_capacity(model) == 0
