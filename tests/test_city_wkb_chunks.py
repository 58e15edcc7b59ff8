"""A city layer's geometries are parsed in chunks, and come out as pyogrio reads them in one go.

Parsing WKB holds the interpreter; in chunks, a UI thread waiting on a city loading in a
worker runs in between. The expectation is pyogrio's own reader on the same file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from sim import city as city_module
from sim import settings


def _layer(tmp_path: Path, rows: int) -> Path:
    """A GeoPackage with one line layer of ``rows`` numbered lines (ids, names, lengths)."""
    lines = [shapely.LineString([(i, 0.5 * i), (i + 1.0, i * i + 2.0)]) for i in range(rows)]
    frame = gpd.GeoDataFrame(
        {"link_id": range(rows), "name": [f"street {i}" for i in range(rows)]},
        geometry=lines,
        crs="EPSG:32719",
    )
    path = tmp_path / "lines.gpkg"
    pyogrio.write_dataframe(frame, path, layer="links")
    return path


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_chunked_reading_equals_reading_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    path = _layer(tmp_path, rows)
    calls: list[int] = []
    parse = shapely.from_wkb
    monkeypatch.setattr(city_module, "WKB_CHUNK", 2)
    monkeypatch.setattr(
        shapely, "from_wkb", lambda wkb, **k: calls.append(len(wkb)) or parse(wkb, **k)
    )
    frame = city_module._read_frame(path, "links")
    monkeypatch.setattr(shapely, "from_wkb", parse)
    expected = pyogrio.read_dataframe(path, layer="links", use_arrow=True)
    assert_geodataframe_equal(frame, expected, check_less_precise=False)
    assert calls == [2] * (rows // 2) + [1] * (rows % 2)  # 2 geometries at a time at most


def test_the_default_citys_links_read_as_pyogrio_reads_them() -> None:
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    frame = city_module._read_frame(settings.default_city, "links")
    expected = pyogrio.read_dataframe(settings.default_city, layer="links", use_arrow=True)
    assert len(frame) > city_module.WKB_CHUNK  # more than one chunk
    assert_geodataframe_equal(frame, expected)
    assert list(shapely.to_wkb(frame.geometry.values)) == list(
        shapely.to_wkb(expected.geometry.values)
    )  # the very same coordinates, not only the same shapes
