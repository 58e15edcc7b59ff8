"""Demography kernels on plain arrays: household sizes, vital events, household placement.

Randomness comes in as pre-drawn uniform numbers (float32 is enough for the smallest
death probabilities), so every kernel is a deterministic function of its inputs and is
checked against a plain numpy twin in the tests. Where one decision follows another, both
use one number: chained events compare it with cumulative probabilities, and a household
that moves (``u < rate``) picks its zone with ``u / rate``, again uniform given the move.
"""

from __future__ import annotations

import numpy as np
from numba import njit

STAY = 0
"""Fate codes of :func:`vital_events`."""
DIED = 1
LEFT = 2
MOTHER = 3
"""Stays in the city and gives birth this year."""


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


def event_thresholds(qx: np.ndarray, asfr: np.ndarray, p_out: np.ndarray) -> np.ndarray:
    """(3, 2, 101) cumulative event probabilities for :func:`vital_events`.

    Death comes first (``qx``), then out-migration of the survivors (``p_out``), then a
    birth to a woman who stays (``asfr``), so one uniform number ``u`` decides all three:
    ``u < q`` dies, ``u < q + (1 - q) p`` leaves, ``u < q + (1 - q) p + (1 - q)(1 - p) f``
    gives birth (women only).

    Parameters
    ----------
    qx, p_out
        (2, 101) death and out-migration probabilities by sex and age.
    asfr
        (101,) births per woman-year by age.
    """
    stay = (1.0 - qx) * (1.0 - p_out)
    fert = np.stack([np.zeros_like(asfr), asfr])
    died = qx
    left = died + (1.0 - qx) * p_out
    return np.stack([died, left, left + stay * fert])


@njit(cache=True)
def vital_events(
    age: np.ndarray, sex: np.ndarray, thresholds: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Each person's fate this year: dies, leaves the city, stays, or stays and gives birth.

    Parameters
    ----------
    age, sex
        int16 / int8 (n,).
    thresholds
        float64 (3, 2, 101) from :func:`event_thresholds`.
    u
        float32 or float64 (n,) uniform numbers in [0, 1).

    Returns
    -------
    np.ndarray
        int8 (n,) fate codes: DIED when ``u < thresholds[0]``, else LEFT when
        ``u < thresholds[1]``, else MOTHER when ``u < thresholds[2]``, else STAY.
    """
    n = age.size
    fate = np.zeros(n, dtype=np.int8)
    for i in range(n):
        a = age[i]
        s = sex[i]
        v = u[i]
        if v < thresholds[0, s, a]:
            fate[i] = DIED
        elif v < thresholds[1, s, a]:
            fate[i] = LEFT
        elif v < thresholds[2, s, a]:
            fate[i] = MOTHER
    return fate


@njit(cache=True)
def children_follow(
    fate: np.ndarray, age: np.ndarray, household: np.ndarray, n_ids: int, adult_age: int
) -> int:
    """Minors leave with the household's adults when every adult who stayed is gone.

    In place: a person under ``adult_age`` who stays (STAY or MOTHER) in a household where
    at least one adult LEFT and no adult stays gets fate LEFT.

    Parameters
    ----------
    fate
        int8 (n,) from :func:`vital_events`; changed in place.
    age, household
        (n,) arrays; household ids in ``0..n_ids-1``.
    n_ids
        One more than the largest household id.
    adult_age
        Age from which a person counts as an adult.

    Returns
    -------
    np.ndarray
        int64 (4,) persons per fate code afterwards (STAY, DIED, LEFT, MOTHER).
    """
    staying = np.zeros(n_ids, dtype=np.int32)
    leaving = np.zeros(n_ids, dtype=np.int32)
    for i in range(fate.size):
        if age[i] >= adult_age:
            f = fate[i]
            if f == LEFT:
                leaving[household[i]] += 1
            elif f != DIED:
                staying[household[i]] += 1
    counts = np.zeros(4, dtype=np.int64)
    for i in range(fate.size):
        h = household[i]
        if age[i] < adult_age and leaving[h] > 0 and staying[h] == 0 and fate[i] in (STAY, MOTHER):
            fate[i] = LEFT
        counts[fate[i]] += 1
    return counts


@njit(cache=True)
def _tree_add(tree: np.ndarray, i: int, delta: float) -> None:
    """Add ``delta`` to item ``i`` of a Fenwick (binary indexed) tree of partial sums."""
    i += 1
    while i < tree.size:
        tree[i] += delta
        i += i & -i


@njit(cache=True)
def _tree_build(w: np.ndarray) -> np.ndarray:
    tree = np.zeros(w.size + 1)
    for i in range(w.size):
        _tree_add(tree, i, w[i])
    return tree


@njit(cache=True)
def _tree_find(tree: np.ndarray, target: float) -> int:
    """The first item whose cumulative sum exceeds ``target`` (tree size when none does)."""
    n = tree.size - 1
    step = 1
    while step * 2 <= n:
        step *= 2
    pos = 0
    while step > 0:
        nxt = pos + step
        if nxt <= n and tree[nxt] <= target:
            pos = nxt
            target -= tree[nxt]
        step //= 2
    return pos


@njit(cache=True)
def place_households(vacant: np.ndarray, weight: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Place households one by one in zones, by vacant dwellings × weight.

    Household ``k`` goes to zone ``z`` with probability proportional to
    ``vacant[z] * weight[z]`` (inverse-CDF draw with ``u[k]`` over the zones in order), and
    takes one vacant dwelling there. When no weighted vacancy is left anywhere, it goes by
    ``weight`` alone (overcrowding rather than refusing arrivals). The cumulative weights
    live in a Fenwick tree, so each household costs O(log Z).

    Parameters
    ----------
    vacant
        float64 (Z,), vacant dwellings per zone; changed in place.
    weight
        float64 (Z,), zone attractiveness (>= 0, at least one > 0).
    u
        float32/float64 (k,), one uniform number per household.

    Returns
    -------
    np.ndarray
        int32 (k,) zone index of each household.
    """
    n_zones = vacant.size
    out = np.empty(u.size, dtype=np.int32)
    last = n_zones - 1  # the last zone with weight catches rounding at the top end
    while last > 0 and weight[last] <= 0.0:
        last -= 1
    empty = 1e-9 * weight.sum()  # below this the running total is rounding residue
    w = np.maximum(vacant, 0.0) * weight
    total = w.sum()
    full = total <= empty
    if full:
        w = weight.copy()
        total = w.sum()
    tree = _tree_build(w)
    for k in range(u.size):
        chosen = _tree_find(tree, u[k] * total)
        if chosen >= n_zones:
            chosen = last
            while w[chosen] <= 0.0:
                chosen -= 1
        out[k] = chosen
        vacant[chosen] -= 1.0
        if not full:
            new_w = max(vacant[chosen], 0.0) * weight[chosen]
            _tree_add(tree, chosen, new_w - w[chosen])
            total += new_w - w[chosen]
            w[chosen] = new_w
            if total <= empty:
                full = True
                w = weight.copy()
                total = w.sum()
                tree = _tree_build(w)
    return out


@njit(cache=True)
def sex_age_counts(sex: np.ndarray, age: np.ndarray, n_ages: int) -> np.ndarray:
    """(2, n_ages) float64 persons by sex and age."""
    out = np.zeros((2, n_ages))
    for i in range(age.size):
        out[sex[i], age[i]] += 1.0
    return out


@njit(cache=True)
def survive_and_age(
    fate: np.ndarray,
    age: np.ndarray,
    sex: np.ndarray,
    zone: np.ndarray,
    household: np.ndarray,
    work_zone: np.ndarray,
    school: np.ndarray,
    u_sex: np.ndarray,
    p_male: float,
    max_age: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Next year's person arrays: the persons who stay, one year older, then the newborns.

    Parameters
    ----------
    fate
        int8 (n,) from :func:`vital_events` (after :func:`children_follow`).
    age, sex, zone, household, work_zone, school
        The person arrays (n,).
    u_sex
        float32 (births,) uniform numbers; the k-th newborn is male when ``u_sex[k] < p_male``.
    p_male
        Probability that a newborn is male.
    max_age
        Ages are capped here.

    Returns
    -------
    tuple of np.ndarray
        ``(age, sex, zone, household, work_zone, school)``: stayers in their original order,
        aged by one year (capped), then one newborn per MOTHER in order: age 0, the mother's
        zone and household, no work zone or school.
    """
    n_stay = 0
    n_born = 0
    for i in range(fate.size):
        if fate[i] in (STAY, MOTHER):
            n_stay += 1
        if fate[i] == MOTHER:
            n_born += 1
    m = n_stay + n_born
    o_age = np.empty(m, dtype=age.dtype)
    o_sex = np.empty(m, dtype=sex.dtype)
    o_zone = np.empty(m, dtype=zone.dtype)
    o_hh = np.empty(m, dtype=household.dtype)
    o_work = np.empty(m, dtype=work_zone.dtype)
    o_school = np.empty(m, dtype=school.dtype)
    j = 0
    k = n_stay
    for i in range(fate.size):
        f = fate[i]
        if f not in (STAY, MOTHER):
            continue
        o_age[j] = min(age[i] + 1, max_age)
        o_sex[j] = sex[i]
        o_zone[j] = zone[i]
        o_hh[j] = household[i]
        o_work[j] = work_zone[i]
        o_school[j] = school[i]
        j += 1
        if f == MOTHER:
            o_age[k] = 0
            o_sex[k] = 0 if u_sex[k - n_stay] < p_male else 1
            o_zone[k] = zone[i]
            o_hh[k] = household[i]
            o_work[k] = -1
            o_school[k] = -1
            k += 1
    return o_age, o_sex, o_zone, o_hh, o_work, o_school


@njit(cache=True)
def move_households(
    zone: np.ndarray,
    household: np.ndarray,
    n_ids: int,
    dwellings: np.ndarray,
    weight: np.ndarray,
    rate: float,
    u: np.ndarray,
) -> tuple[int, np.ndarray]:
    """Residential mobility between zones, in place on ``zone``.

    Household ``h`` moves when ``u[h] < rate``. Vacant dwellings per zone are
    ``max(dwellings - households, 0)``; movers free theirs first, then, in order of
    household id, each picks a zone with :func:`place_households` using ``u[h] / rate``
    (again uniform in [0, 1) given that it moves).

    Parameters
    ----------
    zone
        int32 (n,) home zone index; changed in place.
    household
        int32 (n,) household id, ``0..n_ids-1``; all members share a zone.
    n_ids
        One more than the largest household id.
    dwellings, weight
        float64 (Z,) dwelling stock and attractiveness per zone.
    rate
        Share of households moving.
    u
        float32 or float64 (n_ids,) uniform numbers, one per household id.

    Returns
    -------
    tuple[int, np.ndarray]
        Persons whose zone changed, and the vacant dwellings per zone left afterwards.
    """
    n_zones = dwellings.size
    hz = np.full(n_ids, -1, dtype=np.int32)
    for i in range(zone.size):
        hz[household[i]] = zone[i]
    vacant = dwellings.astype(np.float64)
    for h in range(n_ids):
        if hz[h] >= 0:
            vacant[hz[h]] -= 1.0
    for z in range(n_zones):
        vacant[z] = max(vacant[z], 0.0)
    n_moving = 0
    for h in range(n_ids):
        if hz[h] >= 0 and u[h] < rate:
            n_moving += 1
    moving = np.empty(n_moving, dtype=np.int64)
    k = 0
    for h in range(n_ids):
        if hz[h] >= 0 and u[h] < rate:
            moving[k] = h
            vacant[hz[h]] += 1.0
            k += 1
    u_place = np.empty(n_moving)
    for k in range(n_moving):
        u_place[k] = min(np.float64(u[moving[k]]) / rate, 1.0 - 1e-12)
    dest = place_households(vacant, weight, u_place)
    new_hz = hz.copy()
    for k in range(n_moving):
        new_hz[moving[k]] = dest[k]
    moved = 0
    for i in range(zone.size):
        z = new_hz[household[i]]
        if z != zone[i]:
            zone[i] = z
            moved += 1
    return moved, vacant
