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
    """Just enough of CityModel for SchoolAgent: demand and places per school and grade."""

    def __init__(self, demand: list, capacity: list) -> None:
        super().__init__(rng=1)
        # one number per school = a one-grade school
        self.enrollment_total = np.array(demand, dtype=float).reshape(len(demand), -1)
        self.enrollment_capacity = np.array(capacity, dtype=float).reshape(len(demand), -1)
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


def test_one_full_grade_puts_a_school_over_capacity() -> None:
    # 60 + 80 children for 100 + 50 places: under in total (140 < 150), but 30 of the
    # second grade find no place at their own school; a grade without places but with
    # children is over too; no children and no places is not
    model = _Model([[60, 80], [10, 10], [0, 0], [5, 0]], [[100, 50], [0, 50], [0, 0], [50, 50]])
    util = [a.utilisation for a in model.agents_by_type[SchoolAgent]]
    assert util == [1.6, float("inf"), 0.0, 0.1]
    assert schools_over_capacity(model) == 2
