"""The default scenario written next to an imported city.

The baseline of the city as imported: no policies, 10 years from the city's base year,
one replication, and a mean home-work trip length that fits the city's size. The
model's default (6 km, the Coquimbo–La Serena conurbation) cannot be reached by a
district of a few square kilometres, so ``mean_trip_km`` is set to
:data:`TRIP_SHARE` x the mean zone-to-zone distance of a trip-length-blind gravity
model (residents x jobs weights, the model's own distance matrix): the mean that no
deterrence at all would give, which any deterrence shortens.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sim.city import City
from sim.mobility.trips import zone_distance_km
from sim.scenario import Scenario, scenario_from_dict

TRIP_SHARE = 0.7
YEARS = 10


def fitting_trip_km(city: City) -> float:
    """A reachable ``mean_trip_km`` for ``city`` (see the module docstring)."""
    cent = city.zones.geometry.representative_point()
    dist = zone_distance_km(
        cent.x.to_numpy(), cent.y.to_numpy(), city.zones.geometry.area.to_numpy()
    )
    homes = city.zones["population"].to_numpy(dtype=float)
    jobs = city.zones["jobs"].to_numpy(dtype=float)
    weight = np.outer(homes, jobs)
    mean = float((weight * dist).sum() / max(weight.sum(), 1e-12))
    return round(TRIP_SHARE * mean, 2)


def scenario_name(city_name: str) -> str:
    """A scenario name (letters, digits, ``_.-``) from a city's name."""
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", city_name).strip("-")
    return slug or "imported-city"


def default_scenario(city: City, city_path: Path) -> Scenario:
    """The baseline scenario of an imported city at ``city_path``."""
    return scenario_from_dict(
        {
            "name": scenario_name(city.name),
            "description": f"Baseline of {city.name} as imported: no policies.",
            "city": str(Path(city_path).resolve()),
            "seed": 1,
            "start_year": int(city.settings["base_year"]),
            "years": YEARS,
            "replications": 1,
            "parameters": {"mean_trip_km": fitting_trip_km(city)},
            "policies": [],
        }
    )


def scenario_path(city_path: Path) -> Path:
    """Where the default scenario of a city file goes: ``NAME.gpkg`` -> ``NAME.scenario.yaml``."""
    return Path(city_path).with_suffix(".scenario.yaml")


def write_default_scenario(city: City, city_path: Path, out: Path | None = None) -> Path:
    """Write :func:`default_scenario` as YAML (default: :func:`scenario_path`)."""
    out = Path(out) if out is not None else scenario_path(city_path)
    scenario = default_scenario(city, city_path)
    out.write_text(scenario.to_yaml(out), encoding="utf-8")
    return out
