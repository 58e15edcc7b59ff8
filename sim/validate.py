"""Checking a scenario against the city it names (ids, locations), without running."""

from __future__ import annotations

from typing import Any

from sim.errors import ScenarioError
from sim.scenario import HousingDevelopment, Scenario, SignalRetiming


def check_scenario(scenario: Scenario, city: Any = None) -> Any:
    """Check every policy's references against the city (loaded and validated unless given).

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
    from sim.city import load_city
    from sim.education.schools import check_school_policies, policy_xy
    from sim.traffic.policies import check_road_policies

    if city is None:
        city = load_city(scenario.city)
    check_school_policies(city, scenario.policies)
    check_road_policies(city, scenario.policies)
    for i, pol in enumerate(scenario.policies):
        if isinstance(pol, HousingDevelopment):
            x, y = policy_xy(pol, city.crs)
            if city.zone_at(x, y) is None:
                where = "lonlat" if pol.lonlat is not None else "xy"
                value = list(pol.lonlat or pol.xy or ())
                msg = f"policies.{i}.{where} = {value}: the location is outside the city's zones"
                raise ScenarioError(msg)
        elif isinstance(pol, SignalRetiming) and pol.signals != "all":
            unknown = sorted(set(pol.signals) - set(city.signals.index))
            if unknown:
                msg = (
                    f"policies.{i}.signals = {unknown[:5]}: no such signal ids "
                    f"(the city has {len(city.signals)} signals, ids {city.signals.index.min()}"
                    f"..{city.signals.index.max()})"
                )
                raise ScenarioError(msg)
    return city
