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
def departure_probabilities(
    desired,
    free_min,
    delay_min,
    delay_ratio,
    toll_min,
    charged,
    bin_start,
    bin_width,
    coef,
):
    """Departure-bin probabilities per trip of a schedule-delay logit (Small 1982).

    The utility of leaving in bin ``h`` (at its midpoint ``t``) and arriving at
    ``a = t + T_h`` with ``T_h = free + delay * ratio[h]`` is
    ``coef[0]*(T_h + toll*charged[h]) + coef[1]*max(0, desired-a) + coef[2]*max(0, a-desired)
    + coef[3]*[a > desired]``.

    Parameters
    ----------
    desired
        ``n`` desired arrival times (minutes after midnight).
    free_min, delay_min
        ``n`` travel time without congestion and the congestion delay at the busiest
        hour's flows (minutes).
    delay_ratio
        ``m`` factor on the delay of each bin.
    toll_min, charged
        ``n`` tolls in minutes of the trip's value of time, and ``m`` 1/0 whether a trip
        leaving in the bin pays it.
    bin_start, bin_width
        Start of the first bin and bin width (minutes).
    coef
        Travel time, early, late (per minute) and late-arrival (once) coefficients.

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` probabilities (each row sums to 1).
    """
    n = len(desired)
    m = len(delay_ratio)
    out = np.empty((n, m))
    for i in range(n):
        top = -np.inf
        for h in range(m):
            travel = free_min[i] + delay_min[i] * delay_ratio[h]
            arrive = bin_start + (h + 0.5) * bin_width + travel
            early = max(0.0, desired[i] - arrive)
            late = max(0.0, arrive - desired[i])
            u = coef[0] * (travel + toll_min[i] * charged[h]) + coef[1] * early + coef[2] * late
            if late > 0.0:
                u += coef[3]
            out[i, h] = u
            if u > top:
                top = u
        total = 0.0
        for h in range(m):
            out[i, h] = np.exp(out[i, h] - top)
            total += out[i, h]
        for h in range(m):
            out[i, h] /= total
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
