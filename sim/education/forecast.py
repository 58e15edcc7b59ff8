"""Enrollment forecasts from a bureau's own records, with honest bands and a backtest.

:func:`forecast` runs one method of :mod:`sim.education.forecast_methods` on a
:class:`~sim.education.panel.Panel` (see :func:`~sim.education.panel.load_history`) and
adds a p10-p90 band calibrated on the entity's own past forecast errors (rolling
origins); :func:`backtest` holds out the last years and reports MAPE of entity totals
per horizon, method and grade, and the band coverage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.education.forecast_methods import (
    DEFAULT_METHOD,
    METHODS,
    Method,
    births_entry_path,
    entry_grades,
)
from sim.education.panel import N_GRADES, Panel
from sim.errors import InputDataError
from sim.inputs import preview

# --- bands -------------------------------------------------------------------------

BAND_QUANTILES = (0.1, 0.9)
MIN_RESIDUALS = 30  # per size class and horizon
ROWS_PER_CLASS = 300  # residuals per forecast-size class
RECENCY = 0.7  # weight of a rolling origin one year older than the next


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
            f = fc[:, h]
            cls = np.minimum(np.searchsorted(self.edges[k], f), len(self.edges[k]) - 1)
            log_f = np.log1p(f)
            scale = ((h + 1) / last) ** self.growth if h >= last else 1.0
            p10[:, h] = np.expm1(log_f + scale * self.low[k][cls])
            p90[:, h] = np.expm1(log_f + scale * self.high[k][cls])
        return np.maximum(p10, 0.0), p90


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` with weights ``w`` (the weighted empirical CDF, midpoints)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return float(np.interp(q, cdf, xs))


def _size_classes(
    f: np.ndarray, r: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted quantiles of residuals ``r`` (weights ``w``) by class of forecast size ``f``.

    The classes hold equal counts.
    """
    order = np.argsort(f, kind="stable")
    parts = np.array_split(order, max(1, len(f) // ROWS_PER_CLASS))
    edges = np.array([f[p[-1]] for p in parts])
    edges[-1] = np.inf
    lo_q, hi_q = BAND_QUANTILES
    low = np.array([min(weighted_quantile(r[p], w[p], lo_q), 0.0) for p in parts])
    high = np.array([max(weighted_quantile(r[p], w[p], hi_q), 0.0) for p in parts])
    return edges, low, high


def rolling_residuals(
    panel: Panel, method: Method, horizon: int, min_years: int = 2
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Past forecast errors of ``method`` from every origin with ``min_years`` of history.

    Returns, per horizon ``1..horizon``, the forecasts, log errors
    ``log(actual + 1) - log(forecast + 1)`` and weights of every entity-grade forecast
    whose year is in the panel. An origin ``k`` years before the latest one weighs
    ``RECENCY ** k``: recent errors tell more about the next ones (a method fitted on a
    longer history, in the current regime).
    """
    out: list[tuple[list, list, list]] = [([], [], []) for _ in range(horizon)]
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
            out[h][2].append(np.full(int(rows.sum()), RECENCY ** (n_years - 2 - h - t)))
    return [(np.concatenate(f), np.concatenate(r), np.concatenate(w)) for f, r, w in out if f]


def calibrate_band(panel: Panel, method: Method, horizon: int) -> Band:
    """Fit a :class:`Band` from the panel's own rolling-origin forecast errors.

    Horizons with fewer than ``MIN_RESIDUALS`` errors are not calibrated directly: the
    last calibrated spread grows as ``h ** growth``, with ``growth`` measured between
    horizon 1 and the last calibrated one (clipped to 0.5..1.5: from random-walk errors to
    compounding trend errors; 1, linear, when only horizon 1 is known).
    """
    edges, low, high = [], [], []
    for f, r, w in rolling_residuals(panel, method, horizon):
        if len(r) < MIN_RESIDUALS:
            break
        e, lo, hi = _size_classes(f, r, w)
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
    if name not in METHODS:
        msg = f"method {name!r} is not known; allowed: {', '.join(METHODS)}"
        raise InputDataError(msg)
    return METHODS[name]


MAX_HORIZON = 30  # years; the bands are calibrated on far shorter histories anyway


def _check_horizon(horizon: int) -> None:
    if not isinstance(horizon, int | np.integer) or not 1 <= horizon <= MAX_HORIZON:
        msg = (
            f"horizon {preview(horizon)} is not allowed; give a whole number of years "
            f"1..{MAX_HORIZON}"
        )
        raise InputDataError(msg)


def grade_label(grade: int) -> str:
    """``"K"`` for kindergarten (0), else the grade number as text."""
    return "K" if grade == 0 else str(grade)


def _warn_missing_births(panel: Panel, horizon: int, alive: np.ndarray) -> None:
    """Warn about entities whose entry grades cannot be driven by births."""
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
        Validated history (see :func:`sim.education.panel.load_history`).
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
            "grade": [grade_label(int(x)) for x in g],
            "year": panel.years[-1] + 1 + h,
            "forecast": fc[e, h, g].round(2),
            "p10": p10[e, h, g].round(2),
            "p90": p90[e, h, g].round(2),
        }
    )


COMPONENT_COLUMNS = (
    "entity",
    "year",
    "forecast",
    "carried_from_grade_below",
    "progression",
    "entry_cohort",
)


def forecast_components(panel: Panel, horizon: int, method: str | None = None) -> pd.DataFrame:
    """Each entity's forecast total split into cohorts times ratios (ratios × cohorts).

    Per entity taught in the last year and forecast year: ``carried_from_grade_below`` is
    the pupils one grade below a year earlier (the last history year, then the forecast)
    in the grades it teaches that are not entry grades; ``progression`` is what the
    grade-progression ratios add to or take from them; ``entry_cohort`` is the entry
    grades' forecast (kindergarten, or a grade whose grade below is not taught). The
    three add up to ``forecast``, the sum over grades of :func:`forecast`'s rows.
    """
    _check_horizon(horizon)
    fc = _method(method or DEFAULT_METHOD)(panel, horizon)
    last = np.nan_to_num(panel.counts[:, -1]) * panel.offered[:, -1]
    prev = np.concatenate([last[:, None], fc[:, :-1]], axis=1)
    entry = entry_grades(panel)[:, None, :]
    taught = (fc > 0) | panel.offered[:, -1][:, None, :]
    cohort = np.zeros_like(fc)
    cohort[:, :, 1:] = prev[:, :, :-1]
    carry = taught & ~entry
    carry[:, :, 0] = False
    carried = (cohort * carry).sum(axis=2)
    total = fc.sum(axis=2)
    entry_total = total - (fc * carry).sum(axis=2)
    alive = np.flatnonzero(panel.observed[:, -1])
    e, h = np.repeat(alive, horizon), np.tile(np.arange(horizon), len(alive))
    return pd.DataFrame(
        {
            "entity": panel.entities[e],
            "year": panel.years[-1] + 1 + h,
            "forecast": total[e, h].round(2),
            "carried_from_grade_below": carried[e, h].round(2),
            "progression": (total - entry_total - carried)[e, h].round(2),
            "entry_cohort": entry_total[e, h].round(2),
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
