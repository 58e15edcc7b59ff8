"""Checking a scenario against the city it names (ids, locations), without running."""

from __future__ import annotations

from sim.city import City, load_city
from sim.policies import check_policies
from sim.scenario import Scenario
from sim.traffic.policies import check_road_policies


def check_scenario(scenario: Scenario, city: City | None = None) -> City:
    """Check every policy's references against the city (loaded and validated unless given).

    Each policy checks itself (:meth:`sim.policies.Policy.check`); the road policies are
    then replayed in year order, as a run applies them.

    Returns
    -------
    City
        The loaded city.

    Raises
    ------
    GeodataError
        The city data is missing or inconsistent.
    ScenarioError
        A policy names a school, zone, link, node or signal the city lacks, or lies
        outside the city.
    """
    if city is None:
        city = load_city(scenario.city)
    check_policies(city, scenario.policies)
    check_road_policies(city, scenario.policies)
    return city
