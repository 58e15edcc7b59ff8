"""Numba kernels of the travel-demand choices: logit draws, departure-bin logit, path skims.

Plain arrays in, plain arrays out; no other sim module is imported. Each kernel has a
pure-Python twin in ``tests/test_demand_choice.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def logit_choice(util, uniform):
    """Draw one alternative per row of a multinomial logit, and the row's logsum.

    Parameters
    ----------
    util
        ``(n, k)`` systematic utilities; ``-inf`` marks an unavailable alternative.
    uniform
        ``n`` uniform draws in [0, 1): the inverse-CDF draw of each row.

    Returns
    -------
    choice : numpy.ndarray
        ``n`` int8 chosen alternative (``-1`` when none is available).
    logsum : numpy.ndarray
        ``n`` expected maximum utility ``log(sum(exp(util)))`` (``-inf`` when none).
    """
    n, k = util.shape
    choice = np.empty(n, dtype=np.int8)
    logsum = np.empty(n)
    prob = np.empty(k)
    for i in range(n):
        top = -np.inf
        for j in range(k):
            if util[i, j] > top:
                top = util[i, j]
        if top == -np.inf:
            choice[i] = -1
            logsum[i] = -np.inf
            continue
        total = 0.0
        for j in range(k):
            prob[j] = np.exp(util[i, j] - top)
            total += prob[j]
        logsum[i] = top + np.log(total)
        target = uniform[i] * total
        acc = 0.0
        pick = -1
        for j in range(k):
            if prob[j] > 0.0:
                pick = j
                acc += prob[j]
                if target < acc:
                    break
        choice[i] = pick
    return choice, logsum


@njit(cache=True)
def _departure_row(i, schedule, out):
    """Row ``i``'s bin probabilities into ``out`` (see :func:`departure_probabilities`)."""
    desired, free_min, delay_min, delay_ratio, toll_min, charged, start, width, coef = schedule
    m = len(delay_ratio)
    top = -np.inf
    for h in range(m):
        travel = free_min[i] + delay_min[i] * delay_ratio[h]
        arrive = start + (h + 0.5) * width + travel
        early = max(0.0, desired[i] - arrive)
        late = max(0.0, arrive - desired[i])
        u = coef[0] * (travel + toll_min[i] * charged[h]) + coef[1] * early + coef[2] * late
        if late > 0.0:
            u += coef[3]
        out[h] = u
        if u > top:
            top = u
    total = 0.0
    for h in range(m):
        out[h] = np.exp(out[h] - top)
        total += out[h]
    for h in range(m):
        out[h] /= total


@njit(cache=True)
def departure_probabilities(schedule):
    """Departure-bin probabilities per trip of a schedule-delay logit (Small 1982).

    The reference form, checked by the tests against a pure-Python twin: the model calls
    :func:`departure_draws` and :func:`expected_departures`, which compute the same rows
    without keeping the ``(n, m)`` array.

    The utility of leaving in bin ``h`` (at its midpoint ``t``) and arriving at
    ``a = t + T_h`` with ``T_h = free + delay * ratio[h]`` is
    ``coef[0]*(T_h + toll*charged[h]) + coef[1]*max(0, desired-a) + coef[2]*max(0, a-desired)
    + coef[3]*[a > desired]``.

    Parameters
    ----------
    schedule
        The tuple ``(desired, free_min, delay_min, delay_ratio, toll_min, charged,
        bin_start, bin_width, coef)``: ``n`` desired arrival times (minutes after
        midnight); ``n`` travel times without congestion and congestion delays at the
        busiest hour's flows (minutes); ``m`` factors on the delay of each bin; ``n`` tolls
        in minutes of the trip's value of time and ``m`` 1/0 whether a trip leaving in
        the bin pays it; the start of the first bin and the bin width (minutes); the
        travel time, early, late (per minute) and late-arrival (once) coefficients.

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` probabilities (each row sums to 1).
    """
    out = np.empty((len(schedule[0]), len(schedule[3])))
    for i in range(len(schedule[0])):
        _departure_row(i, schedule, out[i])
    return out


@njit(cache=True)
def departure_draws(schedule, uniform):
    """One departure bin per trip, drawn at ``uniform`` from :func:`departure_probabilities`.

    The inverse CDF of each row: the number of bins whose cumulative probability (summed
    in bin order) is at most ``uniform * total``, at most ``m - 1``. Row by row, so no
    ``(n, m)`` array is held. ``schedule`` as :func:`departure_probabilities`,
    ``uniform`` ``n`` draws in [0, 1).

    Returns
    -------
    numpy.ndarray
        ``n`` int16 bin columns (0 .. ``m - 1``).
    """
    m = len(schedule[3])
    out = np.empty(len(schedule[0]), dtype=np.int16)
    prob = np.empty(m)
    for i in range(len(out)):
        _departure_row(i, schedule, prob)
        acc = 0.0
        for h in range(m):
            acc += prob[h]
            prob[h] = acc
        target = uniform[i] * acc
        picks = 0
        for h in range(m):
            if prob[h] <= target:
                picks += 1
        out[i] = min(picks, m - 1)
    return out


@njit(cache=True)
def _same_trip(schedule, i, j):
    """Whether rows ``i`` and ``j`` of ``schedule`` have the same departure probabilities."""
    desired, free_min, delay_min, toll_min = schedule[0], schedule[1], schedule[2], schedule[4]
    return (
        desired[i] == desired[j]
        and free_min[i] == free_min[j]
        and delay_min[i] == delay_min[j]
        and toll_min[i] == toll_min[j]
    )


@njit(cache=True)
def expected_departures(schedule, weight, group, n_groups, first, order):
    """Expected trips per group and bin: ``weight`` times :func:`departure_probabilities`.

    ``schedule`` as :func:`departure_probabilities`; ``weight`` ``n`` (rows of weight 0
    are skipped), ``group`` ``n`` indices below ``n_groups`` (e.g. each trip's OD pair),
    ``first``, the first bin column kept, and ``order``, the rows in the order they are
    summed: a row with the inputs of the row summed before it (the same desired arrival,
    times and toll) reuses its probabilities, so an order that puts such rows together
    (e.g. by OD pair and desired arrival) computes each once.

    Returns
    -------
    numpy.ndarray
        ``(n_groups, m - first)`` expected trips leaving in bins ``first`` .. ``m - 1``.
    """
    m = len(schedule[3])
    out = np.zeros((n_groups, m - first))
    prob = np.empty(m)
    last = -1
    for i in order:
        w = weight[i]
        if w == 0.0:
            continue
        if last < 0 or not _same_trip(schedule, i, last):
            _departure_row(i, schedule, prob)
            last = i
        g = group[i]
        for h in range(first, m):
            out[g, h - first] += w * prob[h]
    return out


@njit(cache=True)
def path_sums(pred, link_from, dest_nodes, values):
    """Sum link attributes along shortest-path trees to each destination node.

    Parameters
    ----------
    pred
        ``(n_origins, n_nodes)`` link entering each node on its origin's tree (-1 none).
    link_from
        Tail node of each link.
    dest_nodes
        The destination node indices (columns of the result).
    values
        ``(n_attrs, n_links)`` link attributes to sum.

    Returns
    -------
    numpy.ndarray
        ``(n_attrs, n_origins, n_dest)`` sums (0 for an origin itself and unreached nodes).
    """
    n_orig = pred.shape[0]
    n_attr = values.shape[0]
    out = np.zeros((n_attr, n_orig, len(dest_nodes)))
    for o in range(n_orig):
        for d in range(len(dest_nodes)):
            node = dest_nodes[d]
            link = pred[o, node]
            while link >= 0:
                for a in range(n_attr):
                    out[a, o, d] += values[a, link]
                link = pred[o, link_from[link]]
    return out
