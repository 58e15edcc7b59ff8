"""Geometry on the earth: great-circle distance, CRS transforms and China's shifted datums.

One place for the earth radius and the haversine formula, for the cached pyproj
transformers that turn lon/lat into a city's metric CRS (:func:`to_xy`,
:func:`to_lonlat`), and for the GCJ-02 / BD-09 offsets used by Chinese map services
(AMap/Tencent use GCJ-02, Baidu uses BD-09 on top of it).

GCJ-02 is the published obfuscation formula (Krasovsky ellipsoid, the "eviltransform"
series); it applies inside a rough China box only, so outside it GCJ-02 equals WGS84.
BD-09 is Baidu's rotation/scale of GCJ-02 applied everywhere. Both forward formulas
are explicit; their inverses here are fixed-point iterations to 1e-9 degrees (about
0.1 mm), not the one-step approximation whose error reaches a few metres.
All conversions take and return ``(lon, lat)`` in degrees and work on numpy arrays
(or scalars) element-wise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import pyproj

EARTH_RADIUS_KM = 6371.0088
"""Mean earth radius (IUGG, R1), km."""

COORDINATE_SYSTEMS = ("wgs84", "gcj02", "bd09")
"""Lon/lat systems an input may be in."""

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30
_TRANSFORMERS = threading.local()  # pyproj transformers are not shared across threads

LonLat = tuple[np.ndarray, np.ndarray]


# --------------------------------------------------------------------------- distance


def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# --------------------------------------------------------------------------- CRS transforms


def transformer(src: Any, dst: Any) -> pyproj.Transformer:
    """A cached ``always_xy`` transformer from ``src`` to ``dst`` (one per thread)."""
    import pyproj  # lazily: the enrollment query imports this module for haversine_km

    cache = getattr(_TRANSFORMERS, "cache", None)
    if cache is None:
        cache = _TRANSFORMERS.cache = {}
    key = (pyproj.CRS.from_user_input(src).to_wkt(), pyproj.CRS.from_user_input(dst).to_wkt())
    found = cache.get(key)
    if found is None:
        found = cache[key] = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return found


def to_xy(lon: ArrayLike, lat: ArrayLike, crs: Any) -> LonLat:
    """WGS84 lon/lat (degrees) to ``crs`` coordinates."""
    x, y = transformer("EPSG:4326", crs).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def to_lonlat(x: ArrayLike, y: ArrayLike, crs: Any) -> LonLat:
    """``crs`` coordinates to WGS84 lon/lat (degrees)."""
    lon, lat = transformer(crs, "EPSG:4326").transform(x, y)
    return np.asarray(lon), np.asarray(lat)


# --------------------------------------------------------------------------- GCJ-02 / BD-09


def _arrays(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Whether GCJ-02 applies: the rough China box of the published formula."""
    x, y = _arrays(lon, lat)
    return (x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271)


def _gcj_delta(x: np.ndarray, y: np.ndarray) -> LonLat:
    """The GCJ-02 offset (degrees) at WGS84 ``(x, y)``; zero outside China."""
    u, v = x - 105.0, y - 35.0
    s = np.sqrt(np.abs(u))
    waves = 20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * s
    dlat += waves * 2.0 / 3.0
    dlat += (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * s
    dlon += waves * 2.0 / 3.0
    dlon += (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    rad = np.radians(y)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sq) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sq * np.cos(rad) * np.pi)
    inside = in_china(x, y)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _invert(
    forward: Callable[[ArrayLike, ArrayLike], LonLat], lon: ArrayLike, lat: ArrayLike
) -> LonLat:
    """Solve ``forward(p) = (lon, lat)`` for p by fixed-point iteration."""
    tx, ty = _arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if max(np.max(np.abs(ex), initial=0.0), np.max(np.abs(ey), initial=0.0)) < (
            _INVERSE_TOL_DEG
        ):
            break
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 to GCJ-02 (unchanged outside China)."""
    x, y = _arrays(lon, lat)
    dx, dy = _gcj_delta(x, y)
    return x + dx, y + dy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to WGS84 by iteration (round trip within 1e-9 degrees)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to Baidu's BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to GCJ-02 by iteration (round trip within 1e-9 degrees)."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> LonLat:
    """Lon/lat in ``system`` (one of :data:`COORDINATE_SYSTEMS`) to WGS84."""
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    if system == "wgs84":
        return _arrays(lon, lat)
    msg = f"coordinate system {system!r} is unknown; allowed: {', '.join(COORDINATE_SYSTEMS)}"
    raise ValueError(msg)


def geometry_to_wgs84(geoms: np.ndarray, system: str) -> np.ndarray:
    """Shapely geometries with lon/lat vertices in ``system`` moved to WGS84."""
    import shapely

    if system == "wgs84":
        return geoms

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], system)
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)
