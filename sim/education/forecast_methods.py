"""Point-forecast methods on an enrollment :class:`~sim.education.panel.Panel`.

Every method is cohort survival: grade ``g`` next year is grade ``g-1`` this year times
a grade-progression ratio, and each entry grade (kindergarten, or a grade whose
preceding grade the entity does not teach, e.g. 6 in a middle school or 9 in a high
school) gets its own rule. Methods differ in how they estimate ratios and entries:

``gpr``
    The school-district practice: ratio = pupils in grade ``g`` over pupils in grade
    ``g-1`` a year before, summed over the last two transitions (a pupil-weighted mean);
    entry grades held at their mean of the last three years.
``shrunk``
    Ratios from the last three transitions (recent ones weighted more), shrunk toward a
    prior in proportion to how few pupils they rest on (empirical Bayes). The prior is the
    pooled ratio of entities with the same grade span times the entity's own mobility
    factor (how its pupils progress overall, over all its grades). A grade whose ratio
    exceeds 1.5 is fed mostly from outside (a transfer or alternative programme) and is
    treated as an entry grade. Entry grades follow a damped trend, shrunk toward the
    pooled trend of all entities the more the smaller the cohort. A school phasing grades
    in (its top grade rose last year) keeps adding one grade a year up to 5, 8 or 12.
``births``
    ``shrunk`` ratios, and the kindergarten or first entry grade driven by births
    ``5 + grade`` years earlier times the entity's recent entry-per-birth rate.

``blend``
    The mean of ``gpr`` and ``shrunk``.
``auto`` (the default)
    Per group of entities teaching the same grade span and per horizon, the candidate
    (``shrunk``, ``blend``, ``births`` when births are given) that clearly beat ``gpr`` in a
    rolling-origin backtest on the panel's own history, else ``gpr``; ``gpr`` throughout
    when the history is too short to tell. No constant is fitted to any one data set.

A method returns forecasts of shape ``(n, horizon, 13)`` for the years after the panel's
last year; grades an entity does not teach in its last year are 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.education.panel import Panel

ENTRY_AGE_K = 5  # age at kindergarten entry (US); grade g is entered at 5 + g
GROUP_PRIOR_SCALE = 10.0  # a grade-span group's ratio leans on the all-entity one this much more
Method = Callable[[Panel, int], np.ndarray]


@dataclass(frozen=True)
class CohortParams:
    """Knobs of the cohort-survival family (defaults are the plain ``gpr`` method)."""

    transitions: int = 2  # last k transitions that estimate a ratio
    decay: float = 1.0  # weight of a transition one year older
    prior_pupils: float = 0.0  # empirical-Bayes prior strength (pupils) toward pooled ratio
    factor_prior: float = 1e9  # prior strength (pupils) of the entity mobility factor toward 1
    entry_years: int = 3  # years averaged for the entry level
    entry_decay: float = 1.0  # weight of an entry count one year older
    entry_trend: bool = False  # damped trend on entry grades
    damping: float = 0.8  # trend damping per year ahead
    trend_prior: float = 3.0  # prior strength (years) toward the pooled entry trend
    trend_pupils: float = 0.0  # entry size at which that prior strength doubles
    grow_grades: bool = False  # schools phasing grades in keep adding one a year
    inflow_ratio: float = 0.0  # a grade whose ratio exceeds this is fed from outside: entry


def entry_grades(panel: Panel, window: int = 3) -> np.ndarray:
    """Bool ``(n, 13)``: grades taught in the last year whose preceding grade was not taught.

    The preceding grade is looked at over the last ``window`` years, so a school that
    phases out its lower grades keeps progressing the cohorts it still has.
    """
    offered_last = panel.offered[:, -1]
    prev_taught = np.asarray(panel.offered[:, -window:].any(axis=1))
    entry = offered_last.copy()
    entry[:, 1:] &= ~prev_taught[:, :-1]
    return entry


def transition_sums(panel: Panel, k: int, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted numerator and denominator of the ratios over the last ``k`` transitions.

    Returns ``(num, den)`` of shape ``(n, 13)``: ``num[:, g] = sum_t w_t E[g, t]`` and
    ``den[:, g] = sum_t w_t E[g-1, t-1]`` over transitions whose two years both exist;
    column 0 is zero.
    """
    c = panel.counts
    n, years, _ = c.shape
    num = np.zeros((n, 13))
    den = np.zeros((n, 13))
    for j in range(min(k, years - 1)):
        t = years - 1 - j
        both = ~np.isnan(c[:, t, 0]) & ~np.isnan(c[:, t - 1, 0])
        w = decay**j * both[:, None]
        num[:, 1:] += w * np.nan_to_num(c[:, t, 1:])
        den[:, 1:] += w * np.nan_to_num(c[:, t - 1, :-1])
    return num, den


def _top_grade(offered: np.ndarray) -> np.ndarray:
    """Highest grade taught per entity in ``offered`` ``(n, 13)``; -1 when none."""
    return np.where(offered.any(axis=1), 12 - offered[:, ::-1].argmax(axis=1), -1)


def _phase_in_end(panel: Panel) -> np.ndarray:
    """Highest grade each entity will teach if it is phasing grades in.

    A school whose top grade rose last year (a new middle school that taught 6, then 6-7)
    keeps adding one grade a year up to the end of its school band (5, 8 or 12); other
    entities keep their top grade.
    """
    top = _top_grade(panel.offered[:, -1])
    if panel.offered.shape[1] < 2:
        return top
    before = _top_grade(panel.offered[:, -2])
    existed = panel.observed[:, -2]
    band_end = np.select([top < 5, top < 8], [5, 8], 12)
    growing = existed & (before >= 0) & (top > before)
    return np.where(growing, band_end, top)


def _span_groups(panel: Panel) -> np.ndarray:
    """Group id per entity: its lowest and highest grade taught in the last year."""
    off = panel.offered[:, -1]
    lo = np.where(off.any(axis=1), off.argmax(axis=1), -1)
    return lo * 13 + _top_grade(off)


def _pooled(num: np.ndarray, den: np.ndarray, groups: np.ndarray, prior: float) -> np.ndarray:
    """Pooled ratio per entity's group, itself shrunk toward the all-entity pooled ratio."""
    overall = np.divide(num.sum(0), den.sum(0), out=np.ones(13), where=den.sum(0) > 0)
    _, inv = np.unique(groups, return_inverse=True)
    gnum = np.zeros((inv.max() + 1, 13))
    gden = np.zeros_like(gnum)
    np.add.at(gnum, inv, num)
    np.add.at(gden, inv, den)
    strength = max(prior, 1.0) * GROUP_PRIOR_SCALE
    return ((gnum + strength * overall) / (gden + strength))[inv]


def ratios(panel: Panel, p: CohortParams, entry: np.ndarray) -> np.ndarray:
    """Grade-progression ratios ``(n, 13)``; column ``g`` maps grade ``g-1`` to ``g``.

    The prior for an entity's ratio is the pooled ratio of entities with its grade span
    times the entity's own mobility factor (its pupils' overall survival against that
    pooled pattern, from all its grades). The entity's own ratio is shrunk toward that
    prior with ``p.prior_pupils`` pseudo-pupils; ratios resting on no pupils at all (a
    school that just opened) take the prior.
    """
    num, den = transition_sums(panel, p.transitions, p.decay)
    use = ~entry & (den > 0)
    num, den = num * use, den * use
    pooled = _pooled(num, den, _span_groups(panel), p.prior_pupils)
    factor = (num.sum(1) + p.factor_prior) / ((pooled * den).sum(1) + p.factor_prior)
    prior = pooled * factor[:, None]
    r = (num + p.prior_pupils * prior) / np.maximum(den + p.prior_pupils, 1e-12)
    return np.where(den + p.prior_pupils > 0, r, prior)


def _entry_history(panel: Panel, years: int) -> tuple[np.ndarray, np.ndarray]:
    """Entry-grade counts of the last ``years`` years and where they are usable."""
    c = panel.counts[:, -years:]
    usable = panel.offered[:, -years:] & ~np.isnan(c)
    return np.nan_to_num(c), usable


def entry_levels(panel: Panel, p: CohortParams) -> np.ndarray:
    """Entry level ``(n, 13)``: weighted mean over the last ``p.entry_years`` taught years.

    A year ``j`` years before the last weighs ``p.entry_decay ** j``.
    """
    c, usable = _entry_history(panel, p.entry_years)
    w = usable * p.entry_decay ** np.arange(c.shape[1] - 1, -1, -1.0)[None, :, None]
    total = w.sum(axis=1)
    return np.divide((c * w).sum(axis=1), total, out=np.zeros(total.shape), where=total > 0)


def entry_growth(panel: Panel, p: CohortParams, entry: np.ndarray) -> np.ndarray:
    """Relative yearly change of each entry grade ``(n, 13)``, shrunk toward the pooled one.

    The entity's own growth is the mean log change over the last ``p.entry_years`` years
    it taught the grade; it is shrunk toward the pooled change of all entities' entry grades
    with ``p.trend_prior`` pseudo-years, so short or noisy histories follow the city.
    """
    c, usable = _entry_history(panel, p.entry_years + 1)
    both = usable[:, 1:] & usable[:, :-1] & (c[:, 1:] > 0) & (c[:, :-1] > 0)
    logs = np.log(np.where(c > 0, c, 1.0))
    d = np.where(both, logs[:, 1:] - logs[:, :-1], 0.0)
    n_d = both.sum(axis=1)
    # pooled change: ratio of summed counts over entry grades present in both years
    w_both = both & entry[:, None, :]
    sum_now = (c[:, 1:] * w_both).sum(axis=(0, 2))
    sum_before = (c[:, :-1] * w_both).sum(axis=(0, 2))
    ok = sum_before > 0
    pooled = np.log(sum_now[ok] / sum_before[ok]).mean() if ok.any() else 0.0
    # small entry cohorts swing by chance: their own trend counts for less
    prior = p.trend_prior * (1.0 + p.trend_pupils / np.maximum(c[:, -1], 1.0))
    return (d.sum(axis=1) + prior * pooled) / (n_d + prior)


def cohort_forecast(
    panel: Panel, horizon: int, p: CohortParams, entry_path: np.ndarray | None = None
) -> np.ndarray:
    """Cohort-survival forecast ``(n, horizon, 13)`` with the estimation knobs ``p``.

    ``entry_path`` ``(n, horizon, 13)`` overrides the entry-grade values where finite.
    """
    entry = entry_grades(panel)
    if p.inflow_ratio:
        num, den = transition_sums(panel, p.transitions, p.decay)
        entry |= panel.offered[:, -1] & (num > p.inflow_ratio * den)
    r = ratios(panel, p, entry)
    level = entry_levels(panel, p)
    steps = np.arange(1, horizon + 1)
    if p.entry_trend:
        growth = entry_growth(panel, p, entry)
        # the level is a weighted mean centred `lag` years back; from there the growth
        # compounds undamped to the last year, then damped: 1 + phi + ... + phi^(h-1)
        w = p.entry_decay ** np.arange(min(p.entry_years, len(panel.years)))
        lag = float((w * np.arange(len(w))).sum() / w.sum())
        damp = lag + np.cumsum(p.damping ** (steps - 1.0))
        path = level[:, None, :] * np.exp(growth[:, None, :] * damp[None, :, None])
    else:
        path = np.broadcast_to(level[:, None, :], (len(level), horizon, 13))
    if entry_path is not None:
        path = np.where(np.isfinite(entry_path), entry_path, path)
    taught = panel.offered[:, -1]
    top = _top_grade(panel.offered[:, -1])
    stop = _phase_in_end(panel) if p.grow_grades else top
    out = np.empty((len(level), horizon, 13))
    cur = np.nan_to_num(panel.counts[:, -1]) * taught
    grades = np.arange(13)[None, :]
    for h in range(horizon):
        nxt = np.zeros_like(cur)
        nxt[:, 1:] = cur[:, :-1] * r[:, 1:]
        opened = (grades > top[:, None]) & (grades <= np.minimum(top + h + 1, stop)[:, None])
        nxt = np.where(entry, path[:, h], nxt) * (taught | opened)
        out[:, h] = nxt
        cur = nxt
    return out


GPR = CohortParams()
SHRUNK = CohortParams(
    transitions=3,
    decay=0.5,
    prior_pupils=300.0,
    factor_prior=100.0,
    entry_decay=0.5,
    entry_trend=True,
    damping=0.8,
    trend_prior=3.0,
    trend_pupils=1000.0,
    grow_grades=True,
    inflow_ratio=1.5,
)


def gpr(panel: Panel, horizon: int) -> np.ndarray:
    """Plain grade-progression ratios (last two transitions, entry held at 3-year mean)."""
    return cohort_forecast(panel, horizon, GPR)


def shrunk(panel: Panel, horizon: int) -> np.ndarray:
    """Empirical-Bayes ratios, damped pooled-shrunk entry trend, phased-in grades."""
    return cohort_forecast(panel, horizon, SHRUNK)


def births_entry_path(panel: Panel, horizon: int, p: CohortParams = SHRUNK) -> np.ndarray:
    """Entry counts ``(n, horizon, 13)`` from births; NaN where births are unknown.

    Entry grade ``g`` in year ``y`` is the births of year ``y - 5 - g`` times the entity's
    entry-per-birth rate, a weighted mean over its last ``p.entry_years`` years.
    """
    n = panel.counts.shape[0]
    path = np.full((n, horizon, 13), np.nan)
    if panel.births is None:
        return path
    entry = entry_grades(panel)
    c, usable = _entry_history(panel, p.entry_years)
    hist_years = panel.years[-p.entry_years :]
    grades = np.arange(13)

    table, birth_years = panel.births, panel.birth_years
    assert birth_years is not None

    def births_at(years: np.ndarray) -> np.ndarray:
        """Births ``(n, k, 13)`` in the calendar years ``years`` ``(k, 13)``; NaN outside."""
        col = years - birth_years[0]
        inside = (col >= 0) & (col < table.shape[1])
        out = np.full((n, *col.shape), np.nan)
        out[:, inside] = table[:, col[inside]]
        return out

    past = births_at(hist_years[:, None] - ENTRY_AGE_K - grades[None, :])
    ok = usable & (past > 0)
    w = ok * p.entry_decay ** np.arange(len(hist_years) - 1, -1, -1.0)[None, :, None]
    rate_num = (w * c).sum(axis=1)
    rate_den = (w * np.where(ok, past, 0.0)).sum(axis=1)
    rate = np.divide(rate_num, rate_den, out=np.full(rate_num.shape, np.nan), where=rate_den > 0)
    future = panel.years[-1] + np.arange(1, horizon + 1)
    ahead = births_at(future[:, None] - ENTRY_AGE_K - grades[None, :])
    path = rate[:, None, :] * ahead
    return np.where(entry[:, None, :], path, np.nan)


def births(panel: Panel, horizon: int) -> np.ndarray:
    """``shrunk`` with entry grades driven by births where they are known."""
    return cohort_forecast(panel, horizon, SHRUNK, births_entry_path(panel, horizon))


def blend(panel: Panel, horizon: int) -> np.ndarray:
    """The mean of ``gpr`` and ``shrunk`` (a forecast combination)."""
    return 0.5 * (gpr(panel, horizon) + shrunk(panel, horizon))


# --- auto: choose per entity group by rolling-origin backtest on the panel itself ----------

AUTO_MIN_YEARS = 4  # fewer history years: too few past errors to choose from, so gpr
AUTO_MIN_GROUP = 8  # a grade-span group smaller than this follows the all-entity choice
AUTO_MIN_T = 2.0  # a method replaces gpr only if it beats it by this many standard errors


def _candidates(panel: Panel) -> dict[str, Method]:
    """Methods ``auto`` chooses among; ``gpr`` first (the one it falls back to)."""
    out: dict[str, Method] = {"gpr": gpr, "shrunk": shrunk, "blend": blend}
    if panel.births is not None:
        out["births"] = births
    return out


def _rolling_losses(
    panel: Panel, methods: dict[str, Method], horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Absolute relative errors of entity totals from every rolling origin.

    Returns ``(loss, entity, origin, step)``: ``loss`` is ``(n_rows, n_methods)``; one
    row per entity with two or more years at the origin, present ``step`` years later
    with pupils.
    """
    losses, ents, origins, steps = [], [], [], []
    n_years = len(panel.years)
    totals = np.nansum(panel.counts, axis=2)
    for t in range(1, n_years - 1):
        past = panel.until(int(panel.years[t]))
        k = min(horizon, n_years - 1 - t)
        fcs = np.stack([fn(past, k).sum(axis=2) for fn in methods.values()], axis=-1)
        history = past.observed[:, -2:].all(axis=1)
        for h in range(k):
            actual = totals[:, t + 1 + h]
            rows = np.flatnonzero(history & panel.observed[:, t + 1 + h] & (actual > 0))
            err = np.abs(fcs[rows, h] - actual[rows, None]) / actual[rows, None]
            losses.append(err)
            ents.append(rows)
            origins.append(np.full(rows.size, t))
            steps.append(np.full(rows.size, h))
    if not losses:
        empty = np.empty(0, dtype=np.int64)
        return np.empty((0, len(methods))), empty, empty, empty
    return (
        np.concatenate(losses),
        np.concatenate(ents),
        np.concatenate(origins),
        np.concatenate(steps),
    )


def _better_than_gpr(loss: np.ndarray, origin: np.ndarray) -> int:
    """Index of the method that clearly beats column 0 (``gpr``) on these errors, else 0.

    Clearly: lower mean error over all rows by ``AUTO_MIN_T`` standard errors of the paired
    difference, and lower mean error in at least half of the origins (so one lucky or
    shock year does not decide), the latest one among them.
    """
    if len(loss) < 2 * AUTO_MIN_GROUP:
        return 0
    gain = loss[:, :1] - loss  # > 0 where the method beats gpr
    mean = gain.mean(axis=0)
    se = gain.std(axis=0, ddof=1) / np.sqrt(len(gain))
    uniq = np.unique(origin)
    by_origin = np.array([gain[origin == o].mean(axis=0) for o in uniq])
    wins = (by_origin > 0).sum(axis=0) >= max(2, int(np.ceil(len(uniq) / 2)))
    wins &= by_origin[-1] > 0  # and in the latest origin: the regime the forecast starts in
    ok = (mean > AUTO_MIN_T * np.maximum(se, 1e-12)) & wins
    ok[0] = True
    return int(np.argmax(np.where(ok, mean, -np.inf)))


def auto_choice(panel: Panel, horizon: int) -> tuple[list[str], np.ndarray]:
    """Method chosen per entity and forecast year by a backtest on the panel's own past.

    Every origin with two or more years behind it forecasts the years after it with every
    candidate; a candidate replaces ``gpr`` for an entity group (entities teaching the
    same grade span) at a horizon only when it beat ``gpr`` there clearly (see
    :func:`_better_than_gpr`). Groups with fewer than ``AUTO_MIN_GROUP`` entities, and
    entities that opened too recently to have been scored, follow the choice for all
    entities; a horizon scored from fewer than two origins follows the longest horizon
    that was scored from two or more. Histories of
    fewer than ``AUTO_MIN_YEARS`` years use ``gpr`` throughout.

    Returns
    -------
    names : list of str
        Candidate names; ``choice`` indexes them.
    choice : numpy.ndarray
        int ``(n, horizon)``.
    """
    methods = _candidates(panel)
    names = list(methods)
    n = len(panel.entities)
    choice = np.zeros((n, horizon), dtype=np.int64)
    if len(panel.years) < AUTO_MIN_YEARS:
        return names, choice
    loss, ent, origin, step = _rolling_losses(panel, methods, horizon)
    if not len(loss):
        return names, choice
    groups = _span_groups(panel)
    # a horizon scored from a single origin decides nothing: it follows a shorter one
    origins_at = np.array([len(np.unique(origin[step == h])) for h in range(horizon)])
    decided = np.flatnonzero(origins_at >= 2)
    if not decided.size:
        return names, choice
    for h in range(horizon):
        at = step == decided[decided <= h].max(initial=decided[0])
        choice[:, h] = _better_than_gpr(loss[at], origin[at])
        for g in np.unique(groups):
            members = groups == g
            rows = at & members[ent]
            if members.sum() >= AUTO_MIN_GROUP and rows.any():
                choice[members, h] = _better_than_gpr(loss[rows], origin[rows])
    return names, choice


def auto(panel: Panel, horizon: int) -> np.ndarray:
    """Per entity group and horizon, the candidate its own history backs (default ``gpr``)."""
    names, choice = auto_choice(panel, horizon)
    methods = _candidates(panel)
    used = np.unique(choice)
    fcs = {int(i): methods[names[int(i)]](panel, horizon) for i in used}
    out = np.zeros((len(panel.entities), horizon, 13))
    for i, fc in fcs.items():
        out = np.where((choice == i)[:, :, None], fc, out)
    return out


METHODS: dict[str, Method] = {
    "auto": auto,
    "gpr": gpr,
    "shrunk": shrunk,
    "blend": blend,
    "births": births,
}
DEFAULT_METHOD = "auto"
