"""Link cost functions for static assignment (numba): BPR, its integral, line search.

BPR travel time per link: ``t(x) = fftime * (1 + alpha * (x / capacity) ** beta)``.
The generalised cost adds a flow-independent ``fixed`` term per link (toll and
distance converted to minutes). The Beckmann objective is
``sum(integral_0^x t + fixed * x)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def dot(a, b):
    """``sum(a * b)`` added up in index order: the same bits on any machine.

    numpy's ``dot`` goes to BLAS, whose sum over a long vector depends on its thread
    count, so an assignment would end a few ulps apart, and its iterations take other
    turns, from one machine (or process set-up) to the next.
    """
    total = 0.0
    for i in range(len(a)):
        total += a[i] * b[i]
    return total


@njit(cache=True)
def bpr_time(flow, fftime, alpha, beta, capacity):
    """BPR travel time of each link at ``flow``."""
    out = np.empty(len(flow))
    for i in range(len(flow)):
        out[i] = fftime[i] * (1.0 + alpha[i] * (flow[i] / capacity[i]) ** beta[i])
    return out


@njit(cache=True)
def bpr_derivative(flow, fftime, alpha, beta, capacity):
    """Derivative d t / d x of each link at ``flow`` (0 where undefined: beta < 1, flow 0)."""
    out = np.zeros(len(flow))
    for i in range(len(flow)):
        b = beta[i]
        if b == 0.0 or (flow[i] <= 0.0 and b < 1.0):
            continue
        out[i] = fftime[i] * alpha[i] * b / capacity[i] * (flow[i] / capacity[i]) ** (b - 1.0)
    return out


@njit(cache=True)
def beckmann(flow, fftime, alpha, beta, capacity, fixed):
    """Beckmann objective: sum of the integrals of ``t`` up to ``flow``, plus ``fixed * flow``.

    The integral is ``fftime * (x + alpha * capacity / (beta + 1) * (x / capacity) ** (beta + 1))``.
    """
    total = 0.0
    for i in range(len(flow)):
        x = flow[i]
        b = beta[i]
        integral = x + alpha[i] * capacity[i] / (b + 1.0) * (x / capacity[i]) ** (b + 1.0)
        total += fftime[i] * integral + fixed[i] * x
    return total


@njit(cache=True)
def _slope(step, flow, target, fftime, alpha, beta, capacity, fixed):
    """First and second derivative of the objective along ``flow + step * (target - flow)``."""
    slope = 0.0
    curvature = 0.0
    for i in range(len(flow)):
        d = target[i] - flow[i]
        if d == 0.0:
            continue
        x = flow[i] + step * d
        b = beta[i]
        ratio = x / capacity[i]
        grow = fftime[i] * alpha[i] * ratio**b
        slope += (fftime[i] + grow + fixed[i]) * d
        if x > 0.0:
            curvature += grow * b / x * d * d
    return slope, curvature


@njit(cache=True)
def line_search(flow, target, fftime, alpha, beta, capacity, fixed, tol):
    """Exact line search: the step in [0, 1] minimising the objective towards ``target``.

    The objective is convex along the segment, so its slope is non-decreasing.
    Newton steps on the slope, kept inside a shrinking bracket (bisection when a
    Newton step would leave it), find the minimum to ``tol``.

    Returns
    -------
    step : float
        0 when ``target - flow`` is not a descent direction, 1 when the objective
        still decreases at ``target``.
    slope0 : float
        The slope at step 0 (negative for a descent direction).
    """
    slope0, _ = _slope(0.0, flow, target, fftime, alpha, beta, capacity, fixed)
    if slope0 >= 0.0:
        return 0.0, slope0
    slope1, _ = _slope(1.0, flow, target, fftime, alpha, beta, capacity, fixed)
    if slope1 <= 0.0:
        return 1.0, slope0
    lo, hi = 0.0, 1.0
    step = slope0 / (slope0 - slope1)  # secant guess
    for _ in range(200):
        slope, curvature = _slope(step, flow, target, fftime, alpha, beta, capacity, fixed)
        if slope == 0.0:
            return step, slope0
        if slope < 0.0:
            lo = step
        else:
            hi = step
        newton = step - slope / curvature if curvature > 0.0 else -1.0
        nxt = newton if lo < newton < hi else 0.5 * (lo + hi)
        if abs(nxt - step) <= tol or hi - lo <= tol:
            return nxt, slope0
        step = nxt
    return step, slope0
