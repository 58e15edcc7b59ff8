"""Zones step with the year: the zones layer shows the chosen year's values on one scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gui.background import cached_city
from gui.mapview import ZONE_YEAR_COLUMNS, MapView
from sim import settings


@pytest.fixture(scope="module")
def city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return cached_city(settings.default_city)


def _colours(mapview: MapView) -> np.ndarray:
    coll = mapview._artists["zones"][0]
    return coll.to_rgba(coll.get_array())


def test_zone_colours_follow_the_year(qtbot, city) -> None:
    mapview = MapView()
    qtbot.addWidget(mapview)
    mapview.set_city(city)
    zones = city.zones.index
    # population 1000 + 10 × rank in 2024, every zone +500 a year; pupils a fifth of it
    base = 1000.0 + 10.0 * np.arange(len(zones))
    table = pd.DataFrame(
        [
            {"year": year, "zone_id": z, "population": p + 500 * k, "pupils": (p + 500 * k) / 5}
            for k, year in enumerate((2024, 2025, 2026))
            for z, p in zip(zones, base, strict=True)
        ]
    )
    mapview.set_zone_years(table, 2024)
    name = ZONE_YEAR_COLUMNS["population"]
    assert mapview.indicator.currentData() == name
    owner = mapview.base.zone_owner  # the zone of each drawn polygon
    coll = mapview._artists["zones"][0]
    expected = pd.Series(base, index=zones).reindex(owner).to_numpy()
    assert np.asarray(coll.get_array()) == pytest.approx(expected)
    # one colour scale over the three years: 2024's smallest to 2026's largest
    assert coll.get_clim() == pytest.approx((base.min(), base.max() + 1000))
    before = _colours(mapview)
    mapview.show_zone_year(2026)
    assert np.asarray(coll.get_array()) == pytest.approx(expected + 1000)
    after = _colours(mapview)
    assert not np.allclose(before, after)  # the colours changed with the year
    assert coll.get_clim() == pytest.approx((base.min(), base.max() + 1000))  # scale kept
    # back to 2024: the colours of 2024 again
    mapview.show_zone_year(2024)
    assert np.allclose(_colours(mapview), before)
    # the pupils indicator steps too
    mapview.indicator.setCurrentIndex(mapview.indicator.findData(ZONE_YEAR_COLUMNS["pupils"]))
    mapview.show_zone_year(2025)
    assert np.asarray(coll.get_array()) == pytest.approx((expected + 500) / 5)
    # a year the table lacks shows no values rather than another year's
    mapview.show_zone_year(2030)
    assert np.ma.getmaskarray(coll.get_array()).all()
