"""sim.geo: haversine, cached transforms, and the GCJ-02 / BD-09 conversions."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from sim import geo

# Published example of wandergis/coordtransform (test/app.js) at (116.404, 39.915).
REF_IN = (116.404, 39.915)
REF_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
REF_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
REF_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)  # their one-step inverse


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance on WGS84 (pyproj), independent of sim.geo's haversine."""
    _, _, d = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return np.abs(d)


def test_forward_formulas_match_published_values() -> None:
    np.testing.assert_allclose(geo.wgs84_to_gcj02(*REF_IN), REF_WGS_TO_GCJ, atol=1e-9)
    np.testing.assert_allclose(geo.gcj02_to_bd09(*REF_IN), REF_GCJ_TO_BD, atol=1e-9)
    # the iterative inverse lands within a metre of the one-step approximation
    lon, lat = geo.bd09_to_gcj02(*REF_IN)
    assert _metres(lon, lat, *REF_BD_TO_GCJ) < 1.0


def test_inverses_round_trip_within_half_a_metre_across_china() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.7, 134.8, 20000)
    lat = rng.uniform(18.2, 53.5, 20000)
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.5
    back = geo.bd09_to_gcj02(*geo.gcj02_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.5
    back = geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.5
    # the converse direction: a GCJ point read back from WGS
    w = geo.gcj02_to_wgs84(lon, lat)
    assert _metres(lon, lat, *geo.wgs84_to_gcj02(*w)).max() < 0.5


def test_shift_is_a_few_hundred_metres_in_china_and_zero_outside() -> None:
    # Hangzhou and Beijing: GCJ-02 offsets are known to be ~300-700 m
    lon, lat = np.array([120.16, 116.40]), np.array([30.27, 39.91])
    shift = _metres(lon, lat, *geo.wgs84_to_gcj02(lon, lat))
    assert ((shift > 200) & (shift < 800)).all()
    # Helsinki, Santiago, London: outside China nothing moves
    lon, lat = np.array([24.94, -70.65, -0.12]), np.array([60.17, -33.45, 51.5])
    out = geo.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)
    np.testing.assert_array_equal(geo.gcj02_to_wgs84(lon, lat)[0], lon)


def test_vectorised_shapes_and_scalars() -> None:
    lon = np.full((3, 4), 120.0)
    lat = np.full((3, 4), 30.0)
    for func in (geo.wgs84_to_gcj02, geo.gcj02_to_wgs84, geo.gcj02_to_bd09, geo.bd09_to_gcj02):
        x, y = func(lon, lat)
        assert x.shape == (3, 4) and y.shape == (3, 4)
    x, y = geo.bd09_to_wgs84(120.0, 30.0)
    assert np.ndim(x) == 0 and np.ndim(y) == 0


def test_haversine_against_geodesic() -> None:
    # La Serena - Coquimbo plazas, and a long line; spherical vs ellipsoid within 0.5 %
    lon1, lat1 = np.array([-71.2519, 0.0]), np.array([-29.9027, 0.0])
    lon2, lat2 = np.array([-71.3436, 90.0]), np.array([-29.9533, 0.0])
    km = geo.haversine_km(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(km, _metres(lon1, lat1, lon2, lat2) / 1000, rtol=5e-3)
    # a quarter of the equator on a sphere of the mean radius
    assert km[1] == pytest.approx(np.pi / 2 * 6371.0088)


def test_to_xy_matches_pyproj_and_caches() -> None:
    x, y = geo.to_xy(-71.25, -29.9, "EPSG:32719")
    ref = pyproj.Transformer.from_crs(4326, 32719, always_xy=True).transform(-71.25, -29.9)
    np.testing.assert_allclose((x, y), ref)
    assert geo.transformer("EPSG:4326", "EPSG:32719") is geo.transformer(
        "EPSG:4326", pyproj.CRS("EPSG:32719")
    )
    lon, lat = geo.to_lonlat(x, y, "EPSG:32719")
    np.testing.assert_allclose((lon, lat), (-71.25, -29.9))


def test_unknown_system_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: wgs84, gcj02, bd09"):
        geo.to_wgs84(1.0, 2.0, "mars")
