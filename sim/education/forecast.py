"""Enrollment forecasts from a bureau's own records, with honest bands and a backtest.

The input is a long table ``entity,grade,year,enrollment`` (an entity is a school or a
district; grade ``K``/0 is kindergarten, 1..12 the grades; any subset of grades) and,
optionally, ``entity,year,births``. :func:`load_history` validates it into a
:class:`Panel` (entity x year x grade arrays); :func:`forecast` runs one method of
:mod:`sim.education.forecast_methods` and adds a p10-p90 band calibrated on the entity's own past
forecast errors (rolling origins); :func:`backtest` holds out the last years and reports
MAPE of entity totals per horizon, method and grade, and the band coverage.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputDataError

N_GRADES = 13  # K (0) .. 12
HISTORY_COLUMNS = ("entity", "grade", "year", "enrollment")
BIRTHS_COLUMNS = ("entity", "year", "births")
GRADE_CODES = {"K": 0, **{str(g): g for g in range(N_GRADES)}}
ALLOWED_GRADES = "K or 0 (kindergarten), 1..12"


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
    try:
        df = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        msg = f"{path}: {what} file not found"
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
    shown = "(empty)" if pd.isna(value) else repr(value)
    msg = f"{path}: line {line}, column {column}: value {shown}; allowed: {allowed}"
    raise InputDataError(msg)


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
    df["year"] = _integers(df, path, "year", "an integer year, e.g. 2019")
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
    msg = (
        f"{path}: entity {name!r} has a gap in its years: no rows for "
        f"{', '.join(map(str, missing))} between {lo} and {hi}; years must be consecutive "
        "(split a school that closed and reopened into two entities)"
    )
    raise InputDataError(msg)


def _attach_births(panel: Panel, path: Path) -> Panel:
    df = _read_csv(path, BIRTHS_COLUMNS, "births")
    df["year"] = _integers(df, path, "year", "an integer year, e.g. 2014")
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


# --- bands -------------------------------------------------------------------------

Method = Callable[[Panel, int], np.ndarray]
BAND_QUANTILES = (0.1, 0.9)
MIN_RESIDUALS = 30  # per size class and horizon
ROWS_PER_CLASS = 300  # residuals per forecast-size class


@dataclass(frozen=True)
class Band:
    """Empirical p10/p90 of log forecast errors by horizon and forecast size.

    ``edges[h]`` are the upper forecast sizes of the size classes at horizon ``h + 1`` and
    ``low[h]``/``high[h]`` their residual quantiles of ``log(actual + 1) - log(forecast + 1)``.
    Horizons beyond the calibrated ones scale the last calibrated spread by
    ``(h / h_last) ** growth``. The band always contains the point forecast (quantiles are
    clipped at 0), so a method's past bias widens the band on that side.
    """

    edges: tuple[np.ndarray, ...]
    low: tuple[np.ndarray, ...]
    high: tuple[np.ndarray, ...]
    growth: float

    def apply(self, fc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p10 and p90 for forecasts ``fc`` of shape ``(n, H, 13)``; NaN if uncalibrated."""
        p10 = np.full(fc.shape, np.nan)
        p90 = np.full(fc.shape, np.nan)
        if not self.edges:
            return p10, p90
        last = len(self.edges)
        for h in range(fc.shape[1]):
            k = min(h, last - 1)
            scale = ((h + 1) / last) ** self.growth if h >= last else 1.0
            f = fc[:, h]
            cls = np.minimum(np.searchsorted(self.edges[k], f), len(self.edges[k]) - 1)
            log_f = np.log1p(f)
            p10[:, h] = np.expm1(log_f + scale * self.low[k][cls])
            p90[:, h] = np.expm1(log_f + scale * self.high[k][cls])
        return np.maximum(p10, 0.0), p90


def _size_classes(f: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split residuals ``r`` into equal-count classes of forecast size ``f``; quantiles each."""
    order = np.argsort(f, kind="stable")
    parts = np.array_split(order, max(1, len(f) // ROWS_PER_CLASS))
    edges = np.array([f[p[-1]] for p in parts])
    edges[-1] = np.inf
    low = np.array([min(np.quantile(r[p], BAND_QUANTILES[0]), 0.0) for p in parts])
    high = np.array([max(np.quantile(r[p], BAND_QUANTILES[1]), 0.0) for p in parts])
    return edges, low, high


def rolling_residuals(
    panel: Panel, method: Method, horizon: int, min_years: int = 2
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Past forecast errors of ``method`` from every origin with ``min_years`` of history.

    Returns, per horizon ``1..horizon``, the forecasts and log errors
    ``log(actual + 1) - log(forecast + 1)`` of every entity-grade forecast whose year
    is in the panel.
    """
    out: list[tuple[list, list]] = [([], []) for _ in range(horizon)]
    n_years = len(panel.years)
    for t in range(min_years - 1, n_years - 1):
        past = panel.until(int(panel.years[t]))
        steps = min(horizon, n_years - 1 - t)
        fc = method(past, steps)
        history = past.observed.sum(axis=1) >= min_years
        for h in range(steps):
            actual = panel.counts[:, t + 1 + h]
            rows = history[:, None] & ~np.isnan(actual) & (past.offered[:, -1] | (fc[:, h] > 0))
            out[h][0].append(fc[:, h][rows])
            out[h][1].append(np.log1p(actual[rows]) - np.log1p(fc[:, h][rows]))
    return [(np.concatenate(f), np.concatenate(r)) for f, r in out if f]


def calibrate_band(panel: Panel, method: Method, horizon: int) -> Band:
    """Fit a :class:`Band` from the panel's own rolling-origin forecast errors.

    Horizons with fewer than ``MIN_RESIDUALS`` errors are not calibrated directly: the
    last calibrated spread grows as ``h ** growth``, with ``growth`` measured between
    horizon 1 and the last calibrated one (clipped to 0.5..1.5: from random-walk errors to
    compounding trend errors; 1, linear, when only horizon 1 is known).
    """
    edges, low, high = [], [], []
    for f, r in rolling_residuals(panel, method, horizon):
        if len(r) < MIN_RESIDUALS:
            break
        e, lo, hi = _size_classes(f, r)
        edges.append(e)
        low.append(lo)
        high.append(hi)
    growth = 1.0
    if len(edges) >= 2:
        spread = [np.median(hi - lo) for lo, hi in zip(low, high, strict=True)]
        if spread[0] > 0 and spread[-1] > 0:
            growth = float(np.clip(np.log(spread[-1] / spread[0]) / np.log(len(edges)), 0.5, 1.5))
    return Band(tuple(edges), tuple(low), tuple(high), growth)


# --- forecast ------------------------------------------------------------------------


def _method(name: str) -> Method:
    from sim.education.forecast_methods import METHODS

    if name not in METHODS:
        msg = f"method {name!r} is not known; allowed: {', '.join(METHODS)}"
        raise InputDataError(msg)
    return METHODS[name]


def _check_horizon(horizon: int) -> None:
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        msg = f"horizon {horizon!r} is not allowed; give a whole number of years >= 1"
        raise InputDataError(msg)


def grade_label(grade: int) -> str:
    """``"K"`` for kindergarten (0), else the grade number as text."""
    return "K" if grade == 0 else str(grade)


def _warn_missing_births(panel: Panel, horizon: int, alive: np.ndarray) -> None:
    """Warn about entities whose entry grades cannot be driven by births."""
    from sim.education.forecast_methods import births_entry_path, entry_grades

    if panel.births is None:
        msg = "method 'births' needs a births CSV (columns entity,year,births)"
        raise InputDataError(msg)
    path = births_entry_path(panel, horizon)
    lacking = alive & (entry_grades(panel)[:, None, :] & np.isnan(path)).any(axis=(1, 2))
    if lacking.any():
        names = ", ".join(map(str, panel.entities[lacking][:3]))
        warnings.warn(
            f"births do not cover {lacking.sum()} entities for every forecast year (no births "
            f"5 + grade years before, or no past entry-per-birth rate; e.g. {names}): their "
            "entry grades follow the damped trend there",
            stacklevel=3,
        )


def forecast(panel: Panel, horizon: int, method: str | None = None) -> pd.DataFrame:
    """Forecast every entity and grade taught in the panel's last year, with a band.

    Parameters
    ----------
    panel : Panel
        Validated history (see :func:`load_history`).
    horizon : int
        Years to forecast after the last history year (>= 1).
    method : str, optional
        A name in :data:`sim.education.forecast_methods.METHODS`; default
        :data:`sim.education.forecast_methods.DEFAULT_METHOD`.

    Returns
    -------
    pandas.DataFrame
        Columns ``entity, grade, year, forecast, p10, p90``: one row per entity taught in
        the last year, grade it teaches then (or is phasing in) and future year. The band
        is calibrated on the panel's own rolling-origin errors; it is NaN (with a warning)
        when the history is too short to measure enough of them.
    """
    from sim.education.forecast_methods import DEFAULT_METHOD

    _check_horizon(horizon)
    name = method or DEFAULT_METHOD
    fn = _method(name)
    alive = panel.observed[:, -1]
    if name == "births":
        _warn_missing_births(panel, horizon, alive)
    closed = panel.observed.any(axis=1) & ~alive
    if closed.any():
        warnings.warn(
            f"{closed.sum()} entities have no rows in the last year {panel.years[-1]} "
            f"(closed; e.g. {', '.join(map(str, panel.entities[closed][:3]))}): not forecast",
            stacklevel=2,
        )
    fc = fn(panel, horizon)
    band = calibrate_band(panel, fn, horizon)
    if not band.edges:
        warnings.warn(
            f"too few past forecast errors to calibrate the p10-p90 band (needs 3+ years and "
            f"{MIN_RESIDUALS}+ entity-grade rows); band left empty",
            stacklevel=2,
        )
    p10, p90 = band.apply(fc)
    rows = alive[:, None, None] & (panel.listed[:, -1][:, None, :] | (fc > 0))
    e, h, g = np.nonzero(rows)
    return pd.DataFrame(
        {
            "entity": panel.entities[e],
            "grade": [grade_label(x) for x in g],
            "year": panel.years[-1] + 1 + h,
            "forecast": fc[e, h, g].round(2),
            "p10": p10[e, h, g].round(2),
            "p90": p90[e, h, g].round(2),
        }
    )


# --- backtest ------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    """Accuracy of each method on the held-out last years.

    Attributes
    ----------
    mape : dict
        ``{method: {horizon: MAPE %}}`` of entity totals (sum over grades).
    by_grade : dict
        ``{method: {grade: {horizon: MAPE %}}}`` of single grades (rows with actual > 0).
    coverage : dict
        ``{method: {horizon: share}}`` of entity-grade actuals inside the p10-p90 band.
    origin : int
        Last history year used to fit.
    n_entities : int
        Entities scored.
    skipped : list
        Entities not scored (too few years before the origin, or missing in a held-out year).
    """

    mape: dict[str, dict[int, float]]
    by_grade: dict[str, dict[str, dict[int, float]]]
    coverage: dict[str, dict[int, float]]
    origin: int
    n_entities: int
    skipped: list[str]

    def to_json(self) -> dict:
        """The ``--json`` object: method keys with MAPE by horizon, then the rest.

        Horizons become string keys; values that could not be measured are ``None``.
        """

        def by_h(values: dict[int, float]) -> dict[str, float | None]:
            return {str(h): None if np.isnan(v) else v for h, v in values.items()}

        out: dict = {m: by_h(hv) for m, hv in self.mape.items()}
        out["by_grade"] = {
            m: {g: by_h(hv) for g, hv in gv.items()} for m, gv in self.by_grade.items()
        }
        out["coverage"] = {m: by_h(hv) for m, hv in self.coverage.items()}
        out["origin"] = self.origin
        out["n_entities"] = self.n_entities
        out["n_skipped"] = len(self.skipped)
        return out

    def table(self) -> str:
        """The backtest as text tables: totals, band coverage, then MAPE by grade."""
        methods = list(self.mape)
        horizons = list(next(iter(self.mape.values())))
        head = f"{'':>14}" + "".join(f"{'h=' + str(h):>9}" for h in horizons)
        lines = [
            f"origin {self.origin}, {self.n_entities} entities scored, {len(self.skipped)} skipped",
            "MAPE % of entity totals",
            head,
        ]
        lines += [
            f"{m:>14}" + "".join(f"{self.mape[m][h]:9.2f}" for h in horizons) for m in methods
        ]
        lines += ["p10-p90 band coverage (entity-grade counts)", head]
        lines += [
            f"{m:>14}" + "".join(f"{self.coverage[m][h]:9.3f}" for h in horizons) for m in methods
        ]
        lines += [
            f"MAPE % by grade, h=1..{horizons[-1]}",
            f"{'grade':>6}" + "".join(f"{m:>{9 * len(horizons)}}" for m in methods),
        ]
        for g in self.by_grade[methods[0]]:
            cells = "".join(f"{self.by_grade[m][g][h]:9.2f}" for m in methods for h in horizons)
            lines.append(f"{g:>6}{cells}")
        return "\n".join(lines)


def _mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    keep = actual > 0
    if not keep.any():
        return float("nan")
    return round(float(100 * np.mean(np.abs(forecast[keep] - actual[keep]) / actual[keep])), 3)


def backtest(
    panel: Panel,
    horizon: int,
    methods: list[str] | None = None,
    min_years: int = 3,
    origin: int | None = None,
    min_size: float = 0.0,
) -> Backtest:
    """Fit on the years up to ``origin`` and score each method on the next ``horizon`` years.

    Parameters
    ----------
    panel : Panel
        Validated history.
    horizon : int
        Held-out years (>= 1); by default the last ``horizon`` years of the panel.
    methods : list of str, optional
        Methods to score; default every method (``births`` only when births are given).
    min_years : int
        Years of history an entity needs before the origin to be scored.
    origin : int, optional
        Last fitting year (rolling-origin evaluation); default ``last year - horizon``.
    min_size : float
        Score only entities with at least this many pupils in the origin year.

    Returns
    -------
    Backtest
        Entities with too few years are skipped with a warning, not an error.
    """
    from sim.education.forecast_methods import METHODS

    _check_horizon(horizon)
    origin = int(panel.years[-1]) - horizon if origin is None else origin
    if origin + horizon > panel.years[-1] or origin - panel.years[0] + 1 < min_years:
        msg = (
            f"backtest needs {min_years} history years before {horizon} held-out year(s); the "
            f"history has {panel.years[0]}..{panel.years[-1]} ({len(panel.years)} years)"
        )
        raise InputDataError(msg)
    if methods is None:
        methods = [m for m in METHODS if m != "births" or panel.births is not None]
    train = panel.until(origin)
    t0 = len(train.years)
    held = panel.counts[:, t0 : t0 + horizon]
    scored = (train.observed.sum(axis=1) >= min_years) & train.observed[:, -1]
    scored &= ~np.isnan(held[:, :, 0]).any(axis=1)
    scored &= np.nan_to_num(train.counts[:, -1]).sum(axis=1) >= min_size
    # entities alive at the origin or later that cannot be scored; long-closed ones are not news
    short = ~scored & panel.observed[:, t0 - 1 : t0 + horizon].any(axis=1)
    short &= np.nan_to_num(train.counts[:, -1]).sum(axis=1) >= min_size
    skipped = [str(e) for e in panel.entities[short]]
    if skipped:
        warnings.warn(
            f"backtest skips {len(skipped)} entities with fewer than {min_years} years up to "
            f"{origin} or missing in a held-out year (opened or closed; e.g. "
            f"{', '.join(skipped[:3])})",
            stacklevel=2,
        )
    if not scored.any():
        msg = f"no entity has {min_years} years up to {origin} and all held-out years"
        raise InputDataError(msg)
    actual = np.nan_to_num(held[scored])
    mape: dict[str, dict[int, float]] = {}
    by_grade: dict[str, dict[str, dict[int, float]]] = {}
    coverage: dict[str, dict[int, float]] = {}
    for name in methods:
        fn = _method(name)
        fc_all = fn(train, horizon)
        p10, p90 = calibrate_band(train, fn, horizon).apply(fc_all)
        fc, p10, p90 = fc_all[scored], p10[scored], p90[scored]
        hs = range(1, horizon + 1)
        mape[name] = {h: _mape(fc[:, h - 1].sum(1), actual[:, h - 1].sum(1)) for h in hs}
        by_grade[name] = {
            grade_label(g): {h: _mape(fc[:, h - 1, g], actual[:, h - 1, g]) for h in hs}
            for g in range(N_GRADES)
            if (actual[:, :, g] > 0).any()
        }
        rows = train.offered[scored, -1][:, None, :] | (fc > 0)
        inside = (actual >= p10) & (actual <= p90)
        coverage[name] = {
            h: round(float(inside[:, h - 1][rows[:, h - 1]].mean()), 3)
            if not np.isnan(p10).all()
            else float("nan")
            for h in hs
        }
    return Backtest(mape, by_grade, coverage, origin, int(scored.sum()), skipped)
