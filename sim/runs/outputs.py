"""Spatial outputs of a run: the QGIS-ready zones layer."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np


def zones_layer(city: Any, model: Any) -> gpd.GeoDataFrame:
    """Zones with base-year and final-year residents, pupils, households and dwellings."""
    persons = model.persons
    n = len(city.zones)
    pupils = np.bincount(persons.zone[persons.school >= 0], minlength=n)
    out = gpd.GeoDataFrame(
        {
            "zone_id": city.zones.index.to_numpy(),
            "name": city.zones["name"].to_numpy(),
            "population_start": city.zones["population"].to_numpy(),
            "population_end": np.bincount(persons.zone, minlength=n),
            "pupils_end": pupils,
            "households_end": model.zone_households.astype(np.int64),
            "dwellings_end": np.round(model.dwellings).astype(np.int64),
            "jobs": city.zones["jobs"].to_numpy(),
        },
        geometry=city.zones.geometry.to_numpy(),
        crs=city.crs,
    )
    out["growth_pct"] = 100.0 * (out["population_end"] / out["population_start"].clip(lower=1) - 1)
    return out
