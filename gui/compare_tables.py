"""The comparison's tables as a planner reads them: KPI labels with units, verdicts in words.

:func:`kpi_rows` turns :func:`sim.runs.compare.kpi_table` into the rows the Compare view
shows (outcomes, or the solver diagnostics apart) with translated headers;
:func:`school_rows` adds the school names to the per-school utilisation table. Changes
(Δ, Δ %) are signed texts, one format per column: ``+1,080``, ``−3.0 %``, never ``-0 %``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gui.i18n import kpi_label, tr
from gui.tables import ChangeKind, Shown, format_change
from sim.kpis import KPI_BY_NAME

#: A verdict of :func:`sim.kpis.verdict` -> the words shown ("" for diagnostics).
VERDICT_TEXTS = {
    "better": "better",
    "worse": "worse",
    "up": "more",
    "down": "less",
    "same": "no change",
    "": "",
}


def _changes(values: pd.Series, kind: ChangeKind) -> list[Shown]:
    """Differences as signed texts (:func:`gui.tables.format_change`) that sort by value."""
    return [Shown(float(v), format_change(float(v), kind)) for v in values]


@dataclass
class Rows:
    """Rows for a table: the frame shown, header texts, the KPI names and raw verdicts."""

    frame: pd.DataFrame
    headers: dict[str, str]
    names: list[str]
    verdicts: dict[str, list[str]]  # variant label -> verdict per row


def kpi_rows(table: pd.DataFrame, labels: Sequence[str], *, diagnostics: bool) -> Rows:
    """The outcome KPIs (``diagnostics=False``) or the solver diagnostics of a KPI table.

    Outcomes show the baseline and each run, its difference, relative difference, the
    verdict in words and whether the difference is beyond the solver noise and replication
    band (:func:`sim.runs.compare.effect_mark`); diagnostics show the values only (they are
    never judged).
    """
    is_diag = [bool(getattr(KPI_BY_NAME.get(str(k)), "diagnostic", False)) for k in table["kpi"]]
    part = table[[d == diagnostics for d in is_diag]].reset_index(drop=True)
    names = [str(k) for k in part["kpi"]]
    frame = pd.DataFrame(
        {
            "indicator": [kpi_label(k) for k in names],
            "unit": [tr(KPI_BY_NAME[k].unit) if k in KPI_BY_NAME else "" for k in names],
        }
    )
    headers = {"indicator": tr("Indicator"), "unit": tr("Unit")}
    verdicts: dict[str, list[str]] = {}
    for i, label in enumerate(labels):
        frame[label] = part[label].to_numpy()
        headers[label] = label if i else tr("{run} (baseline)").format(run=label)
        if i == 0 or diagnostics:
            continue
        frame[f"diff {label}"] = _changes(part[f"diff {label}"], "number")
        frame[f"rel % {label}"] = _changes(part[f"rel % {label}"], "percent")
        verdicts[label] = [str(v) for v in part[f"better {label}"]]
        frame[f"better {label}"] = [tr(VERDICT_TEXTS.get(v, v)) for v in verdicts[label]]
        headers[f"diff {label}"] = tr("Δ {run}").format(run=label)
        headers[f"rel % {label}"] = tr("Δ % {run}").format(run=label)
        headers[f"better {label}"] = tr("{run} vs baseline").format(run=label)
        if f"effect {label}" in part:  # the delta against solver noise and replication band
            frame[f"effect {label}"] = [tr(str(v)) for v in part[f"effect {label}"]]
            headers[f"effect {label}"] = tr("{run}: effect or noise?").format(run=label)
    return Rows(frame, headers, names, verdicts)


def school_rows(pressure: pd.DataFrame, labels: Sequence[str], names: pd.Series) -> Rows:
    """Per-school utilisation per run and its change, with the school's name."""
    ids = pressure["school_id"].astype(str)
    frame = pd.DataFrame({"school_id": ids, "name": ids.map(names).fillna("")})
    headers = {"school_id": tr("School"), "name": tr("Name")}
    for i, label in enumerate(labels):
        frame[label] = pressure[label].to_numpy()
        headers[label] = tr("Utilisation {run}").format(run=label)
        if i:
            frame[f"change {label}"] = _changes(pressure[f"change {label}"], "ratio")
            headers[f"change {label}"] = tr("Δ {run}").format(run=label)
    return Rows(frame, headers, list(ids), {})
