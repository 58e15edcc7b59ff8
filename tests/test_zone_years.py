"""zones_years.parquet: each zone's residents, pupils, households and dwellings every year."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.runs.folder import OPTIONAL_TABLES, ZONE_YEAR_COLUMNS, read_optional
from sim.runs.outputs import zone_year_frame


def _model() -> SimpleNamespace:
    # five persons: zone ids 10, 20, 30 are positions 0, 1, 2; school -1 = not a pupil
    persons = SimpleNamespace(zone=np.array([0, 0, 2, 2, 2]), school=np.array([4, -1, -1, 7, 7]))
    return SimpleNamespace(
        persons=persons, zone_households=np.array([1.0, 0.0, 2.0]), dwellings=[1.4, 0.0, 2.6]
    )


def test_a_year_of_zone_counts_by_hand() -> None:
    city = SimpleNamespace(zones=pd.DataFrame(index=pd.Index([10, 20, 30], name="zone_id")))
    frame = zone_year_frame(city, _model(), 2026)
    assert list(frame.columns) == list(ZONE_YEAR_COLUMNS)
    assert frame["year"].tolist() == [2026] * 3
    assert frame["zone_id"].tolist() == [10, 20, 30]
    assert frame["population"].tolist() == [2, 0, 3]
    assert frame["pupils"].tolist() == [1, 0, 2]
    assert frame["households"].tolist() == [1, 0, 2]
    assert frame["dwellings"].tolist() == [1, 0, 3]


def test_optional_tables_are_read_only_when_present(tmp_path) -> None:
    assert read_optional(tmp_path) == {}  # a run written before the table
    table = pd.DataFrame({c: [1, 2] for c in ZONE_YEAR_COLUMNS})
    table.to_parquet(tmp_path / f"{OPTIONAL_TABLES[0]}.parquet", index=False)
    got = read_optional(tmp_path)
    pd.testing.assert_frame_equal(got["zones_years"], table)
