"""Household kernels on plain arrays: household sizes and persons matched into households.

The synthetic population (:func:`sim.population.persons.fit_households`) groups persons
into households within each zone in two steps: :func:`household_sizes` splits each
group's target households into sizes that :func:`fit_sizes` adjusts to hold the group's
persons exactly, and :func:`match_households` seats persons in them by sorted age keys
(:func:`bucket_order`; heads drawn with :func:`headship_weight`). Randomness comes in as
pre-drawn uniform numbers, so every kernel is a deterministic function of its inputs and
is checked against a plain numpy twin in the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_KEY_STEPS = 16.0  # steps per year of the age keys of match_households


@njit(cache=True)
def fit_sizes(sizes: np.ndarray, n_households: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Adjust household sizes so each group's sizes add up to its persons.

    Parameters
    ----------
    sizes
        int32, household sizes of all groups one after another, each group's block sorted
        in descending order.
    n_households
        int64 (G,), households per group (the block lengths).
    persons
        int64 (G,), persons per group; must be >= the group's households.

    Returns
    -------
    np.ndarray
        A copy of ``sizes`` where, in each block, sizes were raised by one round-robin from
        the largest household while the block held too few persons, or lowered by one
        round-robin from the largest household (never below 1) while it held too many.
    """
    out = sizes.copy()
    start = 0
    for g in range(n_households.size):
        h = n_households[g]
        if h == 0:
            continue
        diff = persons[g]
        for i in range(start, start + h):
            diff -= out[i]
        while diff > 0:
            for i in range(start, start + h):
                if diff == 0:
                    break
                out[i] += 1
                diff -= 1
        while diff < 0:
            for i in range(start, start + h):
                if diff == 0:
                    break
                if out[i] > 1:
                    out[i] -= 1
                    diff += 1
        start += h
    return out


@njit(cache=True)
def household_sizes(
    size_targets: np.ndarray, persons: np.ndarray, adults: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Households per group and their sizes, adding up to each group's persons.

    Households per group = the group's target total rounded (half to even), but at least 1
    and at most one per adult (or 1 without adults), and 0 without persons. Size classes
    split it by largest-remainder rounding of the group's target shares (a group without
    targets uses the shares of all groups, or size 3 when no group has any; ties go to the
    smaller class), and :func:`fit_sizes` adjusts the sizes to the group's persons.

    Parameters
    ----------
    size_targets
        float64 (G, C) target households by size class 1..C (C = C and more).
    persons, adults
        int64 (G,) persons and adults per group.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        int64 (G,) households per group, and int32 their sizes, group by group, each
        group's block in descending order before the adjustment.
    """
    n_groups, n_classes = size_targets.shape
    fallback = np.zeros(n_classes)
    for c in range(n_classes):
        fallback[c] = size_targets[:, c].sum()
    if fallback.sum() > 0:
        fallback /= fallback.sum()
    else:
        fallback[min(2, n_classes - 1)] = 1.0
    counts = np.zeros((n_groups, n_classes), dtype=np.int64)
    n_hh = np.zeros(n_groups, dtype=np.int64)
    for g in range(n_groups):
        if persons[g] == 0:
            continue
        total = size_targets[g].sum()
        share = size_targets[g] / total if total > 0 else fallback
        n_hh[g] = min(max(round(total), 1), max(min(adults[g], persons[g]), 1))
        exact = share * n_hh[g]
        short = n_hh[g]
        for c in range(n_classes):
            counts[g, c] = np.floor(exact[c])
            short -= counts[g, c]
        # the classes with the largest remainders get the households still missing
        for c in np.argsort(counts[g] - exact, kind="mergesort")[:short]:
            counts[g, c] += 1
    sizes = np.empty(n_hh.sum(), dtype=np.int32)
    k = 0
    for g in range(n_groups):
        for c in range(n_classes - 1, -1, -1):
            for _ in range(counts[g, c]):
                sizes[k] = c + 1
                k += 1
    return n_hh, fit_sizes(sizes, n_hh, persons)


@njit(cache=True)
def headship_weight(age: float) -> float:
    """Relative chance that an adult heads a household: rises from 20 to about 35, then flat."""
    return min(max((age - 17.0) / 18.0, 0.05), 1.0)


@njit(cache=True)
def bucket_order(key: np.ndarray, lo: float, hi: float, per_unit: float) -> np.ndarray:
    """Indices that sort ``key`` clipped to [lo, hi] in steps of ``1 / per_unit``.

    A counting sort, stable (keys in one step keep their order): unlike a comparison sort
    on random keys, it does not stall on mispredicted branches. Its twin is
    ``np.argsort(np.floor((np.clip(key, lo, hi) - lo) * per_unit), kind="stable")``.
    """
    n_steps = int((hi - lo) * per_unit) + 1
    step = np.empty(key.size, dtype=np.int64)
    start = np.zeros(n_steps + 1, dtype=np.int64)
    for t in range(key.size):
        step[t] = int((min(max(key[t], lo), hi) - lo) * per_unit)
        start[step[t] + 1] += 1
    for b in range(n_steps):
        start[b + 1] += start[b]
    order = np.empty(key.size, dtype=np.int64)
    for t in range(key.size):
        order[start[step[t]]] = t
        start[step[t]] += 1
    return order


@njit(cache=True)
def match_households(
    group: np.ndarray,
    age: np.ndarray,
    n_households: np.ndarray,
    sizes: np.ndarray,
    head_draw: np.ndarray,
    size_noise: np.ndarray,
    place_noise: np.ndarray,
    member_noise: np.ndarray,
    first_id: int,
    adult_age: int,
    child_gap: float,
) -> np.ndarray:
    """Heads, household sizes and members of each group's households (see fit_households).

    Within each group: (1) heads are the ``n_households[g]`` persons with the smallest
    keys, adults first with Efraimidis-Spirakis keys ``head_draw / headship_weight / 1000``
    (draws without replacement by headship weight), then minors oldest first; (2) heads
    sorted by ``|age - 40| + size_noise`` take the group's ``sizes`` in order (largest
    first) and consecutive household ids; (3) each head's ``size - 1`` places, keyed by the
    head's age ``+ place_noise``, and the other persons, keyed by their age (plus
    ``child_gap`` for minors) ``+ member_noise``, are both sorted and paired in order. Every
    sort is stable; the keys of steps (2) and (3) are ages, sorted in steps of 1/16 year
    (:func:`bucket_order`; sizes between -60 and 140, matching between -60 and 200).

    Parameters
    ----------
    group
        int (n,) group (zone) index of each person, ``0..G-1``.
    age
        int (n,) ages.
    n_households
        int64 (G,) households per group, at least 1 and at most the group's persons when
        it has persons.
    sizes
        int (households,) sizes, each group's block in descending order, adding up to the
        group's persons (:func:`fit_sizes`).
    head_draw
        float64 (n,) standard exponential numbers, by person.
    size_noise
        float64 (households,) by head, in group order and then key order of step (1).
    place_noise
        float64 (persons - households,) by place, in household id order.
    member_noise
        float64 (n,) by person (only non-heads use theirs).
    first_id
        The first household id; ids are consecutive, group by group.
    adult_age
        Age from which a person is an adult.
    child_gap
        Years added to a minor's age when matching it to a head.

    Returns
    -------
    np.ndarray
        int32 (n,) household id of each person.
    """
    n = age.size
    n_groups = n_households.size
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        start[group[i] + 1] += 1
    start = np.cumsum(start)
    order = np.empty(n, dtype=np.int64)  # persons by group, in index order within each
    fill = start[:-1].copy()
    for i in range(n):
        order[fill[group[i]]] = i
        fill[group[i]] += 1
    household = np.empty(n, dtype=np.int32)
    is_head = np.zeros(n, dtype=np.bool_)
    hh0 = 0  # households of the groups before
    p0 = 0  # places of the groups before
    for g in range(n_groups):
        persons = order[start[g] : start[g + 1]]
        m = persons.size
        k = n_households[g]
        if m == 0:
            continue
        key = np.empty(m)
        for t in range(m):
            a = age[persons[t]]
            if a >= adult_age:
                key[t] = head_draw[persons[t]] / headship_weight(a) / 1000.0
            else:  # after every adult, oldest first
                key[t] = 2.0 - a / 1000.0
        heads = persons[np.argsort(key, kind="mergesort")[:k]]
        head_key = np.empty(k)
        for t in range(k):
            head_key[t] = abs(age[heads[t]] - 40.0) + size_noise[hh0 + t]
        heads = heads[bucket_order(head_key, -60.0, 140.0, _KEY_STEPS)]
        for t in range(k):
            household[heads[t]] = first_id + hh0 + t
            is_head[heads[t]] = True
        place_id = np.empty(m - k, dtype=np.int64)
        place_key = np.empty(m - k)
        c = 0
        for t in range(k):
            for _ in range(sizes[hh0 + t] - 1):
                place_id[c] = first_id + hh0 + t
                place_key[c] = age[heads[t]] + place_noise[p0 + c]
                c += 1
        members = persons[~is_head[persons]]
        member_key = np.empty(m - k)
        for t in range(m - k):
            a = age[members[t]]
            member_key[t] = (a + child_gap if a < adult_age else a) + member_noise[members[t]]
        place_id = place_id[bucket_order(place_key, -60.0, 200.0, _KEY_STEPS)]
        members = members[bucket_order(member_key, -60.0, 200.0, _KEY_STEPS)]
        for t in range(m - k):
            household[members[t]] = place_id[t]
        hh0 += k
        p0 += m - k
    return household
