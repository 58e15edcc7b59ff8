"""OD models fitted to files: the zones and flows readers behind ``main.py od-fit``.

- :func:`read_zones` reads a GeoJSON / GeoPackage of zones indexed by their ids (text).
- :func:`read_flows` reads an ``origin,destination,flow`` CSV into a matrix in zone order.
- :func:`centroid_distances_km` gives the distances between zone centroids.
- :func:`fit_od` fits gravity or radiation (:mod:`sim.mobility.od`) to the observed
  inter-zone flows and returns an :class:`ODFit` with CPC, RMSE and both matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim.errors import InputDataError, UsageError
from sim.geo import haversine_km
from sim.inputs import check_input_file, preview
from sim.mobility.od import Deterrence, calibrate_gravity, cpc, radiation, rmse

ID_COLUMNS: tuple[str, ...] = ("zone_id", "tile_id", "id")
"""Zone id columns tried in turn when none is named."""
FLOW_COLUMNS: tuple[str, ...] = ("origin", "destination", "flow")


def read_zones(path: str | Path, id_column: str | None = None) -> gpd.GeoDataFrame:
    """Read a zones file (GeoJSON / GeoPackage) indexed by its zone ids as strings.

    Parameters
    ----------
    path
        The zones file.
    id_column
        The id column; by default the first of ``zone_id``, ``tile_id``, ``id`` present.

    Raises
    ------
    InputDataError
        When the file is unreadable, has no usable id column or repeats an id.
    """
    path = check_input_file(path, "zones")
    try:
        zones = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        msg = f"{path}: cannot read zones ({exc})"
        raise InputDataError(msg) from None
    if id_column is None:
        id_column = next((c for c in ID_COLUMNS if c in zones.columns), None)
        if id_column is None:
            msg = (
                f"{path}: none of the id columns {', '.join(ID_COLUMNS)} is present "
                f"(columns: {', '.join(map(str, zones.columns))}); name the id column"
            )
            raise InputDataError(msg, field="id_column")
    elif id_column not in zones.columns:
        columns = ", ".join(map(str, zones.columns))
        msg = f"{path}: id column {id_column!r} not found (columns: {columns})"
        raise InputDataError(msg)
    ids = zones[id_column].map(_id_text)
    dup = ids[ids.duplicated()]
    if len(dup):
        msg = f"{path}: column {id_column!r} repeats zone id {preview(dup.iloc[0])}"
        raise InputDataError(msg)
    if zones.crs is None:
        msg = f"{path}: the zones have no CRS; give the file one (e.g. EPSG:4326)"
        raise InputDataError(msg)
    return zones.set_index(ids.rename("zone")).sort_index()


def _id_text(value: Any) -> str:
    """Zone ids compared as text, so 36001 (CSV) matches "36001" (GeoJSON); 7.0 -> "7"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def centroid_distances_km(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Distances between zone centroids in km: haversine for a geographic CRS, else Euclidean.

    Centroids are the polygons' planar centroids in the file's own coordinates.
    """
    cen = shapely.centroid(zones.geometry.values)
    x, y = shapely.get_x(cen), shapely.get_y(cen)
    if zones.crs.is_geographic:
        return haversine_km(x[:, None], y[:, None], x[None, :], y[None, :])
    metres = zones.crs.axis_info[0].unit_conversion_factor
    return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) * metres / 1000.0


def read_flows(path: str | Path, zone_ids: Sequence[str]) -> np.ndarray:
    """Read an ``origin,destination,flow`` CSV into an n x n matrix ordered like ``zone_ids``.

    Repeated pairs are summed.

    Raises
    ------
    InputDataError
        Naming the file, column and value: a missing column, a flow that is not a number
        or is negative, a zone id that is not in the zones file.
    """
    path = check_input_file(path, "flows CSV")
    try:
        flows = pd.read_csv(path, dtype={"origin": str, "destination": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        msg = f"{path}: cannot read flows CSV ({exc})"
        raise InputDataError(msg) from None
    for col in FLOW_COLUMNS:
        if col not in flows.columns:
            msg = f"{path}: column {col!r} is missing (need {', '.join(FLOW_COLUMNS)})"
            raise InputDataError(msg)
    values = pd.to_numeric(flows["flow"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"{path}: column 'flow' line {row + 2} has value {preview(flows['flow'].iloc[row])}; "
            "allowed: a number >= 0"
        )
        raise InputDataError(msg)
    index = {z: k for k, z in enumerate(zone_ids)}
    pos = {}
    for col in ("origin", "destination"):
        codes = flows[col].map(_id_text)
        known = codes.map(index)
        if known.isna().any():
            row = int(np.flatnonzero(known.isna().to_numpy())[0])
            msg = (
                f"{path}: column {col!r} line {row + 2} names zone {preview(codes.iloc[row])}, "
                "which is not in the zones file"
            )
            raise InputDataError(msg)
        pos[col] = known.to_numpy(dtype=np.int64)
    mat = np.zeros((len(zone_ids), len(zone_ids)))
    np.add.at(mat, (pos["origin"], pos["destination"]), values.to_numpy(dtype=float))
    return mat


@dataclass
class ODFit:
    """The result of :func:`fit_od`: scores, fitted parameters and both matrices."""

    model: str
    cpc: float
    rmse: float
    params: dict[str, Any]
    zone_ids: list[str]
    observed: np.ndarray
    fitted: np.ndarray

    def summary(self) -> dict[str, Any]:
        """The ``--json`` object: model, cpc, rmse, params."""
        return {"model": self.model, "cpc": self.cpc, "rmse": self.rmse, "params": self.params}

    def pairs(self) -> pd.DataFrame:
        """``origin,destination,flow`` (fitted) for every pair with an observed or fitted flow."""
        i, j = np.nonzero((self.observed > 0) | (self.fitted > 0))
        ids = np.asarray(self.zone_ids, dtype=object)
        return pd.DataFrame({"origin": ids[i], "destination": ids[j], "flow": self.fitted[i, j]})


def fit_od(
    zones: gpd.GeoDataFrame,
    observed: np.ndarray,
    *,
    model: Literal["gravity", "radiation"] = "gravity",
    deterrence: Deterrence = "power",
    population_column: str = "population",
) -> ODFit:
    """Fit an OD model to observed inter-zone flows between zone centroids (km).

    Gravity: doubly constrained to the observed inter-zone outflows and inflows, beta
    maximising the CPC. Radiation: parameter-free, outflows fixed to the observed ones;
    it needs a population column in the zones. Intra-zone flows are not modelled (the
    fitted diagonal is 0); CPC and RMSE are over the inter-zone pairs.

    Parameters
    ----------
    zones
        Zones indexed by id (see :func:`read_zones`), in the order of ``observed``.
    observed
        n x n observed flows.
    model
        ``"gravity"`` or ``"radiation"``.
    deterrence
        Gravity deterrence, ``"power"`` or ``"exp"`` (beta per km).
    population_column
        Radiation's zone population.
    """
    dist = centroid_distances_km(zones)
    inter = observed * ~np.eye(len(zones), dtype=bool)
    ids = [str(z) for z in zones.index]
    if model == "gravity":
        cost = dist.copy()
        np.fill_diagonal(cost, np.inf)
        if deterrence == "power" and np.any(cost <= 0):
            i, j = np.argwhere(cost <= 0)[0]
            msg = (
                f"zones {preview(ids[i])} and {preview(ids[j])} have the same centroid; "
                "power deterrence needs distances > 0"
            )
            raise InputDataError(msg)
        fitted, params = calibrate_gravity(
            inter.sum(axis=1), inter.sum(axis=0), cost, deterrence=deterrence, observed=inter
        )
        params.pop("cpc")
        params["cost_unit"] = "km"
    elif model == "radiation":
        if population_column not in zones.columns:
            msg = f"zones: the radiation model needs a {population_column!r} column"
            raise InputDataError(msg)
        pop = pd.to_numeric(zones[population_column], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(pop) & (pop >= 0)):
            msg = f"zones: column {population_column!r} must hold numbers >= 0"
            raise InputDataError(msg)
        fitted = radiation(pop, pop, dist, inter.sum(axis=1))
        params = {}
    else:
        msg = f"model {model!r} is not one of gravity, radiation"
        raise UsageError(msg)
    return ODFit(model, cpc(inter, fitted), rmse(inter, fitted), params, ids, observed, fitted)
