"""Adversarial synthetic enrollment histories for the forecast tests.

Each builder returns rows ``(entity, grade, year, enrollment)`` of a history with one
difficulty a real bureau's records have: few grades, an entry grade fed from schools
outside the data, openings, closures and grade changes, a shock year, a short history.
The generating process is cohort survival with noise that is not any forecast method's
own model: ratios drift per school, entries follow a random walk with a city trend.
"""

from __future__ import annotations

import numpy as np


def history(
    rng: np.random.Generator,
    n: int = 80,
    years: int = 9,
    grades: tuple[int, int] = (0, 5),
    start: int = 2010,
    trend: float = -0.02,
    shock: int | None = None,
    churn: bool = False,
) -> list[tuple]:
    """Schools teaching ``grades`` (lo, hi) for ``years`` years.

    ``trend`` is the city's yearly entry change; ``shock`` (a year index) cuts every
    count that year by 12 % (half of it recovers the next year); ``churn`` opens a tenth
    of the schools during the history (phasing grades in), closes a tenth, and lets a
    tenth add or drop their top grade half-way.
    """
    lo, hi = grades
    rows: list[tuple] = []
    for e in range(n):
        size = rng.lognormal(np.log(80), 0.6)
        ratio = rng.normal(1.0, 0.04, hi - lo)
        drift = rng.normal(0.0, 0.04)
        first, last, top = 0, years, hi
        kind = rng.random() if churn else 1.0
        if kind < 0.1:
            first = int(rng.integers(2, years - 2))
        elif kind < 0.2:
            last = int(rng.integers(years - 4, years - 1))
        elif kind < 0.3:
            top = hi - 1 if rng.random() < 0.5 else hi
        cur = size * np.exp(rng.normal(0, 0.05, hi - lo + 1))
        entry = size
        for t in range(years):
            entry *= np.exp(trend + drift * 0.3 + rng.normal(0, 0.06))
            nxt = np.empty(hi - lo + 1)
            nxt[0] = entry
            r = ratio * np.exp(rng.normal(0, 0.03, hi - lo))
            nxt[1:] = cur[:-1] * r
            if shock is not None and t == shock:
                nxt *= 0.88
            elif shock is not None and t == shock + 1:
                nxt *= 1.06
            cur = nxt
            if t < first or t >= last:
                continue
            span_top = min(hi, lo + (t - first)) if first else hi
            span_top = min(span_top, top if t >= years // 2 else hi)
            counts = rng.poisson(np.maximum(cur, 0.0))
            rows += [(f"s{e}", lo + g, start + t, int(counts[g])) for g in range(span_top - lo + 1)]
    return rows


CASES = {
    "k5": {"grades": (0, 5)},
    "few_grades_9_12": {"grades": (9, 12), "trend": 0.03},
    "two_grades": {"grades": (1, 2)},
    "middle_entry_outside": {"grades": (6, 8), "trend": -0.04},
    "churn": {"grades": (0, 8), "churn": True},
    "shock": {"grades": (0, 5), "shock": 5},
    "short": {"grades": (0, 5), "years": 5},
    "growing": {"grades": (0, 5), "trend": 0.05},
}
"""Named histories: the keyword arguments of :func:`history` for each difficulty."""
