"""The city GeoPackage contract: every layer's columns, their domains and the cross-checks.

:data:`LAYERS` names each layer's index column, required columns and whether it is
spatial; :data:`COLUMNS` states the domain of every column (integer or float, finite, a
range, a set of allowed values); :data:`REFERENCES` the columns that refer to another
layer's ids; :data:`UNIQUE_KEYS` the column sets that identify a row of an unindexed layer.
:func:`check_layers` checks a city's tables against all of them and the rules that span
rows and layers (non-empty layers, ``grade_lo <= grade_hi``, signal green times, every
geometry present and finite, points inside the city, population totals, a strongly
connected road graph). Every problem raises :class:`~sim.errors.GeodataError` with one
line naming the file, the layer, the row (its id) and the column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim.errors import GeodataError
from sim.inputs import preview

# layer -> (index column or None, required columns besides the index, is spatial)
LAYERS: dict[str, tuple[str | None, tuple[str, ...], bool]] = {
    "zones": (
        "zone_id",
        (
            "name",
            "population",
            "households",
            "dwellings",
            "jobs",
            "attractiveness",
            "centroid_node",
            "catchment_primary",
            "catchment_junior",
        ),
        True,
    ),
    "zone_population": (None, ("zone_id", "sex", "age", "persons"), False),
    "zone_households": (None, ("zone_id", "size", "households"), False),
    "demography_rates": (None, ("age", "sex", "asfr", "qx", "migration_profile"), False),
    "schools": (
        "school_id",
        (
            "name",
            "level",
            "grade_lo",
            "grade_hi",
            "classes_per_grade",
            "class_size",
            "quality",
            "zone_id",
        ),
        True,
    ),
    "nodes": ("node_id", ("is_centroid", "zone_id", "signal_id"), True),
    "links": (
        "link_id",
        (
            "a_node",
            "b_node",
            "length_m",
            "lanes",
            "free_speed_kmh",
            "capacity_vph",
            "link_type",
            "name",
            "signal_id",
        ),
        True,
    ),
    "signals": ("signal_id", ("node_id", "cycle_s", "n_phases", "green_s", "offset_s"), True),
    "parking": ("lot_id", ("zone_id", "capacity", "occupancy_am"), True),
    "sites": (
        "site_id",
        (
            "zone_id",
            "start_year",
            "n_years",
            "dwellings_per_year",
            "occupancy",
            "household_size",
        ),
        True,
    ),
    "city_settings": (None, ("key", "value"), False),
}


@dataclass(frozen=True)
class Domain:
    """What one column may hold.

    Attributes
    ----------
    kind
        ``"int"`` (whole numbers), ``"float"`` (finite numbers), ``"text"`` or ``"bool"``.
    lo, hi
        Inclusive bounds of a number (None: unbounded).
    above
        An exclusive lower bound (``> above``) instead of ``lo``.
    values
        The allowed texts (empty: any text).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    above: float | None = None
    values: tuple[str, ...] = ()

    def allowed(self) -> str:
        """The domain in words, e.g. ``"> 0 and <= 150"`` or ``"'male' or 'female'"``."""
        if self.values:
            return " or ".join(repr(v) for v in self.values)
        if self.kind in ("text", "bool"):
            return self.kind
        word = "a whole number" if self.kind == "int" else "a finite number"
        lo, hi = _number(self.lo), _number(self.hi)
        if self.above is not None:
            return f"> {_number(self.above)}" + (f" and <= {hi}" if self.hi is not None else "")
        if self.lo is not None and self.hi is not None:
            return f"{lo}..{hi}"
        if self.lo is not None:
            return f">= {lo}"
        return word

    def ok(self, values: pd.Series) -> np.ndarray:
        """A boolean mask of the values inside the domain."""
        if self.values:
            return values.isin(self.values).to_numpy()
        if self.kind in ("text", "bool"):
            return np.ones(len(values), dtype=bool)
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        good = np.isfinite(x)
        if self.above is not None:
            good &= x > self.above
        if self.lo is not None:
            good &= x >= self.lo
        if self.hi is not None:
            good &= x <= self.hi
        return good


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}" if value % 1 else str(int(value))


def _int(lo: float | None = None, hi: float | None = None) -> Domain:
    return Domain("int", lo=lo, hi=hi)


def _num(lo: float | None = None, hi: float | None = None, above: float | None = None) -> Domain:
    return Domain("float", lo=lo, hi=hi, above=above)


_SEX = Domain("text", values=("male", "female"))
_TEXT = Domain("text")
_ID = _int(0)
_REF_OR_NONE = _int(-1)  # -1 = none
_COUNT = _int(0, 10_000_000)

#: layer -> column -> domain; index columns included. Numbers must be finite.
COLUMNS: dict[str, dict[str, Domain]] = {
    "zones": {
        "zone_id": _ID,
        "name": _TEXT,
        "population": _COUNT,
        "households": _COUNT,
        "dwellings": _COUNT,
        "jobs": _COUNT,
        "attractiveness": _num(0, 100),
        "centroid_node": _ID,
        "catchment_primary": _TEXT,
        "catchment_junior": _TEXT,
    },
    "zone_population": {"zone_id": _ID, "sex": _SEX, "age": _int(0, 100), "persons": _COUNT},
    "zone_households": {"zone_id": _ID, "size": _int(1, 6), "households": _COUNT},
    "demography_rates": {
        "age": _int(0, 100),
        "sex": _SEX,
        "asfr": _num(0, 1),
        "qx": _num(0, 1),
        "migration_profile": _num(0, 100),
    },
    "schools": {
        "school_id": _TEXT,
        "name": _TEXT,
        "level": Domain("text", values=("primary", "junior")),
        "grade_lo": _int(0, 12),
        "grade_hi": _int(0, 12),
        "classes_per_grade": _int(0, 40),
        "class_size": _int(1, 80),
        "quality": _num(-3, 3),
        "zone_id": _ID,
    },
    "nodes": {
        "node_id": _ID,
        "is_centroid": Domain("bool"),
        "zone_id": _REF_OR_NONE,
        "signal_id": _REF_OR_NONE,
    },
    "links": {
        "link_id": _ID,
        "a_node": _ID,
        "b_node": _ID,
        "length_m": _num(above=0, hi=100_000),
        "lanes": _int(1, 12),
        "free_speed_kmh": _num(above=0, hi=150),
        "capacity_vph": _num(above=0, hi=50_000),
        "link_type": _TEXT,
        "signal_id": _REF_OR_NONE,
    },
    "signals": {
        "signal_id": _ID,
        "node_id": _ID,
        "cycle_s": _num(above=0, hi=600),
        "n_phases": _int(1, 8),
        "green_s": _TEXT,
        "offset_s": _num(0, 600),
    },
    "parking": {
        "lot_id": _ID,
        "zone_id": _ID,
        "capacity": _COUNT,
        "occupancy_am": _num(0, 1),
    },
    "sites": {
        "site_id": _TEXT,
        "zone_id": _ID,
        "start_year": _int(1990, 2100),
        "n_years": _int(1, 50),
        "dwellings_per_year": _int(0, 20_000),
        "occupancy": _num(above=0, hi=1),
        "household_size": _num(above=0, hi=10),
    },
}

#: (layer, column, target layer, value meaning "none" or None): ids that must exist
REFERENCES: tuple[tuple[str, str, str, int | None], ...] = (
    ("links", "a_node", "nodes", None),
    ("links", "b_node", "nodes", None),
    ("links", "signal_id", "signals", -1),
    ("zones", "centroid_node", "nodes", None),
    ("zones", "catchment_primary", "schools", None),
    ("zones", "catchment_junior", "schools", None),
    ("nodes", "zone_id", "zones", -1),
    ("nodes", "signal_id", "signals", -1),
    ("signals", "node_id", "nodes", None),
    ("zone_population", "zone_id", "zones", None),
    ("zone_households", "zone_id", "zones", None),
    ("schools", "zone_id", "zones", None),
    ("parking", "zone_id", "zones", None),
    ("sites", "zone_id", "zones", None),
)

#: unindexed layers: the columns that identify a row (each combination at most once)
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "zone_population": ("zone_id", "sex", "age"),
    "zone_households": ("zone_id", "size"),
    "demography_rates": ("age", "sex"),
}

#: layers a city cannot do without
NON_EMPTY: tuple[str, ...] = (
    "zones",
    "zone_population",
    "zone_households",
    "demography_rates",
    "schools",
)
NON_EMPTY += ("nodes", "links")

#: point layers that must lie inside a zone (within this many metres)
INSIDE_ZONES = ("schools", "parking", "sites")
INSIDE_TOLERANCE_M = 1.0
#: point layers that must lie within this many metres of the zones' bounding box
NEAR_ZONES = ("nodes", "signals")
NEAR_ZONES_M = 20_000.0


def _row(frame: pd.DataFrame, pos: int) -> str:
    name = frame.index.name
    if name:
        ident = frame.index[pos]
        return f"{name} {preview(ident.item() if isinstance(ident, np.generic) else ident)}"
    return f"row {pos + 1}"


def _fail(source: Path, layer: str, frame: pd.DataFrame, mask: Any, column: str, what: str) -> None:
    """Raise for the first row where ``mask`` is False; ``what`` is the allowed domain."""
    bad = np.flatnonzero(~np.asarray(mask, dtype=bool))
    if len(bad) == 0:
        return
    pos = int(bad[0])
    value = frame.index[pos] if column == frame.index.name else frame[column].iloc[pos]
    value = value.item() if isinstance(value, np.generic) else value
    more = f" ({len(bad) - 1} more rows)" if len(bad) > 1 else ""
    msg = (
        f"{source}: layer '{layer}', {_row(frame, pos)}, column '{column}' has value "
        f"{preview(value)}{more}; allowed: {what}"
    )
    raise GeodataError(msg)


def coerce_layer(source: Path, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Convert a freshly read layer's whole-number columns to int64 and flags to bool.

    Raises
    ------
    GeodataError
        A whole-number column holds an empty cell, a fraction or text.
    """
    for col, dom in COLUMNS.get(name, {}).items():
        if col not in frame.columns:
            continue
        if dom.kind == "int" and not pd.api.types.is_integer_dtype(frame[col]):
            as_float = pd.to_numeric(frame[col], errors="coerce")
            ok = np.isfinite(as_float.to_numpy(dtype=float)) & (as_float % 1 == 0).to_numpy()
            if not ok.all():
                bad = frame[col][~ok].iloc[0]
                msg = (
                    f"{source}: layer '{name}', row {int(np.flatnonzero(~ok)[0]) + 1}, "
                    f"column '{col}' must hold integers, not {preview(bad)}"
                )
                raise GeodataError(msg)
            frame[col] = as_float.astype(np.int64)
        elif dom.kind == "bool":
            frame[col] = frame[col].astype(bool)
    return frame


def check_layers(source: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Check a city's tables (layer name -> table, indexed like a loaded city).

    Parameters
    ----------
    source
        The city file, for messages.
    tables
        Every layer of :data:`COLUMNS`, indexed by its index column (if any).

    Raises
    ------
    GeodataError
        The first problem, naming the file, layer, row and column.
    """
    for name in NON_EMPTY:
        if tables[name].empty:
            msg = f"{source}: layer '{name}' is empty (a city needs at least one row)"
            raise GeodataError(msg)
    for name, columns in COLUMNS.items():
        frame = tables[name]
        for col, dom in columns.items():
            values = frame.index.to_series() if col == frame.index.name else frame[col]
            _fail(source, name, frame, dom.ok(values), col, dom.allowed())
        keys = UNIQUE_KEYS.get(name)
        if keys:
            dup = frame.duplicated(list(keys)).to_numpy()
            _fail(source, name, frame, ~dup, keys[-1], f"each ({', '.join(keys)}) once")
    for check in _ROW_CHECKS:
        check(source, tables)
    _check_geometry(source, tables)
    _check_references(source, tables)
    _check_population(source, tables)
    _check_connected(source, tables)


def _check_grades(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    s = t["schools"]
    ok = (s["grade_lo"] <= s["grade_hi"]).to_numpy()
    _fail(source, "schools", s, ok, "grade_lo", "grade_lo <= grade_hi")


def _check_green_times(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    sig = t["signals"]
    ok = np.ones(len(sig), dtype=bool)
    for pos, (text, phases, cycle) in enumerate(
        zip(sig["green_s"], sig["n_phases"], sig["cycle_s"], strict=True)
    ):
        try:
            green = np.array([float(g) for g in str(text).split(",")])
        except ValueError:
            ok[pos] = False
            continue
        ok[pos] = (
            text is not None
            and len(green) == phases
            and bool(np.all(np.isfinite(green) & (green > 0)))
            and green.sum() < cycle
        )
    what = "n_phases comma-separated green times > 0 (s) summing to less than cycle_s"
    _fail(source, "signals", sig, ok, "green_s", what)


def _check_rates_sexes(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    rates = t["demography_rates"]
    for sex in ("male", "female"):
        if not (rates["sex"] == sex).any():
            msg = f"{source}: layer 'demography_rates' has no rows for sex '{sex}'"
            raise GeodataError(msg)


def _check_catchment_levels(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    zones, level = t["zones"], t["schools"]["level"]
    for col, wanted in (("catchment_primary", "primary"), ("catchment_junior", "junior")):
        known = zones[col].isin(level.index).to_numpy()
        ok = ~known | (zones[col].map(level) == wanted).to_numpy()
        _fail(source, "zones", zones, ok, col, f"the school_id of a {wanted} school")


_ROW_CHECKS: tuple[Callable[[Path, Mapping[str, pd.DataFrame]], None], ...] = (
    _check_grades,
    _check_green_times,
    _check_rates_sexes,
    _check_catchment_levels,
)


def _check_geometry(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    zones = t["zones"]
    for name, (_, _, spatial) in LAYERS.items():
        if not spatial:
            continue
        geom = t[name].geometry.to_numpy()
        ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
        _fail(source, name, t[name], ok, "geometry", "a non-empty geometry")
        coords, owner = shapely.get_coordinates(geom, return_index=True)
        coords_ok = np.ones(len(geom), dtype=bool)
        coords_ok[owner[~np.isfinite(coords).all(axis=1)]] = False
        _fail(source, name, t[name], coords_ok, "geometry", "finite coordinates")
    area = shapely.area(zones.geometry.to_numpy())
    _fail(source, "zones", zones, area > 0, "geometry", "a polygon of positive area")
    city = shapely.union_all(zones.geometry.to_numpy())
    shapely.prepare(city)
    for name in INSIDE_ZONES:
        pts = t[name].geometry.to_numpy()
        ok = shapely.dwithin(city, pts, INSIDE_TOLERANCE_M)
        _fail(source, name, t[name], ok, "geometry", "a point inside the city's zones")
    x0, y0, x1, y1 = zones.total_bounds
    m = NEAR_ZONES_M
    for name in NEAR_ZONES:
        x = shapely.get_x(t[name].geometry.to_numpy())
        y = shapely.get_y(t[name].geometry.to_numpy())
        ok = (x >= x0 - m) & (x <= x1 + m) & (y >= y0 - m) & (y <= y1 + m)
        what = f"a point within {m / 1000:g} km of the city's zones"
        _fail(source, name, t[name], ok, "geometry", what)


def _check_references(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    for layer, column, target, none in REFERENCES:
        values = t[layer][column]
        ok = values.isin(t[target].index)
        if none is not None:
            ok |= values == none
        what = f"an id of layer '{target}'" + (f" or {none} (none)" if none is not None else "")
        _fail(source, layer, t[layer], ok.to_numpy(), column, what)


def _check_population(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    zones = t["zones"]
    pop = t["zone_population"].groupby("zone_id")["persons"].sum()
    pop = pop.reindex(zones.index, fill_value=0)
    off = pop[pop != zones["population"]]
    if len(off):
        zid = off.index[0]
        msg = (
            f"{source}: layer 'zone_population' sums to {int(off.iloc[0])} persons in zone "
            f"{zid}, but layer 'zones' says population {int(zones.loc[zid, 'population'])}"
        )
        raise GeodataError(msg)


def _check_connected(source: Path, t: Mapping[str, pd.DataFrame]) -> None:
    """Every zone centroid must reach, and be reached from, every other one."""
    stranded = stranded_zones(t["nodes"], t["links"], t["zones"])
    if len(stranded):
        msg = (
            f"{source}: layer 'links' is disconnected: the centroid of zone {int(stranded[0])}"
            f" (and {len(stranded) - 1} other zones) cannot reach or be reached from the"
            " other zones' centroids"
        )
        raise GeodataError(msg)


def stranded_zones(nodes: pd.DataFrame, links: pd.DataFrame, zones: pd.DataFrame) -> pd.Index:
    """Zones whose centroid is outside the largest strongly connected set of centroids.

    Parameters
    ----------
    nodes, links, zones
        The city's tables (``links`` may be a year's links after road policies).

    Returns
    -------
    pandas.Index
        The ``zone_id`` of every stranded zone (empty when all centroids connect).
    """
    pos = pd.Series(np.arange(len(nodes)), index=nodes.index)
    a = pos.reindex(links["a_node"]).to_numpy()
    b = pos.reindex(links["b_node"]).to_numpy()
    n = len(nodes)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=True, connection="strong")
    comp = label[pos.reindex(zones["centroid_node"]).to_numpy()]
    main = np.bincount(comp).argmax()
    return zones.index[comp != main]
