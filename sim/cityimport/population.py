"""Residents per zone x sex x single age from a population table or a person register.

A **population table** has a count per row and, optionally, an age (a single year, a
band ``"0-4"`` or an open band ``"85+"``) and a sex; bands, missing ages and missing
sexes are split over single ages 0..100 and both sexes by the stationary population of
the city's life table (:func:`sim.cityimport.synth.stationary_profile`), integer counts
keeping each row's total.

A **register** (动态人口库 extract) has one row per person: zone, birth date, sex and
optionally a household id. It is aggregated on import to zone x age x sex (age in
completed years on 1 January of the base year, 100+ top-coded) and, with a household
id, to households by size 1..6+ per zone (a household belongs to the zone of most of
its members). No person-level row leaves this module: findings name a register row by
its number only, never by its values.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.cityimport.config import Source
from sim.cityimport.report import ImportReport
from sim.cityimport.sources import has_columns, id_text, listed, numbers, read_table
from sim.cityimport.synth import MAX_AGE, round_preserving

SEX_WORDS = {
    "male": "male",
    "m": "male",
    "man": "male",
    "1": "male",
    "男": "male",
    "female": "female",
    "f": "female",
    "woman": "female",
    "2": "female",
    "女": "female",
}
"""Accepted sex codes (case-insensitive) and what they mean."""
_BAND = re.compile(
    r"^\s*(\d{1,3})\s*(?:(?:-|–|~|至|到)\s*(\d{1,3})|(\+|\s*以上|\s*及以上))?\s*岁?\s*$"
)
AGES = np.arange(MAX_AGE + 1)


def parse_band(text: str) -> tuple[int, int] | None:
    """``"7"`` -> (7, 7), ``"0-4"`` -> (0, 4), ``"85+"`` -> (85, 100); None if not an age."""
    match = _BAND.match(str(text))
    if not match:
        return None
    lo = int(match.group(1))
    hi = int(match.group(2)) if match.group(2) else (MAX_AGE if match.group(3) else lo)
    if hi < lo or lo > MAX_AGE:
        return None
    return lo, min(hi, MAX_AGE)


def _sexes(frame: pd.DataFrame, source: Source, report: ImportReport, show: bool) -> pd.Series:
    col = str(source.col("sex"))
    sexes = frame[col].astype(str).str.strip().str.lower().map(SEX_WORDS)
    bad = np.flatnonzero(sexes.isna().to_numpy())
    allowed = "male/female, m/f, 1/2, 男/女"
    items = [
        (
            f"{source.file.name}: column {col!r}"
            + (f" = {frame[col].iloc[r]!r}" if show else "")
            + f" is not a sex; allowed: {allowed}",
            f"row {r + 1}",
        )
        for r in bad
    ]
    listed(report, "error", "value", source.key, items)
    return sexes


def _zone_keys(frame: pd.DataFrame, source: Source) -> pd.Series:
    return frame[str(source.col("zone"))].map(id_text)


def from_table(
    source: Source, profile: pd.DataFrame, report: ImportReport
) -> tuple[pd.DataFrame, int] | None:
    """Persons (zone_key, sex, age, persons) from a population table, and the table's total."""
    frame = read_table(source, report)
    if frame is None or not has_columns(frame, source, ("zone", "count", "age", "sex"), report):
        return None
    counts = numbers(frame, source, "count", report, lambda v: (v >= 0) & (v % 1 == 0), ">= 0")
    bands: list[tuple[int, int] | None] = [(0, MAX_AGE)] * len(frame)
    if source.col("age"):
        col = str(source.col("age"))
        bands = [parse_band(v) for v in frame[col]]
        items = [
            (
                f"{source.file.name}: column {col!r} = {frame[col].iloc[r]!r} is not an age;"
                " allowed: a year 0..100, a band like '0-4', or an open band like '85+'",
                f"row {r + 1}",
            )
            for r, b in enumerate(bands)
            if b is None
        ]
        listed(report, "error", "value", "population", items)
    sexes = _sexes(frame, source, report, show=True) if source.col("sex") else None
    if not report.ok:
        return None
    keys = _zone_keys(frame, source).to_numpy()
    weights = profile.to_numpy()  # ages x (male, female)
    splits = np.zeros((len(frame), len(AGES), 2), dtype=np.int64)
    for r, band in enumerate(bands):
        lo, hi = band or (0, MAX_AGE)
        cols = [0, 1] if sexes is None else [0 if sexes.iloc[r] == "male" else 1]
        w = np.zeros_like(weights)
        w[lo : hi + 1, cols] = weights[lo : hi + 1, cols]
        splits[r] = round_preserving(w.ravel() / w.sum() * counts.iloc[r]).reshape(w.shape)
    n = len(frame)
    persons = pd.DataFrame(
        {
            "zone_key": np.repeat(keys, 2 * len(AGES)),
            "sex": np.tile(np.repeat(["male", "female"], len(AGES)), n),
            "age": np.tile(AGES, 2 * n),
            "persons": splits.transpose(0, 2, 1).ravel(),
        }
    )
    return _grid(persons), int(counts.sum())


def from_register(
    source: Source, base_year: int, report: ImportReport
) -> tuple[pd.DataFrame, pd.DataFrame | None, int] | None:
    """Persons (zone_key, sex, age, persons), households by size (or None), register rows."""
    frame = read_table(source, report)
    keys = ("zone", "birth_date", "sex", "household")
    if frame is None or not has_columns(frame, source, keys, report):
        return None
    col = str(source.col("birth_date"))
    born = pd.to_datetime(frame[col], errors="coerce", format="mixed")
    bad = np.flatnonzero(born.isna().to_numpy())
    items = [
        (f"{source.file.name}: column {col!r} is not a date (YYYY-MM-DD)", f"row {r + 1}")
        for r in bad
    ]
    listed(report, "error", "value", "register", items)
    sexes = _sexes(frame, source, report, show=False)
    if not report.ok:
        return None
    year, month, day = born.dt.year, born.dt.month, born.dt.day
    age = base_year - year - 1 + ((month == 1) & (day == 1)).astype(int)
    unborn = age < 0
    if unborn.any():
        report.warning(
            "value",
            "register",
            f"{int(unborn.sum())} persons born after 1 January {base_year} are left out",
            f"row {int(np.flatnonzero(unborn.to_numpy())[0]) + 1}",
        )
    old = age > MAX_AGE
    if old.any():
        report.warning(
            "value",
            "register",
            f"{int(old.sum())} persons older than {MAX_AGE} counted as {MAX_AGE}",
        )
    people = pd.DataFrame(
        {"zone_key": _zone_keys(frame, source), "sex": sexes, "age": age.clip(upper=MAX_AGE)}
    )[~unborn.to_numpy()]
    persons = people.groupby(["zone_key", "sex", "age"]).size().rename("persons").reset_index()
    households = None
    if source.col("household"):
        hh = frame.loc[~unborn.to_numpy(), str(source.col("household"))].map(id_text)
        members = pd.DataFrame({"household": hh.to_numpy(), "zone_key": people["zone_key"]})
        # the zone of most members (ties: the smallest zone key), without a per-group call
        counts = members.value_counts(["household", "zone_key"]).rename("n").reset_index()
        counts = counts.sort_values(["household", "n", "zone_key"], ascending=[True, False, True])
        per = counts.drop_duplicates("household").set_index("household")[["zone_key"]]
        per["size"] = members.groupby("household").size().reindex(per.index).clip(upper=6)
        households = per.groupby(["zone_key", "size"]).size().rename("households").reset_index()
    return _grid(persons), households, len(frame)


def _grid(persons: pd.DataFrame) -> pd.DataFrame:
    """Every zone x sex x age 0..100, zeros filled, summed over repeated rows."""
    summed = persons.groupby(["zone_key", "sex", "age"])["persons"].sum()
    index = pd.MultiIndex.from_product(
        [sorted(persons["zone_key"].unique()), ["male", "female"], AGES],
        names=["zone_key", "sex", "age"],
    )
    return summed.reindex(index, fill_value=0).astype(np.int64).reset_index()
