"""Checking a scenario against the city it names, without running.

Anything a run would reject is rejected here first, with the same message: the city's
data (:func:`sim.city.load_city`), a ``start_year`` other than the city's base year,
policies naming ids the city lacks, and road policies that cut a zone off the network.
"""

from __future__ import annotations

from sim.city import City, load_city
from sim.city_schema import stranded_zones
from sim.education.schools import SchoolSystem
from sim.errors import ScenarioError
from sim.mobility.calibrate import read_od_adjustment
from sim.mobility.gtfs import read_feed
from sim.policies import RoadPolicy, check_policies
from sim.population.housing import Estates
from sim.scenario import Scenario, policy_name
from sim.traffic.policies import apply_road_policies, check_road_policies


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
        ``start_year`` is not the city's base year; a policy names a school, zone, link,
        node or signal the city lacks, or lies outside the city; road policies leave some
        zone unable to reach, or be reached from, the others.
    InputDataError
        ``parameters.gtfs`` is not a readable GTFS feed, ``parameters.od_adjustment`` not an
        ``od_estimated.csv`` of the city's zones.
    """
    if city is None:
        city = load_city(scenario.city)
    check_start_year(scenario, city)
    check_school_and_housing_layers(city)
    if scenario.parameters.gtfs is not None:
        read_feed(scenario.parameters.gtfs)
    if scenario.parameters.od_adjustment is not None:
        read_od_adjustment(scenario.parameters.od_adjustment, city.zones.index)
    check_policies(city, scenario.policies)
    check_road_policies(city, scenario.policies)
    check_roads_connected(scenario, city)
    return city


def check_school_and_housing_layers(city: City) -> None:
    """The school settings, classes by grade and development sites, read as a run reads them.

    Raises
    ------
    GeodataError
        An unknown ``school_system``, a bad school setting or ``classes_by_grade``, a site's
        unknown ``dwelling_type`` or out-of-range value (naming the file, layer and row).
    """
    SchoolSystem.from_city(city)
    Estates.of(city, [])


def check_start_year(scenario: Scenario, city: City) -> None:
    """The model starts from the city's base-year population; it cannot backcast.

    Raises
    ------
    ScenarioError
        ``start_year`` differs from the city's ``base_year`` setting.
    """
    base = int(city.settings["base_year"])
    if scenario.start_year != base:
        msg = (
            f"start_year = {scenario.start_year}: the city {city.name!r} describes {base}, so"
            f" a run must start in {base} (allowed: start_year: {base})"
        )
        raise ScenarioError(msg)


def check_roads_connected(scenario: Scenario, city: City) -> None:
    """Every zone still reaches every other in each year a road policy changes the network.

    Raises
    ------
    ScenarioError
        Naming the road policy of that year (its position and type), the year and a zone
        cut off.
    """
    roads = [(i, p) for i, p in enumerate(scenario.policies) if isinstance(p, RoadPolicy)]
    for year in sorted({p.year for _, p in roads}):
        links = apply_road_policies(city.links, city.nodes, city.zones, scenario.policies, year)
        stranded = stranded_zones(city.nodes, links, city.zones)
        if len(stranded):
            i, pol = [(i, p) for i, p in roads if p.year == year][-1]
            others = f" and {len(stranded) - 1} other zones" if len(stranded) > 1 else ""
            msg = (
                f"{policy_name(pol, i)}: from {year} the road network leaves zone "
                f"{int(stranded[0])}{others} unable to reach or be reached from the other "
                "zones (e.g. its only street is closed); close other links or add a new_link"
            )
            raise ScenarioError(msg)
