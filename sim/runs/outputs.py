"""Spatial outputs of a run: the QGIS-ready zones layer."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.runs.folder import ZONE_YEAR_COLUMNS


def zone_counts(n_zones: int, model: Any) -> dict[str, np.ndarray]:
    """Residents, pupils (persons with a school), households and dwellings per zone now."""
    persons = model.persons
    return {
        "population": np.bincount(persons.zone, minlength=n_zones),
        "pupils": np.bincount(persons.zone[persons.school >= 0], minlength=n_zones),
        "households": np.asarray(model.zone_households).astype(np.int64),
        "dwellings": np.round(model.dwellings).astype(np.int64),
    }


def zone_year_frame(city: Any, model: Any, year: int) -> pd.DataFrame:
    """One year's rows of ``zones_years.parquet`` (:data:`sim.runs.folder.ZONE_YEAR_COLUMNS`).

    Taken at the end of the model's ``year`` (the counts :func:`zones_layer` writes for
    the last year).
    """
    zone_ids = city.zones.index.to_numpy()
    frame = pd.DataFrame({"zone_id": zone_ids, **zone_counts(len(zone_ids), model)})
    return frame.assign(year=np.int32(year))[list(ZONE_YEAR_COLUMNS)]


def zones_layer(city: Any, counts: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """Zones with base-year and final-year residents, pupils, households and dwellings.

    ``counts`` are the final year's :func:`zone_counts`.
    """
    out = gpd.GeoDataFrame(
        {
            "zone_id": city.zones.index.to_numpy(),
            "name": city.zones["name"].to_numpy(),
            "population_start": city.zones["population"].to_numpy(),
            **{f"{name}_end": values for name, values in counts.items()},
            "jobs": city.zones["jobs"].to_numpy(),
        },
        geometry=city.zones.geometry.to_numpy(),
        crs=city.crs,
    )
    out["growth_pct"] = 100.0 * (out["population_end"] / out["population_start"].clip(lower=1) - 1)
    return out
