"""One year's dynamic peak of a scenario (``main.py simulate-peak``).

:func:`year_peak` steps a scenario's model to a year without traffic and runs that
year's peak on the dynamic model; it sits above :mod:`sim.model`, which the traffic
modules it drives must not import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.errors import UsageError

if TYPE_CHECKING:
    from sim.city import City
    from sim.scenario import Scenario
    from sim.traffic.dynamic import DynamicNetwork, LoadResult
    from sim.traffic.peak_outputs import PeakOutputs


@dataclass
class CityPeak:
    """One year's dynamic peak of a scenario: the loading, its network and its KPIs."""

    year: int
    result: LoadResult
    net: DynamicNetwork
    outputs: PeakOutputs
    kpis: dict[str, float]


def year_peak(scenario: Scenario, city: City, year: int) -> CityPeak:
    """Simulate a scenario up to ``year`` and run that year's peak on the dynamic model.

    The years before ``year`` run without traffic (demography, schools); ``year`` runs
    the scenario's demand and its dynamic peak model (``parameters.traffic_model`` is
    set to ``dynamic``: the AM period's vehicles, route swapping, signals, parking), with
    replication 0's seed. ``kpis`` are the year's traffic KPIs (the busiest hour's, and
    the route swapping's gap).

    Raises
    ------
    UsageError
        ``year`` is outside the scenario's years (``field`` year).
    GridlockError
        The loading stopped (the links involved are named).
    """
    from sim.model import CityModel
    from sim.scenario import scenario_from_dict
    from sim.seeds import replication_seeds

    if not scenario.start_year <= year <= scenario.end_year:
        allowed = f"{scenario.start_year}..{scenario.end_year}"
        raise UsageError(field="year", value=str(year), allowed=allowed)
    data = scenario.model_dump(mode="json")
    data["parameters"]["traffic_model"] = "dynamic"
    scenario = scenario_from_dict(data, source=f"{scenario.name} (dynamic peak)")
    model = CityModel(scenario, city, rng=replication_seeds(scenario.seed, 1)[0], traffic=True)
    traffic = model.traffic
    for _ in range(scenario.start_year, year):
        model.traffic = None  # demography and schools only
        model.step()
    model.traffic = traffic
    model.step()
    peak = model.peak_result
    assert peak is not None and peak.load is not None and peak.dyn is not None
    assert peak.outputs is not None
    return CityPeak(year, peak.load, peak.dyn, peak.outputs, dict(peak.kpis))
