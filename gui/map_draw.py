"""The map's artists, made from arrays: land, zones, catchments, roads, schools, policies.

Plain matplotlib (no Qt): :class:`gui.mapview.MapView` keeps what these return per layer,
and the same functions would draw the map into any axes.
"""

from __future__ import annotations

import itertools
import math
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm, Colormap
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch

from gui.map_base import RANK_WIDTHS, Basemap
from gui.map_labels import LABEL_ZORDER
from gui.mappolicies import (
    POINT_GID,
    POINT_POLICY_MARKERS,
    ROAD_POLICY_COLOURS,
    policy_pick,
    policy_xy,
)
from gui.maproads import Roads

#: School symbols by level: marker and colour.
SCHOOL_STYLES = {"primary": ("o", "#1f5fbf"), "junior": ("s", "#0b8a5a")}
#: Difference map: line widths (points) of the classes of |flow change|, smallest first.
CHANGE_WIDTHS = (1.0, 2.2, 3.6, 5.4)
#: Difference map: where along RdBu the classes of an increase (red) and a decrease (blue) lie.
CHANGE_SHADES = {+1: (0.66, 0.76, 0.86, 0.95), -1: (0.34, 0.24, 0.14, 0.05)}
#: Difference map: roads with no change (or no value), thin and grey under the others.
NO_CHANGE_STYLE = ("#c4c4c4", 0.35)
#: Colour bar labels: at most this many characters a line, this far (figure fraction)
#: above the bar.
BAR_LABEL_CHARS, BAR_LABEL_GAP = 12, 0.012
#: Placed points (point policies, a query's home) lie above the names, never under them.
POINT_ZORDER = LABEL_ZORDER + 1


def land(ax: Axes, base: Basemap, colour: str) -> PolyCollection:
    """The land (union of the zones) as a plain fill under everything."""
    coll = PolyCollection(base.land, facecolors=colour, edgecolors="none", zorder=0.5)
    ax.add_collection(coll, autolim=False)
    return coll


def zones(ax: Axes, base: Basemap) -> PolyCollection:
    """Every zone polygon in one collection, to be coloured by an indicator."""
    coll = PolyCollection(
        base.zone_polygons, edgecolors="#555555", linewidths=0.4, cmap="YlGnBu", zorder=1
    )
    ax.add_collection(coll, autolim=False)
    return coll


def catchments(ax: Axes, base: Basemap, styles: dict[str, tuple[str, str]]) -> list[Any]:
    """Catchment boundaries, one collection per school level."""
    out = []
    for level, (colour, style) in styles.items():
        lines = base.catchments.get(level, [])
        coll = LineCollection(lines, colors=colour, linewidths=1.4, linestyles=style, zorder=2)
        out.append(ax.add_collection(coll, autolim=False))
    return out


def road_classes(
    per_road: np.ndarray, *, diverging: bool, vmax: float | None, n: int
) -> tuple[np.ndarray, list[Any], BoundaryNorm, Colormap]:
    """Colour class of each road (``n`` bins; NaN -> class ``n``), their colours and scale."""
    top = vmax or (float(np.nanmax(np.abs(per_road))) if diverging else 1.5)
    top = top if np.isfinite(top) and top > 0 else 1.0
    bounds = np.linspace(-top if diverging else 0.0, top, n + 1)
    cmap = mpl.colormaps["RdBu_r" if diverging else "YlOrRd"]
    norm = BoundaryNorm(bounds, cmap.N, extend="both" if diverging else "max")
    colours = [cmap(norm(v)) for v in (bounds[:-1] + bounds[1:]) / 2]
    # values past the ends go to the end classes, NaN to the extra class
    classes = np.clip(np.searchsorted(bounds, per_road, side="right") - 1, 0, n - 1)
    return np.where(np.isnan(per_road), n, classes), colours, norm, cmap


def _road_patch(ax: Axes, path: Any, colour: Any, width: float, zorder: float) -> PathPatch:
    """One compound road path drawn as lines in ``ax``."""
    patch = PathPatch(
        path,
        fill=False,
        edgecolor=colour,
        linewidth=width,
        capstyle="round",
        joinstyle="round",
        zorder=zorder,
    )
    # add_artist, not add_patch: the map's limits are set by hand, and the data
    # limits of ~20k roads' outlines cost seconds (bezier extents) to compute
    patch.set_transform(ax.transData)
    ax.add_artist(patch)
    return patch


def roads(
    ax: Axes, roads: Roads, rank: np.ndarray, classes: np.ndarray, colours: list[Any]
) -> list[PathPatch]:
    """Roads as one compound path per (rank, colour class) present; bigger roads on top."""
    out = []
    n = len(colours)
    for group, path in roads.paths(rank * n + classes).items():
        r, k = divmod(group, n)
        out.append(_road_patch(ax, path, colours[k], RANK_WIDTHS[r], 3 + r / 10 + k / 1000))
    return out


def nice_step(top: float, n: int) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k with ``n`` steps reaching ``top`` (> 0)."""
    raw = top / n
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw)


@dataclass(frozen=True)
class FlowChange:
    """Classes of a change per road for the difference map: width by size, colour by sign.

    ``bounds`` are the ``n + 1`` edges of the size classes (veh/h): the first is the
    threshold under which a road has no change, the others round steps up to the largest
    change; ``size`` is each road's class (0 = no change or no value, 1..n) and ``sign``
    +1 (increase), -1 (decrease) or 0.
    """

    bounds: np.ndarray
    size: np.ndarray
    sign: np.ndarray

    @property
    def groups(self) -> np.ndarray:
        """Drawing group per road: 0 no change, k an increase of class k, n + k a decrease."""
        n = len(self.bounds) - 1
        return np.where(self.sign < 0, n + self.size, self.size)


def flow_change_classes(
    per_road: np.ndarray,
    *,
    n: int = len(CHANGE_WIDTHS),
    threshold: float = 1.0,
    top: float | None = None,
) -> FlowChange:
    """Size classes (``n``, of round width) and signs of a change per road (NaN: no value)."""
    size = np.abs(per_road)
    finite = size[np.isfinite(size)]
    top = top or (float(finite.max()) if len(finite) else 0.0)
    step = nice_step(max(top, threshold * n), n)
    bounds = np.array([threshold, *(step * np.arange(1, n + 1))])
    changed = np.isfinite(size) & (size >= threshold)
    k = np.clip(np.searchsorted(bounds[1:], np.where(changed, size, 0.0), side="left") + 1, 1, n)
    classes = np.where(changed, k, 0)
    return FlowChange(bounds, classes, np.where(changed, np.sign(per_road), 0).astype(int))


def change_style(sign: int, k: int) -> tuple[Any, float]:
    """Colour and line width of change class ``k`` (1..n) of ``sign``; (grey, thin) for 0."""
    if sign == 0 or k == 0:
        return NO_CHANGE_STYLE
    return mpl.colormaps["RdBu_r"](CHANGE_SHADES[sign][k - 1]), CHANGE_WIDTHS[k - 1]


def flow_change(ax: Axes, roads: Roads, change: FlowChange) -> list[PathPatch]:
    """The difference map's roads: one path per (sign, size class); bigger changes on top."""
    n = len(change.bounds) - 1
    out = []
    for group, path in roads.paths(change.groups).items():
        sign, k = (0, 0) if group == 0 else (-1, group - n) if group > n else (1, group)
        colour, width = change_style(sign, k)
        out.append(_road_patch(ax, path, colour, width, 3 + k / 10))
    return out


def flow_change_legend(
    ax: Axes, change: FlowChange, title: str, words: Sequence[str], unit: str = "veh/h"
) -> Legend:
    """The difference map's legend: a line per width class (veh/h), then the colours.

    ``words`` are the translated "more", "less" and "no change" labels.
    """
    edges = change.bounds
    sizes = [
        Line2D([], [], color="#444444", lw=CHANGE_WIDTHS[k], label=f"{a:,.0f}–{b:,.0f} {unit}")
        for k, (a, b) in enumerate(itertools.pairwise(edges))
    ]
    top = len(CHANGE_WIDTHS)
    more, less, same = words
    signs = [
        Line2D([], [], color=change_style(+1, top)[0], lw=3, label=more),
        Line2D([], [], color=change_style(-1, top)[0], lw=3, label=less),
        Line2D([], [], color=NO_CHANGE_STYLE[0], lw=1, label=same),
    ]
    legend = ax.legend(
        handles=[*sizes, *signs],
        loc="upper left",
        title=title,
        fontsize=8,
        title_fontsize=8,
        framealpha=0.9,
    )
    legend.set_zorder(9)
    return legend


def schools(ax: Axes, table: pd.DataFrame) -> list[Any]:
    """Schools by level; sized by utilisation (red over 100 %) or else by capacity."""
    out = []
    for level, (marker, base) in SCHOOL_STYLES.items():
        part = table[table["level"] == level]
        if "utilisation" in part:
            util = part["utilisation"].fillna(0.0).to_numpy()
            size = 8 + 45 * np.clip(util, 0, 2)
            colour: np.ndarray | str = np.where(util > 1.0, "red", base)
        else:
            cap = part.get("capacity", pd.Series(500.0, index=part.index)).to_numpy(float)
            size = 8 + 45 * np.sqrt(cap / max(float(np.nanmax(cap)) if len(cap) else 1, 1))
            colour = base
        out.append(
            ax.scatter(
                part["x"],
                part["y"],
                s=size,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=0.6,
                zorder=5,
            )
        )
    return out


def policies(
    ax: Axes,
    items: list[dict[str, Any]],
    selected: int | None,
    segments: Callable[[list[int]], list[np.ndarray]],
) -> list[Any]:
    """Point policies as markers, road policies as lines; the selected one emphasised.

    A point's marker has the gid :data:`gui.mappolicies.POINT_GID` of its policy index
    (the map finds the point under the pointer by it, to drag it).
    """
    out: list[Any] = []
    for i, pol in enumerate(items):
        emphasis = 2.0 if i == selected else 1.0
        kind = str(pol.get("type"))  # as policy_pick reads it; no marker/colour is "None"
        pick = policy_pick(kind)
        xy = policy_xy(pol) if pick == "point" else None
        if xy is not None:
            (mark,) = ax.plot(
                [xy[0]],
                [xy[1]],
                marker=POINT_POLICY_MARKERS.get(kind, "o"),
                ms=13 * emphasis,
                color="gold" if i == selected else "orange",
                mec="black",
                zorder=POINT_ZORDER,
                gid=POINT_GID.format(index=i),
            )
            out.append(mark)
        elif pick == "links" and pol.get("links"):
            segs = segments(pol["links"])
            if segs:
                lc = LineCollection(
                    segs,
                    colors=ROAD_POLICY_COLOURS.get(kind, "tab:red"),
                    linewidths=3.5 * emphasis,
                    linestyles="dashed" if kind == "road_closure" else "solid",
                    zorder=6,
                )
                out.append(ax.add_collection(lc, autolim=False))
    return out


def bar_label(bar: Any, text: str, *, width: int = BAR_LABEL_CHARS) -> None:
    """A colour bar's label, horizontal above the bar in short lines.

    Read as written in any script (a Chinese label is not turned sideways), and narrow
    enough for the strip right of the map (a long label on the bar's side ran off it;
    one centred on the bar ran into the north arrow).
    """
    wide = any(unicodedata.east_asian_width(c) in "WF" for c in text)  # CJK: 2 widths each
    chars = width // 2 if wide else width
    lines = [line for part in text.split("\n") for line in textwrap.wrap(part, chars) or [""]]
    bar.set_label("\n".join(lines), rotation=0, ha="center", va="bottom", fontsize=8)
    box = bar.ax.get_position()  # centred in the strip from the bar to the figure's edge
    bar.ax.yaxis.set_label_coords((1.0 - box.x0) / 2 / box.width, 1.0 + BAR_LABEL_GAP / box.height)


def colorbar(bars: dict[str, Any], layer: str, mappable: Any, cax: Axes, *, renew: bool) -> Any:
    """The colour bar of a layer in ``bars``: made once (or on ``renew``), then re-pointed.

    Making a colour bar costs tens of milliseconds of text layout; a new mappable (other
    results, another city) re-points the existing bar instead, as its constructor would.
    """
    bar = bars.get(layer)
    moved = bar is not None and bar.mappable is not mappable
    if bar is not None and (renew or moved):  # the old mappable stops driving the bar
        bar.mappable.callbacks.disconnect(bar.mappable.colorbar_cid)
    if bar is not None and not renew:
        if moved:
            mappable.colorbar = bar
            mappable.colorbar_cid = mappable.callbacks.connect("changed", bar.update_normal)
        bar.update_normal(mappable)
        return bar
    cax.clear()
    bars[layer] = cax.figure.colorbar(mappable, cax=cax)
    return bars[layer]
