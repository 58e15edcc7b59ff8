"""The city map: zones choropleth, roads coloured by V/C, schools sized by utilisation.

Everything is drawn as a handful of artists, so a pan, zoom or layer switch redraws in a
fraction of a second: one ``PolyCollection`` for the zones, one scatter per school level,
and the ~20k roads as a few compound paths, one per (width class, colour class). Roads
are coloured by classes (:data:`ROAD_CLASSES` bins of V/C or of a difference), which is
how a traffic map is read anyway, and costs one path per class instead of one per road.
Each undirected road is drawn once; its two directed links share the line. Picking uses
spatial indexes (an STRtree over the roads, a KD-tree over the schools), never a loop over
artists.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from scipy.spatial import cKDTree

from gui.i18n import tr
from gui.mapdecor import MapDecor, catchment_boundaries, ground, highlight_artists, readout
from gui.mapmouse import MapMouse
from gui.mappolicies import POINT_POLICY_MARKERS, ROAD_POLICY_COLOURS, policy_pick, policy_xy
from gui.maproads import Roads, roads_of

LAYERS: tuple[str, ...] = ("zones", "catchments", "roads", "schools", "policies")
LAYER_LABELS = {
    "zones": "Zones",
    "catchments": "Catchments",
    "roads": "Roads",
    "schools": "Schools",
    "policies": "Policies",
}
#: Catchment boundary styles by school level (colour, line style).
CATCHMENT_STYLES = {"primary": ("#6a1b9a", "solid"), "junior": ("#00695c", "dashed")}
ROAD_CLASSES = 12
ROAD_GREY = "#8a8a8a"
LANE_WIDTHS = {1: 0.6, 2: 0.95, 3: 1.3, 4: 1.7}  # line width (points) by lanes (4 = 4+)
PICK_PIXELS = 8.0


class MapView(QWidget):
    """A map canvas with a navigation toolbar, an indicator chooser and click signals.

    Signals
    -------
    clicked(x, y)
        A left click that was not a pan/zoom drag, in city CRS metres.
    """

    clicked = Signal(float, float)

    def __init__(self, parent: QWidget | None = None, *, title: str = "") -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=(7, 6))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.ax = self.figure.add_axes((0.0, 0.0, 0.86, 1.0))
        self._zone_cax = self.figure.add_axes((0.885, 0.55, 0.022, 0.38))
        self._road_cax = self.figure.add_axes((0.885, 0.08, 0.022, 0.38))
        self.toolbar = _Toolbar(self.canvas, self)
        self.indicator = QComboBox()
        self.indicator.currentIndexChanged.connect(self._indicator_changed)
        self._indicator_label = QLabel()
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #a33; font-weight: bold")
        top = QHBoxLayout()
        top.addWidget(self.toolbar)
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
        self._zone_values: dict[str, pd.Series] = {}
        self._artists: dict[str, list[Any]] = {name: [] for name in LAYERS}
        self._colorbars: dict[str, Any] = {}
        self._visible = dict.fromkeys(LAYERS, True)
        self._schools = pd.DataFrame()
        self._school_tree: cKDTree | None = None
        self._road_values: np.ndarray | None = None
        self._road_label = ""
        self.click_shift = False  # whether Shift was held at the last click
        self._stale = False  # changed while hidden: draw when shown
        self._home: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._highlight: list[Any] = []
        self.decor: MapDecor | None = None
        self.mouse = MapMouse(self, self._clicked, self._moved)
        self.retranslate()

    # ------------------------------------------------------------------ public API

    def retranslate(self) -> None:
        """Re-apply translated labels (after a language switch)."""
        self._indicator_label.setText(tr("Zones by:"))
        current = self.indicator.currentData()
        self.indicator.blockSignals(True)
        self.indicator.clear()
        for name in self._zone_values:
            self.indicator.addItem(tr(name), name)
        if current is not None:
            self.indicator.setCurrentIndex(max(self.indicator.findData(current), 0))
        self.indicator.blockSignals(False)
        if self.city is not None:
            self._draw_legend()
            self._draw_zones(renew_colorbar=True)  # a new bar picks up the current font
            self.redraw()

    def set_city(self, city: Any) -> None:
        """Show a :class:`sim.city.City`: zones, roads and schools; resets run overlays."""
        self.city = city
        self.roads = roads_of(city.links)
        zones = city.zones
        area_km2 = zones.geometry.area.to_numpy() / 1e6
        self._zone_values = {
            "population": zones["population"].astype(float),
            "density (persons/km²)": zones["population"] / np.maximum(area_km2, 1e-9),
            "households": zones["households"].astype(float),
            "dwellings": zones["dwellings"].astype(float),
            "jobs": zones["jobs"].astype(float),
        }
        self.ax.clear()
        self._artists = {name: [] for name in LAYERS}
        self._highlight = []
        self._build_zones()
        self._build_catchments()
        self._build_roads()
        self.set_schools(self.city_schools())
        self.ax.set_aspect("equal", adjustable="datalim")  # fills the canvas, no white bands
        self.ax.set_autoscale_on(False)
        self.ax.set_axis_off()
        self.ax.add_artist(ground(self.ax))
        minx, miny, maxx, maxy = zones.total_bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
        self._home = ((minx - pad, maxx + pad), (miny - pad, maxy + pad))
        self.ax.set_xlim(*self._home[0])
        self.ax.set_ylim(*self._home[1])
        self.decor = decor = MapDecor(self.ax)
        self.ax.callbacks.connect("xlim_changed", lambda _ax: decor.update())
        # matplotlib's documented way to customise the readout is to replace this method
        self.ax.format_coord = lambda x, y: readout(x, y, city.crs)  # type: ignore[method-assign]
        self.toolbar.update()
        self.retranslate()

    def redraw(self) -> None:
        """Redraw soon if the map is on screen, else when it is next shown (saves seconds)."""
        if self.isVisible():
            self.canvas.draw_idle()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        """Draw what changed while the map was hidden."""
        super().showEvent(event)
        if self._stale:
            self._stale = False
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
        """The city's schools as a table: x, y, level, name, capacity (places, all grades)."""
        s = self.city.schools
        grades = s["grade_hi"] - s["grade_lo"] + 1
        return pd.DataFrame(
            {
                "x": s.geometry.x,
                "y": s.geometry.y,
                "level": s["level"],
                "name": s["name"],
                "capacity": s["classes_per_grade"] * s["class_size"] * grades,
            },
            index=s.index,
        )

    def set_zone_values(self, values: dict[str, pd.Series], select: str | None = None) -> None:
        """Add indicators (name -> value per zone_id) to the chooser and optionally show one."""
        self._zone_values.update(values)
        self.retranslate()
        if select is not None:
            self.indicator.setCurrentIndex(self.indicator.findData(select))
        self._draw_zones()
        self.redraw()

    def set_road_values(
        self,
        values: pd.Series | None,
        *,
        label: str = "V/C",
        how: str = "max",
        diverging: bool = False,
        vmax: float | None = None,
    ) -> None:
        """Colour roads by a value per directed link_id (None = plain grey roads).

        Parameters
        ----------
        values
            Values indexed by link_id (e.g. peak V/C); folded per road with ``how``.
        label
            Colour bar label.
        how
            ``"max"`` (V/C: the worse direction) or ``"sum"`` (flows: both directions).
        diverging
            Centre the colour map on zero (differences between runs).
        vmax
            Top of the colour scale; default 1.5 for V/C or the largest magnitude.
        """
        if values is None:
            self._road_values = None
            self._road_label = ""
            self._draw_roads(np.zeros(len(self._roads.segments), dtype=int), [ROAD_GREY])
            self._road_cax.set_visible(False)
            self.redraw()
            return
        per_road = self._roads.fold(values, how)
        top = vmax or (float(np.nanmax(np.abs(per_road))) if diverging else 1.5)
        top = top if np.isfinite(top) and top > 0 else 1.0
        bounds = np.linspace(-top if diverging else 0.0, top, ROAD_CLASSES + 1)
        cmap = mpl.colormaps["RdBu_r" if diverging else "YlOrRd"]
        norm = BoundaryNorm(bounds, cmap.N, extend="both" if diverging else "max")
        colours = [cmap(norm(v)) for v in (bounds[:-1] + bounds[1:]) / 2]
        # class of each road; values past the ends go to the end classes, NaN to grey
        classes = np.clip(np.searchsorted(bounds, per_road, side="right") - 1, 0, ROAD_CLASSES - 1)
        classes = np.where(np.isnan(per_road), ROAD_CLASSES, classes)
        self._road_values = per_road
        self._road_label = label
        self._draw_roads(classes, [*colours, ROAD_GREY])
        self._road_cax.set_visible(self._visible["roads"])
        self._colorbar("roads", ScalarMappable(norm, cmap), self._road_cax).set_label(label)
        self.redraw()

    def set_schools(self, schools: pd.DataFrame, utilisation: pd.Series | None = None) -> None:
        """Draw schools (index school_id; x, y, level, name); size by utilisation when given.

        Markers grow with utilisation (or capacity without a run) and turn red over 100 %.
        """
        for artist in self._artists["schools"]:
            artist.remove()
        self._artists["schools"] = []
        table = schools.copy()
        if utilisation is not None:
            table["utilisation"] = utilisation.reindex(table.index)
        self._schools = table
        self._school_tree = cKDTree(table[["x", "y"]].to_numpy()) if len(table) else None
        for level, marker, base in (("primary", "o", "#1f5fbf"), ("junior", "s", "#0b8a5a")):
            part = table[table["level"] == level]
            if "utilisation" in part:
                util = part["utilisation"].fillna(0.0).to_numpy()
                size = 8 + 45 * np.clip(util, 0, 2)
                colour: np.ndarray | str = np.where(util > 1.0, "red", base)
            else:
                cap = part.get("capacity", pd.Series(500.0, index=part.index)).to_numpy(float)
                size = 8 + 45 * np.sqrt(cap / max(float(np.nanmax(cap)) if len(cap) else 1, 1))
                colour = base
            sc = self.ax.scatter(
                part["x"],
                part["y"],
                s=size,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=0.6,
                zorder=5,
            )
            sc.set_visible(self._visible["schools"])
            self._artists["schools"].append(sc)
        self.redraw()

    def set_policies(self, policies: list[dict[str, Any]], selected: int | None = None) -> None:
        """Overlay the scenario's policies: point policies as markers, road policies as lines."""
        for artist in self._artists["policies"]:
            artist.remove()
        self._artists["policies"] = []
        for i, pol in enumerate(policies):
            emphasis = 2.0 if i == selected else 1.0
            kind = str(pol.get("type"))  # as policy_pick reads it; no marker/colour is "None"
            pick = policy_pick(kind)
            xy = policy_xy(pol) if pick == "point" else None
            if xy is not None:
                x, y = xy
                (mark,) = self.ax.plot(
                    [x],
                    [y],
                    marker=POINT_POLICY_MARKERS.get(kind, "o"),
                    ms=13 * emphasis,
                    color="gold" if i == selected else "orange",
                    mec="black",
                    zorder=7,
                )
                self._artists["policies"].append(mark)
            elif pick == "links" and pol.get("links"):
                segs = self._link_segments(pol["links"])
                if segs:
                    lc = LineCollection(
                        segs,
                        colors=ROAD_POLICY_COLOURS.get(kind, "tab:red"),
                        linewidths=3.5 * emphasis,
                        linestyles="dashed" if kind == "road_closure" else "solid",
                        zorder=6,
                    )
                    self.ax.add_collection(lc, autolim=False)
                    self._artists["policies"].append(lc)
        for artist in self._artists["policies"]:
            artist.set_visible(self._visible["policies"])
        self.redraw()

    @property
    def _roads(self) -> Roads:
        """The roads on the map; asking before :meth:`set_city` is a programming error."""
        if self.roads is None:
            raise RuntimeError("MapView has no city yet: call set_city first")
        return self.roads

    def set_marker(self, xy: tuple[float, float] | None) -> None:
        """Show (or clear) a single location marker, e.g. the home of an enrollment query."""
        old = getattr(self, "_marker", None)
        if old is not None:
            old.remove()
        self._marker = None
        if xy is not None:
            (self._marker,) = self.ax.plot(
                [xy[0]], [xy[1]], marker="P", ms=14, color="magenta", mec="black", zorder=8
            )
        self.redraw()

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Switch a layer (one of :data:`LAYERS`) on or off."""
        self._visible[layer] = visible
        for artist in self._artists[layer]:
            artist.set_visible(visible)
        if layer == "zones":
            self._zone_cax.set_visible(visible)
        if layer == "roads":
            self._road_cax.set_visible(visible and bool(self._road_label))
        self.redraw()

    def layer_visible(self, layer: str) -> bool:
        """Whether a layer is shown."""
        return self._visible[layer]

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

    def _build_zones(self) -> None:
        polys, owners = [], []
        for zone_id, geom in zip(self.city.zones.index, self.city.zones.geometry, strict=True):
            for part in getattr(geom, "geoms", [geom]):
                polys.append(np.asarray(part.exterior.coords))
                owners.append(zone_id)
        self._zone_owner = np.asarray(owners)
        coll = PolyCollection(polys, edgecolors="#555555", linewidths=0.4, cmap="YlGnBu", zorder=1)
        self.ax.add_collection(coll, autolim=False)
        self._artists["zones"] = [coll]

    def _build_catchments(self) -> None:
        for level, (colour, style) in CATCHMENT_STYLES.items():
            lines = catchment_boundaries(self.city.zones, f"catchment_{level}")
            coll = LineCollection(lines, colors=colour, linewidths=1.4, linestyles=style, zorder=2)
            coll.set_visible(self._visible["catchments"])
            self._artists["catchments"].append(self.ax.add_collection(coll, autolim=False))

    def _draw_zones(self, *, renew_colorbar: bool = False) -> None:
        if not self._artists["zones"]:
            return
        coll = self._artists["zones"][0]
        name = self.indicator.currentData() or next(iter(self._zone_values))
        per_zone = self._zone_values[name].reindex(self._zone_owner).to_numpy(float)
        coll.set_array(np.ma.masked_invalid(per_zone))
        finite = per_zone[np.isfinite(per_zone)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        coll.set_clim(lo, hi if hi > lo else lo + 1)
        coll.set_alpha(0.75)
        bar = self._colorbar("zones", coll, self._zone_cax, renew=renew_colorbar)
        bar.set_label(tr(name))
        self._zone_cax.set_visible(self._visible["zones"])

    def _colorbar(self, layer: str, mappable: Any, cax: Any, *, renew: bool = False) -> Any:
        """The colour bar of a layer, made once per mappable (or on ``renew``), then updated."""
        bar = self._colorbars.get(layer)
        if bar is not None and bar.mappable is mappable and not renew:
            bar.update_normal(mappable)
            return bar
        if bar is not None:  # the old bar must stop following its mappable before it goes
            bar.mappable.callbacks.disconnect(bar.mappable.colorbar_cid)
        cax.clear()
        self._colorbars[layer] = self.figure.colorbar(mappable, cax=cax)
        return self._colorbars[layer]

    def _build_roads(self) -> None:
        self._road_width_class = np.minimum(self._roads.lanes, max(LANE_WIDTHS))
        self._draw_roads(np.zeros(len(self._roads.segments), dtype=int), [ROAD_GREY])
        self._road_cax.set_visible(False)

    def _draw_roads(self, classes: np.ndarray, colours: list[Any]) -> None:
        """Draw roads as one compound path per (width class, colour class) present."""
        for artist in self._artists["roads"]:
            artist.remove()
        self._artists["roads"] = []
        for lanes, width in LANE_WIDTHS.items():
            wide = self._road_width_class == lanes
            for k, colour in enumerate(colours):
                mask = wide & (classes == k)
                if not mask.any():
                    continue
                patch = PathPatch(
                    self._roads.path(mask),
                    fill=False,
                    edgecolor=colour,
                    linewidth=width,
                    capstyle="round",
                    joinstyle="round",
                    zorder=3 + k / 100,
                )
                patch.set_visible(self._visible["roads"])
                # add_artist, not add_patch: the map's limits are set by hand, and the data
                # limits of ~20k roads' outlines cost seconds (bezier extents) to compute
                patch.set_transform(self.ax.transData)
                self.ax.add_artist(patch)
                self._artists["roads"].append(patch)

    def _draw_legend(self) -> None:
        handles = [
            Line2D([], [], ls="", marker="o", color="#1f5fbf", label=tr("Primary school")),
            Line2D([], [], ls="", marker="s", color="#0b8a5a", label=tr("Junior school")),
            Line2D([], [], ls="", marker="o", color="red", label=tr("Over capacity")),
            Line2D(
                [],
                [],
                ls="",
                marker="*",
                color="orange",
                mec="black",
                ms=10,
                label=tr("New school / housing (policy)"),
            ),
            Line2D([], [], color="black", ls="--", lw=2, label=tr("Road policy")),
            *(
                Line2D([], [], color=c, ls=ls, lw=1.4, label=tr(f"Catchment boundary ({level})"))
                for level, (c, ls) in CATCHMENT_STYLES.items()
            ),
        ]
        legend = self.ax.get_legend()
        if legend is not None:
            legend.remove()
        self.ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.8)
        if self.title:
            self.ax.set_title(tr(self.title), fontsize=10)

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

    # ------------------------------------------------------------------ mouse

    def _clicked(self, x: float, y: float, shift: bool) -> None:
        self.click_shift = shift
        self.clicked.emit(x, y)

    def _moved(self, x: float | None, y: float | None) -> None:
        crs = self.city.crs if self.city is not None else None
        self.coords.setText("" if x is None or y is None or crs is None else readout(x, y, crs))


class _Toolbar(NavigationToolbar2QT):
    """The navigation toolbar, whose Home shows the whole city whatever came before."""

    def __init__(self, canvas: FigureCanvasQTAgg, mapview: MapView) -> None:
        super().__init__(canvas, mapview)
        self.mapview = mapview

    def home(self, *_args: Any) -> None:
        """Show the whole city."""
        self.mapview.home()


def configure_matplotlib() -> None:
    """Matplotlib settings shared by every canvas of the app."""
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 150
    mpl.rcParams["font.size"] = 9
