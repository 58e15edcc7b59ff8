"""Enrollment assignment kernels on plain arrays.

Children are described by their home zone index and grade index (0 = grade 1). Schools
are described by a remaining-room matrix ``capacity[school, grade_index]`` (0 where a school
does not teach the grade or is closed). Randomness comes in as a pre-drawn processing
``order`` (a permutation) and uniform numbers, so the kernels are deterministic functions
of their inputs and can be checked against plain-Python twins.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def assign_with_overflow(
    first: np.ndarray,
    zone: np.ndarray,
    grade: np.ndarray,
    order: np.ndarray,
    capacity: np.ndarray,
    zone_rank: np.ndarray,
) -> np.ndarray:
    """Assign each child to its first school, overflowing to the nearest school with room.

    Pass 1 visits children in ``order`` and admits each to ``first[i]`` while that school
    has room in the child's grade, so the first school's own children (its catchment) get
    priority over overflow. Pass 2 visits the children turned away, in the same order, and
    admits each to the nearest school (by ``zone_rank`` of the home zone) with room.

    Parameters
    ----------
    first
        int32 (n,), the school each child applies to first; -1 = none (goes straight to pass 2).
    zone
        int32 (n,), home zone index.
    grade
        int8/int32 (n,), grade index (0 = grade 1).
    order
        int64 (n,), a permutation of 0..n-1: the (seeded random) processing order.
    capacity
        int32 (S, G), places per school and grade index; not modified.
    zone_rank
        int32 (Z, S), schools sorted by distance from each zone centroid, nearest first.

    Returns
    -------
    numpy.ndarray
        int32 (n,), the admitted school per child; -1 = no school with room anywhere.
    """
    room = capacity.copy()
    n = first.shape[0]
    school = np.full(n, -1, np.int32)
    for k in range(n):
        i = order[k]
        s = first[i]
        if s >= 0 and room[s, grade[i]] > 0:
            room[s, grade[i]] -= 1
            school[i] = s
    n_schools = zone_rank.shape[1]
    for k in range(n):
        i = order[k]
        if school[i] >= 0:
            continue
        g = grade[i]
        z = zone[i]
        for r in range(n_schools):
            s = zone_rank[z, r]
            if room[s, g] > 0:
                room[s, g] -= 1
                school[i] = s
                break
    return school


@njit(cache=True)
def _draw(weights_row: np.ndarray, allowed: np.ndarray, g: int, u: float) -> int:
    """Index drawn with probability proportional to weight among schools with allowed > 0."""
    total = 0.0
    for s in range(weights_row.shape[0]):
        if allowed[s, g] > 0:
            total += weights_row[s]
    if total <= 0.0:
        return -1
    target = u * total
    acc = 0.0
    last = -1
    for s in range(weights_row.shape[0]):
        if allowed[s, g] > 0 and weights_row[s] > 0.0:
            acc += weights_row[s]
            last = s
            if acc > target:
                return s
    return last  # u * total rounded up to the total: the last eligible school


@njit(cache=True)
def assign_choice(
    zone: np.ndarray,
    grade: np.ndarray,
    order: np.ndarray,
    capacity: np.ndarray,
    weights: np.ndarray,
    u_first: np.ndarray,
    u_second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial-logit school choice with capacity, by sequential assignment.

    Each child, in ``order``, draws a first choice from the logit over every school that
    teaches its grade (``capacity > 0``), with probabilities proportional to
    ``weights[zone, school]`` (= exp(utility)). If that school still has room the child is
    admitted; otherwise it draws again from the logit restricted to schools with room left.

    Parameters
    ----------
    zone, grade, order, capacity
        As in :func:`assign_with_overflow`.
    weights
        float64 (Z, S), exp(utility) of each school seen from each zone; 0 = not a choice.
    u_first, u_second
        float64 (n,), uniform [0, 1) numbers for the first and the constrained draw.

    Returns
    -------
    first : numpy.ndarray
        int32 (n,), the unconstrained first choice (-1 = no school teaches the grade).
    school : numpy.ndarray
        int32 (n,), the admitted school (-1 = no room anywhere).
    """
    room = capacity.copy()
    n = zone.shape[0]
    first = np.full(n, -1, np.int32)
    school = np.full(n, -1, np.int32)
    for k in range(n):
        i = order[k]
        g = grade[i]
        row = weights[zone[i]]
        f = _draw(row, capacity, g, u_first[i])
        first[i] = f
        if f < 0:
            continue
        s = f if room[f, g] > 0 else _draw(row, room, g, u_second[i])
        if s >= 0:
            room[s, g] -= 1
            school[i] = s
    return first, school
