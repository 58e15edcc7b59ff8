"""Demography kernels on plain arrays: vital events, residential mobility, the next year.

Randomness comes in as pre-drawn uniform numbers or, in the per-person kernels of the
year, as a seed: the i-th number of the SplitMix64 stream of that seed (:func:`uniform`,
a counter-based generator, so a kernel draws its numbers where it uses them without a
pass over memory). Either way every kernel is a deterministic function of its inputs and
is checked against a plain numpy twin in the tests. Where one decision follows another,
both use one number: chained events compare it with cumulative probabilities, and a
household that moves (``u < rate``) picks its zone with ``u / rate``, again uniform given
the move.

A year takes three passes over the persons: :func:`sex_age_counts` (the rates depend on
the age structure), :func:`vital_events` (fates, and what they leave of each household),
and :func:`next_year` (writes the survivors and newborns); residential mobility
(:func:`move_households`) works on households between the last two. The kernels that
build the first year's households are :mod:`sim.kernels.households`.
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

BORN, IN_MIGRANT, NEW_HOUSING_OUTSIDE, NEW_HOUSING_INSIDE, MOVED = 0, 1, 2, 3, 4
"""``Persons.arrival`` codes (described in sim.population.persons.ARRIVAL_CODES)."""

ADULT_STAYS = 1
"""Household state bits of :func:`vital_events`: an adult stays (or gives birth)."""
ADULT_LEFT = 2
"""An adult left the city."""
MINOR_STAYS = 4
"""A minor stays (or gives birth)."""

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64 (Steele, Lea & Flood 2014) constants
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def uniform(seed: np.uint64, i: int) -> float:
    """Number ``i`` (0, 1, ...) of the SplitMix64 stream of ``seed``, as a float in [0, 1).

    SplitMix64 adds a constant to its state and hashes it, so number ``i`` needs no
    predecessors; the top 53 bits make the float.
    """
    z = np.uint64(seed) + (np.uint64(i) + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * 2.0**-53


def event_thresholds(qx: np.ndarray, asfr: np.ndarray, p_out: np.ndarray) -> np.ndarray:
    """(2, 101, 3) cumulative event probabilities by sex, age and event for :func:`vital_events`.

    Death comes first (``qx``), then out-migration of the survivors (``p_out``), then a
    birth to a woman who stays (``asfr``), so one uniform number ``u`` decides all three:
    ``u < q`` dies, ``u < q + (1 - q) p`` leaves, ``u < q + (1 - q) p + (1 - q)(1 - p) f``
    gives birth (women only). The three thresholds of a sex and age lie side by side, so
    each person reads one cache line.

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
    return np.ascontiguousarray(np.stack([died, left, left + stay * fert], axis=-1))


@njit(cache=True)
def vital_events(
    age: np.ndarray,
    sex: np.ndarray,
    household: np.ndarray,
    zone: np.ndarray,
    thresholds: np.ndarray,
    seed: np.uint64,
    n_ids: int,
    adult_age: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each person's fate this year, and what it leaves of each household.

    One pass over the persons: the fate (dies, leaves the city, stays, or stays and gives
    birth) and, per household, which of its adults and minors stay or leave, so that
    :func:`move_households` and :func:`next_year` need no further pass to apply the rule
    that minors leave with their household.

    Parameters
    ----------
    age, sex, household, zone
        int16 / int8 / int32 / int32 (n,) person arrays; household ids in ``0..n_ids-1``.
    thresholds
        float64 (2, 101, 3) from :func:`event_thresholds`.
    seed
        Person ``i`` draws ``u = uniform(seed, i)``.
    n_ids
        One more than the largest household id.
    adult_age
        Age from which a person counts as an adult.

    Returns
    -------
    tuple
        ``(fate, state, household_zone, mothers)``: int8 (n,) fate codes (DIED when
        ``u < thresholds[sex, age, 0]``, else LEFT when ``u < thresholds[sex, age, 1]``,
        else MOTHER when ``u < thresholds[sex, age, 2]``, else STAY); int8 (n_ids,)
        household states, the OR of ADULT_STAYS (an adult stays or gives birth),
        ADULT_LEFT (an adult left) and MINOR_STAYS (a minor stays or gives birth); int32
        (n_ids,) the zone of each household (-1 without members); and the number of
        MOTHER fates.
    """
    fate = np.empty(age.size, dtype=np.int8)
    state = np.zeros(n_ids, dtype=np.int8)
    household_zone = np.full(n_ids, -1, dtype=np.int32)
    # state bit by (adult, fate): STAY, DIED, LEFT, MOTHER
    bits = np.array([MINOR_STAYS, 0, 0, MINOR_STAYS, ADULT_STAYS, 0, ADULT_LEFT, ADULT_STAYS])
    flat = thresholds.reshape(thresholds.size)  # one index instead of three (faster)
    n_ages = thresholds.shape[1]
    mothers = 0
    for i in range(np.uint64(age.size)):  # unsigned indices: no negative-index checks
        a = age[i]
        c = np.uint64(3 * (sex[i] * n_ages + a))
        v = uniform(seed, i)
        # thresholds rise, so the rare events nest: one test settles most persons
        f = STAY
        if v < flat[c + 2]:
            f = MOTHER
            if v < flat[c + 1]:
                f = LEFT
                if v < flat[c]:
                    f = DIED
        mothers += f == MOTHER
        fate[i] = f
        h = np.uint32(household[i])
        household_zone[h] = zone[i]
        state[h] |= bits[np.uint64(4 * (a >= adult_age) + f)]
    return fate, state, household_zone, mothers


@njit(cache=True)
def minors_follow(state: np.int8) -> bool:
    """Whether a household's minors leave: an adult left and no adult stays."""
    return (state & ADULT_LEFT) != 0 and (state & ADULT_STAYS) == 0


@njit(cache=True)
def household_stays(state: np.int8) -> bool:
    """Whether anybody of a household is in the city next year (see :func:`vital_events`)."""
    return (state & ADULT_STAYS) != 0 or ((state & MINOR_STAYS) != 0 and (state & ADULT_LEFT) == 0)


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
    """(2, n_ages) float64 persons by sex and age.

    Persons usually come sorted by sex and age, so consecutive persons hit the same cell:
    four interleaved integer tallies keep those increments from waiting on each other.
    """
    cells = 2 * n_ages
    tally = np.zeros(4 * cells, dtype=np.int64)
    bank = np.uint64(cells)
    for i in range(np.uint64(age.size)):  # unsigned indices: no negative-index checks
        tally[(i & np.uint64(3)) * bank + np.uint64(sex[i] * n_ages + age[i])] += 1
    out = np.empty(cells)
    for c in range(cells):
        out[c] = tally[c] + tally[cells + c] + tally[2 * cells + c] + tally[3 * cells + c]
    return out.reshape(2, n_ages)


@njit(cache=True)
def move_households(
    state: np.ndarray,
    household_zone: np.ndarray,
    dwellings: np.ndarray,
    weight: np.ndarray,
    rate: float,
    seed: np.uint64,
) -> tuple[np.ndarray, np.ndarray]:
    """Residential mobility between zones of the households that stay in the city.

    Household ``h`` stays when :func:`household_stays` says so for ``state[h]``, and moves
    when also ``u < rate`` for its number ``u = uniform(seed, h)``. Vacant dwellings per
    zone are ``max(dwellings - households staying, 0)``; movers free theirs first, then,
    in order of household id, each picks a zone with :func:`place_households` using
    ``u / rate`` (again uniform in [0, 1) given that it moves).

    Parameters
    ----------
    state, household_zone
        int8 / int32 (n_ids,) from :func:`vital_events`.
    dwellings, weight
        float64 (Z,) dwelling stock and attractiveness per zone.
    rate
        Share of households moving.
    seed
        Seed of the households' numbers.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        int32 (n_ids,) each household's zone after the moves, and float64 (Z,) the vacant
        dwellings per zone left afterwards.
    """
    n_ids = state.size
    # households come in runs of one zone: four interleaved tallies keep the
    # increments from waiting on each other
    tally = np.zeros((4, dwellings.size), dtype=np.int64)
    moving = np.empty(n_ids, dtype=np.int32)
    n_moving = 0
    for h in range(n_ids):
        # branch-free: whether a household moves is a coin flip no predictor learns
        stays = household_stays(state[h])
        tally[h & 3, household_zone[h]] += stays  # (zone -1, no members: adds 0)
        moving[n_moving] = h
        n_moving += stays & (uniform(seed, h) < rate)
    vacant = np.empty(dwellings.size)
    for z in range(vacant.size):
        staying = tally[0, z] + tally[1, z] + tally[2, z] + tally[3, z]
        vacant[z] = max(dwellings[z] - staying, 0.0)
    u_place = np.empty(n_moving)
    for k in range(n_moving):
        h = moving[k]
        u_place[k] = min(uniform(seed, h) / rate, 1.0 - 1e-12)
        vacant[household_zone[h]] += 1.0
    dest = place_households(vacant, weight, u_place)
    zone_after = household_zone.copy()
    for k in range(dest.size):
        zone_after[moving[k]] = dest[k]
    return zone_after, vacant


@njit(cache=True)
def next_year(
    fate: np.ndarray,
    state: np.ndarray,
    zone_after: np.ndarray,
    persons: tuple,
    seed: np.uint64,
    p_male: float,
    max_age: int,
    adult_age: int,
    year: int,
    out: tuple,
) -> np.ndarray:
    """Write next year's persons: those who stay, one year older, then the newborns.

    A minor whose household's adults all left (:func:`minors_follow`) leaves too; everybody
    who stays takes the household's zone after the moves (``zone_after``); a person whose
    zone changes loses its estate (-1) and gets arrival code ``MOVED`` in ``year``.

    Parameters
    ----------
    fate, state, zone_after
        From :func:`vital_events` and :func:`move_households`.
    persons
        ``(age, sex, zone, household, work_zone, school, birth_month, estate,
        first_school, arrival, arrival_year)`` person arrays (n,).
    seed
        The k-th newborn (k = 0, 1, ...) is male when ``u = uniform(seed, k) < p_male``;
        its birth month is ``1 + floor(12 v)`` with ``v = u / p_male`` for a boy and
        ``(u - p_male) / (1 - p_male)`` for a girl (uniform again given the sex).
    p_male
        Probability that a newborn is male.
    max_age
        Ages are capped here.
    adult_age
        Age from which a person counts as an adult.
    year
        The year written (arrival year of newborns and movers).
    out
        Eleven arrays like ``persons``, each with room for the stayers and newborns; written
        from index 0: stayers in their original order, aged by one year (capped), then one
        newborn per mother in order (age 0, the household's zone, id and estate after the
        moves, no work zone or school, arrival ``BORN`` in ``year``).

    Returns
    -------
    np.ndarray
        int64 (5,): persons written, births, deaths, out-migrants (with the minors who
        followed), movers (persons written whose zone differs from their or their mother's
        zone at the start).
    """
    age, sex, zone, household, work_zone, school, birth_month, estate = persons[:8]
    first_school, arrival, arrival_year = persons[8:]
    o_age, o_sex, o_zone, o_hh, o_work, o_school, o_month, o_estate = out[:8]
    o_first, o_arrival, o_arrival_year = out[8:]
    mothers = np.empty(fate.size, dtype=np.uint64)  # only the first `born` are used
    j = np.uint64(0)
    born = 0
    died = 0
    left = 0
    moved = 0
    for i in range(np.uint64(fate.size)):  # unsigned indices: no negative-index checks
        f = fate[i]
        h = np.uint32(household[i])
        if f == DIED:
            died += 1
            continue
        if f == LEFT or (age[i] < adult_age and minors_follow(state[h])):
            left += 1
            continue
        z = zone_after[h]
        moved += z != zone[i]
        a = age[i] + 1
        o_age[j] = a if a < max_age else max_age
        o_sex[j] = sex[i]
        o_zone[j] = z
        o_hh[j] = h
        o_work[j] = work_zone[i]
        o_school[j] = school[i]
        o_month[j] = birth_month[i]
        o_first[j] = first_school[i]
        if z == zone[i]:
            o_estate[j] = estate[i]
            o_arrival[j] = arrival[i]
            o_arrival_year[j] = arrival_year[i]
        else:
            o_estate[j] = -1
            o_arrival[j] = MOVED
            o_arrival_year[j] = year
        j += np.uint64(1)
        if f == MOTHER:
            mothers[born] = i
            born += 1
    for k in range(born):
        i = mothers[k]
        z = zone_after[household[i]]
        moved += z != zone[i]
        u = uniform(seed, k)
        boy = u < p_male
        v = u / p_male if boy else (u - p_male) / (1.0 - p_male)
        o_age[j] = 0
        o_sex[j] = 0 if boy else 1
        o_zone[j] = z
        o_hh[j] = household[i]
        o_work[j] = -1
        o_school[j] = -1
        o_month[j] = 1 + min(int(v * 12.0), 11)
        o_estate[j] = estate[i] if z == zone[i] else -1
        o_first[j] = -1
        o_arrival[j] = BORN
        o_arrival_year[j] = year
        j += np.uint64(1)
    return np.array([j, born, died, left, moved], dtype=np.int64)
