"""The print/export layout of a map: title, map, legend, scale bar, north arrow, source, date.

The map on screen is pickled (its artists are plain arrays) and laid out on an A4
landscape page in a spawned child process, which writes PNG, SVG or PDF: rendering a city's
roads holds Python's GIL for a second, which in a thread of the window would freeze it.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib import font_manager

from gui.i18n import tr
from gui.map_base import Label
from gui.map_labels import LABEL_GID, MapLabels

#: Page size (inches, A4 landscape) and where the map goes on it (figure fractions).
PAGE_IN = (11.69, 8.27)
MAP_BOX = (0.04, 0.10, 0.64, 0.80)
FORMATS = {".png", ".svg", ".pdf"}
_POOL: list[ProcessPoolExecutor] = []
_POOL_LOCK = threading.Lock()


@dataclass
class Layout:
    """What goes around the map on the page (already translated)."""

    title: str
    source: str
    date: str
    legend_title: str
    legend: list[Any] = field(default_factory=list)  # matplotlib handles with labels
    fonts: list[str] = field(default_factory=list)  # font files the page needs (CJK)
    streets: list[Label] = field(default_factory=list)  # names, chosen again for the page
    schools: pd.DataFrame | None = None
    font_family: list[str] = field(default_factory=lambda: ["sans-serif"])  # the window's
    sans_serif: list[str] = field(default_factory=list)


def page_layout(
    title: str, source: str, legend: list[Any], labels: MapLabels | None = None
) -> Layout:
    """The :class:`Layout` of a page printed now, with the window's fonts (CJK included)."""
    families = set(mpl.rcParams["font.family"])  # e.g. the CJK font gui.fonts installed
    return Layout(
        streets=labels.streets if labels is not None else [],
        schools=labels.schools if labels is not None else None,
        title=title,
        source=source,
        date=date.today().isoformat(),
        legend_title=tr("Legend"),
        legend=legend,
        fonts=[f.fname for f in font_manager.fontManager.ttflist if f.name in families],
        font_family=list(mpl.rcParams["font.family"]),
        sans_serif=list(mpl.rcParams["font.sans-serif"]),
    )


def page(figure_bytes: bytes, layout: Layout) -> Any:
    """The page Figure: the pickled map figure re-laid out on an A4 sheet."""
    from gui.mapdecor import place_scale_bar

    for path in layout.fonts:
        font_manager.fontManager.addfont(path)
    mpl.rcParams["font.family"] = layout.font_family
    if layout.sans_serif:
        mpl.rcParams["font.sans-serif"] = layout.sans_serif
    fig = pickle.loads(figure_bytes)
    fig.set_size_inches(*PAGE_IN)
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    ax.set_position(MAP_BOX)
    bars = [a for a in fig.axes if a is not ax and a.get_visible()]
    for i, bar in enumerate(bars):  # the colour bars, stacked right of the map
        bar.set_position((0.71, 0.62 - 0.30 * i, 0.015, 0.24))
    ax.apply_aspect()
    place_scale_bar(ax)
    old = [t for t in ax.texts if t.get_gid() == LABEL_GID]
    if old:  # the page shows more or less than the screen did: choose the names again
        for text in old:
            text.remove()
        labels = MapLabels(ax, layout.streets)
        labels.set_alpha(old[0].get_alpha() or 1.0)
        if layout.schools is not None:
            labels.set_schools(layout.schools)
        labels.update()
    fig.text(MAP_BOX[0], 0.93, layout.title, fontsize=15, fontweight="bold", va="bottom")
    fig.text(MAP_BOX[0], 0.05, layout.source, fontsize=8, color="#444444", va="top")
    fig.text(0.97, 0.05, layout.date, fontsize=8, color="#444444", ha="right", va="top")
    if layout.legend:
        fig.legend(
            handles=layout.legend,
            title=layout.legend_title,
            loc="upper left",
            bbox_to_anchor=(0.79, 0.90),
            fontsize=8,
            title_fontsize=9,
            frameon=False,
        )
    return fig


def write_page(figure_bytes: bytes, layout: Layout, out: str) -> str:
    """Lay out and save the page to ``out`` (PNG at 200 dpi, SVG or PDF by its suffix)."""
    mpl.use("agg")
    page(figure_bytes, layout).savefig(out, dpi=200)
    return out


def export_in_child(figure_bytes: bytes, layout: Layout, out: Path) -> Path:
    """:func:`write_page` in a spawned process; waits for it (call from a worker thread).

    The process is started on the first export and kept for the next ones.

    Raises
    ------
    ValueError
        ``out`` is not .png, .svg or .pdf.
    """
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"{out.name}: a layout is written as .png, .svg or .pdf")
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")))
        pool = _POOL[0]
    try:
        return Path(pool.submit(write_page, figure_bytes, layout, str(out)).result())
    except BrokenProcessPool:  # the child died (killed, out of memory): a new one next time
        with _POOL_LOCK:
            _POOL.clear()
        raise
