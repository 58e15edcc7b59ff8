"""The departure choice's warm-up (05:00-06:00): early trips leave before the AM period.

Expected values are computed here from the trips' desired arrivals and free-flow times
(the departure that arrives on time), not from the module's bins: without the warm-up a
trip whose on-time departure is before 06:00 could only leave at 06:00-06:05, the burst
that jammed the dynamic model (issue 13).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mobility import departure as dep

# Small (1982) model 1, typed from the paper: early and late (per minute), late at all
SMALL_EARLY, SMALL_LATE, SMALL_LATE_AT_ALL = -0.065, -0.254, -0.58


def _choose(desired: np.ndarray, free: np.ndarray, seed: int = 0) -> np.ndarray:
    n = len(desired)
    u = np.random.default_rng(seed).random(n)
    ratio = dep.delay_ratio(np.full(dep.N_BINS, 100.0))  # no delay: free flow is the time
    return dep.choose_bins(desired, free, np.zeros(n), ratio, u)


def test_an_early_shift_far_from_home_leaves_in_the_warm_up() -> None:
    # work at 06:30 after 40 minutes: on time is leaving at 05:50; the bin 05:45-05:50
    # (mid 05:47:30) arrives 2.5 min early, 05:50-05:55 2.5 min late (+ the late penalty)
    n = 100_000
    bins = _choose(np.full(n, 390.0), np.full(n, 40.0))
    assert bins.min() >= -dep.WARMUP_BINS
    mode = int(np.bincount(bins + dep.WARMUP_BINS).argmax()) - dep.WARMUP_BINS
    assert dep.bin_label(mode) == "05:45"
    # by hand: bin k minutes off on-time (k = 5 j + 2.5 early, 5 j + 2.5 late)
    early = [math.exp(SMALL_EARLY * (5 * j + 2.5)) for j in range(10)]  # 05:45 back to 05:00
    late = [math.exp(SMALL_LATE * (5 * j + 2.5) + SMALL_LATE_AT_ALL) for j in range(50)]
    before_six = (sum(early) + sum(late[:2])) / (sum(early) + sum(late))  # 05:50, 05:55 late
    assert (bins < 0).mean() == pytest.approx(before_six, abs=0.002)
    # the AM bins alone put 1 - exp(-0.254 * 5) = 72 % of them at 06:00-06:05
    assert (bins == 0).mean() < 0.01


def test_smooth_desired_arrivals_leave_smoothly_across_06_00() -> None:
    # work starts spread over 06:30-10:00, 10 to 60 minutes from home: the on-time
    # departures (desired - free) are smooth from 05:30, so no bin should pile up
    rng = np.random.default_rng(3)
    n = 200_000
    desired = rng.uniform(390.0, 600.0, n)
    free = rng.uniform(10.0, 60.0, n)
    bins = _choose(desired, free)
    counts = np.bincount(bins + dep.WARMUP_BINS, minlength=dep.CHOICE_BINS)
    on_time = desired - free  # minutes after midnight
    ideal = np.bincount(((on_time - dep.CHOICE_START) // dep.BIN_MIN).astype(np.int64),
                        minlength=dep.CHOICE_BINS)  # fmt: skip
    first = dep.WARMUP_BINS  # 06:00-06:05
    # the choice leaves a little early: before 06:00 at least as many as on time would
    assert counts[:first].sum() >= 0.95 * ideal[:first].sum() > 0.03 * n
    # 06:00-06:05 is like its neighbours and no bin exceeds the busiest on-time bin by much
    assert counts[first] < 1.3 * max(counts[first - 1], counts[first + 1])
    assert counts.max() < 1.2 * ideal.max()


def test_toll_windows_are_on_the_clock_over_the_warm_up() -> None:
    charged = dep.charged_bins([("05:30", "06:30")])
    assert len(charged) == dep.CHOICE_BINS
    # 05:30-06:00 is warm-up bins 6..11, 06:00-06:30 AM bins 0..5 (choice columns 12..17)
    assert charged.nonzero()[0].tolist() == list(range(6, 18))
    with pytest.raises(ValueError, match="bins"):  # an AM-only array is refused
        dep.choose_bins(np.ones(1), np.ones(1), np.zeros(1), np.ones(dep.N_BINS), np.zeros(1))
