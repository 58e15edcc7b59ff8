"""Names on the map: major streets at any zoom, smaller streets and schools as the view narrows.

:class:`MapLabels` keeps a few dozen text artists in the map axes and re-chooses them when
the view changes: the labels whose zoom threshold the view passes
(:data:`gui.map_base.LABEL_VIEW_M`), inside the view, schools first, then the biggest
roads, each kept only if it does not come near a label already placed (names as discs of
their half-length on screen, so that they do not pile up).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patheffects import withStroke
from matplotlib.text import Text

from gui.map_base import LABEL_VIEW_M, SCHOOL_LABEL_VIEW_M, Label

MAX_LABELS = 36
#: A label's half-length on screen: this many pixels per character and point of font size.
CHAR_PX_PER_PT = 0.3
LABEL_GID = "map-label"
#: Names lie above the zones, roads and schools; placed points and markers lie above them.
LABEL_ZORDER = 10
_HALO = [withStroke(linewidth=2.5, foreground="white")]


class MapLabels:
    """Street and school names in ``ax``, refreshed by :meth:`update` on view changes."""

    def __init__(self, ax: Axes, streets: list[Label]) -> None:
        self.ax = ax
        self.streets = streets
        self._xy = np.array([(s.x, s.y) for s in streets]).reshape(-1, 2)
        self._limit = np.array([LABEL_VIEW_M[s.rank] for s in streets], dtype=float)
        self.schools = pd.DataFrame(columns=["x", "y", "name"])
        self.texts: list[Text] = []
        self.visible = True
        self.alpha = 1.0

    def set_schools(self, schools: pd.DataFrame) -> None:
        """The schools to name (x, y, name) once the view is narrow enough."""
        self.schools = schools
        self.update()

    def set_visible(self, visible: bool) -> None:
        """Show or hide every label."""
        self.visible = visible
        self.update()

    def set_alpha(self, alpha: float) -> None:
        """Opacity of the labels."""
        self.alpha = alpha
        for text in self.texts:
            text.set_alpha(alpha)

    def shown(self) -> list[str]:
        """The names on the map now."""
        return [t.get_text() for t in self.texts]

    def update(self) -> bool:
        """Choose the labels for the current view (cheap); whether the names shown changed."""
        before = self.shown()
        self._choose()
        return self.shown() != before

    def _choose(self) -> None:
        for text in self.texts:
            text.remove()
        self.texts = []
        if not self.visible:
            return
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        width = abs(x1 - x0)
        if width <= 0:
            return
        to_px = self.ax.transData.transform
        placed: list[tuple[float, float, float]] = []  # x, y (pixels), half-length
        for x, y, name, style in self._candidates(x0, x1, y0, y1, width):
            px, py = to_px((x, y))
            half = CHAR_PX_PER_PT * style["fontsize"] * len(name) + 4
            if any(np.hypot(px - qx, py - qy) < half + h for qx, qy, h in placed):
                continue
            placed.append((px, py, half))
            self.texts.append(self._text(x, y, name, style))
            if len(self.texts) >= MAX_LABELS:
                break

    def _candidates(
        self, x0: float, x1: float, y0: float, y1: float, width: float
    ) -> list[tuple[float, float, str, dict[str, Any]]]:
        out: list[tuple[float, float, str, dict[str, Any]]] = []
        if width < SCHOOL_LABEL_VIEW_M and len(self.schools):
            s = self.schools
            inside = s[s["x"].between(x0, x1) & s["y"].between(y0, y1)]
            school = {"fontsize": 7, "color": "#123d7a", "va": "bottom", "fontweight": "bold"}
            out += [(r.x, r.y, str(r.name), school) for r in inside.itertuples()]
        if len(self._xy):
            x, y = self._xy[:, 0], self._xy[:, 1]
            keep = (self._limit > width) & (x > x0) & (x < x1) & (y > y0) & (y < y1)
            for i in np.flatnonzero(keep):
                lab = self.streets[i]
                street = {"fontsize": 7 if lab.rank >= 3 else 6, "rotation": lab.angle}
                out.append((lab.x, lab.y, lab.text, street | {"color": "#333333"}))
        return out

    def _text(self, x: float, y: float, name: str, style: dict[str, Any]) -> Text:
        text = self.ax.text(
            x,
            y,
            name,
            ha="center",
            va=style.pop("va", "center"),
            rotation_mode="anchor",
            zorder=LABEL_ZORDER,
            clip_on=True,
            alpha=self.alpha,
            path_effects=_HALO,
            **style,
        )
        text.set_in_layout(False)
        text.set_gid(LABEL_GID)
        return text
