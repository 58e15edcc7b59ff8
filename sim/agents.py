"""The institutions that decide: zones and schools, as thin Mesa agents.

Persons are arrays stepped by numba kernels (see :mod:`sim.population.persons`); only the few
institutions whose behaviour a planner names are agents. Their hot state lives in the
model's arrays; an agent holds an index into them and its yearly decision.
"""

from __future__ import annotations

from typing import Any, Protocol

import mesa
import numpy as np

from sim.education.schools import SchoolSystem


class CityModel(Protocol):
    """What the agents read and write of :class:`sim.model.CityModel` (no import back)."""

    schools: SchoolSystem
    zone_households: np.ndarray
    market_dwellings: np.ndarray
    attractiveness: np.ndarray
    enrollment_capacity: np.ndarray
    enrollment_total: np.ndarray
    agents_by_type: Any


#: How strongly a zone's attractiveness follows the quality of its catchment schools.
SCHOOL_QUALITY_PULL = 0.15
#: How strongly a crowded zone (few vacant dwellings) loses attractiveness.
CROWDING_PUSH = 0.5


class ZoneAgent(mesa.Agent):
    """A residential zone: decides how attractive it is to movers this year.

    Attractiveness rises with the quality of the zone's catchment primary school and
    falls when the zone has few vacant dwellings (new dwellings that nobody occupies yet
    do not count: they fill along their estate's ramp); residential mobility in the
    demography step draws movers towards attractive zones with room.
    """

    model: CityModel

    def __init__(self, model: CityModel, index: int, zone_id: int, base: float) -> None:
        super().__init__(model)
        self.index = index
        self.zone_id = zone_id
        self.base_attractiveness = base

    def step(self) -> None:
        """Update this zone's attractiveness from schools and vacancy."""
        m = self.model
        school = m.schools.catchment[0, self.index]
        quality = m.schools.quality[school] if school >= 0 else 0.0
        occupied = m.zone_households[self.index]
        dwellings = max(m.market_dwellings[self.index], 1.0)
        vacancy = max(0.0, 1.0 - occupied / dwellings)
        value = self.base_attractiveness * (1.0 + SCHOOL_QUALITY_PULL * quality)
        value *= 1.0 - CROWDING_PUSH * max(0.0, 0.05 - vacancy) / 0.05
        m.attractiveness[self.index] = max(value, 1e-3)


class SchoolAgent(mesa.Agent):
    """A school: applies its admission rule and keeps its yearly utilisation record."""

    model: CityModel

    def __init__(self, model: CityModel, index: int, school_id: str) -> None:
        super().__init__(model)
        self.index = index
        self.school_id = school_id
        self.years_over_capacity = 0

    @property
    def utilisation(self) -> float:
        """Demand over places in the school's fullest grade this year.

        Demand is the children who would come by the admission rule; admission is by
        grade, so one grade over its places turns children away however empty the others
        are. A grade with demand and no places counts as infinitely full.
        """
        demand = self.model.enrollment_total[self.index]
        places = self.model.enrollment_capacity[self.index]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(places > 0, demand / places, np.where(demand > 0, np.inf, 0.0))
        return float(ratio.max()) if ratio.size else 0.0

    def step(self) -> None:
        """Record whether the school is over capacity (the streak feeds a bureau KPI)."""
        self.years_over_capacity = self.years_over_capacity + 1 if self.utilisation > 1 else 0


def schools_over_capacity(model: CityModel) -> int:
    """Schools with a grade whose demand exceeds its places (:attr:`SchoolAgent.utilisation`)."""
    agents = model.agents_by_type.get(SchoolAgent)
    if agents is None:
        return 0
    return len(agents.select(lambda a: a.utilisation > 1.0))


#: Consecutive years over capacity after which a school counts as persistently overcrowded.
PERSISTENT_YEARS = 3


def schools_persistently_over_capacity(model: CityModel) -> int:
    """Schools over capacity for at least :data:`PERSISTENT_YEARS` years in a row.

    A bureau's usual trigger to add classes or plan a new school.
    """
    agents = model.agents_by_type.get(SchoolAgent)
    if agents is None:
        return 0
    return len(agents.select(lambda a: a.years_over_capacity >= PERSISTENT_YEARS))
