"""Optional tiles from a local PMTiles v3 file: the right tile in the right place, and one
clear message for a file that is not a raster PMTiles archive.

The archives are written here with the ``pmtiles`` package's writer (its own tile ids);
where a tile lands is checked against the web-mercator formulas written out below, in a
UTM zone (EPSG:32719, Santiago's) as the city's CRS.
"""

from __future__ import annotations

import gzip
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from pyproj import Transformer
from PySide6.QtWidgets import QWidget

from gui.map_tiles import PMTiles, TileLayer
from gui.map_toolbar import MapButtons

CRS = "EPSG:32719"
Z = 12
LON, LAT = -70.65, -33.45  # central Santiago
RED, GREEN, BLUE = (220, 0, 0), (0, 200, 0), (0, 0, 230)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """XYZ column and row of the tile holding lon/lat (slippy-map formula)."""
    n = 2**z
    lat_r = math.radians(lat)
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi) / 2.0 * n
    return int(x), int(y)


def _inside(z: int, x: int, y: int, fx: float, fy: float) -> tuple[float, float]:
    """Lon/lat at fraction (fx east, fy south) inside tile (z, x, y)."""
    n = 2**z
    lon = (x + fx) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * (y + fy) / n))))
    return lon, lat


def _png(rgb: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _archive(
    path: Path,
    tiles: dict[tuple[int, int, int], bytes],
    kind: TileType = TileType.PNG,
    compression: Compression = Compression.NONE,
) -> Path:
    """A PMTiles v3 file holding ``tiles`` ((z, x, y) -> bytes, written as given)."""
    with path.open("wb") as file:
        writer = Writer(file)
        for (z, x, y), data in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        header = {
            "tile_type": kind,
            "tile_compression": compression,
            "min_lon_e7": int(-71.0e7),
            "min_lat_e7": int(-34.0e7),
            "max_lon_e7": int(-70.0e7),
            "max_lat_e7": int(-33.0e7),
            "center_zoom": Z,
            "center_lon_e7": int(LON * 1e7),
            "center_lat_e7": int(LAT * 1e7),
        }
        writer.finalize(header, {"name": "test"})
    return path


def _three_tiles(path: Path, compression: Compression = Compression.NONE) -> Path:
    """Red at the tile of central Santiago, green east of it, blue south of it."""
    x, y = _tile_of(LON, LAT, Z)
    pack = gzip.compress if compression == Compression.GZIP else bytes
    tiles = {(Z, x, y): _png(RED), (Z, x + 1, y): _png(GREEN), (Z, x, y + 1): _png(BLUE)}
    return _archive(path, {k: pack(v) for k, v in tiles.items()}, compression=compression)


def _colour_at(fig: Figure, ax: Any, lon: float, lat: float) -> tuple[int, ...]:
    """The drawn pixel's RGB at lon/lat."""
    cx, cy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    px, py = ax.transData.transform((cx, cy))
    pixels = np.asarray(fig.canvas.buffer_rgba())
    return tuple(int(v) for v in pixels[pixels.shape[0] - 1 - round(py), round(px), :3])


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.GZIP])
def test_pmtiles_tiles_drawn_in_place(tmp_path: Path, compression: Compression) -> None:
    source = PMTiles(_three_tiles(tmp_path / "three.pmtiles", compression))
    assert (source.min_zoom, source.max_zoom) == (Z, Z)
    x, y = _tile_of(LON, LAT, Z)
    assert Image.open(io.BytesIO(source.tile(Z, x, y))).getpixel((9, 9)) == RED
    assert source.tile(Z, x + 1, y + 1) is None  # not in the archive
    assert source.tile(Z + 1, 2 * x, 2 * y) is None  # a zoom it has not
    # a view over the 2 x 2 tiles south-east of (x, y)'s north-west corner
    to_city = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    (lon_w, lat_n), (lon_e, lat_s) = _inside(Z, x, y, 0, 0), _inside(Z, x, y, 2, 2)
    (w, e), (n, s) = to_city.transform([lon_w, lon_e], [lat_n, lat_s])
    fig = Figure(figsize=(5, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    layer = TileLayer(ax, CRS, source)
    layer.update(500)
    assert len(layer.images) == 3
    fig.canvas.draw()
    for (tx, ty), colour in (((x, y), RED), ((x + 1, y), GREEN), ((x, y + 1), BLUE)):
        for fx, fy in ((0.5, 0.5), (0.15, 0.85), (0.85, 0.15)):
            assert _colour_at(fig, ax, *_inside(Z, tx, ty, fx, fy)) == colour, (tx, ty, fx, fy)
    assert _colour_at(fig, ax, *_inside(Z, x + 1, y + 1, 0.5, 0.5)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("content", "wrong"),
    [
        (b"SQLite format 3\x00" + bytes(200), "not a PMTiles file (no PMTiles header)"),
        (b"", "not a PMTiles file (no PMTiles header)"),
        (b"PMTiles\x02" + bytes(200), "PMTiles version 2; only version 3 can be read"),
    ],
)
def test_pmtiles_refuses_other_files(tmp_path: Path, content: bytes, wrong: str) -> None:
    path = tmp_path / "other.pmtiles"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        PMTiles(path)
    assert str(caught.value) == f"{path}: {wrong}"


def test_pmtiles_refuses_vector_tiles_and_missing_files(tmp_path: Path) -> None:
    x, y = _tile_of(LON, LAT, Z)
    vector = _archive(tmp_path / "roads.pmtiles", {(Z, x, y): b"\x1a\x00"}, kind=TileType.MVT)
    with pytest.raises(ValueError) as caught:
        PMTiles(vector)
    assert str(caught.value) == (
        f"{vector}: holds vector tiles (MVT); only raster tiles (PNG, JPEG, WebP) can be drawn"
    )
    with pytest.raises(ValueError, match=r"missing\.pmtiles: cannot read the file"):
        PMTiles(tmp_path / "missing.pmtiles")


class _Map(QWidget):
    """What MapButtons needs of a map: ``set_tiles``."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[Any] = []

    def set_tiles(self, source: Any) -> None:
        self.sources.append(source)


def test_tiles_menu_opens_pmtiles_or_says_what_is_wrong(
    qtbot: Any, tmp_path: Path, dialogs: dict[str, list]
) -> None:
    mapview = _Map()
    qtbot.addWidget(mapview)
    buttons = MapButtons(mapview)
    assert "Open PMTiles file…" in [a.text() for a in buttons.menu.actions()]
    buttons.open_pmtiles(str(_three_tiles(tmp_path / "three.pmtiles")))
    assert [type(s) for s in mapview.sources] == [PMTiles]
    bad = tmp_path / "notes.pmtiles"
    bad.write_text("hello")
    buttons.open_pmtiles(str(bad))
    assert len(mapview.sources) == 1  # the map keeps what it had
    assert dialogs["critical"] == [
        ("Cannot use these tiles.", f"{bad}: not a PMTiles file (no PMTiles header)")
    ]
