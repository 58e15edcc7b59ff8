"""The map as a user meets it: hover tooltips, search, layer opacity, names, tiles, print layout.

Expectations come from the city tables and from the slippy-map tile formulas written out
here, not from the map modules' own helpers.
"""

from __future__ import annotations

import io
import math
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _pointer import hover
from PIL import Image
from pyproj import Transformer
from PySide6.QtCore import QPointF, Qt

from gui import i18n


def _hover(qtbot: Any, mapview: Any, x: float, y: float) -> str:
    """Rest the pointer (no button) on city point (x, y) and return the tooltip text."""
    mapview.canvas.draw()
    mapview.hovering.text = ""
    px, py = mapview.data_to_pixel(x, y)
    hover(mapview.canvas, QPointF(px, py))
    qtbot.waitUntil(lambda: mapview.hovering.text != "", timeout=5000)
    return mapview.hovering.text


def _seats(row: Any) -> int:
    return sum(int(c) for c in str(row["classes_by_grade"]).split(",")) * int(row["class_size"])


def test_hover_tells_school_street_and_zone(window: Any, qtbot: Any) -> None:
    mapview, city = window.map, window.city
    school = city.schools.index[0]
    row, pt = city.schools.loc[school], city.schools.geometry.loc[school]
    mapview.set_view_limits((pt.x - 900, pt.x + 900), (pt.y - 900, pt.y + 900))
    text = _hover(qtbot, mapview, pt.x, pt.y)
    assert row["name"] in text and f"capacity {_seats(row):,} seats" in text
    # with results, utilisation in % (a run's table, here made up: 0.873 -> 87 %)
    table = mapview.city_schools()
    mapview.set_schools(table, table["capacity"] * 0 + 0.873)
    assert "utilisation 87 %" in _hover(qtbot, mapview, pt.x, pt.y)
    link = city.links[(city.links["link_type"] == "primary") & (city.links["name"] != "")].index[0]
    mid = city.links.geometry.loc[link].interpolate(0.5, normalized=True)
    mapview.set_view_limits((mid.x - 150, mid.x + 150), (mid.y - 150, mid.y + 150))
    assert city.links.loc[link, "name"] in _hover(qtbot, mapview, mid.x, mid.y)
    mapview.set_layer_visible("roads", False)
    mapview.set_layer_visible("schools", False)
    zone = city.zones.index[5]
    inside = city.zones.geometry.loc[zone].representative_point()
    mapview.set_view_limits((inside.x - 500, inside.x + 500), (inside.y - 500, inside.y + 500))
    text = _hover(qtbot, mapview, inside.x, inside.y)
    assert text.startswith("Zone ") and str(city.zones.loc[zone, "name"]) in text
    pop = f"{int(city.zones.loc[zone, 'population']):,}"
    assert f"population {pop}" in text


def _search(qtbot: Any, mapview: Any, text: str) -> None:
    mapview.search.clear()
    qtbot.keyClicks(mapview.search, text)
    qtbot.keyClick(mapview.search, Qt.Key.Key_Return)


def test_search_zooms_to_and_highlights_a_school_street_or_zone(window: Any, qtbot: Any) -> None:
    mapview, city = window.map, window.city
    school = city.schools.index[7]
    pt = city.schools.geometry.loc[school]
    _search(qtbot, mapview, str(city.schools.loc[school, "name"]))
    (x0, x1), (y0, y1) = mapview.view_limits()
    assert x0 < pt.x < x1 and y0 < pt.y < y1 and x1 - x0 < 3000
    assert tuple(mapview._highlight[0].get_xydata()[0]) == pytest.approx((pt.x, pt.y))
    # a street: every piece of it, both directions drawn once
    street = "Camino Ovalle La Serena"
    named = city.links[city.links["name"] == street]
    pairs = {(min(a, b), max(a, b)) for a, b in zip(named["a_node"], named["b_node"], strict=True)}
    _search(qtbot, mapview, street.lower())
    assert sum(len(c.get_segments()) for c in mapview._highlight) == len(pairs)
    bx0, by0, bx1, by1 = named.total_bounds
    (x0, x1), (y0, y1) = mapview.view_limits()
    assert x0 <= bx0 and bx1 <= x1 and y0 <= by0 and by1 <= y1
    # a zone by its name
    zone = city.zones.index[20]
    _search(qtbot, mapview, str(city.zones.loc[zone, "name"]))
    ring = mapview._highlight[0].get_segments()[0]
    zx0, _zy0, _zx1, zy1 = city.zones.geometry.loc[zone].bounds
    assert ring[:, 0].min() == pytest.approx(zx0) and ring[:, 1].max() == pytest.approx(zy1)
    # nothing found: said under the map, the view stays
    before = mapview.view_limits()
    _search(qtbot, mapview, "no such place anywhere")
    assert "no such place anywhere" in mapview.hint.text()
    assert mapview.view_limits() == before


def test_layer_panel_sets_opacity_and_shows_symbols(window: Any) -> None:
    panel, mapview = window.layers, window.map
    assert all(not panel.item(i).icon().isNull() for i in range(panel.count()))
    assert panel.legend.count() >= 5
    panel.list.setCurrentItem(panel.layer_item("roads"))
    assert panel.opacity.value() == 100
    panel.opacity.setValue(30)
    assert mapview.layer_opacity("roads") == pytest.approx(0.3)
    assert all(a.get_alpha() == pytest.approx(0.3) for a in mapview._artists["roads"])
    panel.list.setCurrentItem(panel.layer_item("zones"))
    assert panel.opacity.value() == 100  # the slider shows the selected layer's opacity
    panel.opacity.setValue(40)
    assert mapview._artists["zones"][0].get_alpha() == pytest.approx(0.75 * 0.4)
    assert mapview._artists["roads"][0].get_alpha() == pytest.approx(0.3)  # untouched


def test_street_names_appear_as_zoom_allows(window: Any) -> None:
    mapview, city = window.map, window.city
    links = city.links[city.links["name"] != ""]
    length = links.groupby(["link_type", "name"])["length_m"].sum()
    biggest = length.loc[["motorway", "trunk", "primary"]].groupby(level="name").sum().idxmax()
    mapview.home()
    shown = mapview.labels.shown()
    assert biggest in shown
    only_residential = set(length.loc["residential"].index) - set(
        length.drop("residential", level="link_type").index.get_level_values("name")
    )
    assert not only_residential & set(shown)  # small streets wait for a closer view
    name = length.loc["residential"].loc[sorted(only_residential)].idxmax()
    longest = links[links["name"] == name]["length_m"].idxmax()
    mid = links.geometry.loc[longest].interpolate(0.5, normalized=True)
    mapview.set_view_limits((mid.x - 400, mid.x + 400), (mid.y - 400, mid.y + 400))
    assert name in mapview.labels.shown()


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = (lon + 180.0) / 360.0 * n
    y = 1.0 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi
    return int(x), int(y / 2.0 * n)


def _mbtiles(path: Path, lon0: float, lat0: float, lon1: float, lat1: float) -> None:
    """A tiny MBTiles file: red tiles with a black border at zooms 10-13 over a lon/lat box."""
    image = Image.new("RGB", (256, 256), (220, 0, 0))
    image.paste((0, 0, 0), (0, 0, 256, 2))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png")])
    for z in range(10, 14):
        (xa, ya), (xb, yb) = _tile_xy(lon0, lat1, z), _tile_xy(lon1, lat0, z)
        rows = [
            (z, x, 2**z - 1 - y, buffer.getvalue())
            for x in range(xa, xb + 1)
            for y in range(ya, yb + 1)
        ]
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def test_tiles_from_a_local_mbtiles_file(
    window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, screenshots: Path
) -> None:
    def no_network(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the map fetched from the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    mapview, city = window.map, window.city
    to_lonlat = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True)
    (x0, x1), (y0, y1) = mapview.view_limits()
    lons, lats = to_lonlat.transform([x0, x1], [y0, y1])
    path = tmp_path / "tiny.mbtiles"
    _mbtiles(path, min(lons), min(lats), max(lons), max(lats))
    assert mapview.tile_layer is None  # no tiles until the user chooses some
    mapview.buttons.open_mbtiles(str(path))
    images = mapview.tile_layer.images
    assert images
    # each tile sits where its corners are: the north-west corner of a drawn tile
    z, tx0, _tx1, ty0, _ty1 = mapview.tile_layer._shown
    n = 2**z
    lon = tx0 / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty0 / n))))
    nw = Transformer.from_crs("EPSG:4326", city.crs, always_xy=True).transform(lon, lat)
    first = images[0].get_transform() - mapview.ax.transData
    assert first.transform((0, 1)) == pytest.approx(nw, abs=0.5)
    # outside the land the page is the tiles' red
    mapview.canvas.draw()
    pixels = np.asarray(mapview.canvas.buffer_rgba())
    px, py = mapview.data_to_pixel(x0 + 0.01 * (x1 - x0), y0 + 0.5 * (y1 - y0))
    r, g, b, _a = pixels[round(py), round(px)]
    assert r > 150 and g < 80 and b < 80
    window.grab().save(str(screenshots / "map_tiles.png"))
    mapview.set_tiles(None)
    assert not mapview.ax.images


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_print_layout_files(window: Any, tmp_path: Path, suffix: str, screenshots: Path) -> None:
    out = window.map.buttons.print_layout(str(tmp_path / f"layout{suffix}"))
    assert out is not None and out.exists() and out.stat().st_size > 20_000
    data = out.read_bytes()
    if suffix == ".png":
        image = Image.open(io.BytesIO(data))
        assert image.size == (round(11.69 * 200), round(8.27 * 200))  # A4 landscape, 200 dpi
        assert len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)) > 100
        (screenshots / "print_layout.png").write_bytes(data)
    elif suffix == ".svg":
        text = data.decode("utf-8")
        assert "<svg" in text and "Legend" in text and window.city.name in text
    else:
        assert data.startswith(b"%PDF")


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font on this machine
def test_map_screenshots_in_both_languages(window: Any, screenshots: Path) -> None:
    window.map.canvas.draw()
    window.grab().save(str(screenshots / "map_en.png"))
    i18n.set_language("zh", cjk_font=True)
    window.retranslate()
    assert window.layers.layer_item("labels").text() == i18n.ZH["Names"]
    assert window.map.search.placeholderText() == i18n.ZH["Search a school, street or zone…"]
    window.map.canvas.draw()
    window.grab().save(str(screenshots / "map_zh.png"))
    i18n.set_language("en", cjk_font=False)
    window.retranslate()
    assert window.layers.layer_item("labels").text() == "Names"


def test_tile_url_is_fetched_only_as_typed_and_off_the_ui_thread(tmp_path: Path) -> None:
    """A URL template the user typed (here a file:// one: no network in tests)."""
    import threading

    from gui.map_tiles import MBTiles, UrlTiles

    folder = tmp_path / "tiles" / "12" / "1234"
    folder.mkdir(parents=True)
    (folder / "2345.png").write_bytes(b"png bytes")
    arrived = threading.Event()
    source = UrlTiles((tmp_path / "tiles").as_uri() + "/{z}/{x}/{y}.png", arrived.set)
    assert source.tile(12, 1234, 2345) is None  # asked for, not there yet
    assert arrived.wait(10)
    assert source.tile(12, 1234, 2345) == b"png bytes"
    with pytest.raises(ValueError, match=r"needs \{z\}, \{x\} and \{y\}"):
        UrlTiles("https://tiles.example.org/{z}/{x}.png")
    (tmp_path / "not.mbtiles").write_text("hello")
    with pytest.raises(ValueError, match=r"not\.mbtiles: not an MBTiles file"):
        MBTiles(tmp_path / "not.mbtiles")
