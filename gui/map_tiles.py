"""Optional raster tiles under the map: a local MBTiles or PMTiles file, or a tile URL.

Nothing is fetched unless the user chose a source (:class:`MBTiles` reads a local SQLite
file, :class:`PMTiles` a local PMTiles v3 archive; :class:`UrlTiles` downloads only from
the URL template the user typed, in a worker thread). :class:`TileLayer` picks the
web-mercator zoom that matches the view, and draws each tile as an image whose corners are
the tile's corners projected into the city's CRS (an affine per tile, so the grid
convergence of the city's projection is honoured).
"""

from __future__ import annotations

import gzip
import io
import math
import sqlite3
import threading
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage
from matplotlib.transforms import Affine2D
from PIL import Image
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType, deserialize_header
from pyproj import Transformer

#: Most tiles drawn at once; the zoom is lowered until the view needs no more.
MAX_TILES = 48
TILE_PX = 256


class TileSource(Protocol):
    """Where tiles come from: ``tile(z, x, y)`` gives PNG/JPEG bytes (XYZ numbering) or None."""

    name: str
    min_zoom: int
    max_zoom: int

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The encoded tile, or None when the source has none (yet)."""


class MBTiles:
    """Tiles of a local MBTiles file (SQLite ``tiles`` table, TMS rows).

    Raises
    ------
    ValueError
        The file is not an MBTiles database (one line naming the file).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            self._db = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            zooms = self._db.execute(
                "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles"
            ).fetchone()
        except sqlite3.Error as exc:
            raise ValueError(f"{self.path}: not an MBTiles file ({exc})") from exc
        if zooms[0] is None:
            raise ValueError(f"{self.path}: the MBTiles file has no tiles")
        self.min_zoom, self.max_zoom = int(zooms[0]), int(zooms[1])
        self._lock = threading.Lock()

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes (the file numbers rows from the south: TMS)."""
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        return None if row is None else bytes(row[0])


class PMTiles:
    """Raster tiles of a local PMTiles v3 archive (PNG, JPEG or WebP; XYZ numbering).

    The file is memory-mapped; its directories are read by the ``pmtiles`` package.

    Raises
    ------
    ValueError
        The file is not a PMTiles v3 archive, or holds tiles that cannot be drawn (vector
        tiles, an unknown compression): one line naming the file and what is wrong.
    """

    #: Tile types an image can be decoded from.
    RASTER = (TileType.PNG, TileType.JPEG, TileType.WEBP)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            with self.path.open("rb") as file:
                head = file.read(127)
                if len(head) < 127 or not head.startswith(b"PMTiles"):
                    raise ValueError("not a PMTiles file (no PMTiles header)")
                if head[7] != 3:
                    raise ValueError(f"PMTiles version {head[7]}; only version 3 can be read")
                get_bytes = MmapSource(file)  # the mapping outlives the closed file
            header = deserialize_header(head)
        except OSError as exc:
            raise ValueError(f"{self.path}: cannot read the file ({exc.strerror})") from exc
        except ValueError as exc:
            raise ValueError(f"{self.path}: {exc}") from exc
        self._check(header)
        self._compressed = header["tile_compression"] == Compression.GZIP
        self.min_zoom, self.max_zoom = int(header["min_zoom"]), int(header["max_zoom"])
        self._reader = Reader(get_bytes)

    def _check(self, header: Mapping[str, Any]) -> None:
        """Refuse what cannot be drawn: vector tiles, compressions other than gzip."""
        kind = header["tile_type"]
        if kind not in self.RASTER:
            what = "vector tiles (MVT)" if kind == TileType.MVT else f"{kind.name} tiles"
            raise ValueError(
                f"{self.path}: holds {what}; only raster tiles (PNG, JPEG, WebP) can be drawn"
            )
        if header["internal_compression"] != Compression.GZIP:
            raise ValueError(
                f"{self.path}: directories compressed as "
                f"{header['internal_compression'].name}; only gzip can be read"
            )
        if header["tile_compression"] not in (Compression.NONE, Compression.GZIP):
            raise ValueError(
                f"{self.path}: tiles compressed as {header['tile_compression'].name}; "
                "only uncompressed or gzip tiles can be read"
            )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, or None where the archive has no tile."""
        if not self.min_zoom <= z <= self.max_zoom:
            return None
        data = self._reader.get(z, x, y)
        if data is None:
            return None
        return gzip.decompress(data) if self._compressed else bytes(data)


class UrlTiles:
    """Tiles from a URL template such as ``https://tile.example.org/{z}/{x}/{y}.png``.

    Only ever built from a URL the user typed. Downloads run in worker threads; ``tile``
    returns None until a tile has arrived, then ``ready`` is called (from the worker).
    """

    def __init__(self, template: str, ready: Callable[[], None] = lambda: None) -> None:
        if not all(key in template for key in ("{z}", "{x}", "{y}")):
            raise ValueError(f"tile URL {template!r}: needs {{z}}, {{x}} and {{y}}")
        self.name = template
        self.template = template
        self.min_zoom, self.max_zoom = 0, 19
        self.ready = ready
        self._got: dict[tuple[int, int, int], bytes | None] = {}
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._lock = threading.Lock()

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile if downloaded; otherwise start its download and return None."""
        key = (z, x, y)
        with self._lock:
            if key in self._got:
                return self._got[key]
            self._got[key] = None
        self._pool.submit(self._fetch, key)
        return None

    def _fetch(self, key: tuple[int, int, int]) -> None:
        z, x, y = key
        url = self.template.format(z=z, x=x, y=y)
        request = urllib.request.Request(url, headers={"User-Agent": "CitySandbox"})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                data = reply.read()
        except OSError:
            return
        with self._lock:
            self._got[key] = data
        self.ready()


def tile_range(lon0: float, lat0: float, lon1: float, lat1: float, z: int) -> tuple[int, ...]:
    """XYZ tile columns and rows (x0, x1, y0, y1, inclusive) covering a lon/lat box."""
    n = 1 << z

    def xy(lon: float, lat: float) -> tuple[int, int]:
        lat = max(min(lat, 85.0511), -85.0511)
        x = (lon + 180) / 360 * n
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return min(max(int(x), 0), n - 1), min(max(int(y), 0), n - 1)

    x0, y0 = xy(lon0, lat1)
    x1, y1 = xy(lon1, lat0)
    return x0, x1, y0, y1


def tile_corner(z: int, x: float, y: float) -> tuple[float, float]:
    """Lon/lat of the north-west corner of tile (z, x, y) (fractions allowed)."""
    n = 1 << z
    lon = x / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lon, lat


def zoom_for(metres_per_pixel: float, lat: float) -> int:
    """The web-mercator zoom whose pixels are closest to ``metres_per_pixel`` at ``lat``."""
    ground = 156_543.034 * math.cos(math.radians(lat))
    return round(math.log2(ground / max(metres_per_pixel, 1e-6)))


class TileLayer:
    """The tiles of a source drawn under the map's layers of ``ax``, city CRS ``crs``."""

    def __init__(self, ax: Axes, crs: Any, source: TileSource, zorder: float = 0.6) -> None:
        self.ax = ax
        self.source = source
        self.zorder = zorder
        self.images: list[AxesImage] = []
        self.visible = True
        self.alpha = 1.0
        self._to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self._to_city = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._shown: tuple[int, int, int, int, int] | None = None

    def remove(self) -> None:
        """Take the tiles off the map."""
        for image in self.images:
            image.remove()
        self.images = []
        self._shown = None

    def set_alpha(self, alpha: float) -> None:
        """Opacity of the tiles."""
        self.alpha = alpha
        for image in self.images:
            image.set_alpha(alpha)

    def update(self, width_px: float, *, force: bool = False) -> None:
        """Draw the tiles of the current view (``width_px``: the axes' width in pixels)."""
        if not self.visible:
            self.remove()
            return
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        lons, lats = self._to_lonlat.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
        lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
        src = self.source
        z = zoom_for(abs(x1 - x0) / max(width_px, 1.0), (lat0 + lat1) / 2)
        z = min(max(z, src.min_zoom), src.max_zoom)
        while True:
            tx0, tx1, ty0, ty1 = tile_range(lon0, lat0, lon1, lat1, z)
            if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= MAX_TILES or z <= src.min_zoom:
                break
            z -= 1
        key = (z, tx0, tx1, ty0, ty1)
        if key == self._shown and not force:
            return
        self.remove()
        for tx in range(tx0, tx1 + 1):
            for ty in range(ty0, ty1 + 1):
                data = src.tile(z, tx, ty)
                if data is not None:
                    self.images.append(self._image(z, tx, ty, data))
        self._shown = key

    def _image(self, z: int, tx: int, ty: int, data: bytes) -> AxesImage:
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
        corners = [tile_corner(z, tx + dx, ty + dy) for dx, dy in ((0, 1), (1, 1), (0, 0))]
        xs, ys = self._to_city.transform([c[0] for c in corners], [c[1] for c in corners])
        (sw_x, se_x, nw_x), (sw_y, se_y, nw_y) = xs, ys
        # the unit square (image extent) onto the tile's parallelogram in city metres
        affine = Affine2D(
            np.array(
                [[se_x - sw_x, nw_x - sw_x, sw_x], [se_y - sw_y, nw_y - sw_y, sw_y], [0, 0, 1]]
            )
        )
        image = AxesImage(
            self.ax, interpolation="bilinear", extent=(0, 1, 0, 1), zorder=self.zorder
        )
        image.set_data(pixels)
        image.set_transform(affine + self.ax.transData)
        image.set_alpha(self.alpha)
        image.set_in_layout(False)
        self.ax.add_image(image)  # not imshow: the map's limits and aspect stay as they are
        return image
