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

from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from scipy.spatial import cKDTree

from gui.i18n import tr
from sim.errors import ScenarioError
from sim.policies import policy_class

LAYERS: tuple[str, ...] = ("zones", "roads", "schools", "policies")
LAYER_LABELS = {"zones": "Zones", "roads": "Roads", "schools": "Schools", "policies": "Policies"}
#: Map styles of some policy types; any other point / link policy gets a plain one.
POINT_POLICY_MARKERS = {"new_school": "*", "housing_development": "^"}
ROAD_POLICY_COLOURS = {
    "road_closure": "black",
    "lane_change": "tab:purple",
    "speed_change": "tab:blue",
    "congestion_charge": "tab:orange",
}
ROAD_CLASSES = 12
ROAD_GREY = "#8a8a8a"
LANE_WIDTHS = {1: 0.6, 2: 0.95, 3: 1.3, 4: 1.7}  # line width (points) by lanes (4 = 4+)
PICK_PIXELS = 8.0
CLICK_PIXELS = 4.0


@dataclass
class Roads:
    """The directed links of a city folded into undirected roads for drawing and picking."""

    link_ids: np.ndarray  # directed link ids, in city order
    road_of_link: np.ndarray  # road index of each directed link
    segments: list[np.ndarray]  # one (n, 2) array per road
    lanes: np.ndarray  # most lanes of either direction
    tree: shapely.STRtree
    order: np.ndarray  # link positions sorted by road
    starts: np.ndarray  # first position in ``order`` of each road (len n_roads + 1)
    vertices: np.ndarray  # every road's vertices, road after road
    road_of_vertex: np.ndarray
    first_vertex: np.ndarray  # True where a road starts

    @classmethod
    def from_links(cls, links: pd.DataFrame) -> Roads:
        """Fold directed links (a_node, b_node, lanes, geometry) into undirected roads."""
        a = links["a_node"].to_numpy(np.int64)
        b = links["b_node"].to_numpy(np.int64)
        key = np.minimum(a, b) * (max(a.max(), b.max()) + 1) + np.maximum(a, b)
        _, first, road_of_link = np.unique(key, return_index=True, return_inverse=True)
        geoms = links.geometry.to_numpy()[first]
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        segments = np.split(coords, np.flatnonzero(np.diff(which)) + 1)
        lanes = np.zeros(len(first), dtype=np.int64)
        np.maximum.at(lanes, road_of_link, links["lanes"].to_numpy(np.int64))
        order = np.argsort(road_of_link, kind="stable")
        starts = np.searchsorted(road_of_link[order], np.arange(len(first) + 1))
        first_vertex = np.ones(len(which), dtype=bool)
        first_vertex[1:] = which[1:] != which[:-1]
        return cls(
            link_ids=links.index.to_numpy(),
            road_of_link=road_of_link,
            segments=segments,
            lanes=lanes,
            tree=shapely.STRtree(geoms),
            order=order,
            starts=starts,
            vertices=coords,
            road_of_vertex=which,
            first_vertex=first_vertex,
        )

    def path(self, roads: np.ndarray) -> Path:
        """One compound path (MOVETO at each road's start) drawing the roads in a mask."""
        keep = roads[self.road_of_vertex]
        codes = np.where(self.first_vertex[keep], Path.MOVETO, Path.LINETO).astype(Path.code_type)
        return Path(self.vertices[keep], codes)

    def links_of(self, road: int) -> list[int]:
        """The directed link ids drawn as road ``road``."""
        return [
            int(i) for i in self.link_ids[self.order[self.starts[road] : self.starts[road + 1]]]
        ]

    def fold(self, values: pd.Series, how: str) -> np.ndarray:
        """Reduce per-link values to per-road values (``"max"`` or ``"sum"``); NaN where none."""
        per_link = values.reindex(self.link_ids).to_numpy(float)
        out = np.full(len(self.segments), np.nan)
        ok = ~np.isnan(per_link)
        if how == "sum":
            out[np.unique(self.road_of_link[ok])] = 0.0
            np.add.at(out, self.road_of_link[ok], per_link[ok])
        else:
            filled = np.full(len(self.segments), -np.inf)
            np.maximum.at(filled, self.road_of_link[ok], per_link[ok])
            out = np.where(np.isfinite(filled), filled, np.nan)
        return out

    def road_at(self, x: float, y: float, tolerance: float) -> int | None:
        """The road nearest to (x, y) within ``tolerance`` metres, or None."""
        hits = self.tree.query_nearest(shapely.Point(x, y), max_distance=tolerance)
        return int(hits[0]) if len(hits) else None


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
        self.toolbar = NavigationToolbar2QT(self.canvas, self)
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
        layout.addWidget(self.hint)
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
        self._press: tuple[float, float] | None = None
        self.click_shift = False  # whether Shift was held at the last click
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("button_release_event", self._on_release)
        self.canvas.mpl_connect("scroll_event", self._on_scroll)
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
            self.canvas.draw_idle()

    def set_city(self, city: Any) -> None:
        """Show a :class:`sim.city.City`: zones, roads and schools; resets run overlays."""
        self.city = city
        self.roads = Roads.from_links(city.links)
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
        self._build_zones()
        self._build_roads()
        self.set_schools(self.city_schools())
        self.ax.set_aspect("equal", adjustable="box")
        self.ax.set_axis_off()
        minx, miny, maxx, maxy = zones.total_bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
        self.ax.set_xlim(minx - pad, maxx + pad)
        self.ax.set_ylim(miny - pad, maxy + pad)
        self.toolbar.update()  # "home" = this extent
        self.retranslate()

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
        self.canvas.draw_idle()

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
            self._draw_roads(np.zeros(len(self.roads.segments), dtype=int), [ROAD_GREY])
            self._road_cax.set_visible(False)
            self.canvas.draw_idle()
            return
        per_road = self.roads.fold(values, how)
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
        self.canvas.draw_idle()

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
        for level, marker in (("primary", "o"), ("junior", "s")):
            part = table[table["level"] == level]
            if "utilisation" in part:
                util = part["utilisation"].fillna(0.0).to_numpy()
                size = 8 + 45 * np.clip(util, 0, 2)
                colour = np.where(util > 1.0, "red", "#1f5fbf" if level == "primary" else "#0b8a5a")
            else:
                cap = part.get("capacity", pd.Series(500.0, index=part.index)).to_numpy(float)
                size = 8 + 45 * np.sqrt(cap / max(float(np.nanmax(cap)) if len(cap) else 1, 1))
                colour = "#1f5fbf" if level == "primary" else "#0b8a5a"
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
        self.canvas.draw_idle()

    def set_policies(self, policies: list[dict[str, Any]], selected: int | None = None) -> None:
        """Overlay the scenario's policies: point policies as markers, road policies as lines."""
        for artist in self._artists["policies"]:
            artist.remove()
        self._artists["policies"] = []
        for i, pol in enumerate(policies):
            emphasis = 2.0 if i == selected else 1.0
            kind = pol.get("type")
            pick = _pick(kind)
            if pick == "point" and _xy(pol) is not None:
                x, y = _xy(pol)
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
                    self.ax.add_collection(lc)
                    self._artists["policies"].append(lc)
        for artist in self._artists["policies"]:
            artist.set_visible(self._visible["policies"])
        self.canvas.draw_idle()

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
        self.canvas.draw_idle()

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Switch a layer (one of :data:`LAYERS`) on or off."""
        self._visible[layer] = visible
        for artist in self._artists[layer]:
            artist.set_visible(visible)
        if layer == "zones":
            self._zone_cax.set_visible(visible)
        if layer == "roads":
            self._road_cax.set_visible(visible and bool(self._road_label))
        self.canvas.draw_idle()

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
        return [] if road is None else self.roads.links_of(road)

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
        self.canvas.draw_idle()

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
        self.ax.add_collection(coll)
        self._artists["zones"] = [coll]

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
        self._road_width_class = np.minimum(self.roads.lanes, max(LANE_WIDTHS))
        self._draw_roads(np.zeros(len(self.roads.segments), dtype=int), [ROAD_GREY])
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
                    self.roads.path(mask),
                    fill=False,
                    edgecolor=colour,
                    linewidth=width,
                    capstyle="round",
                    joinstyle="round",
                    zorder=3 + k / 100,
                )
                patch.set_visible(self._visible["roads"])
                self.ax.add_patch(patch)
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
        ]
        legend = self.ax.get_legend()
        if legend is not None:
            legend.remove()
        self.ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.8)
        if self.title:
            self.ax.set_title(tr(self.title), fontsize=10)

    def _link_segments(self, link_ids: list[int]) -> list[np.ndarray]:
        pos = pd.Index(self.roads.link_ids).get_indexer(list(link_ids))
        roads = np.unique(self.roads.road_of_link[pos[pos >= 0]])
        return [self.roads.segments[r] for r in roads]

    def _road_value(self, links: list[int]) -> float | None:
        if self._road_values is None:
            return None
        road = self.roads.road_of_link[pd.Index(self.roads.link_ids).get_loc(links[0])]
        value = self._road_values[road]
        return None if np.isnan(value) else round(float(value), 3)

    def _indicator_changed(self) -> None:
        if self.city is not None:
            self._draw_zones()
            self.canvas.draw_idle()

    # ------------------------------------------------------------------ mouse

    def _on_press(self, event: Any) -> None:
        self._press = (event.x, event.y) if event.button == 1 else None

    def _on_release(self, event: Any) -> None:
        press, self._press = self._press, None
        if press is None or event.inaxes is not self.ax or self.toolbar.mode:
            return
        if np.hypot(event.x - press[0], event.y - press[1]) <= CLICK_PIXELS:
            self.click_shift = "shift" in event.modifiers
            self.clicked.emit(float(event.xdata), float(event.ydata))

    def _on_scroll(self, event: Any) -> None:
        if event.inaxes is not self.ax:
            return
        factor = 1 / 1.25 if event.button == "up" else 1.25
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        cx, cy = event.xdata, event.ydata
        self.ax.set_xlim(cx + (x0 - cx) * factor, cx + (x1 - cx) * factor)
        self.ax.set_ylim(cy + (y0 - cy) * factor, cy + (y1 - cy) * factor)
        self.canvas.draw_idle()


def _pick(kind: Any) -> str | None:
    """What the map shows of a policy type: "point", "links" or None (nothing)."""
    try:
        return policy_class(str(kind)).pick
    except ScenarioError:
        return None


def _xy(policy: dict[str, Any]) -> tuple[float, float] | None:
    xy = policy.get("xy")
    if xy is None or len(xy) != 2:
        return None
    try:
        return float(xy[0]), float(xy[1])
    except (TypeError, ValueError):
        return None


class LayerPanel(QListWidget):
    """Check boxes that switch the map's layers on and off."""

    def __init__(self, mapview: MapView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mapview = mapview
        for layer in LAYERS:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, layer)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.addItem(item)
        self.itemChanged.connect(self._changed)
        self.setMaximumWidth(170)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.blockSignals(True)
        for i in range(self.count()):
            item = self.item(i)
            item.setText(tr(LAYER_LABELS[item.data(Qt.ItemDataRole.UserRole)]))
        self.blockSignals(False)

    def _changed(self, item: QListWidgetItem) -> None:
        layer = item.data(Qt.ItemDataRole.UserRole)
        self.mapview.set_layer_visible(layer, item.checkState() == Qt.CheckState.Checked)


def configure_matplotlib() -> None:
    """Matplotlib settings shared by every canvas of the app."""
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 150
    mpl.rcParams["font.size"] = 9
