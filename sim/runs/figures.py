"""Figures of a run: time series, school pressure, peak traffic.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so they render headless
and never change the backend of a host application such as the GUI.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.kpis import KPI_BY_NAME

#: The KPIs of the run's time-series figure (titled by their registry labels).
SERIES = ("population", "pupils_primary", "pupils_junior", "vkt")


def write_figures(
    folder: Path, tables: dict[str, pd.DataFrame], city: Any, manifest: dict[str, Any]
) -> list[Path]:
    """Write the run's PNG figures into ``folder`` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        _save(time_series_figure(tables["kpis_summary"], manifest["run_id"]), folder / "kpis.png"),
        _save(utilisation_figure(tables["enrollment"]), folder / "school_utilisation.png"),
    ]
    links = tables["links"]
    if not links.empty:
        last = links[links["year"] == links["year"].max()].set_index("link_id")
        fig = traffic_map(city, last["vc"], title=f"Peak-hour V/C, {int(links['year'].max())}")
        paths.append(_save(fig, folder / "traffic_vc.png"))
    return paths


def png_base64(fig: Figure, dpi: int = 100) -> str:
    """The figure as a base64 PNG, for embedding in an HTML report."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _save(fig: Figure, path: Path) -> Path:
    # Fixed metadata so identical runs give identical files.
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    return path


def time_series_figure(summary: pd.DataFrame, title: str) -> Figure:
    """Population, pupils and VKT over the years, with the p10–p90 replication band."""
    fig = Figure(figsize=(4 * len(SERIES), 3.2))
    axes = fig.subplots(1, len(SERIES))
    for ax, kpi in zip(axes, SERIES, strict=True):
        s = summary[summary["kpi"] == kpi].sort_values("year")
        if s["p50"].notna().any():
            ax.fill_between(s["year"], s["p10"], s["p90"], alpha=0.25, label="p10–p90")
            ax.plot(s["year"], s["p50"], marker="o", ms=3, label="median")
        ax.set_title(KPI_BY_NAME[kpi].label)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def utilisation_figure(enrollment: pd.DataFrame) -> Figure:
    """Utilisation (median demand / capacity) of every school in the first and last year."""
    by = enrollment.groupby(["year", "school"])[["p50", "capacity"]].sum().reset_index()
    first, last = by["year"].min(), by["year"].max()
    pivot = by.assign(util=by["p50"] / by["capacity"].where(by["capacity"] > 0)).pivot(
        index="school", columns="year", values="util"
    )
    pivot = pivot.sort_values(last, na_position="first")
    fig = Figure(figsize=(7, max(3.0, 0.16 * len(pivot))))
    ax = fig.subplots()
    y = np.arange(len(pivot))
    ax.barh(y, pivot[last].fillna(0), color="tab:blue", alpha=0.7, label=str(last))
    ax.plot(pivot[first], y, "k|", ms=8, label=str(first))
    ax.axvline(1.0, color="red", lw=1)
    ax.set_yticks(y, pivot.index, fontsize=6)
    ax.set_xlabel("utilisation (demand / capacity), median replication")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def traffic_map(
    city: Any, values: pd.Series, *, title: str, cmap: str = "RdYlGn_r", vmin=0.0, vmax=1.2
) -> Figure:
    """Roads coloured by a per-link value (one LineCollection), zones as outlines."""
    links = city.links
    segs = [np.asarray(g.coords)[:, :2] for g in links.geometry]
    vals = values.reindex(links.index).fillna(0.0).to_numpy()
    order = np.argsort(vals)  # busiest drawn last, on top
    fig = Figure(figsize=(7, 8))
    ax = fig.subplots()
    city.zones.boundary.plot(ax=ax, color="0.8", lw=0.4)
    lc = LineCollection(
        [segs[i] for i in order],
        array=vals[order],
        cmap=cmap,
        norm=Normalize(vmin, vmax),
        linewidths=0.4 + 1.6 * np.clip(vals[order] / max(vmax, 1e-9), 0, 1),
    )
    ax.add_collection(lc)
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.colorbar(lc, ax=ax, shrink=0.6, label=title.split(",")[0])
    ax.set_title(title)
    return fig


def am_profile_figure(profiles: dict[str, pd.DataFrame]) -> Figure:
    """The AM period by 15 minutes, runs side by side: departures and network speed.

    ``profiles`` maps a run's label to its ``am_profile`` table; each run's last
    simulated year is drawn (departures of every mode, cars loaded, and the cars' mean
    network speed).
    """
    fig = Figure(figsize=(12, 3.6))
    ax_dep, ax_car, ax_speed = fig.subplots(1, 3, sharex=True)
    ticks: list[int] = []
    labels: list[str] = []
    for label, frame in profiles.items():
        last = frame[frame["year"] == frame["year"].max()]
        x = np.arange(len(last))
        ax_dep.plot(x, last["departures"], marker="o", ms=3, label=label)
        ax_car.plot(x, last["car_departures"], marker="o", ms=3, label=label)
        ax_speed.plot(x, last["network_speed_kmh"], marker="o", ms=3, label=label)
        ticks, labels = x[::2].tolist(), last["period_start"].tolist()[::2]
    for ax, title in (
        (ax_dep, "Departures, every mode (trips / 15 min)"),
        (ax_car, "Cars loaded (trips / 15 min)"),
        (ax_speed, "Network speed of cars (km/h)"),
    ):
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_xticks(ticks, labels, rotation=60, fontsize=7)
    ax_dep.legend(fontsize=8)
    fig.suptitle("AM profile, last simulated year")
    fig.tight_layout()
    return fig
