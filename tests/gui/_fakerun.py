"""A small, hand-made run of the default city for view tests (no simulation needed).

Two years; every school of the city with one row per grade; numbers chosen by hand so
tests can check the views against arithmetic done in the test, not by the view's code.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.runs.folder import RunData

YEARS = (2024, 2025)


def fake_run(city, path: Path, *, grade_demand: dict[str, list[float]] | None = None) -> RunData:
    """A RunData over ``city``: each grade 90 % full except the schools in ``grade_demand``.

    ``grade_demand`` maps a school id to its pupils per grade (the same in both years).
    Population grows 451,500 -> 452,500; peak V/C is 0.5 in 2024 and 1.0 in 2025.
    """
    grade_demand = grade_demand or {}
    rows = []
    for sid, s in city.schools.iterrows():
        grades = range(int(s["grade_lo"]), int(s["grade_hi"]) + 1)
        places = float(s["classes_per_grade"] * s["class_size"])
        for year in YEARS:
            for i, grade in enumerate(grades):
                pupils = grade_demand.get(sid, [0.9 * places] * len(grades))[i]
                rows.append((year, sid, grade, pupils, places, max(pupils - places, 0.0)))
    e = pd.DataFrame(rows, columns=["year", "school", "grade", "demand", "capacity", "overflow"])
    e = e.assign(
        utilisation=e["demand"] / e["capacity"],
        unplaced=0.0,
        mean_distance_km=1.0,
        p10=e["demand"] * 0.95,
        p50=e["demand"],
        p90=e["demand"] * 1.05,
        p025=e["demand"] * 0.9,
        p975=e["demand"] * 1.1,
    )
    kpis = pd.DataFrame(
        {
            "year": np.repeat(YEARS, 2),
            "kpi": ["population", "vkt"] * 2,
            "p10": np.nan,
            "p50": [451_500.0, 380_000.0, 452_500.0, 375_000.0],
            "p90": np.nan,
        }
    )
    links = pd.concat(
        pd.DataFrame({"year": y, "link_id": city.links.index, "flow": 100.0, "vc": vc})
        for y, vc in zip(YEARS, (0.5, 1.0), strict=True)
    )
    schools = pd.DataFrame(
        {
            "school_id": city.schools.index,
            "name": city.schools["name"],
            "level": city.schools["level"],
            "x": city.schools.geometry.x,
            "y": city.schools.geometry.y,
        }
    )
    zones = gpd.GeoDataFrame(
        {
            "zone_id": city.zones.index,
            "population_start": city.zones["population"],
            "population_end": city.zones["population"] * 1.01,
        },
        geometry=city.zones.geometry.to_numpy(),
        crs=city.crs,
    )
    empty = pd.DataFrame()
    manifest = {
        "scenario": {"name": "fake"},
        "replications": 1,
        "end_year": YEARS[-1],
        "run_id": "fake",
        "city": str(city.path) if hasattr(city, "path") else "",
    }
    return RunData(
        path=Path(path),
        manifest=manifest,
        kpis=empty,
        kpis_summary=kpis,
        enrollment=e,
        links=links,
        schools=schools,
        catchments=empty,
        housing_yield=empty,
        enrollment_flows=empty,
        am_profile=empty,
        parking=empty,
        links_t=empty,
        signals=empty,
        zones=zones,
    )
