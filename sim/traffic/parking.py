"""Car parks from OpenStreetMap: ``amenity=parking`` nodes and areas, with a capacity.

Capacity is the ``capacity`` tag when it is a number, else one space per
:data:`PARKING_M2_PER_SPACE` of a mapped area, else :data:`PARKING_DEFAULT_SPACES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

PARKING_DEFAULT_SPACES = 50
"""Spaces of a car park mapped as a point without a ``capacity`` tag."""
PARKING_M2_PER_SPACE = 25.0
"""Area per space (bay plus aisle) of a car park mapped as an area without ``capacity``."""


def capacity_tag(tags: Mapping[str, Any]) -> int | None:
    """The ``capacity`` tag as a positive integer (first of ``"a;b"``), else None."""
    try:
        spaces = int(float(str(tags.get("capacity", "")).split(";")[0]))
    except ValueError:
        return None
    return spaces if spaces > 0 else None


def is_parking(tags: Mapping[str, Any]) -> bool:
    """Whether an OSM object is a car park."""
    return tags.get("amenity") == "parking"


def parking_layer(
    lots: list[tuple[int, list[tuple[float, float]], int | None]], project: pyproj.Transformer
) -> gpd.GeoDataFrame:
    """Car parks as points with a capacity (tag, else mapped area, else a default)."""
    ids, points, capacity = [], [], []
    for oid, ring, cap in lots:
        xs, ys = project.transform(*np.asarray(ring, dtype=float).T)
        if len(ring) >= 4:
            shape = shapely.Polygon(np.column_stack([xs, ys]))
            area = shape.area if shape.is_valid else 0.0
            point = shape.representative_point() if shape.is_valid else shapely.Point(xs[0], ys[0])
        else:
            area, point = 0.0, shapely.Point(float(np.mean(xs)), float(np.mean(ys)))
        spaces = cap or (round(area / PARKING_M2_PER_SPACE) if area > 0 else 0)
        ids.append(oid)
        points.append(point)
        capacity.append(max(1, spaces or PARKING_DEFAULT_SPACES))
    return gpd.GeoDataFrame(
        {"capacity": np.asarray(capacity, dtype=np.int64)},
        geometry=points,
        index=pd.Index(np.asarray(ids, dtype=np.int64), name="osm_id"),
        crs=project.target_crs,
    )
