"""What makes the map read like a map: scale bar, north arrow, coordinates, selection.

:class:`MapDecor` keeps a scale bar (a round length near a fifth of the view's width) and a
north arrow in the corner of the axes, redrawn when the view changes; :func:`readout` is
the coordinate text under the mouse (longitude/latitude and city metres with thousands
separators, never ``2.841e+05``); :func:`legend_handles` are the map's symbols and
:func:`highlight_artists` the outline of the selection.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from gui.i18n import tr
from sim.geo import to_lonlat

HIGHLIGHT = "#ffd400"
SCALE_BAR, SCALE_LABEL = "scale-bar", "scale-label"

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


def ground(ax: Axes, colour: str = "#eef1f4") -> Rectangle:
    """A pale ground under the whole map (the axes are off, so they draw no face)."""
    patch = Rectangle((0, 0), 1, 1, transform=ax.transAxes, color=colour, zorder=0)
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
        self.bar.set_gid(SCALE_BAR)
        self.label = Text(
            0, 0, "", ha="center", va="bottom", fontsize=8, transform=corner, zorder=zorder
        )
        self.label.set_gid(SCALE_LABEL)
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
        place_scale_bar(self.ax)


def place_scale_bar(ax: Axes) -> None:
    """Fit the scale bar of ``ax`` (the artists :class:`MapDecor` made) to its view."""
    bar = next((a for a in ax.lines if a.get_gid() == SCALE_BAR), None)
    label = next((a for a in ax.texts if a.get_gid() == SCALE_LABEL), None)
    x0, x1 = ax.get_xlim()
    width = abs(x1 - x0)
    if width <= 0 or bar is None or not isinstance(label, Text):
        return
    length = nice_length(width)
    frac = length / width
    left, y = 0.97 - frac, 0.035  # lower right: the legend is lower left
    bar.set_data([left, left + frac], [y, y])
    label.set_position((left + frac / 2, y + 0.008))
    label.set_text(length_text(length))


def legend_handles(styles: dict[str, tuple[str, str]]) -> list[Line2D]:
    """The map's symbols with translated labels (layer panel icons and the print layout).

    ``styles``: catchment line style (colour, line style) by school level.
    """
    return [
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
            for level, (c, ls) in styles.items()
        ),
    ]


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
