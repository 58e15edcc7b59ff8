"""Enrollment history of a bureau's records as a :class:`Panel`, and its CSV reader.

The input is a long table ``entity,grade,year,enrollment`` (an entity is a school or a
district; grade ``K``/0 is kindergarten, 1..12 the grades; any subset of grades) and,
optionally, ``entity,year,births``. :func:`load_history` validates it into a
:class:`Panel` (entity x year x grade arrays) that the forecast methods work on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputDataError
from sim.inputs import check_input_file, preview

N_GRADES = 13  # K (0) .. 12
HISTORY_COLUMNS = ("entity", "grade", "year", "enrollment")
BIRTHS_COLUMNS = ("entity", "year", "births")
GRADE_CODES = {"K": 0, **{str(g): g for g in range(N_GRADES)}}
ALLOWED_GRADES = "K or 0 (kindergarten), 1..12"
YEARS = (1900, 2100)  # calendar years a history or births CSV may name


@dataclass(frozen=True)
class Panel:
    """Enrollment history as arrays over consecutive years.

    Attributes
    ----------
    entities : numpy.ndarray
        Entity names, shape ``(n,)``.
    years : numpy.ndarray
        Consecutive calendar years, shape ``(T,)``.
    counts : numpy.ndarray
        Enrollment, shape ``(n, T, 13)``; NaN in years the entity does not exist, 0 for
        grades it does not report in a year it exists.
    listed : numpy.ndarray
        Bool ``(n, T, 13)``: the history has a row for that entity, year and grade.
    births : numpy.ndarray or None
        Births by entity and calendar year, shape ``(n, B)`` over ``birth_years``; NaN
        where unknown. None when no births were given.
    birth_years : numpy.ndarray or None
        Calendar years of the ``births`` columns.
    """

    entities: np.ndarray
    years: np.ndarray
    counts: np.ndarray
    listed: np.ndarray
    births: np.ndarray | None = None
    birth_years: np.ndarray | None = None

    @property
    def observed(self) -> np.ndarray:
        """Bool ``(n, T)``: the entity exists (has rows) in that year."""
        return ~np.isnan(self.counts[:, :, 0])

    @property
    def offered(self) -> np.ndarray:
        """Bool ``(n, T, 13)``: the grade is taught (listed with pupils) that year.

        Rows of 0 pupils (a bureau's export padded with every grade) do not make a grade
        taught, so a 6-8 school listed with empty K-5 rows still has 6 as its entry grade.
        """
        return self.listed & (np.nan_to_num(self.counts) > 0)

    def until(self, year: int) -> Panel:
        """The panel cut after ``year`` (births are kept whole: they are known early)."""
        keep = self.years <= year
        return Panel(
            self.entities,
            self.years[keep],
            self.counts[:, keep],
            self.listed[:, keep],
            self.births,
            self.birth_years,
        )

    def select(self, rows: np.ndarray) -> Panel:
        """The panel restricted to the entities ``rows`` (bool mask or indices)."""
        births = None if self.births is None else self.births[rows]
        return Panel(
            self.entities[rows],
            self.years,
            self.counts[rows],
            self.listed[rows],
            births,
            self.birth_years,
        )


def _read_csv(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    check_input_file(path, what)
    try:
        df = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except OSError as exc:
        msg = f"{path}: cannot read the {what} file ({exc.strerror})"
        raise InputDataError(msg) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the {what} CSV ({exc}); expected columns {', '.join(columns)}"
        raise InputDataError(msg) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"{path}: missing column(s) {', '.join(missing)}; the {what} CSV needs "
            f"{', '.join(columns)} (found {', '.join(df.columns) or 'none'})"
        )
        raise InputDataError(msg)
    if df.empty:
        msg = f"{path}: the {what} CSV has no data rows"
        raise InputDataError(msg)
    df = df[list(columns)].copy()
    df["entity"] = df["entity"].fillna("").str.strip()
    _check(df["entity"] != "", df, path, "entity", "a non-empty name")
    return df


def _check(ok: pd.Series, df: pd.DataFrame, path: Path, column: str, allowed: str) -> None:
    """Raise naming the first row (CSV line number) where ``ok`` is False."""
    if ok.all():
        return
    i = int(np.flatnonzero(~ok.to_numpy())[0])
    line = i + 2  # header is line 1
    value = df[column].iloc[i]
    shown = "(empty)" if pd.isna(value) else preview(value)
    msg = f"{path}: line {line}, column {column}: value {shown}; allowed: {allowed}"
    raise InputDataError(msg)


def _years(df: pd.DataFrame, path: Path, example: int) -> np.ndarray:
    """The ``year`` column as whole calendar years within YEARS."""
    allowed = f"an integer year {YEARS[0]}..{YEARS[1]}, e.g. {example}"
    years = _integers(df, path, "year", allowed)
    _check(pd.Series((years >= YEARS[0]) & (years <= YEARS[1])), df, path, "year", allowed)
    return years


def _integers(df: pd.DataFrame, path: Path, column: str, allowed: str) -> np.ndarray:
    values = pd.to_numeric(df[column].str.strip(), errors="coerce")
    _check(values.notna() & (values == np.round(values)), df, path, column, allowed)
    return values.to_numpy(dtype=np.int64)


def _counts(df: pd.DataFrame, path: Path, column: str) -> np.ndarray:
    values = pd.to_numeric(df[column].str.strip(), errors="coerce")
    allowed = "a count >= 0"
    _check(values.notna() & np.isfinite(values), df, path, column, allowed)
    _check(values >= 0, df, path, column, allowed)
    return values.to_numpy(dtype=float)


def _duplicates(df: pd.DataFrame, keys: list[str], path: Path) -> None:
    dup = df.duplicated(keys, keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        key = ", ".join(f"{k}={df[k].iloc[i]}" for k in keys)
        msg = f"{path}: line {i + 2}: duplicate row for ({key}); each ({', '.join(keys)}) once"
        raise InputDataError(msg)


def load_history(path: str | Path, births: str | Path | None = None) -> Panel:
    """Read and validate a history CSV (and optionally a births CSV) into a :class:`Panel`.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``entity,grade,year,enrollment``; extra columns are ignored.
    births : str or Path, optional
        CSV with columns ``entity,year,births``.

    Returns
    -------
    Panel

    Raises
    ------
    InputDataError
        Missing columns, non-integer years, grades outside K/0..12, negative or
        non-numeric counts, duplicate (entity, grade, year) rows, or an entity whose
        years have a gap; the message names the file, line, column and value.
    """
    path = Path(path)
    df = _read_csv(path, HISTORY_COLUMNS, "history")
    codes = df["grade"].fillna("").str.strip().str.upper().str.replace(r"\.0$", "", regex=True)
    _check(codes.isin(list(GRADE_CODES)), df, path, "grade", ALLOWED_GRADES)
    df["grade"] = codes.map(GRADE_CODES).astype(np.int64)
    df["year"] = _years(df, path, 2019)
    df["enrollment"] = _counts(df, path, "enrollment")
    _duplicates(df, ["entity", "grade", "year"], path)
    _check_gaps(df, path)

    ent_codes, entities = pd.factorize(df["entity"], sort=True)
    y0, y1 = int(df["year"].min()), int(df["year"].max())
    years = np.arange(y0, y1 + 1)
    t = df["year"].to_numpy() - y0
    g = df["grade"].to_numpy()
    counts = np.full((len(entities), len(years), N_GRADES), np.nan)
    listed = np.zeros(counts.shape, dtype=bool)
    counts[ent_codes, t] = 0.0
    counts[ent_codes, t, g] = df["enrollment"].to_numpy()
    listed[ent_codes, t, g] = True
    panel = Panel(np.asarray(entities, dtype=object), years, counts, listed)
    if births is not None:
        panel = _attach_births(panel, Path(births))
    return panel


def _check_gaps(df: pd.DataFrame, path: Path) -> None:
    span = df.groupby("entity")["year"].agg(["min", "max", "nunique"])
    gappy = span[span["max"] - span["min"] + 1 != span["nunique"]]
    if gappy.empty:
        return
    name = gappy.index[0]
    have = set(df.loc[df["entity"] == name, "year"])
    lo, hi = int(gappy.loc[name, "min"]), int(gappy.loc[name, "max"])
    missing = [y for y in range(lo, hi + 1) if y not in have]
    shown = ", ".join(map(str, missing[:5]))
    if len(missing) > 5:
        shown += f" (and {len(missing) - 5} more)"
    msg = (
        f"{path}: entity {preview(name)} has a gap in its years: no rows for "
        f"{shown} between {lo} and {hi}; years must be consecutive "
        "(split a school that closed and reopened into two entities)"
    )
    raise InputDataError(msg)


def _attach_births(panel: Panel, path: Path) -> Panel:
    df = _read_csv(path, BIRTHS_COLUMNS, "births")
    df["year"] = _years(df, path, 2014)
    df["births"] = _counts(df, path, "births")
    _duplicates(df, ["entity", "year"], path)
    unknown = sorted(set(df["entity"]) - set(panel.entities))
    if unknown:
        warnings.warn(
            f"{path}: births for entities not in the history are ignored: {unknown[:5]}",
            stacklevel=3,
        )
    b0, b1 = int(df["year"].min()), int(df["year"].max())
    birth_years = np.arange(b0, b1 + 1)
    table = np.full((len(panel.entities), len(birth_years)), np.nan)
    index = {e: i for i, e in enumerate(panel.entities)}
    known = df["entity"].isin(index)
    rows = df.loc[known, "entity"].map(index).to_numpy()
    table[rows, df.loc[known, "year"].to_numpy() - b0] = df.loc[known, "births"].to_numpy()
    return Panel(panel.entities, panel.years, panel.counts, panel.listed, table, birth_years)
