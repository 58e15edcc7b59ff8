"""The report of a batch: KPIs per variant with replication bands, and sensitivity per axis.

:func:`write_batch_report` reads the ``batch_tasks`` table and the run folders of a batch's
runs folder and writes one HTML file (figures embedded as PNG) and, next to it, every
KPI of every task and year as CSV and Parquet (``<report>-kpis.csv``/``.parquet``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.batch.store import tasks_frame
from sim.batch.sweep import variant_label
from sim.errors import RunError
from sim.kpis import DIAGNOSTIC_KPIS, HEADLINE_KPIS
from sim.runs.figures import png_base64

MAX_KPIS = 8
TASK_COLUMNS = ("task_id", "sweep", "variant", "label", "replication", "seed")


def collect_kpis(out: Path) -> tuple[pd.DataFrame, list[str]]:
    """Every KPI of every finished task and year, with the task's variant and axis values.

    Parameters
    ----------
    out
        The runs folder of a batch (holding ``catalog.sqlite``).

    Returns
    -------
    kpis
        One row per task × year: task columns, one column per axis (its dotted path, and
        ``policy_set``), ``year`` and the KPI columns of ``kpis.parquet``.
    axes
        The axis column names.

    Raises
    ------
    RunError
        When ``out`` holds no finished batch task.
    """
    out = Path(out)
    tasks = tasks_frame(out)
    done = tasks[tasks["status"] == "done"]
    if done.empty:
        msg = f"{out}: no finished batch task in {len(tasks)} recorded; run `main.py batch` first"
        raise RunError(msg)
    axes = list(dict.fromkeys(k for params in done["parameters"] for k in params))
    frames = []
    for row in done.itertuples():
        run_dir = Path(row.run_dir) if row.run_dir else out / row.task_id
        if not (run_dir / "kpis.parquet").exists():
            run_dir = out / row.task_id  # the runs folder was moved since
        if not (run_dir / "kpis.parquet").exists():
            msg = (
                f"{out}: task {row.task_id} is recorded as done but {run_dir}/kpis.parquet is "
                "missing; resume the batch to recompute it"
            )
            raise RunError(msg)
        kpis = pd.read_parquet(run_dir / "kpis.parquet").drop(columns="replication")
        info = {
            "task_id": row.task_id,
            "sweep": row.sweep,
            "variant": row.variant,
            "label": variant_label(row.parameters),
            "replication": row.replication,
            "seed": row.seed,
            **{axis: row.parameters.get(axis) for axis in axes},
        }
        frames.append(kpis.assign(**info))
    long = pd.concat(frames, ignore_index=True)
    front = [*TASK_COLUMNS, *axes, "year"]
    return long[front + [c for c in long.columns if c not in front]], axes


def kpi_columns(kpis: pd.DataFrame, axes: list[str]) -> list[str]:
    """The KPI columns worth plotting: headline KPIs first.

    Never a column that is all-NaN or constant zero, never a solver diagnostic.
    """
    skip = {*TASK_COLUMNS, *axes, "year", *DIAGNOSTIC_KPIS}
    numeric = [
        c
        for c in kpis.select_dtypes("number").columns
        if c not in skip and kpis[c].notna().any() and kpis[c].abs().sum() > 0
    ]
    ordered = [c for c in HEADLINE_KPIS if c in numeric] or numeric
    return ordered[:MAX_KPIS]


def sensitivity(kpis: pd.DataFrame, axes: list[str], kpi_names: list[str]) -> pd.DataFrame:
    """Main effect of each axis on each end-year KPI (the data of a tornado chart).

    For every axis value the end-year KPI is averaged over all tasks having that value
    (all other axes and replications pooled) and expressed relative to the mean over all
    tasks. The bar of an axis spans the lowest to the highest of these relative effects.

    Returns
    -------
    DataFrame
        ``axis, kpi, low_value, high_value, low_effect, high_effect, width`` (effects as
        fractions, e.g. -0.05 = 5 % below the mean), sorted by axis then width descending.
    """
    last = kpis[kpis["year"] == kpis["year"].max()]
    rows = []
    for axis in axes:
        if last[axis].nunique() < 2:
            continue
        for kpi in kpi_names:
            overall = last[kpi].mean()
            if not np.isfinite(overall) or overall == 0:
                continue
            effect = last.groupby(axis, sort=False)[kpi].mean() / overall - 1
            lo, hi = effect.idxmin(), effect.idxmax()
            rows.append((axis, kpi, lo, hi, effect[lo], effect[hi], effect[hi] - effect[lo]))
    cols = ["axis", "kpi", "low_value", "high_value", "low_effect", "high_effect", "width"]
    table = pd.DataFrame(rows, columns=cols)
    return table.sort_values(["axis", "width"], ascending=[True, False], ignore_index=True)


def write_batch_report(out: Path, report: Path | None = None) -> Path:
    """Write the HTML report of a batch and the CSV/Parquet of all its KPIs beside it.

    Parameters
    ----------
    out
        The runs folder of the batch.
    report
        The HTML file (default ``out/batch-report.html``).

    Returns
    -------
    Path
        The HTML report.
    """
    out = Path(out)
    report = Path(report) if report else out / "batch-report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    kpis, axes = collect_kpis(out)
    kpis.to_csv(report.with_name(f"{report.stem}-kpis.csv"), index=False)
    kpis.to_parquet(report.with_name(f"{report.stem}-kpis.parquet"), index=False)
    names = kpi_columns(kpis, axes)
    tasks = tasks_frame(out)
    sections = [
        _overview(tasks, kpis),
        "<h2>KPIs per variant (median line, 10–90 % band over replications)</h2>",
        *(_img(_fan_figure(kpis, kpi)) for kpi in names),
        "<h2>Last simulated year across replications</h2>",
        _img(_box_figure(kpis, names)),
        "<h2>Sensitivity (main effect of each axis on the last year's KPIs)</h2>",
    ]
    table = sensitivity(kpis, axes, names)
    sections += [
        _img(_tornado_figure(table[table["axis"] == a], a)) for a in table["axis"].unique()
    ]
    if table.empty:
        sections.append("<p>No axis takes two or more values: nothing to compare.</p>")
    report.write_text(_page(kpis["sweep"].iloc[0], sections), encoding="utf-8")
    return report


# --------------------------------------------------------------------------- html and figures


def _overview(tasks: pd.DataFrame, kpis: pd.DataFrame) -> str:
    counts = tasks["status"].value_counts().to_dict()
    variants = kpis.groupby(["variant", "label"], sort=True)["task_id"].nunique().reset_index()
    variants.columns = ["variant", "values", "replications done"]
    parts = [
        f"<p>{len(tasks)} tasks: "
        + ", ".join(f"{n} {html.escape(str(s))}" for s, n in sorted(counts.items()))
        + "</p>",
        variants.to_html(index=False, escape=True),
    ]
    failed = tasks[tasks["status"] == "failed"]
    if len(failed):
        parts += ["<h3>Failed tasks</h3>", failed[["task_id", "error"]].to_html(index=False)]
    return "\n".join(parts)


def _fan_figure(kpis: pd.DataFrame, kpi: str):
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    for (variant, label), grp in kpis.groupby(["variant", "label"], sort=True):
        by_year = grp.groupby("year")[kpi]
        q = by_year.quantile([0.1, 0.5, 0.9]).unstack()
        (line,) = ax.plot(q.index, q[0.5], marker="o", label=f"{variant}: {label}")
        ax.fill_between(q.index, q[0.1], q[0.9], color=line.get_color(), alpha=0.2)
    ax.set(title=kpi, xlabel="year", ylabel=kpi)
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def _box_figure(kpis: pd.DataFrame, names: list[str]):
    last = kpis[kpis["year"] == kpis["year"].max()]
    variants = sorted(last["variant"].unique())
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.8 * rows))
    axs = fig.subplots(rows, cols, squeeze=False)
    for ax, kpi in zip(axs.flat, names, strict=False):
        data = [last.loc[last["variant"] == v, kpi].dropna().to_numpy() for v in variants]
        ax.boxplot(data, tick_labels=variants)
        ax.set_title(kpi, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axs.flat)[len(names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _tornado_figure(table: pd.DataFrame, axis: str):
    table = table.iloc[::-1]  # widest bar on top
    fig = Figure(figsize=(8, 0.5 * len(table) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(table))
    low, high = 100 * table["low_effect"].to_numpy(), 100 * table["high_effect"].to_numpy()
    ax.barh(y, high - low, left=low, color="tab:blue", alpha=0.7)
    for yi, lo, hi, lv, hv in zip(
        y, low, high, table["low_value"], table["high_value"], strict=True
    ):
        ax.text(lo, float(yi), f"{lv} ", ha="right", va="center", fontsize=7)
        ax.text(hi, float(yi), f" {hv}", ha="left", va="center", fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, table["kpi"])
    ax.set(title=f"sensitivity to {axis}", xlabel="% relative to the mean over all tasks")
    span = 1.35 * max(np.abs(low).max(), np.abs(high).max(), 1e-9)
    ax.set_xlim(-span, span)  # symmetric, with room for the value labels at the bar ends
    fig.tight_layout()
    return fig


def _img(fig: Figure) -> str:
    return f'<img src="data:image/png;base64,{png_base64(fig, dpi=90)}">'


def _page(title: str, sections: list[str]) -> str:
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{display:block;margin:8px 0}"
    )
    body = "\n".join(sections)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>batch {html.escape(title)}"
        f"</title><style>{style}</style></head><body><h1>Batch report: {html.escape(title)}</h1>"
        f"\n{body}\n</body></html>\n"
    )
