"""Departure-time choice over the AM period: desired arrivals and schedule-delay penalties.

Each trip has a desired arrival time (its work start, its school's start, a flexible
time for other purposes) and picks a 5-minute departure bin between
:data:`CHOICE_START` (the warm-up, :data:`WARMUP_MIN` before :data:`AM_START`) and
:data:`AM_END` by a logit on travel time, minutes early, minutes late and a penalty
for being late at all, with the coefficients of Small (1982), *The scheduling of
consumer activities: work trips*, American Economic Review 72(3), model 1: travel time
−0.106, early −0.065, late −0.254 per minute, late at all −0.58.

A car trip's time depends on when it leaves: the static assignment of the busiest hour
gives each route's delay; a bin carrying a flow rate ``r`` of the busiest hour's ``R``
has that delay times ``(r / R) ** 4`` (the BPR curve's power), capped at
:data:`MAX_DELAY_RATIO`. The busiest hour, :func:`peak_hour`, is an output.

The warm-up. A trip whose best departure is before 06:00 (an early shift far from home)
leaves then: without the warm-up's bins the logit had to put it in the AM period's first
bin (on the default city about 2,000 cars, on top of the ~800 that want 06:00-06:05),
a burst the dynamic model loaded onto an empty network at once.
Bin ``b`` of a trip is the AM period's bin ``b`` (0 .. :data:`N_BINS` − 1, what
:func:`bin_label` names) or a warm-up bin (−:data:`WARMUP_BINS` .. −1, 05:00-05:55).
The dynamic model loads the warm-up's vehicles before the AM period (they are on the
roads when it starts); the AM period's profile, busiest hour and KPIs count its own bins
only. The warm-up's bins are at free flow in the choice (delay factor 0: their
departure rate is not in the loop's profile, which is the AM period's; on the default
city its busiest bin carries under an eighth of the busiest hour's mean bin, so
``(r / R) ** 4`` would be below 3e-4). Toll
windows are on the clock over all :data:`CHOICE_BINS` bins (:func:`charged_bins`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.kernels import choice
from sim.policies import Policy, StaggeredSchoolStart

AM_START, AM_END, BIN_MIN = 6 * 60, 10 * 60, 5
N_BINS = (AM_END - AM_START) // BIN_MIN
BINS_PER_HOUR = 60 // BIN_MIN
#: Minutes before :data:`AM_START` in which a trip may leave (see the module: the warm-up).
WARMUP_MIN = 60
WARMUP_BINS = WARMUP_MIN // BIN_MIN
#: Bins of the departure choice: the warm-up's, then the AM period's.
CHOICE_BINS = WARMUP_BINS + N_BINS
CHOICE_START = AM_START - WARMUP_MIN
#: Small (1982) model 1: travel time, early, late (per minute), late at all.
SCHEDULE_COEF = np.array([-0.106, -0.065, -0.254, -0.58])
#: Work start times 06:30..10:00 (minutes after midnight) and their shares: an assumption
#: (office hours 08:00-09:00 dominate, shifts and retail spread them) that puts about 35-40 %
#: of the AM period's cars in its busiest hour, as peak-hour factors of 0.35 have it;
#: calibrate to a city's survey.
WORK_STARTS = np.arange(6 * 60 + 30, 10 * 60 + 1, 30)
WORK_START_SHARES = np.array([0.07, 0.12, 0.16, 0.22, 0.16, 0.15, 0.07, 0.05])
#: School start when a city gives none (08:00: Chile's jornada escolar completa and
#: most Chinese primary schools).
SCHOOL_START_MIN = 8 * 60
#: Pupils aim to arrive this many minutes before the bell.
SCHOOL_MARGIN_MIN = 5.0
#: Other purposes (shops, errands, care) want to arrive uniformly in this window.
OTHER_WINDOW = (8 * 60, 10 * 60)
#: Delay factor of a bin busier than the busiest hour's mean rate, at most.
MAX_DELAY_RATIO = 2.0
#: Bins of the moving average that turns 5-minute departures into a flow rate.
RATE_WINDOW = 3


def school_starts(
    level: np.ndarray, ids: list[str], policies: Sequence[Policy], year: int
) -> np.ndarray:
    """Start time of each school (minutes after midnight) under the shifts in force.

    ``level`` is 0 (primary) or 1 (junior) per school. Every school starts at
    :data:`SCHOOL_START_MIN`; a ``staggered_school_start`` of the second form moves its
    level's or its listed schools' start by ``shift_min``; a later-dated shift of a school
    replaces an earlier one (shifts do not add up).
    """
    start = np.full(len(ids), float(SCHOOL_START_MIN))
    shifts = [
        p
        for p in policies
        if isinstance(p, StaggeredSchoolStart) and p.shift_min is not None and p.year <= year
    ]
    for pol in sorted(shifts, key=lambda q: q.year):
        if pol.level is not None:
            rows = np.asarray(level) == (0 if pol.level == "primary" else 1)
        else:
            rows = np.isin(ids, pol.schools or [])
        start[rows] = SCHOOL_START_MIN + float(pol.shift_min or 0)
    return start


def work_arrivals(n: int, rng: np.random.Generator) -> np.ndarray:
    """Desired arrival times of ``n`` commutes (a start time minus nothing: on time)."""
    return WORK_STARTS[rng.choice(len(WORK_STARTS), size=n, p=WORK_START_SHARES)].astype(float)


def other_arrivals(n: int, rng: np.random.Generator) -> np.ndarray:
    """Desired arrival times of ``n`` flexible trips (uniform over :data:`OTHER_WINDOW`)."""
    return rng.uniform(*OTHER_WINDOW, size=n)


def delay_ratio(departures: np.ndarray) -> np.ndarray:
    """The congestion-delay factor of each choice bin from vehicles departing per AM bin.

    ``departures`` has the AM period's :data:`N_BINS` bins; the result has
    :data:`CHOICE_BINS`, the warm-up's first (at free flow: 0, see the module).
    """
    kernel = np.ones(RATE_WINDOW) / RATE_WINDOW
    rate = np.convolve(departures, kernel, mode="same")
    start = peak_hour(departures)
    peak = departures[start : start + BINS_PER_HOUR].mean()
    am = np.ones(len(departures)) if peak <= 0 else np.minimum((rate / peak) ** 4, MAX_DELAY_RATIO)
    return np.concatenate([np.zeros(WARMUP_BINS), am])


def peak_hour(departures: np.ndarray) -> int:
    """First bin of the busiest 60 minutes of ``departures`` (per bin); the earliest on ties."""
    hourly = np.convolve(departures, np.ones(BINS_PER_HOUR), mode="valid")
    return int(np.argmax(hourly))


def schedule_arguments(
    desired: np.ndarray,
    free_min: np.ndarray,
    delay_min: np.ndarray,
    ratio: np.ndarray,
    toll_min: np.ndarray | None = None,
    charged: np.ndarray | None = None,
) -> tuple:
    """The ``schedule`` argument of the departure kernels of :mod:`sim.kernels.choice`.

    A schedule-delay logit over the :data:`CHOICE_BINS` bins from :data:`CHOICE_START`
    with :data:`SCHEDULE_COEF` (:func:`sim.kernels.choice.departure_probabilities`):
    ``ratio`` and ``charged`` have :data:`CHOICE_BINS` entries (:func:`delay_ratio`,
    :func:`charged_bins`; column ``j`` is bin ``j − WARMUP_BINS``, else ``ValueError``);
    ``toll_min`` (minutes of toll per trip, none by default) is paid by trips leaving in
    a ``charged`` bin.
    """
    n = len(desired)
    for name, arr in (("ratio", ratio), ("charged", charged)):
        if arr is not None and len(arr) != CHOICE_BINS:
            raise ValueError(f"{name} has {len(arr)} bins, the departure choice {CHOICE_BINS}")
    return (
        np.ascontiguousarray(desired, dtype=np.float64),
        np.ascontiguousarray(free_min, dtype=np.float64),
        np.ascontiguousarray(delay_min, dtype=np.float64),
        np.ascontiguousarray(ratio, dtype=np.float64),
        np.zeros(n) if toll_min is None else np.ascontiguousarray(toll_min, dtype=np.float64),
        np.zeros(CHOICE_BINS)
        if charged is None
        else np.ascontiguousarray(charged, dtype=np.float64),
        float(CHOICE_START),
        float(BIN_MIN),
        SCHEDULE_COEF,
    )


def choose_bins(
    desired: np.ndarray,
    free_min: np.ndarray,
    delay_min: np.ndarray,
    ratio: np.ndarray,
    uniform: np.ndarray,
    toll_min: np.ndarray | None = None,
    charged: np.ndarray | None = None,
) -> np.ndarray:
    """Departure bin of each trip (−:data:`WARMUP_BINS` .. :data:`N_BINS` − 1, int16).

    The schedule-delay logit of :func:`schedule_arguments`, drawn by the inverse CDF at
    ``uniform`` (:func:`sim.kernels.choice.departure_draws`).
    """
    args = schedule_arguments(desired, free_min, delay_min, ratio, toll_min, charged)
    drawn = choice.departure_draws(args, np.ascontiguousarray(uniform, dtype=np.float64))
    return (drawn - WARMUP_BINS).astype(np.int16)


def charged_bins(windows: list[tuple[str, str]]) -> np.ndarray:
    """1.0 for each of the :data:`CHOICE_BINS` bins whose departure lies in a window.

    ``windows`` are ``(start, end)`` clock times ``HH:MM``; the warm-up's bins come first.
    """
    mid = CHOICE_START + (np.arange(CHOICE_BINS) + 0.5) * BIN_MIN
    out = np.zeros(CHOICE_BINS)
    for start, end in windows:
        lo, hi = (int(t[:2]) * 60 + int(t[3:]) for t in (start, end))
        out[(mid >= lo) & (mid < hi)] = 1.0
    return out


def bin_label(b: int) -> str:
    """``HH:MM`` at the start of bin ``b`` (negative: a warm-up bin)."""
    t = AM_START + b * BIN_MIN
    return f"{t // 60:02d}:{t % 60:02d}"
