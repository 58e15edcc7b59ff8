"""The whole 入学早知道 (enrollment early-know) answer as text, in the current language.

:func:`answer_text` writes every part of :func:`sim.education.query.query`'s answer —
the run and zone, the entry rule, the catchment schools, each birth group's primary and
junior entry with its utilisation band, chance of a place and overflow school — from the
answer's fields through :func:`gui.i18n.tr` (the CLI's :func:`format_answer` is English).
"""

from __future__ import annotations

from typing import Any

from gui.i18n import tr

#: Entry statuses of :mod:`sim.education.query` -> English words (translated when shown).
STATUS_TEXTS = {
    "likely full": "likely full",
    "may be full": "may be full",
    "has room": "has room",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _brief(brief: dict[str, Any] | None) -> str:
    if brief is None:
        return tr("none")
    return tr("{name} ({id}, {km:.1f} km)").format(
        name=brief["name"], id=brief["school_id"], km=brief["distance_km"]
    )


def _stage(stage: dict[str, Any], projection: tuple[int, int]) -> str:
    head = tr("grade {grade} in {year} at {school}").format(
        grade=stage["grade"], year=stage["year"], school=_brief(stage["school"])
    )
    first, last = projection
    status = stage["status"]
    if status == "beyond projection":
        note = tr(": entry in {year} is beyond the projection (ends {end}); catchment as of {end}")
        return head + note.format(year=stage["year"], end=last)
    if status == "before projection":
        note = tr(": entry in {year} is before the projection (starts {start}); as of {start}")
        return head + note.format(year=stage["year"], start=first)
    if status == "no projection":
        return head + tr(": no projection for this grade and year")
    text = tr("{head}: {status}").format(head=head, status=tr(STATUS_TEXTS.get(status, status)))
    if stage.get("utilisation_pct") is None:
        text += tr(", no places (projected demand {d:,.0f})").format(d=stage["demand_p50"])
    else:
        text += tr(
            ", utilisation {u}% (80% band {lo}–{hi}%; demand {d:,.0f} for {c:,} places)"
        ).format(
            u=stage["utilisation_pct"],
            lo=stage["utilisation_p10_pct"],
            hi=stage["utilisation_p90_pct"],
            d=stage["demand_p50"],
            c=int(stage["capacity"]),
        )
    text += tr("; chance of a place there {p}%").format(p=round(100 * stage["place_probability"]))
    if "overflow_school" in stage:
        text += tr("; overflow school: {school}").format(school=_brief(stage["overflow_school"]))
    elif stage.get("alternative"):
        text += tr("; otherwise: {school}").format(school=_brief(stage["alternative"]))
    return text


def answer_text(answer: dict[str, Any], entry_age: int | None, cutoff: str | None) -> str:
    """Every line of the answer, translated; ``entry_age``/``cutoff`` from the run's manifest."""
    first, last = answer["projection"]
    lines = [
        tr("Run {run} (projection {first}–{last}), zone {zone}").format(
            run=answer["run_id"], first=first, last=last, zone=answer["zone_id"]
        )
    ]
    if entry_age is not None and cutoff:
        month, day = (int(p) for p in cutoff.split("-"))
        rule = tr("Entry rule: grade 1 in September of the year the child is {age} by {date}")
        date = tr("{day} {month}").format(day=day, month=tr(MONTHS[month - 1]))
        lines.append(rule.format(age=entry_age, date=date))
    for level, brief in answer["catchment"].items():
        lines.append(
            tr("{level} catchment school ({year}): {school}").format(
                level=tr(level), year=answer["catchment_year"], school=_brief(brief)
            )
        )
    for entry in answer["entries"]:
        lo, hi = entry["months"]
        lines.append(
            tr("Born {first}–{last} {year}:").format(
                first=tr(MONTHS[lo - 1]), last=tr(MONTHS[hi - 1]), year=answer["birth_year"]
            )
        )
        for level in ("primary", "junior"):
            stage = _stage(entry[level], (first, last))
            lines.append(tr("  {level}: {stage}").format(level=tr(level), stage=stage))
    return "\n".join(lines)
