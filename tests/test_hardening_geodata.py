"""Issue 11, class 1: geodata that loads but is wrong is refused at load, one line each.

Every case breaks one value of the default city (in memory, checked by ``check_city``, the
same check ``load_city`` runs); two cases go end to end through a broken GeoPackage copy:
``validate`` and ``run`` exit 2 with one line naming the layer and column, and ``run``
writes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from _support import DEFAULT_CITY

from sim.city import City, check_city, load_city
from sim.cli import main as cli_main
from sim.errors import GeodataError


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(DEFAULT_CITY)


def _set(attr: str, column: str, value: object, row: int = 0) -> Callable[[City], object]:
    """Set one cell; return the row's id (for indexed layers) or None."""

    def mutate(c: City) -> object:
        frame = getattr(c, attr)
        if isinstance(value, float) and frame[column].dtype.kind in "iu":
            frame[column] = frame[column].astype(float)
        frame.loc[frame.index[row], column] = value
        return frame.index[row] if frame.index.name else None

    return mutate


def _geom(attr: str, make: Callable[[shapely.Geometry], shapely.Geometry], row: int = 0):
    def mutate(c: City) -> object:
        frame = getattr(c, attr)
        geoms = frame.geometry.to_numpy().copy()
        geoms[row] = make(geoms[row])
        frame.set_geometry(geoms, inplace=True, crs=frame.crs)
        return frame.index[row]

    return mutate


def _empty(attr: str) -> Callable[[City], object]:
    def mutate(c: City) -> object:
        setattr(c, attr, getattr(c, attr).iloc[:0])

    return mutate


def _swap_grades(c: City) -> object:
    sid = c.schools.index[0]
    c.schools.loc[sid, ["grade_lo", "grade_hi"]] = [6, 1]
    return sid


def _repeat_row(attr: str) -> Callable[[City], object]:
    def mutate(c: City) -> object:
        frame = getattr(c, attr)
        setattr(c, attr, frame.iloc[[0, *range(len(frame))]].reset_index(drop=True))

    return mutate


def _shift(dx: float) -> Callable[[shapely.Geometry], shapely.Geometry]:
    return lambda p: shapely.Point(p.x + dx, p.y)


NAN_POINT = shapely.Point(np.nan, np.nan)

# id -> (mutation, layer, column named in the message, or None for a whole-layer problem)
CASES: dict[str, tuple[Callable[[City], object], str, str | None]] = {
    "school 500 km outside every zone": (_geom("schools", _shift(500_000)), "schools", "geometry"),
    "school with NaN coordinates": (_geom("schools", lambda p: NAN_POINT), "schools", "geometry"),
    "grade_lo > grade_hi": (_swap_grades, "schools", "grade_lo"),
    "negative dwellings_per_year": (
        _set("sites", "dwellings_per_year", -50),
        "sites",
        "dwellings_per_year",
    ),
    "NaN node coordinates": (_geom("nodes", lambda p: NAN_POINT, 100), "nodes", "geometry"),
    "NaN attractiveness": (_set("zones", "attractiveness", np.nan), "zones", "attractiveness"),
    "NaN quality": (_set("schools", "quality", np.nan), "schools", "quality"),
    "negative households (zones)": (_set("zones", "households", -3), "zones", "households"),
    "negative households (table)": (
        _set("households", "households", -3),
        "zone_households",
        "households",
    ),
    "class_size 0": (_set("schools", "class_size", 0), "schools", "class_size"),
    "empty zone_households": (_empty("households"), "zone_households", None),
    "empty demography_rates": (_empty("rates"), "demography_rates", None),
    "empty zone geometry": (_geom("zones", lambda p: shapely.MultiPolygon()), "zones", "geometry"),
    "NaN green_s": (_set("signals", "green_s", None), "signals", "green_s"),
    "green times longer than the cycle": (
        _set("signals", "green_s", "80,80"),
        "signals",
        "green_s",
    ),
    "infinite capacity": (_set("links", "capacity_vph", np.inf), "links", "capacity_vph"),
    "zero-length link": (_set("links", "length_m", 0.0), "links", "length_m"),
    "absurd speed": (_set("links", "free_speed_kmh", 5000.0), "links", "free_speed_kmh"),
    "NaN migration profile": (
        _set("rates", "migration_profile", np.nan),
        "demography_rates",
        "migration_profile",
    ),
    "infinite signal offset": (_set("signals", "offset_s", np.inf), "signals", "offset_s"),
    "signal at a missing node": (_set("signals", "node_id", 99_999_999), "signals", "node_id"),
    "link with a missing signal": (_set("links", "signal_id", 99_999), "links", "signal_id"),
    "site starting in 99999": (_set("sites", "start_year", 99_999), "sites", "start_year"),
    "parking occupancy 2": (_set("parking", "occupancy_am", 2.0), "parking", "occupancy_am"),
    "household size repeated in a zone": (_repeat_row("households"), "zone_households", "size"),
    "primary catchment names a junior school": (
        _set("zones", "catchment_primary", "J01"),
        "zones",
        "catchment_primary",
    ),
}


def test_the_default_city_passes(city: City) -> None:
    check_city(city)


@pytest.mark.parametrize("case", list(CASES))
def test_broken_geodata_is_named(city: City, case: str) -> None:
    mutate, layer, column = CASES[case]
    broken = city.copy()
    row = mutate(broken)
    with pytest.raises(GeodataError) as info:
        check_city(broken)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    assert f"layer '{layer}'" in message, message
    if column is None:
        assert "empty" in message, message
    else:
        assert f"column '{column}'" in message, message
    if row is not None:
        assert str(row) in message, message


# ---------------------------------------------------------------- end to end, one file


@pytest.fixture(scope="module")
def broken_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the default city with school 0 moved 500 km east (one layer rewritten)."""
    path = tmp_path_factory.mktemp("broken") / "far_school.gpkg"
    shutil.copy(DEFAULT_CITY, path)
    schools = pyogrio.read_dataframe(DEFAULT_CITY, layer="schools")
    schools.loc[0, "geometry"] = _shift(500_000)(schools.geometry.iloc[0])
    pyogrio.write_dataframe(schools, path, layer="schools", driver="GPKG")
    return path


def _scenario(folder: Path, city: Path) -> Path:
    path = folder / "broken-city.yaml"
    path.write_text(f"name: broken-city\ncity: {city}\nyears: 1\nreplications: 1\n")
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
def test_broken_file_exit_2_one_line_nothing_written(
    broken_city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    out = tmp_path / "runs"
    argv = [command, str(_scenario(tmp_path, broken_city))]
    argv += ["--out", str(out)] if command == "run" else []
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "layer 'schools'" in err and "column 'geometry'" in err and "inside" in err, err
    assert not out.exists() or not any(out.iterdir())
