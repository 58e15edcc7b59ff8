"""The city map: basemap, zones choropleth, roads coloured by V/C, schools by utilisation.

Measured (bench/gui.py): matplotlib redraws the default city's 19.8k roads in tens of
milliseconds when they are a handful of compound paths, so the map stays on matplotlib;
the seconds came from geometry built on the UI thread (catchment boundaries, land, labels:
now :mod:`gui.map_base`, built with the city in a worker) and from text layout in the
figure (the legend lives in the layer panel and the print layout instead). A redraw is
rendered off the UI thread (:class:`gui.map_canvas.MapCanvas`: a snapshot of the figure,
rendered in a worker), once the steps of a load have set the values; a language switch
relabels the colour bars and the difference legend in place (a hidden map when shown).

A handful of artists (:mod:`gui.map_draw`): one ``PolyCollection`` for the zones, one
scatter per school level, the ~20k roads as one compound path per (road rank, colour
class: :data:`ROAD_CLASSES` bins of V/C or of a difference), each undirected road once.
Picking uses spatial indexes (an STRtree over the roads, a KD-tree over the schools).
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from scipy.spatial import cKDTree

from gui import map_draw as draw
from gui.background import run_and_wait
from gui.i18n import ZH, tr
from gui.map_base import RANK_COLOURS, Basemap, Place, basemap_of, school_table, zone_indicators
from gui.map_canvas import DrawCache, MapCanvas
from gui.map_hover import Hover
from gui.map_labels import MapLabels
from gui.map_layout import export_in_child, page_layout
from gui.map_search import SearchBox, find_place
from gui.map_tiles import TileLayer, TileSource
from gui.map_toolbar import MapButtons, Toolbar
from gui.mapdecor import MapDecor, ground, highlight_artists, legend_handles, readout
from gui.mapmouse import MapMouse
from gui.mappolicies import point_index
from gui.maproads import Roads

LAYERS: tuple[str, ...] = (
    "tiles",
    "basemap",
    "zones",
    "catchments",
    "roads",
    "labels",
    "schools",
    "policies",
)
LAYER_LABELS = {
    "tiles": "Tiles",
    "basemap": "Land",
    "labels": "Names",
    "zones": "Zones",
    "catchments": "Catchments",
    "roads": "Roads",
    "schools": "Schools",
    "policies": "Policies",
}
#: Catchment boundary styles by school level (colour, line style).
CATCHMENT_STYLES = {"primary": ("#6a1b9a", "solid"), "junior": ("#00695c", "dashed")}
ROAD_CLASSES = 12
#: Zone colours: a sequential scale for levels; purple-green (not the difference map's
#: red-blue roads) centred on 0 for an indicator with gains and losses.
ZONE_CMAP, ZONE_CHANGE_CMAP = "YlGnBu", "PRGn"
#: Zones of an indicator with one value in every zone (e.g. a change that is 0 throughout).
ZONE_SAME = "#e4e4e4"
ROAD_GREY = "#8a8a8a"
LAND, WATER = "#f3efe6", "#dbe6ee"
PICK_PIXELS = 8.0
#: Columns of a run's zones-by-year table (year, zone_id, ...) -> the map's indicator names.
ZONE_YEAR_COLUMNS = {
    "population": "Population in the year shown",
    "pupils": "Pupils in the year shown",
    "households": "Households in the year shown",
    "dwellings": "Dwellings in the year shown",
}
#: Words of the difference map's legend ("more"/"less" traffic than the baseline).
CHANGE_WORDS = ("more traffic", "less traffic", "no change")
ZH.update(
    {
        "more traffic": "流量增加",
        "less traffic": "流量减少",
        "no change": "无变化",
        "{value} in every zone": "所有分区均为 {value}",
        "veh/h": "辆/小时",
        "Population in the year shown": "所示年份人口",
        "Pupils in the year shown": "所示年份学生",
        "Households in the year shown": "所示年份住户",
        "Dwellings in the year shown": "所示年份住宅",
    }
)


class MapView(QWidget):
    """A map canvas with navigation, search, tiles, print layout and an indicator chooser.

    Signals
    -------
    clicked(x, y)
        A left click that was not a pan/zoom drag, in city CRS metres.
    tiles_arrived()
        Downloaded tiles are ready to draw (emitted from a worker thread).
    pointMoved(index, x, y)
        A placed point (point policy ``index``) was dragged to (x, y), city CRS metres.
    """

    clicked = Signal(float, float)
    pointMoved = Signal(int, float, float)
    tiles_arrived = Signal()

    def __init__(self, parent: QWidget | None = None, *, title: str = "") -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=(7, 6))
        self.canvas = MapCanvas(self.figure, WATER)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.canvas.setMouseTracking(True)
        self.ax = self.canvas.ax = self.figure.add_axes((0.0, 0.0, 0.86, 1.0))
        self._zone_cax = self.figure.add_axes((0.885, 0.53, 0.022, 0.34))  # labels above
        self._road_cax = self.figure.add_axes((0.885, 0.06, 0.022, 0.34))
        self._bar_images = [DrawCache(self._zone_cax), DrawCache(self._road_cax)]  # text
        self.toolbar = Toolbar(self.canvas, self)
        self.buttons = MapButtons(self)
        self.search = SearchBox(self.search_place)
        self.indicator = QComboBox()
        self.indicator.currentIndexChanged.connect(self._indicator_changed)
        self._indicator_label = QLabel()
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #a33; font-weight: bold")
        top = QHBoxLayout()
        top.addWidget(self.toolbar)
        top.addWidget(self.buttons)
        top.addWidget(self.search)
        top.addStretch(1)
        top.addWidget(self._indicator_label)
        top.addWidget(self.indicator)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        self.coords = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.coords)
        layout.addLayout(bottom)
        self.title = title
        self.city: Any = None
        self.roads: Roads | None = None
        self.base: Basemap | None = None
        self._zone_values: dict[str, pd.Series] = {}
        self._zone_years: dict[str, pd.DataFrame] = {}  # indicator -> zone × year
        self._zone_limits: dict[str, tuple[float, float]] = {}  # colour scale over all years
        self._artists: dict[str, list[Any]] = {name: [] for name in LAYERS}
        self._colorbars: dict[str, Any] = {}
        self._legend_image: DrawCache | None = None  # the difference map's legend
        self._bar_font: tuple[str, ...] = ()
        self._visible = dict.fromkeys(LAYERS, True)
        self._opacity = dict.fromkeys(LAYERS, 1.0)
        self._schools = pd.DataFrame()
        self._school_tree: cKDTree | None = None
        self._road_values: np.ndarray | None = None
        self._road_label = ""
        self._road_bar = False  # whether the roads' colour bar applies (not the difference map)
        self._change: draw.FlowChange | None = None  # the difference map's classes, if on show
        self.click_shift = False  # whether Shift was held at the last click
        self._points_movable = True  # whether placed points can be dragged (set_policies)
        self._untranslated = False  # the language changed while hidden: relabel when shown
        self._home: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._highlight: list[Any] = []
        self._marker: Any = None
        self.decor: MapDecor | None = None
        self.labels: MapLabels | None = None
        self.tile_source: TileSource | None = None
        self.tile_layer: TileLayer | None = None
        self.hovering = Hover(self)
        self.tiles_arrived.connect(self._refresh_tiles, Qt.ConnectionType.QueuedConnection)
        self.mouse = MapMouse(self, self._clicked, self._moved, self.pointMoved.emit)
        self.retranslate()

    # ------------------------------------------------------------------ public API

    def retranslate(self, road_label: str | None = None) -> None:
        """Re-apply translated labels (after a language switch).

        ``road_label`` is the roads' colour bar or difference legend title in the new
        language (default: the same). The colour bars and the legend of a hidden map are
        relabelled when it is next shown: a switch lays out again only those on screen
        (tens of ms each); the values stay as they are.
        """
        if road_label is not None:
            self._road_label = road_label
        self._indicator_label.setText(tr("Zones by:"))
        self.buttons.retranslate()
        self.search.retranslate()
        self._fill_chooser()
        if self.city is not None and not self.isVisible():
            self._untranslated = True
        elif self.city is not None:
            self._relabel_bars()
            self.redraw()

    def _relabel_bars(self) -> None:
        """The colour bars in the current language and font (and the zones' values)."""
        self._untranslated = False
        # a new bar picks up a new font (Chinese); same font: relabel only (saves ~50 ms)
        font = tuple(mpl.rcParams["font.family"])
        self._draw_zones(renew_colorbar=font != self._bar_font)
        self._bar_font = font
        if self._road_bar:
            draw.bar_label(self._colorbars["roads"], self._road_label)
        if self._change is not None:
            self._change_legend()

    def _fill_chooser(self, select: str | None = None) -> None:
        """The indicator chooser: one entry per zone indicator, ``select`` (or the same) chosen."""
        current = select or self.indicator.currentData()
        self.indicator.blockSignals(True)  # the caller draws the zones once
        self.indicator.clear()
        for name in self._zone_values:
            self.indicator.addItem(tr(name), name)
        if current is not None:
            self.indicator.setCurrentIndex(max(self.indicator.findData(current), 0))
        self.indicator.blockSignals(False)

    def set_city(self, city: Any) -> None:
        """Show a :class:`sim.city.City`: basemap, zones, roads and schools; resets overlays.

        The basemap is built once per city (:func:`gui.map_base.basemap_of`); the window
        builds it off the UI thread while it loads the city.
        """
        self.city = city
        self.canvas.blank = False
        self.base = base = basemap_of(city)
        self.roads = base.roads
        zones = city.zones
        self._zone_values = zone_indicators(zones)
        self._zone_years, self._zone_limits = {}, {}
        self.ax.clear()
        self.ax.set_gid("map")
        self._artists = {name: [] for name in LAYERS}
        self._highlight = []
        self._marker = None
        self._artists["basemap"] = [draw.land(self.ax, base, LAND)]
        self._artists["zones"] = [draw.zones(self.ax, base)]
        self._artists["catchments"] = draw.catchments(self.ax, base, CATCHMENT_STYLES)
        self._road_cax.set_visible(False)
        self._set_roads(base.road_rank, list(RANK_COLOURS))
        self.ax.set_aspect("equal", adjustable="datalim")  # fills the canvas, no white bands
        self.ax.set_autoscale_on(False)
        self.ax.set_axis_off()
        self.ax.add_artist(ground(self.ax, WATER))
        minx, miny, maxx, maxy = zones.total_bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
        self._home = ((minx - pad, maxx + pad), (miny - pad, maxy + pad))
        self.ax.set_xlim(*self._home[0])
        self.ax.set_ylim(*self._home[1])
        self.decor = MapDecor(self.ax)
        self.labels = MapLabels(self.ax, base.street_labels)
        self.tile_layer = None
        for limits in ("xlim_changed", "ylim_changed"):
            self.ax.callbacks.connect(limits, lambda _ax: self.view_changed())
        self.set_schools(self.city_schools())
        # matplotlib's documented way to customise the readout is to replace this method
        self.ax.format_coord = functools.partial(readout, crs=city.crs)  # type: ignore[method-assign]
        self.search.set_places(base.places)
        self.toolbar.update()
        if self.tile_source is not None:
            self.set_tiles(self.tile_source)
        for layer in LAYERS:
            self._style(layer)
        self._fill_chooser()
        self._relabel_bars()
        self.redraw()

    def redraw(self) -> None:
        """Redraw soon (a hidden canvas renders when it is next shown: saves seconds)."""
        self.canvas.draw_idle()

    def showEvent(self, event: QShowEvent) -> None:
        """Relabel what the language changed while the map was hidden, and draw it."""
        super().showEvent(event)
        if self._untranslated:
            self._relabel_bars()
            self.canvas.draw_idle()

    def home(self) -> None:
        """Show the whole city (the toolbar's Home, the H key): works after any pan or zoom."""
        if self._home is not None:
            self.set_view_limits(*self._home)

    def highlight(self, feature: tuple[str, Any, dict[str, Any]] | None) -> None:
        """Outline the selected feature (school, road or zone) in yellow; None clears it."""
        for artist in self._highlight:
            artist.remove()
        self._highlight = []
        if feature is not None and self.city is not None:
            kind, ident, props = feature
            segments = self._link_segments(props.get("link_ids", [ident])) if kind == "road" else []
            self._highlight = highlight_artists(
                self.ax, kind, ident, self._schools, self.city.zones, segments
            )
        self.redraw()

    def city_schools(self) -> pd.DataFrame:
        """The city's schools as a table: x, y, level, name, capacity (seats, all grades)."""
        return school_table(self.city)

    def set_zone_values(self, values: dict[str, pd.Series], select: str | None = None) -> None:
        """Add indicators (name -> value per zone_id) to the chooser and optionally show one."""
        self._zone_values.update(values)
        self._fill_chooser(select)
        self._draw_zones()
        self.redraw()

    def set_zone_years(self, table: pd.DataFrame, year: int, select: bool = True) -> None:
        """Zones by year: ``table`` has year, zone_id and some :data:`ZONE_YEAR_COLUMNS`.

        Their indicators join the chooser with the values of ``year`` (``select``: show
        the first); :meth:`show_zone_year` steps them, e.g. with a year slider. An
        indicator's colour scale spans every year, so a colour is the same value in all.
        """
        present = [c for c in ZONE_YEAR_COLUMNS if c in table]
        # one row per (zone, year): an unstack, ~10x faster than a pivot_table per column
        wide = table.set_index(["zone_id", "year"])[present].unstack("year")
        self._zone_years = {ZONE_YEAR_COLUMNS[c]: wide[c] for c in present}
        self._zone_limits = {
            name: (float(np.nanmin(per_year.to_numpy())), float(np.nanmax(per_year.to_numpy())))
            for name, per_year in self._zone_years.items()
            if np.isfinite(per_year.to_numpy()).any()
        }
        first = ZONE_YEAR_COLUMNS[present[0]] if present and select else None
        self.set_zone_values(self._year_values(year), select=first)

    def show_zone_year(self, year: int) -> None:
        """Zones of :meth:`set_zone_years` show the values of ``year`` (NaN: a year without)."""
        if self._zone_years:
            self._zone_values.update(self._year_values(year))
            self._draw_zones()
            self.redraw()

    def _year_values(self, year: int) -> dict[str, pd.Series]:
        return {
            name: wide[year] if year in wide.columns else pd.Series(np.nan, index=wide.index)
            for name, wide in self._zone_years.items()
        }

    def set_road_values(
        self,
        values: pd.Series | None,
        *,
        label: str = "V/C",
        how: str = "max",
        diverging: bool = False,
        vmax: float | None = None,
    ) -> None:
        """Colour roads by a value per directed link_id (None = the basemap's road hierarchy).

        Parameters
        ----------
        values
            Values indexed by link_id (e.g. peak V/C); folded per road with ``how``.
        label
            Colour bar label.
        how
            ``"max"`` (V/C: the worse direction) or ``"sum"`` (flows: both directions).
        diverging
            A difference between runs (flows, veh/h): line width by the size of the change
            (:func:`gui.map_draw.flow_change_classes`), colour by its sign, roads without
            change thin and grey, and a legend of the width classes instead of a colour bar.
        vmax
            Top of the colour scale; default 1.5 for V/C or the largest magnitude.
        """
        base = self._basemap
        self._road_bar = False
        self._change = None
        if values is None:
            self._road_values = None
            self._road_label = ""
            self._set_roads(base.road_rank, list(RANK_COLOURS))
            self._road_cax.set_visible(False)
            self.redraw()
            return
        per_road = self._roads.fold(values, how)
        if diverging:
            self._set_flow_change(per_road, label, vmax)
            return
        classes, colours, norm, cmap = draw.road_classes(
            per_road, diverging=diverging, vmax=vmax, n=ROAD_CLASSES
        )
        self._road_values = per_road
        self._road_label = label
        self._road_bar = True
        self._set_roads(classes, [*colours, ROAD_GREY])
        self._road_cax.set_visible(self._visible["roads"])
        draw.bar_label(self._colorbar("roads", ScalarMappable(norm, cmap), self._road_cax), label)
        self.redraw()

    def _set_flow_change(self, per_road: np.ndarray, label: str, top: float | None) -> None:
        """Draw a change per road as the difference map (see :meth:`set_road_values`)."""
        change = self._change = draw.flow_change_classes(per_road, top=top)
        self._road_values = per_road
        self._road_label = label
        self._remove("roads")
        self._artists["roads"] = draw.flow_change(self.ax, self._roads, change)
        self._change_legend()
        self._road_cax.set_visible(False)
        self.redraw()

    def _change_legend(self) -> None:
        """The difference map's legend in the current language (made again, roads kept)."""
        if self._change is None:
            return
        roads = self._artists["roads"]
        if self._legend_image is not None and self._legend_image.artist in roads:
            roads.remove(self._legend_image.artist)
            self._legend_image.artist.remove()
        words = [tr(w) for w in CHANGE_WORDS]
        legend = draw.flow_change_legend(
            self.ax, self._change, self._road_label, words, unit=tr("veh/h")
        )
        self._legend_image = DrawCache(legend)  # laid out once, not at every pan or zoom
        roads.append(legend)
        self._style("roads")

    def set_schools(self, schools: pd.DataFrame, utilisation: pd.Series | None = None) -> None:
        """Draw schools (index school_id; x, y, level, name); size by utilisation when given.

        Markers grow with utilisation (or capacity without a run) and turn red over 100 %.
        """
        self._remove("schools")
        table = schools.copy()
        if utilisation is not None:
            table["utilisation"] = utilisation.reindex(table.index)
        if "capacity" not in table and self.city is not None:
            table["capacity"] = self.city_schools()["capacity"].reindex(table.index)
        self._schools = table
        self._school_tree = cKDTree(table[["x", "y"]].to_numpy()) if len(table) else None
        self._artists["schools"] = draw.schools(self.ax, table)
        self._style("schools")
        if self.labels is not None:
            self.labels.set_schools(table)
        self.redraw()

    def set_policies(
        self, policies: list[dict[str, Any]], selected: int | None = None, *, movable: bool = True
    ) -> None:
        """Overlay the scenario's policies: point policies as markers, road policies as lines.

        ``movable``: whether a placed point can be dragged (the editor's map); a run's
        policies (Compare) stay where they were.
        """
        self._points_movable = movable
        self._remove("policies")
        self._artists["policies"] = draw.policies(self.ax, policies, selected, self._link_segments)
        self._style("policies")
        self.redraw()

    @property
    def _roads(self) -> Roads:
        """The roads on the map; asking before :meth:`set_city` is a programming error."""
        if self.roads is None:
            raise RuntimeError("MapView has no city yet: call set_city first")
        return self.roads

    @property
    def _basemap(self) -> Basemap:
        if self.base is None:
            raise RuntimeError("MapView has no city yet: call set_city first")
        return self.base

    def set_marker(self, xy: tuple[float, float] | None) -> None:
        """Show (or clear) a single location marker, e.g. the home of an enrollment query."""
        if self._marker is not None:
            self._marker.remove()
        self._marker = None
        if xy is not None:
            (self._marker,) = self.ax.plot(
                [xy[0]],
                [xy[1]],
                marker="P",
                ms=14,
                color="magenta",
                mec="black",
                zorder=draw.POINT_ZORDER,
            )
        self.redraw()

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Switch a layer (one of :data:`LAYERS`) on or off."""
        self._visible[layer] = visible
        self._style(layer)
        if layer == "tiles":
            self._refresh_tiles()
        if layer == "zones":
            self._zone_cax.set_visible(visible)
        if layer == "roads":
            self._road_cax.set_visible(visible and self._road_bar)
        self.redraw()

    def layer_visible(self, layer: str) -> bool:
        """Whether a layer is shown."""
        return self._visible[layer]

    def set_layer_opacity(self, layer: str, opacity: float) -> None:
        """Opacity (0 transparent .. 1 opaque) of a layer (one of :data:`LAYERS`)."""
        self._opacity[layer] = float(min(max(opacity, 0.0), 1.0))
        self._style(layer)
        self.redraw()

    def layer_opacity(self, layer: str) -> float:
        """A layer's opacity (0..1)."""
        return self._opacity[layer]

    def set_tiles(self, source: TileSource | None) -> None:
        """Draw tiles from ``source`` under the map (None: no tiles; the default)."""
        if self.tile_layer is not None:
            self.tile_layer.remove()
        self.tile_source, self.tile_layer = source, None
        if source is not None and self.city is not None:
            self.tile_layer = TileLayer(self.ax, self.city.crs, source)
            self._refresh_tiles()
        self.redraw()

    def search_place(self, text: str) -> Place | None:
        """Zoom to and highlight the school, street or zone named ``text`` (the search box)."""
        place = find_place(self.base.places, text) if self.base is not None else None
        if place is None:
            self.set_hint(tr("Nothing called “{text}” on the map.").format(text=text.strip()))
            return None
        self.set_hint("")
        x0, y0, x1, y1 = place.bounds
        half = max(x1 - x0, y1 - y0) * 0.6 + 250
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.set_view_limits((cx - half, cx + half), (cy - half, cy + half))
        if place.kind == "street":
            links = self.city.links
            ids = [int(i) for i in links.index[links["name"] == place.ident]]
            self.highlight(("road", ids[0], {"link_ids": ids}))
        else:
            self.highlight((place.kind, place.ident, {}))
        return place

    def export_layout(self, path: Path, *, source: str = "") -> Path:
        """Write the print layout (title, map, legend, scale bar, north arrow, source, date).

        PNG, SVG or PDF by the suffix of ``path``; drawn in a child process, the window
        turning meanwhile.

        Raises
        ------
        ValueError
            No city on the map yet, or ``path`` is not .png, .svg or .pdf.
        """
        if self.city is None:
            raise ValueError("there is no map to print yet: open a scenario first")
        layout = page_layout(
            tr(self.title) if self.title else self.city.name,
            source or tr("Source: CitySandbox, city {city}").format(city=self.city.name),
            legend_handles(CATCHMENT_STYLES),
            self.labels,
        )
        figure = pickle.dumps(self.figure)
        return run_and_wait(self, lambda: export_in_child(figure, layout, Path(path)))

    def set_hint(self, text: str) -> None:
        """Show an instruction under the map (e.g. "click to place the school"); "" hides it."""
        self.hint.setText(text)

    def tolerance(self, pixels: float = PICK_PIXELS) -> float:
        """Map distance (metres) of ``pixels`` screen pixels at the current zoom."""
        x0, x1 = self.ax.get_xlim()
        width_px = max(self.ax.bbox.width, 1.0)
        return abs(x1 - x0) / width_px * pixels

    def school_at(self, x: float, y: float) -> str | None:
        """The school nearest to (x, y) within the pick tolerance, or None."""
        if self._school_tree is None:
            return None
        dist, i = self._school_tree.query([x, y])
        return str(self._schools.index[i]) if dist <= self.tolerance() else None

    def road_at(self, x: float, y: float) -> list[int]:
        """Directed link ids of the road under (x, y) (both directions), or []."""
        road = self.roads.road_at(x, y, self.tolerance()) if self.roads else None
        return [] if road is None else self._roads.links_of(road)

    def pick(self, x: float, y: float) -> tuple[str, Any, dict[str, Any]] | None:
        """The feature under (x, y): ("school" | "road" | "zone", id, properties), or None."""
        if self.city is None:
            return None
        school = self.school_at(x, y) if self._visible["schools"] else None
        if school is not None:
            props = self._schools.loc[school].to_dict()
            if school in self.city.schools.index:
                props = {
                    **self.city.schools.drop(columns="geometry").loc[school].to_dict(),
                    **props,
                }
            return "school", school, props
        links = self.road_at(x, y) if self._visible["roads"] else []
        if links:
            table = self.city.links.drop(columns="geometry").loc[links]
            props = table.iloc[0].to_dict()
            props["link_ids"] = links
            value = self._road_value(links)
            if value is not None:
                props[self._road_label] = value
            return "road", links[0], props
        zone = self.city.zone_at(x, y)
        if zone is None:
            return None
        props = self.city.zones.drop(columns="geometry").loc[zone].to_dict()
        for name, series in self._zone_values.items():
            props.setdefault(name, series.get(zone))
        return "zone", zone, props

    def point_at(self, px: float, py: float) -> tuple[int, Any] | None:
        """The placed point under display pixel (px, py): (policy index, marker), or None.

        The nearest shown point policy marker within :data:`PICK_PIXELS` screen pixels.
        """
        if not self._visible["policies"] or not self._points_movable:
            return None
        reach = PICK_PIXELS * (self.canvas.device_pixel_ratio or 1.0)
        best: tuple[float, int, Any] | None = None
        for artist in self._artists["policies"]:
            index = point_index(artist.get_gid())
            if index is None:
                continue
            xy = (artist.get_xdata()[0], artist.get_ydata()[0])
            dist = float(np.hypot(*(self.ax.transData.transform(xy) - (px, py))))
            if dist <= reach and (best is None or dist < best[0]):
                best = (dist, index, artist)
        return None if best is None else (best[1], best[2])

    def view_limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Current (xlim, ylim)."""
        return self.ax.get_xlim(), self.ax.get_ylim()

    def set_view_limits(self, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
        """Pan/zoom to the given limits."""
        self.ax.set_xlim(*xlim)
        self.ax.set_ylim(*ylim)
        self.redraw()

    def data_to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Canvas widget coordinates (Qt, origin top-left) of a map point; for tests."""
        px, py = self.ax.transData.transform((x, y))
        ratio = self.canvas.device_pixel_ratio or 1.0
        return px / ratio, self.canvas.height() - py / ratio

    # ------------------------------------------------------------------ drawing

    def _remove(self, layer: str) -> None:
        for artist in self._artists[layer]:
            artist.remove()
        self._artists[layer] = []

    def _style(self, layer: str) -> None:
        """Apply a layer's visibility and opacity to its artists."""
        visible, alpha = self._visible[layer], self._opacity[layer]
        if layer == "labels" and self.labels is not None:
            self.labels.set_alpha(alpha)
            self.labels.set_visible(visible)
        if layer == "tiles" and self.tile_layer is not None:
            self.tile_layer.set_alpha(alpha)
        for artist in self._artists[layer]:
            artist.set_visible(visible)
            artist.set_alpha(alpha * (0.75 if layer == "zones" else 1.0))

    def _draw_zones(self, *, renew_colorbar: bool = False) -> None:
        if not self._artists["zones"]:
            return
        coll = self._artists["zones"][0]
        name = self.indicator.currentData() or next(iter(self._zone_values))
        owner = self._basemap.zone_owner
        per_zone = self._zone_values[name].reindex(owner).to_numpy(float)
        finite = per_zone[np.isfinite(per_zone)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        lo, hi = self._zone_limits.get(name, (lo, hi))
        change = lo < 0 < hi  # a change (gains and losses): a diverging scale centred on 0
        same = len(finite) > 0 and lo == hi  # one value everywhere: no scale to show
        top = max(-lo, hi)
        # the colour bar follows once below, not at each of these (its layout: ~15 ms each)
        with coll.callbacks.blocked(signal="changed"):
            coll.set_array(np.ma.masked_invalid(per_zone))
            coll.set_cmap(
                ListedColormap([ZONE_SAME]) if same else ZONE_CHANGE_CMAP if change else ZONE_CMAP
            )
            coll.set_clim(*((-top, top) if change else (lo, hi if hi > lo else lo + 1)))
        self._style("zones")
        bar = self._colorbar("zones", coll, self._zone_cax, renew=renew_colorbar)
        bar.ax.tick_params(labelright=not same, right=not same)
        draw.bar_label(bar, f"{tr(name)}:\n{_same_words(lo)}" if same else tr(name))
        self._zone_cax.set_visible(self._visible["zones"])

    def _colorbar(self, layer: str, mappable: Any, cax: Any, *, renew: bool = False) -> Any:
        return draw.colorbar(self._colorbars, layer, mappable, cax, renew=renew)

    def _set_roads(self, classes: np.ndarray, colours: list[Any]) -> None:
        self._remove("roads")
        self._artists["roads"] = draw.roads(
            self.ax, self._roads, self._basemap.road_rank, classes, colours
        )
        self._style("roads")

    def _link_segments(self, link_ids: list[int]) -> list[np.ndarray]:
        pos = pd.Index(self._roads.link_ids).get_indexer(list(link_ids))
        roads = np.unique(self._roads.road_of_link[pos[pos >= 0]])
        return [self._roads.segments[r] for r in roads]

    def _road_value(self, links: list[int]) -> float | None:
        if self._road_values is None:
            return None
        road = self._roads.road_of_link[pd.Index(self._roads.link_ids).get_loc(links[0])]
        value = self._road_values[road]
        return None if np.isnan(value) else round(float(value), 3)

    def _indicator_changed(self) -> None:
        if self.city is not None:
            self._draw_zones()
            self.redraw()

    def view_changed(self) -> None:
        """Scale bar, names and tiles follow the view (names and tiles once a drag ends)."""
        if self.decor is not None:
            self.decor.update()
        if self.mouse.dragging:  # the names move with the map; choosing again can wait
            return
        if self.labels is not None and self.labels.update():
            self.redraw()  # a change made while rendering (the aspect's limits) shows next
        if self.tile_layer is not None:
            self.tile_layer.update(self.ax.bbox.width)

    def _refresh_tiles(self) -> None:
        if self.tile_layer is not None:
            self.tile_layer.visible = self._visible["tiles"]
            self.tile_layer.update(self.ax.bbox.width, force=True)
            self.redraw()

    # ------------------------------------------------------------------ mouse

    def _clicked(self, x: float, y: float, shift: bool) -> None:
        self.click_shift = shift
        self.clicked.emit(x, y)

    def _moved(self, x: float | None, y: float | None) -> None:
        crs = self.city.crs if self.city is not None else None
        self.coords.setText("" if x is None or y is None or crs is None else readout(x, y, crs))
        self.hovering.moved(x, y)


def _same_words(value: float) -> str:
    """What the zones' bar says of an indicator with ``value`` in every zone."""
    if value == 0:
        return tr("no change")
    return tr("{value} in every zone").format(value=format(value, ",.6g"))


def configure_matplotlib() -> None:
    """Matplotlib settings shared by every canvas of the app."""
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 150
    mpl.rcParams["font.size"] = 9
