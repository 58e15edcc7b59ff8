"""Comparing finished runs: KPI deltas, school pressure, link-flow differences, HTML report.

The first run is the baseline; every other run is compared with it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.errors import RunError
from sim.kpis import (
    DIAGNOSTIC_KPIS,
    KPI_BY_NAME,
    KPI_NAMES,
    NOISY_KPIS,
    format_number,
    verdict,
)
from sim.outputs import write_atomically
from sim.runs.figures import am_profile_figure, png_base64, traffic_map
from sim.runs.folder import RunData, read_run

#: The ``<kpi>_noise`` rows of a run's KPIs (they feed the ``effect`` column only).
NOISE = frozenset(f"{k}_noise" for k in NOISY_KPIS)
#: Relative differences smaller than this count as "no change" (no colour).
NEUTRAL_REL = 1e-3
#: Verdicts that colour a cell (see :func:`sim.kpis.verdict`; counts and diagnostics never do).
VERDICT_COLOURS = {"better": "#d9f2d9", "worse": "#f8d7d7"}


@dataclass
class Comparison:
    """The result of comparing 2+ runs (the first is the baseline)."""

    runs: list[RunData]
    labels: list[str]
    kpis: pd.DataFrame
    enrollment: pd.DataFrame
    links: pd.DataFrame
    figures: dict[str, Figure] = field(default_factory=dict)


def _labels(runs: Sequence[RunData]) -> list[str]:
    labels = [r.manifest["scenario"]["name"] for r in runs]
    if len(set(labels)) < len(labels):
        labels = [r.manifest["run_id"] for r in runs]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:  # the same run twice still gets two columns
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return unique


#: How a KPI delta compares with the solver noise and the replication band (``effect`` column).
BEYOND, WITHIN_NOISE, WITHIN_BAND = "beyond noise and band", "within noise", "within band"
BEYOND_NOISE_NO_BAND = "beyond noise (no band)"


def effect_mark(diff: float, noise: float, band: float) -> str:
    """Whether a KPI delta exceeds the solver noise and the replication band.

    ``noise`` is the delta the solver alone could make (NaN: unknown), ``band`` the one the
    replications' spread could (NaN: fewer than two replications). A delta at most the
    noise is "within noise"; else at most the band "within band"; else "beyond noise and
    band", or "beyond noise (no band)" without a band. "" for no change or no noise estimate.
    """
    if not np.isfinite(diff) or diff == 0 or not np.isfinite(noise):
        return ""
    if abs(diff) <= noise:
        return WITHIN_NOISE
    if not np.isfinite(band):
        return BEYOND_NOISE_NO_BAND
    return WITHIN_BAND if abs(diff) <= band else BEYOND


def _final(run: RunData) -> pd.DataFrame:
    s = run.kpis_summary
    return s[s["year"] == run.manifest["end_year"]].set_index("kpi")


def _noise(final: pd.DataFrame, kpi: str) -> float:
    """A run's solver noise of ``kpi``: its ``<kpi>_noise`` (0 for KPIs no solver makes)."""
    if kpi not in NOISY_KPIS:
        return 0.0
    name = f"{kpi}_noise"
    return float(final.loc[name, "p50"]) if name in final.index else math.nan


def _half_band(final: pd.DataFrame, kpi: str) -> float:
    if kpi not in final.index or not {"p10", "p90"} <= set(final.columns):
        return math.nan
    return float(final.loc[kpi, "p90"] - final.loc[kpi, "p10"]) / 2.0


def kpi_table(runs: Sequence[RunData], labels: Sequence[str]) -> pd.DataFrame:
    """Final-year median KPIs per run, with absolute and relative differences to the baseline.

    The ``better <run>`` column holds :func:`sim.kpis.verdict`: "better"/"worse" for KPIs
    with a direction, "up"/"down" for counts (population, pupils), "same" below
    :data:`NEUTRAL_REL`, and "" for solver diagnostics, which come last. The ``effect <run>``
    column holds :func:`effect_mark`: the noise of a delta is the two runs' solver noises
    added (``<kpi>_noise``; 0 for KPIs without a solver), its band the two runs' p10–p90
    half-widths added (the bands overlap below it).
    """
    finals = [_final(run) for run in runs]
    cols = {label: f["p50"] for label, f in zip(labels, finals, strict=True)}
    present = set().union(*(c.index for c in cols.values()))
    # a <kpi>_noise only marks its KPI's effect (the effect column), it is no row of its own
    table = pd.DataFrame(cols).reindex([k for k in KPI_NAMES if k in present and k not in NOISE])
    base = table[labels[0]]
    diagnostic = set(DIAGNOSTIC_KPIS)
    for label, final in zip(labels[1:], finals[1:], strict=True):
        diff = table[label] - base
        table[f"diff {label}"] = diff
        # against |baseline|: a rise of a negative KPI (a logsum) reads as a positive %
        table[f"rel % {label}"] = 100.0 * diff / base.abs().where(base.abs() > 0)
        # from a zero baseline any change counts (x / 0 = inf); 0 / 0 and NaN are "same"
        rel = diff.abs() / base.abs()
        table[f"better {label}"] = [
            verdict(str(k), d, r, NEUTRAL_REL)
            for k, d, r in zip(table.index, diff, rel, strict=True)
        ]
        table[f"effect {label}"] = [
            ""
            if k in diagnostic
            else effect_mark(
                float(d),
                _noise(finals[0], str(k)) + _noise(final, str(k)),
                _half_band(finals[0], str(k)) + _half_band(final, str(k)),
            )
            for k, d in zip(table.index, diff, strict=True)
        ]
    table.index.name = "kpi"
    return table.reset_index()


#: Columns of :func:`consumer_surplus`.
SURPLUS_COLUMNS = ("run", "logsum_change_per_trip", "am_trips", "consumer_surplus_change")


def consumer_surplus(comp: Comparison) -> pd.DataFrame:
    """Consumer-surplus change of the AM period against the baseline, in money.

    The change of ``accessibility_logsum`` (the mean mode-choice logsum per resident's AM
    trip, already in money) times the trips it averages over: the baseline's AM trips of
    the end year (the ``departures`` of its ``am_profile``, every mode). One row per other
    run; empty without the logsum or the profile.
    """
    rows = []
    trips = math.nan
    profile = comp.runs[0].am_profile
    if len(profile):
        trips = float(profile.loc[profile["year"] == profile["year"].max(), "departures"].sum())
    table = comp.kpis.set_index("kpi")
    for label in comp.labels[1:]:
        if "accessibility_logsum" not in table.index or not np.isfinite(trips):
            break
        per_trip = float(table.loc["accessibility_logsum", f"diff {label}"])
        rows.append((label, per_trip, trips, per_trip * trips))
    return pd.DataFrame(rows, columns=list(SURPLUS_COLUMNS))


def _surplus_html(comp: Comparison) -> list[str]:
    surplus = consumer_surplus(comp)
    if surplus.empty:
        return []
    unit = KPI_BY_NAME["accessibility_logsum"].unit.split("/")[0]
    items = "".join(
        f"<li><b>{html.escape(r.run)}</b>: {format_number(r.consumer_surplus_change)} {unit}"
        f" (Δ logsum {format_number(r.logsum_change_per_trip)} {unit}/trip ×"
        f" {format_number(r.am_trips)} AM trips)</li>"
        for r in surplus.itertuples()
    )
    return [
        "<h2>Change in consumer surplus, AM period (logsum, in money)</h2>",
        f"<p>Against {html.escape(comp.labels[0])}; negative = residents are worse off."
        f"</p><ul>{items}</ul>",
    ]


def school_pressure(runs: Sequence[RunData], labels: Sequence[str]) -> pd.DataFrame:
    """Per-school final-year utilisation per run, and the change.

    Utilisation is median demand over capacity, all grades together.
    """
    cols = {}
    for run, label in zip(runs, labels, strict=True):
        e = run.enrollment
        e = e[e["year"] == e["year"].max()].groupby("school")[["p50", "capacity"]].sum()
        cols[label] = e["p50"] / e["capacity"].where(e["capacity"] > 0)
    table = pd.DataFrame(cols)
    for label in labels[1:]:
        table[f"change {label}"] = table[label] - table[labels[0]]
    table.index.name = "school_id"
    return table.reset_index().sort_values(labels[-1], ascending=False, na_position="last")


def link_differences(runs: Sequence[RunData], labels: Sequence[str]) -> pd.DataFrame:
    """Final-year peak-hour flow per link per run, and the difference to the baseline."""
    cols = {}
    for run, label in zip(runs, labels, strict=True):
        links = run.links
        if links.empty:
            continue
        last = links[links["year"] == links["year"].max()]
        cols[label] = last.set_index("link_id")["flow"]
    table = pd.DataFrame(cols).fillna(0.0)
    for label in labels[1:]:
        if label in table and labels[0] in table:
            table[f"diff {label}"] = table[label] - table[labels[0]]
    table.index.name = "link_id"
    return table.reset_index()


def compare_runs(run_dirs: Sequence[Path | str], *, figures: bool = True) -> Comparison:
    """Compare finished runs (2 or more); the first is the baseline.

    ``figures=False`` leaves :attr:`Comparison.figures` empty (the desktop draws its own;
    :func:`write_report` makes them when they are missing).

    Raises
    ------
    RunError
        Fewer than two runs, or a folder that is not a complete run.
    """
    if len(run_dirs) < 2:
        msg = f"compare needs at least two runs, got {len(run_dirs)}"
        raise RunError(msg)
    runs = [read_run(d) for d in run_dirs]
    labels = _labels(runs)
    comp = Comparison(
        runs=runs,
        labels=labels,
        kpis=kpi_table(runs, labels),
        enrollment=school_pressure(runs, labels),
        links=link_differences(runs, labels),
    )
    if figures:
        comp.figures = comparison_figures(comp)
    return comp


def comparison_figures(comp: Comparison) -> dict[str, Figure]:
    """KPI time series per run and link-flow difference maps."""
    figs: dict[str, Figure] = {"kpis": _series_figure(comp)}
    if all(len(r.am_profile) for r in comp.runs):  # the AM profile side by side (issue 14)
        figs["am_profile"] = am_profile_figure(
            dict(zip(comp.labels, (r.am_profile for r in comp.runs), strict=True))
        )
    city = _city_of(comp.runs[0])
    if city is None:
        return figs
    for label in comp.labels[1:]:
        col = f"diff {label}"
        if col not in comp.links:
            continue
        diff = comp.links.set_index("link_id")[col]
        lim = max(float(np.nanpercentile(np.abs(diff), 99.5)), 1.0)
        figs[f"flow_diff_{label}"] = traffic_map(
            city,
            diff,
            title=f"Peak-hour flow difference, {label} − {comp.labels[0]} (veh/h)",
            cmap="coolwarm",
            vmin=-lim,
            vmax=lim,
        )
    return figs


def _city_of(run: RunData) -> Any:
    from sim.city import load_city

    path = Path(run.manifest["city"])
    return load_city(path) if path.exists() else None


def _series_figure(comp: Comparison) -> Figure:
    kpis = ("population", "pupils_primary", "max_utilisation", "vkt", "delay_vh")
    fig = Figure(figsize=(4 * len(kpis), 3.2))
    axes = fig.subplots(1, len(kpis))
    for ax, kpi in zip(axes, kpis, strict=True):
        for run, label in zip(comp.runs, comp.labels, strict=True):
            s = run.kpis_summary
            s = s[s["kpi"] == kpi].sort_values("year")
            ax.plot(s["year"], s["p50"], marker="o", ms=3, label=label)
            ax.fill_between(s["year"], s["p10"], s["p90"], alpha=0.15)
        info = KPI_BY_NAME[kpi]
        ax.set_title(f"{info.label} ({info.unit})" if info.unit else info.label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def _kpi_html(table: pd.DataFrame) -> str:
    better_cols = [c for c in table.columns if c.startswith("better ")]
    shown = table.drop(columns=better_cols)
    rows = []
    for i, row in shown.iterrows():
        cells = []
        for col, value in row.items():
            style = ""
            if col.startswith(("diff ", "rel % ")):
                label = col.split(" ", 2)[-1] if col.startswith("rel") else col[5:]
                colour = VERDICT_COLOURS.get(table.loc[i, f"better {label}"])
                style = f' style="background:{colour}"' if colour else ""
            text = format_number(value) if isinstance(value, float) else str(value)
            cells.append(f"<td{style}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def write_report(comp: Comparison, out: Path | str) -> Path:
    """Write one self-contained HTML report (figures embedded) and return its path."""
    if not comp.figures:
        comp.figures = comparison_figures(comp)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = ", ".join(
        f"{lab} ({r.path.name})" for lab, r in zip(comp.labels, comp.runs, strict=True)
    )
    end = comp.runs[0].manifest["end_year"]
    is_diagnostic = comp.kpis["kpi"].isin(DIAGNOSTIC_KPIS)
    outcomes, diagnostics = comp.kpis[~is_diagnostic], comp.kpis[is_diagnostic]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>CitySandbox comparison</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}th{background:#eee}</style></head><body>",
        "<h1>CitySandbox: scenario comparison</h1>",
        f"<p>Runs: {html.escape(runs)}. Baseline: <b>{html.escape(comp.labels[0])}</b>. "
        f"Figures are medians over replications in {end} (bands p10–p90). Green = better, "
        "red = worse than the baseline; counts such as population are neither. "
        "<i>effect</i>: whether a delta exceeds the solver's convergence noise (both runs' "
        "change over their demand-supply loop's last round, 0 where no solver is involved) "
        "and the replication band (both runs' p10–p90 half-widths): "
        f"{BEYOND}, {WITHIN_NOISE} or {WITHIN_BAND}.</p>",
        "<h2>Key indicators</h2>",
        _kpi_html(outcomes),
        *_surplus_html(comp),
        f"<img src='data:image/png;base64,{png_base64(comp.figures['kpis'])}'>",
        f"<h2>School pressure ({end}, utilisation = demand / capacity)</h2>",
        comp.enrollment.head(40).to_html(index=False, float_format=lambda v: f"{v:.2f}"),
    ]
    if len(diagnostics):
        parts += [
            "<h2>Solver diagnostics (not outcomes: never better or worse)</h2>",
            _kpi_html(diagnostics),
        ]
    if "am_profile" in comp.figures:
        parts += [
            "<h2>AM profile: departures and network speed by 15 minutes</h2>",
            f"<img src='data:image/png;base64,{png_base64(comp.figures['am_profile'])}' "
            "style='max-width:1200px'>",
        ]
    for name, fig in comp.figures.items():
        if name.startswith("flow_diff_"):
            parts += [
                f"<h2>Link flow difference: {html.escape(name[10:])}</h2>",
                f"<img src='data:image/png;base64,{png_base64(fig)}' style='max-width:900px'>",
            ]
    parts.append("</body></html>")
    return write_atomically(out, "\n".join(parts))  # a temp name of its own per writer
