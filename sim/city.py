"""The city a scenario runs on: one GeoPackage, loaded and validated.

A city is a GeoPackage in a projected CRS in metres with these layers (the
embedded default city, ``geodata/default_city.gpkg``, is built by
``geodata/build_default_city.py``):

zones, zone_population, zone_households, demography_rates, schools, nodes,
links, signals, parking, sites, city_settings.

:func:`load_city` reads them, checks them against the contract of
:mod:`sim.city_schema` (every column's domain, references, geometry inside the city, a
connected road graph) and returns a :class:`City`; every problem raises
:class:`~sim.errors.GeodataError` naming the file, the layer, the row and the column.
:func:`check_city` runs the same checks on a city in memory. The last four cities loaded
are cached per (path, modification time, size), so a model loading its city once per
replication reads the file once; each call returns a fresh copy of the tables, so callers
may edit their copy freely.
:func:`save_city` writes a :class:`City` back to a GeoPackage, :func:`city_layers`
gives its layers as tables and :func:`write_layers` writes any such tables.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from sim.city_schema import LAYERS, check_layers, coerce_layer
from sim.errors import GeodataError
from sim.geo import to_xy
from sim.inputs import preview

log = logging.getLogger(__name__)

_TABLE_ATTRS = {
    "zones": "zones",
    "zone_population": "population",
    "zone_households": "households",
    "demography_rates": "rates",
    "schools": "schools",
    "nodes": "nodes",
    "links": "links",
    "signals": "signals",
    "parking": "parking",
    "sites": "sites",
}

#: Geometries parsed per call when a layer is read (other threads run between calls).
WKB_CHUNK = 2_000
_CACHE: dict[tuple[str, int, int], City] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


@dataclass(eq=False)
class City:
    """A loaded, validated city. See the module docstring and ``load_city``.

    Equality is identity: the tables are large and compared explicitly where needed.
    """

    path: Path
    name: str
    crs: pyproj.CRS
    settings: dict[str, Any]
    zones: gpd.GeoDataFrame
    population: pd.DataFrame
    households: pd.DataFrame
    rates: pd.DataFrame
    schools: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    signals: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame

    def road_graph(self) -> nx.MultiDiGraph:
        """Return the directed road network as a new networkx graph.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes are ``node_id`` with attributes ``x``, ``y`` (city CRS metres) and
            ``is_centroid``; each edge has key ``link_id`` and the link columns
            (without geometry) as attributes. The graph is built on every call, so
            callers may edit it.
        """
        g = nx.MultiDiGraph(crs=self.crs.to_string(), name=self.name)
        xs = self.nodes.geometry.x.to_numpy()
        ys = self.nodes.geometry.y.to_numpy()
        cent = self.nodes["is_centroid"].to_numpy()
        g.add_nodes_from(
            (int(n), {"x": float(x), "y": float(y), "is_centroid": bool(c)})
            for n, x, y, c in zip(self.nodes.index, xs, ys, cent, strict=True)
        )
        attrs = pd.DataFrame(self.links.drop(columns="geometry"))
        records = attrs.to_dict("records")
        g.add_edges_from(
            (int(r["a_node"]), int(r["b_node"]), int(k), r)
            for k, r in zip(attrs.index, records, strict=True)
        )
        return g

    def zone_at(self, x: float, y: float) -> int | None:
        """Return the id of the zone containing a point, or None outside every zone.

        Parameters
        ----------
        x, y : float
            Coordinates in the city CRS (metres).
        """
        hits = self.zones.sindex.query(shapely.Point(x, y), predicate="intersects")
        if len(hits) == 0:
            return None
        return int(self.zones.index[np.sort(hits)[0]])

    def to_city_xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Convert WGS84 longitude/latitude (degrees) to city CRS coordinates (metres)."""
        x, y = to_xy(lon, lat, self.crs)
        return float(x), float(y)

    def copy(self) -> City:
        """Return a copy whose tables can be edited without touching this city."""
        tables = {f.name: getattr(self, f.name).copy() for f in fields(self) if _is_table(f.name)}
        return replace(self, settings=dict(self.settings), **tables)


def _is_table(name: str) -> bool:
    return name in _TABLE_ATTRS.values()


def load_city(path: str | Path) -> City:
    """Read and validate a city GeoPackage.

    Parameters
    ----------
    path : str or Path
        The GeoPackage file.

    Returns
    -------
    City
        A fresh copy of the (cached) city; edits to it do not leak into later loads.

    Raises
    ------
    GeodataError
        Missing file, layer or column; missing, geographic or non-metre CRS;
        duplicate ids; a value outside its column's domain (NaN, infinite, out of
        range); an empty layer or geometry; a point outside the city; dangling
        references; a road graph in which some zone centroid cannot reach or be
        reached from the others.
    """
    path = Path(path).resolve()
    if not path.is_file():
        msg = f"{path}: city file not found"
        raise GeodataError(msg)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        city = _CACHE.get(key)
    if city is None:
        t0 = time.perf_counter()
        city = _read_city(path)
        log.info(
            "city %s: %d zones, %d links, %d schools, read and checked in %.1f s",
            path.name,
            len(city.zones),
            len(city.links),
            len(city.schools),
            time.perf_counter() - t0,
        )
        with _CACHE_LOCK:
            _CACHE[key] = city
            while len(_CACHE) > _CACHE_SIZE:  # drop the oldest; keeps memory bounded
                _CACHE.pop(next(iter(_CACHE)))
    return city.copy()


def check_city(city: City) -> None:
    """Check an in-memory city against the GeoPackage contract, as :func:`load_city` does.

    Raises
    ------
    GeodataError
        The first column value, row or layer outside its domain (see
        :mod:`sim.city_schema`), naming the layer, the row's id and the column.
    """
    check_layers(city.path, {layer: getattr(city, attr) for layer, attr in _TABLE_ATTRS.items()})


def _read_city(path: Path) -> City:
    try:
        present = {str(name) for name in pyogrio.list_layers(path)[:, 0]}
    except Exception as exc:  # GDAL raises many kinds for a non-GeoPackage file
        msg = f"{path}: not a readable GeoPackage ({exc})"
        raise GeodataError(msg) from exc
    missing = [name for name in LAYERS if name not in present]
    if missing:
        msg = f"{path}: layer '{missing[0]}' is missing (a city needs layers {', '.join(LAYERS)})"
        raise GeodataError(msg)
    tables = {name: _read_layer(path, name) for name in LAYERS}
    crs = _check_crs(path, tables)
    settings = _settings(path, tables.pop("city_settings"))
    check_layers(path, tables)
    return City(
        path=path,
        name=str(settings.pop("name", path.stem)),
        crs=crs,
        settings=settings,
        **{_TABLE_ATTRS[name]: frame for name, frame in tables.items()},
    )


def _read_layer(path: Path, name: str) -> pd.DataFrame:
    index, columns, spatial = LAYERS[name]
    if spatial:
        frame = _read_frame(path, name)
    else:
        frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
    if spatial and not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{path}: layer '{name}' has no geometry"
        raise GeodataError(msg)
    needed = ((index,) if index else ()) + columns
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        msg = f"{path}: layer '{name}' lacks column '{absent[0]}' (needs {', '.join(needed)})"
        raise GeodataError(msg)
    frame = coerce_layer(path, name, frame)
    if index:
        ids = frame[index]
        if ids.isna().any() or ids.duplicated().any():
            bad = ids[ids.duplicated() | ids.isna()].iloc[0]
            msg = f"{path}: layer '{name}' has a duplicate or empty {index} ({preview(bad)})"
            raise GeodataError(msg)
        frame = frame.set_index(index).sort_index()
    return frame


def _read_frame(path: Path, name: str) -> pd.DataFrame:
    """Layer ``name`` as :func:`pyogrio.read_dataframe` reads it, its geometries parsed in chunks.

    Parsing WKB holds the interpreter: the links' 34k geometries in one call held it 20-30
    ms (over 0.1 s on a loaded machine), a freeze of a UI thread waiting on a city loading
    in a worker. Parsed
    :data:`WKB_CHUNK` at a time, other threads run in between (same geometries).
    """
    frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True, read_geometry=False)
    meta, table = pyogrio.read_arrow(path, layer=name, columns=[])
    column = meta["geometry_name"] or "wkb_geometry"
    if column not in table.column_names:
        return frame
    wkb = table.column(column).to_numpy(zero_copy_only=False)
    parts = [shapely.from_wkb(wkb[i : i + WKB_CHUNK]) for i in range(0, len(wkb), WKB_CHUNK)]
    geometry = np.concatenate(parts) if parts else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=meta["crs"])


def _check_crs(path: Path, tables: dict[str, pd.DataFrame]) -> pyproj.CRS:
    crs = None
    for name, (_, _, spatial) in LAYERS.items():
        if not spatial:
            continue
        layer_crs = tables[name].crs
        if layer_crs is None:
            msg = f"{path}: layer '{name}' has no CRS (a projected CRS in metres is required)"
            raise GeodataError(msg)
        if not layer_crs.is_projected or layer_crs.axis_info[0].unit_name not in ("metre", "meter"):
            msg = (
                f"{path}: layer '{name}' has CRS {layer_crs.to_string()}, which is not a"
                " projected CRS in metres (e.g. EPSG:32719)"
            )
            raise GeodataError(msg)
        if crs is None:
            crs = layer_crs
        elif layer_crs != crs:
            msg = f"{path}: layer '{name}' has CRS {layer_crs.to_string()}, not {crs.to_string()}"
            raise GeodataError(msg)
    if crs is None:
        msg = f"{path}: no spatial layer, so no CRS"
        raise GeodataError(msg)
    return crs


def _settings(path: Path, frame: pd.DataFrame) -> dict[str, Any]:
    repeated = frame["key"][frame["key"].duplicated()]
    if len(repeated):
        msg = f"{path}: layer 'city_settings' repeats key '{repeated.iloc[0]}'"
        raise GeodataError(msg)
    settings = {}
    for key, value in zip(frame["key"], frame["value"], strict=True):
        try:
            settings[str(key)] = json.loads(value)
        except (TypeError, json.JSONDecodeError) as exc:
            msg = f"{path}: layer 'city_settings' key '{key}' has value {preview(value)}, not JSON"
            raise GeodataError(msg) from exc
    school = (
        "school_entry_age",
        "entry_cutoff",
        "primary_grades",
        "junior_grades",
        "class_size_primary",
        "class_size_junior",
    )
    # a city naming its school_system takes these from the preset (its own keys override)
    needed = ("base_year", *(() if "school_system" in settings else school), "base_tfr", "country")
    absent = [k for k in needed if k not in settings]
    if absent:
        msg = f"{path}: layer 'city_settings' lacks key '{absent[0]}' (needs {', '.join(needed)})"
        raise GeodataError(msg)
    return settings


def save_city(city: City, path: str | Path) -> Path:
    """Write a city to a GeoPackage that :func:`load_city` reads back.

    Parameters
    ----------
    city : City
        The city to write (its ``path`` is ignored).
    path : str or Path
        Target file; an existing file is replaced.

    Returns
    -------
    Path
        The written file.
    """
    return write_layers(path, city_layers(city))


def city_layers(city: City) -> dict[str, pd.DataFrame]:
    """Return the GeoPackage layers of a city as tables keyed by layer name."""
    settings = {"name": city.name, **city.settings}
    layers: dict[str, pd.DataFrame] = {
        "city_settings": pd.DataFrame(
            {"key": list(settings), "value": [json.dumps(v) for v in settings.values()]}
        )
    }
    for layer, attr in _TABLE_ATTRS.items():
        frame = getattr(city, attr)
        index = LAYERS[layer][0]
        layers[layer] = frame.reset_index(names=index) if index else frame.reset_index(drop=True)
    return layers


def write_layers(path: str | Path, layers: dict[str, pd.DataFrame]) -> Path:
    """Write named tables to a new GeoPackage, one layer each.

    GeoDataFrames become spatial layers, plain DataFrames attribute tables.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    return path
