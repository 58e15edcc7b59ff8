"""The plain-Mesa twin of the person logic: one ``mesa.Agent`` per person.

It implements the same yearly person logic as :func:`sim.population.demography.step_demography`
(deaths, births, out-migration with minors following their household, ageing,
residential mobility between zones, in-migration into vacant dwellings; birth months of
newborns and arrivals) the way a
textbook Mesa model would: agents with attributes, ``AgentSet`` verbs (``shuffle_do``,
``select``, ``groupby``, ``do``) and a ``DataCollector``. It is not used in production
runs; the tests use it to show the numba path gives the same population statistics, and
``bench/persons.py`` to measure the speed-up. Households moving into new housing
(:mod:`sim.population.housing`) are not modelled here (the bench runs both paths
without estates).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.kernels.demography import DIED, LEFT, MOTHER, STAY
from sim.population.demography import (
    SEX_RATIO_AT_BIRTH,
    DemographyRates,
    arrivals,
)
from sim.population.persons import ADULT_AGE, MAX_AGE, Persons, birth_months


class PersonAgent(mesa.Agent):
    """A person: age, birth month, sex, home zone and household, and this year's fate."""

    def __init__(
        self,
        model: PersonsModel,
        age: int,
        sex: int,
        zone: int,
        household: int,
        birth_month: int,
    ) -> None:
        super().__init__(model)
        self.age = int(age)
        self.sex = int(sex)
        self.zone = int(zone)
        self.household = int(household)
        self.birth_month = int(birth_month)
        self.fate = STAY

    def decide(self) -> None:
        """Die, leave the city, stay, or stay and give birth (same order as the kernel)."""
        m = self.model
        draw = m.random.random
        if draw() < m.qx[self.sex][self.age]:
            self.fate = DIED
        elif draw() < m.p_out[self.sex][self.age]:
            self.fate = LEFT
        elif self.sex == 1 and draw() < m.asfr[self.age]:
            self.fate = MOTHER
        else:
            self.fate = STAY

    def grow_older(self) -> None:
        """One year older (capped at 100)."""
        self.age = min(self.age + 1, MAX_AGE)


def _minors_follow(household: list[PersonAgent]) -> int:
    """Minors leave when an adult of their household left and no adult stays."""
    adults = [a for a in household if a.age >= ADULT_AGE]
    if not any(a.fate == LEFT for a in adults) or any(a.fate in (STAY, MOTHER) for a in adults):
        return 0
    minors = [a for a in household if a.age < ADULT_AGE and a.fate in (STAY, MOTHER)]
    for a in minors:
        a.fate = LEFT
    return len(minors)


# DataCollector model reporters: named functions returning plain numbers


def population(model: PersonsModel) -> int:
    """Persons alive in the city."""
    return len(model.agents)


def births(model: PersonsModel) -> int:
    """Births in the last step."""
    return model.counts["births"]


def deaths(model: PersonsModel) -> int:
    """Deaths in the last step."""
    return model.counts["deaths"]


def out_migrants(model: PersonsModel) -> int:
    """Departures from the city in the last step."""
    return model.counts["out_migrants"]


def in_migrants(model: PersonsModel) -> int:
    """Arrivals in the city in the last step."""
    return model.counts["in_migrants"]


def movers(model: PersonsModel) -> int:
    """Persons whose home zone changed in the last step."""
    return model.counts["movers"]


class PersonsModel(mesa.Model):
    """The person population with one Mesa agent per person.

    Parameters
    ----------
    persons
        The starting population (e.g. from :func:`sim.population.persons.synthesize`).
    rates
        Rates with the scenario's parameters applied.
    dwellings, attractiveness
        (Z,) dwelling stock and attractiveness per zone index.
    start_year
        The calendar year of the first step.
    rng
        Seed or numpy Generator (Mesa 3 ``rng=``).
    """

    def __init__(
        self,
        persons: Persons,
        rates: DemographyRates,
        *,
        dwellings: np.ndarray,
        attractiveness: np.ndarray,
        start_year: int = 2024,
        rng: Any = None,
    ) -> None:
        super().__init__(rng=rng)
        self.rates = rates
        self.year = start_year
        self.dwellings = [float(d) for d in dwellings]
        weight = np.asarray(attractiveness, dtype=np.float64)
        self.weight = (weight if weight.sum() > 0 else np.ones(len(weight))).tolist()
        self.qx = rates.qx.tolist()
        self.p_out: list[list[float]] = []
        self.asfr: list[float] = []
        self.counts = dict.fromkeys(
            ("births", "deaths", "out_migrants", "in_migrants", "movers"), 0
        )
        PersonAgent.create_agents(
            self,
            len(persons),
            persons.age.tolist(),
            persons.sex.tolist(),
            persons.zone.tolist(),
            persons.household.tolist(),
            persons.birth_month.tolist(),
        )
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "population": population,
                "births": births,
                "deaths": deaths,
                "out_migrants": out_migrants,
                "in_migrants": in_migrants,
                "movers": movers,
            }
        )

    def histogram(self) -> np.ndarray:
        """(2, 101) persons by sex and age."""
        hist = np.zeros((2, MAX_AGE + 1))
        for (sex, age), n in self.agents.groupby(lambda a: (a.sex, a.age)).count().items():
            hist[sex, age] = n
        return hist

    def to_persons(self) -> Persons:
        """The agents as a :class:`Persons` structure of arrays."""
        cols = self.agents.get(["age", "sex", "zone", "household", "birth_month"])
        if not cols:
            return Persons.empty()
        age, sex, zone, household, month = zip(*cols, strict=True)
        return Persons.new(age, sex, zone, household, birth_month=month)

    def _place(self, vacant: list[float]) -> int:
        """A zone drawn by vacant dwellings × attractiveness (attractiveness when full)."""
        w = [max(v, 0.0) * a for v, a in zip(vacant, self.weight, strict=True)]
        if sum(w) <= 0:
            w = list(self.weight)
        zone = self.random.choices(range(len(w)), weights=w)[0]
        vacant[zone] -= 1.0
        return zone

    def _move(self) -> tuple[int, list[float]]:
        """Residential mobility; returns persons whose zone changed and the vacancies left."""
        households = self.agents.groupby("household", result_type="list").groups
        occupied = [0] * len(self.dwellings)
        for members in households.values():
            occupied[members[0].zone] += 1
        vacant = [max(d - h, 0.0) for d, h in zip(self.dwellings, occupied, strict=True)]
        rate = self.rates.residential_mobility_rate
        moving = [members for members in households.values() if self.random.random() < rate]
        for members in moving:
            vacant[members[0].zone] += 1.0
        moved = 0
        for members in moving:
            zone = self._place(vacant)
            for a in members:
                moved += a.zone != zone
                a.zone = zone
        return moved, vacant

    def step(self) -> None:
        """One simulated year."""
        n = len(self.agents)
        hist = self.histogram()
        self.p_out = self.rates.out_probability(hist).tolist()
        self.asfr = self.rates.asfr_for(self.year).tolist()
        self.agents.shuffle_do("decide")
        self.agents.groupby("household", result_type="list").map(_minors_follow)

        mothers = self.agents.select(lambda a: a.fate == MOTHER)
        gone = self.agents.select(lambda a: a.fate in (DIED, LEFT))
        self.counts["births"] = len(mothers)
        self.counts["deaths"] = len(gone.select(lambda a: a.fate == DIED))
        self.counts["out_migrants"] = len(gone) - self.counts["deaths"]
        gone.do("remove")
        self.agents.do("grow_older")
        p_male = SEX_RATIO_AT_BIRTH / (1.0 + SEX_RATIO_AT_BIRTH)
        for mother in mothers:
            boy = self.random.random() < p_male
            month = self.random.randint(1, 12)
            PersonAgent(self, 0, 0 if boy else 1, mother.zone, mother.household, month)

        self.counts["movers"], vacant = self._move()

        n_in = int(self.rng.poisson(self.rates.in_migration_rate * n))
        first_id = max(self.agents.get("household"), default=-1) + 1
        age, sex, household, n_hh = arrivals(
            n_in, self.rates.arrival_shares(hist), self.rates, first_id, self.rng
        )
        zones = [self._place(vacant) for _ in range(n_hh)]
        arrival_months = birth_months(n_in, self.rng)
        for i in range(n_in):
            h = int(household[i])
            PersonAgent(self, age[i], sex[i], zones[h - first_id], h, arrival_months[i])
        self.counts["in_migrants"] = n_in
        self.year += 1
        self.datacollector.collect(self)
