"""What makes the map read like a map: scale bar, north arrow, coordinates, catchments.

:class:`MapDecor` keeps a scale bar (a round length near a fifth of the view's width) and a
north arrow in the corner of the axes, redrawn when the view changes; :func:`readout` is
the coordinate text under the mouse (longitude/latitude and city metres with thousands
separators, never ``2.841e+05``); :func:`catchment_boundaries` gives the lines between
zones of different catchment schools, one layer per school level.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from sim.geo import to_lonlat

HIGHLIGHT = "#ffd400"

#: Scale bar lengths (metres) to choose from.
NICE_M = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)


def nice_length(width_m: float) -> int:
    """A round length for a scale bar on a view ``width_m`` metres wide (~1/5 of it)."""
    target = width_m / 5
    return max((n for n in NICE_M if n <= target), default=NICE_M[0])


def length_text(metres: float) -> str:
    """E.g. "500 m", "2 km"."""
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def readout(x: float, y: float, crs: Any) -> str:
    """Coordinates of a map point: "lon -71.25432, lat -29.91804 · x 284,100 m, y 6,690,500 m"."""
    lon, lat = to_lonlat(np.array([x]), np.array([y]), crs)
    return f"lon {float(lon[0]):.5f}, lat {float(lat[0]):.5f} · x {x:,.0f} m, y {y:,.0f} m"


def ground(ax: Axes) -> Rectangle:
    """A pale ground under the whole map (the axes are off, so they draw no face)."""
    patch = Rectangle((0, 0), 1, 1, transform=ax.transAxes, color="#eef1f4", zorder=0)
    patch.set_in_layout(False)
    return patch


class MapDecor:
    """Scale bar and north arrow of a map axes, kept right as the view changes."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        corner, zorder = ax.transAxes, 20  # both drawn in axes fractions, above the map
        self.bar = Line2D(
            [], [], color="black", lw=3, solid_capstyle="butt", transform=corner, zorder=zorder
        )
        self.label = Text(
            0, 0, "", ha="center", va="bottom", fontsize=8, transform=corner, zorder=zorder
        )
        self.arrow = ax.annotate(
            "N",
            xy=(0.965, 0.97),
            xytext=(0.965, 0.89),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
            zorder=20,
        )
        ax.add_artist(self.bar)
        ax.add_artist(self.label)
        self.update()

    def update(self) -> None:
        """Fit the scale bar to the current view (called on every limit change)."""
        x0, x1 = self.ax.get_xlim()
        width = abs(x1 - x0)
        if width <= 0:
            return
        length = nice_length(width)
        frac = length / width
        left, y = 0.97 - frac, 0.035  # lower right: the legend is lower left
        self.bar.set_data([left, left + frac], [y, y])
        self.label.set_position((left + frac / 2, y + 0.008))
        self.label.set_text(length_text(length))


def catchment_boundaries(zones: pd.DataFrame, column: str) -> list[np.ndarray]:
    """Lines where zones of different catchment schools (``column``) meet, and the outline.

    Parameters
    ----------
    zones
        The city's zones (geometry, ``column`` = the school of each zone's catchment).
    column
        ``"catchment_primary"`` or ``"catchment_junior"``.
    """
    if column not in zones:
        return []
    areas = [
        shapely.union_all(group.geometry.to_numpy())
        for _school, group in zones.groupby(zones[column].fillna("").astype(str))
    ]
    lines = shapely.get_parts(shapely.boundary(np.asarray(areas, dtype=object)))
    merged = shapely.line_merge(shapely.union_all(lines))
    parts = shapely.get_parts(merged)
    return [np.asarray(part.coords) for part in parts if not part.is_empty]


def highlight_artists(
    ax: Axes,
    kind: str,
    ident: Any,
    schools: pd.DataFrame,
    zones: pd.DataFrame,
    segments: list[np.ndarray],
) -> list[Any]:
    """Yellow outline of a selected school (ring), road (``segments``) or zone (its rings)."""
    if kind == "school" and ident in schools.index:
        row = schools.loc[ident]
        (ring,) = ax.plot(
            [row["x"]], [row["y"]], "o", ms=16, mfc="none", mec=HIGHLIGHT, mew=3, zorder=9
        )
        return [ring]
    lines: list[np.ndarray] = segments if kind == "road" else []
    if kind == "zone" and ident in zones.index:
        geom = zones.geometry.loc[ident]
        lines = [np.asarray(g.exterior.coords) for g in getattr(geom, "geoms", [geom])]
    if not lines:
        return []
    width = 5 if kind == "road" else 3
    coll = LineCollection(lines, colors=HIGHLIGHT, linewidths=width, zorder=4)
    return [ax.add_collection(coll, autolim=False)]


class _DatalimNotice(logging.Filter):
    """Drops matplotlib's notice that a map with an equal aspect widens its fixed limits.

    The map sets its limits by hand and lets ``adjustable="datalim"`` widen one of them to
    fill the canvas; that is the intent, not a problem to log on every draw.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Ignoring fixed")


logging.getLogger("matplotlib.axes._base").addFilter(_DatalimNotice())
