"""Enrollment kernels (overflow and choice assignment) against plain-Python twins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.kernels.enrollment import assign_choice, assign_with_overflow

# --------------------------------------------------------------------------- twins


def twin_overflow(first, zone, grade, order, capacity, zone_rank):
    """Plain-Python twin of assign_with_overflow."""
    room = capacity.copy()
    school = [-1] * len(first)
    for i in order:
        if first[i] >= 0 and room[first[i], grade[i]] > 0:
            room[first[i], grade[i]] -= 1
            school[i] = first[i]
    for i in order:
        if school[i] < 0:
            for s in zone_rank[zone[i]]:
                if room[s, grade[i]] > 0:
                    room[s, grade[i]] -= 1
                    school[i] = s
                    break
    return np.array(school)


def twin_draw(weights, allowed, u):
    """Inverse-CDF draw among schools with allowed > 0 (plain Python)."""
    cand = [s for s in range(len(weights)) if allowed[s] > 0 and weights[s] > 0]
    total = sum(weights[s] for s in cand)
    if not cand:
        return -1
    acc = 0.0
    for s in cand:
        acc += weights[s]
        if acc > u * total:
            return s
    return cand[-1]


def twin_choice(zone, grade, order, capacity, weights, u1, u2):
    """Plain-Python twin of assign_choice."""
    room = capacity.copy()
    first = [-1] * len(zone)
    school = [-1] * len(zone)
    for i in order:
        g = grade[i]
        f = twin_draw(weights[zone[i]], capacity[:, g], u1[i])
        first[i] = f
        if f < 0:
            continue
        s = f if room[f, g] > 0 else twin_draw(weights[zone[i]], room[:, g], u2[i])
        if s >= 0:
            room[s, g] -= 1
            school[i] = s
    return np.array(first), np.array(school)


def random_problem(
    seed: int, n: int = 400, n_zones: int = 7, n_schools: int = 5, n_grades: int = 3
):
    rng = np.random.default_rng(seed)
    zone = rng.integers(0, n_zones, n).astype(np.int32)
    grade = rng.integers(0, n_grades, n).astype(np.int32)
    capacity = rng.integers(0, 40, (n_schools, n_grades)).astype(np.int32)
    dist = rng.random((n_zones, n_schools))
    zone_rank = np.argsort(dist, axis=1).astype(np.int32)
    first = rng.integers(-1, n_schools, n).astype(np.int32)
    order = rng.permutation(n)
    return rng, zone, grade, capacity, dist, zone_rank, first, order


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("seed", range(5))
def test_overflow_kernel_matches_twin_and_respects_capacity(seed):
    _, zone, grade, capacity, _, zone_rank, first, order = random_problem(seed)
    got = assign_with_overflow(first, zone, grade, order, capacity, zone_rank)
    np.testing.assert_array_equal(
        got, twin_overflow(first, zone, grade, order, capacity, zone_rank)
    )
    placed = got >= 0
    used = np.zeros_like(capacity)
    np.add.at(used, (got[placed], grade[placed]), 1)
    assert (used <= capacity).all()
    # nobody is left out while some school still has room in their grade
    for g in np.unique(grade[~placed]):
        assert used[:, g].sum() == capacity[:, g].sum()


def test_overflow_kernel_hand_made_case():
    # zone 0: rank A(0), B(1), C(2); zone 1: rank C, B, A. One grade.
    zone_rank = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.int32)
    capacity = np.array([[2], [1], [1]], dtype=np.int32)
    first = np.array([0, 0, 0, 0, 2], dtype=np.int32)  # four want A, one (zone 1) wants C
    zone = np.array([0, 0, 0, 0, 1], dtype=np.int32)
    grade = np.zeros(5, dtype=np.int32)
    order = np.array([4, 3, 2, 1, 0])
    got = assign_with_overflow(first, zone, grade, order, capacity, zone_rank)
    # children 3 and 2 come first for A; 1 overflows to B (nearest with room); C is
    # already taken by its own catchment child 4, so 0 finds no place anywhere.
    np.testing.assert_array_equal(got, [-1, 1, 0, 0, 2])


def test_catchment_children_have_priority_over_overflow():
    zone_rank = np.array([[0, 1], [1, 0]], dtype=np.int32)
    capacity = np.array([[1], [1]], dtype=np.int32)
    first = np.array([0, 0, 1], dtype=np.int32)
    zone = np.array([0, 0, 1], dtype=np.int32)
    # the overflowing zone-0 child is processed before B's own child, yet B keeps its seat
    got = assign_with_overflow(
        first, zone, np.zeros(3, np.int32), np.array([0, 1, 2]), capacity, zone_rank
    )
    np.testing.assert_array_equal(got, [0, -1, 1])


@pytest.mark.parametrize("seed", range(4))
def test_choice_kernel_matches_twin_and_respects_capacity(seed):
    rng, zone, grade, capacity, dist, _, _, order = random_problem(seed, n=300)
    weights = np.exp(-2.0 * dist + rng.normal(size=dist.shape[1]))
    weights[:, 0] = 0.0  # school 0 is closed
    u1, u2 = rng.random(zone.size), rng.random(zone.size)
    first, school = assign_choice(zone, grade, order, capacity, weights, u1, u2)
    t_first, t_school = twin_choice(zone, grade, order, capacity, weights, u1, u2)
    np.testing.assert_array_equal(first, t_first)
    np.testing.assert_array_equal(school, t_school)
    assert not (school == 0).any()
    placed = school >= 0
    used = np.zeros_like(capacity)
    np.add.at(used, (school[placed], grade[placed]), 1)
    assert (used <= capacity).all()


def test_choice_shares_match_logit_probabilities():
    n = 200_000
    km = np.array([[0.5, 1.5, 3.0, 6.0]])
    quality = np.array([0.0, 1.0, -0.5, 2.0])
    b_km, b_q = -0.8, 1.0
    v = b_km * km[0] + b_q * quality
    p = np.exp(v) / np.exp(v).sum()
    rng = np.random.default_rng(1)
    zone = np.zeros(n, np.int32)
    grade = np.zeros(n, np.int32)
    capacity = np.full((4, 1), n, np.int32)  # no capacity constraint
    first, school = assign_choice(
        zone,
        grade,
        rng.permutation(n),
        capacity,
        np.exp(b_km * km + b_q * quality),
        rng.random(n),
        rng.random(n),
    )
    np.testing.assert_array_equal(first, school)
    counts = np.bincount(school, minlength=4)
    chi2 = stats.chisquare(counts, n * p)
    assert chi2.pvalue > 1e-4, (counts / n, p)
    np.testing.assert_allclose(counts / n, p, atol=4 * np.sqrt(p * (1 - p) / n).max())


def test_choice_redraw_among_schools_with_room_follows_logit():
    # school 0 has no room left after the first seat: everyone else re-draws between 1 and 2
    n = 100_000
    weights = np.array([[5.0, 1.0, 3.0]])
    capacity = np.array([[1], [n], [n]], np.int32)
    rng = np.random.default_rng(2)
    first, school = assign_choice(
        np.zeros(n, np.int32),
        np.zeros(n, np.int32),
        np.arange(n),
        capacity,
        weights,
        rng.random(n),
        rng.random(n),
    )
    assert (school == 0).sum() == 1
    share_first0 = (first == 0).mean()
    assert abs(share_first0 - 5 / 9) < 0.01
    redraw = school[(first == 0)][1:]
    assert abs((redraw == 2).mean() - 0.75) < 0.01
