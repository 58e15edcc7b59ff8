"""Origin-destination (OD) demand models: doubly-constrained gravity and radiation.

Zones are numbered ``0..n-1``; a cost matrix ``cost[i, j]`` holds the generalised cost
(usually km) of going from zone ``i`` to zone ``j``. An infinite (or NaN) cost marks a
pair that gets no trips, e.g. the diagonal when only inter-zone trips are modelled.

- :func:`gravity` balances ``T_ij = A_i O_i B_j D_j f(c_ij)`` by Furness / IPF so that
  row sums equal the productions ``O`` and column sums the attractions ``D``.
- :func:`calibrate_gravity` fits the deterrence parameter to an observed mean trip cost
  (Brent root finding on the model's mean cost, which falls as beta grows) or to observed
  flows (maximising the common part of commuters, CPC, or matching their mean cost).
- :func:`radiation` is the parameter-free radiation model (Simini et al. 2012), scaled so
  each origin's row sums to its outflow.
- :func:`cpc` and :func:`rmse` score a fitted matrix against observed flows over the
  inter-zone (off-diagonal) pairs.

Reading zones and flows from files and fitting a model to them is
:mod:`sim.mobility.od_io`.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from scipy import optimize

from sim.errors import InputDataError

Deterrence = Literal["exp", "power"]
DETERRENCES: tuple[str, ...] = ("exp", "power")

_POWER_BETA_MAX = 8.0
"""Upper end of the beta search for power deterrence (cost**-beta)."""
_EXP_BETA_SCALE = 20.0
"""Upper end of the beta search for exp deterrence, in units of 1 / (median finite cost)."""


def deterrence_matrix(cost: np.ndarray, deterrence: Deterrence, beta: float) -> np.ndarray:
    """The deterrence function ``f(c)``: ``exp(-beta c)`` or ``c ** -beta``; 0 where c is inf.

    Parameters
    ----------
    cost
        Square cost matrix; inf or NaN entries get weight 0.
    deterrence
        ``"exp"`` or ``"power"``.
    beta
        The decay parameter (>= 0).

    Returns
    -------
    np.ndarray
        Matrix of weights, same shape as ``cost``.
    """
    if deterrence not in DETERRENCES:
        msg = f"deterrence {deterrence!r} is not one of {', '.join(DETERRENCES)}"
        raise ValueError(msg)
    cost = np.asarray(cost, dtype=float)
    ok = np.isfinite(cost)
    out = np.zeros_like(cost)
    if deterrence == "exp":
        out[ok] = np.exp(-beta * cost[ok])
    else:
        if np.any(cost[ok] <= 0):
            msg = "power deterrence needs positive costs on every pair that can have trips"
            raise ValueError(msg)
        out[ok] = cost[ok] ** -beta
    return out


def furness(
    productions: np.ndarray,
    attractions: np.ndarray,
    weights: np.ndarray,
    *,
    max_iter: int = 1000,
    tol: float = 1e-9,
) -> tuple[np.ndarray, int, float]:
    """Doubly-constrained balancing (Furness / IPF) of a seed matrix.

    Attractions are rescaled to the productions' total first, as usual for trip ends
    counted separately.

    Parameters
    ----------
    productions, attractions
        Trip ends per zone (>= 0).
    weights
        Seed matrix (>= 0), e.g. a deterrence matrix.
    max_iter
        Maximum number of row+column sweeps.
    tol
        Stop when every row and column total is within ``tol`` × (total trips) of its target.

    Returns
    -------
    matrix, iterations, error
        The balanced matrix, the sweeps done and the final largest relative error.
    """
    prod = np.asarray(productions, dtype=float)
    attr = np.asarray(attractions, dtype=float)
    if attr.sum() > 0:
        attr = attr * (prod.sum() / attr.sum())
    w = np.asarray(weights, dtype=float)
    b = np.ones(len(attr))
    scale = max(prod.sum(), 1e-300)
    err = np.inf
    sweeps = 0
    while sweeps < max_iter:
        sweeps += 1
        a = _safe_div(prod, w @ b)
        b = _safe_div(attr, a @ w)
        mat = a[:, None] * w * b[None, :]
        err = (
            max(
                np.abs(mat.sum(axis=1) - prod).max(initial=0.0),
                np.abs(mat.sum(axis=0) - attr).max(initial=0.0),
            )
            / scale
        )
        if err <= tol:
            break
    return a[:, None] * w * b[None, :], sweeps, float(err)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Num / den, and 0 where den is 0 (a zone nobody can reach gets nothing)."""
    out = np.zeros_like(num, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def gravity(
    productions: np.ndarray,
    attractions: np.ndarray,
    cost: np.ndarray,
    *,
    deterrence: Deterrence = "exp",
    beta: float,
    max_iter: int = 1000,
    tol: float = 1e-9,
) -> np.ndarray:
    """Doubly-constrained gravity model, balanced by Furness / IPF.

    ``T_ij = A_i O_i B_j D_j f(c_ij)`` with ``f = exp(-beta c)`` or ``c ** -beta``; row
    sums equal ``productions`` and column sums ``attractions`` (rescaled to the same total).

    Parameters
    ----------
    productions, attractions
        Trip ends per zone, length n.
    cost
        n x n cost matrix; inf marks pairs without trips.
    deterrence
        ``"exp"`` (beta per cost unit) or ``"power"``.
    beta
        Decay parameter (>= 0).
    max_iter, tol
        Balancing limits; a :class:`RuntimeWarning` is issued when not converged (e.g. a
        zone whose trips can go nowhere).

    Returns
    -------
    np.ndarray
        n x n trip matrix.
    """
    prod, attr, cost = _check_inputs(productions, attractions, cost)
    mat, _, err = furness(
        prod, attr, _seed_weights(cost, deterrence, beta), max_iter=max_iter, tol=tol
    )
    if err > tol:
        warnings.warn(
            f"gravity balancing stopped after {max_iter} sweeps with relative error {err:.2e}",
            RuntimeWarning,
            stacklevel=2,
        )
    return mat


def _seed_weights(cost: np.ndarray, deterrence: Deterrence, beta: float) -> np.ndarray:
    """Deterrence measured from each row's cheapest pair, so large beta cannot underflow.

    A per-row factor does not change the balanced matrix (the row factors absorb it).
    """
    finite = np.where(np.isfinite(cost), cost, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: nothing to scale
        base = np.nanmin(finite, axis=1, keepdims=True)
    base = np.where(np.isfinite(base), base, 0.0)
    if deterrence == "exp":
        return deterrence_matrix(cost - base, "exp", beta)
    weights = deterrence_matrix(cost, "power", beta)
    return weights * np.where(base > 0, base, 1.0) ** beta


def _check_inputs(
    productions: Any, attractions: Any, cost: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prod = np.asarray(productions, dtype=float)
    attr = np.asarray(attractions, dtype=float)
    cost = np.asarray(cost, dtype=float)
    n = len(prod)
    if attr.shape != (n,) or cost.shape != (n, n):
        msg = (
            f"shapes differ: productions {prod.shape}, attractions {attr.shape}, cost {cost.shape}"
        )
        raise ValueError(msg)
    if (
        np.any(prod < 0)
        or np.any(attr < 0)
        or not (np.isfinite(prod).all() and np.isfinite(attr).all())
    ):
        msg = "productions and attractions must be finite and >= 0"
        raise ValueError(msg)
    return prod, attr, cost


def mean_cost(matrix: np.ndarray, cost: np.ndarray) -> float:
    """Flow-weighted mean cost over the pairs with a finite cost."""
    ok = np.isfinite(cost)
    total = matrix[ok].sum()
    return float((matrix[ok] * cost[ok]).sum() / total) if total > 0 else float("nan")


def calibrate_gravity(
    productions: np.ndarray,
    attractions: np.ndarray,
    cost: np.ndarray,
    *,
    deterrence: Deterrence = "exp",
    target_mean_cost: float | None = None,
    observed: np.ndarray | None = None,
    objective: Literal["cpc", "mean_cost"] = "cpc",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit the gravity model's beta and return the fitted matrix.

    Give exactly one of ``target_mean_cost`` (beta is found by Brent root finding so the
    model's mean trip cost equals it) or ``observed`` (an n x n flow matrix; with
    ``objective="cpc"`` beta maximises the CPC over inter-zone flows, by a grid search
    refined with bounded Brent; with ``"mean_cost"`` it matches the observed flows' mean
    cost, Hyman's criterion).

    Parameters
    ----------
    productions, attractions, cost
        As in :func:`gravity`.
    deterrence
        ``"exp"`` or ``"power"``.
    target_mean_cost
        Observed mean trip cost, same units as ``cost``.
    observed
        Observed flow matrix (only pairs with finite cost are used for its mean cost).
    objective
        What to fit to ``observed``.

    Returns
    -------
    matrix, params
        The fitted matrix and ``{"deterrence", "beta", "objective", "mean_cost"}`` (plus
        ``"cpc"`` when fitted to observed flows).

    Raises
    ------
    InputDataError
        When the target mean cost cannot be reached with beta >= 0 (a ValueError).
    """
    prod, attr, cost = _check_inputs(productions, attractions, cost)
    if (target_mean_cost is None) == (observed is None):
        msg = "give exactly one of target_mean_cost or observed"
        raise ValueError(msg)
    hi = _beta_upper(cost, deterrence)

    def fit(beta: float) -> np.ndarray:
        return furness(prod, attr, _seed_weights(cost, deterrence, beta))[0]

    if observed is not None:
        observed = np.asarray(observed, dtype=float)
        if objective == "cpc":
            beta = _maximise(lambda b: cpc(observed, fit(b)), 0.0, hi)
        elif objective == "mean_cost":
            beta = _match_mean_cost(fit, cost, mean_cost(observed, cost), hi)
        else:
            msg = f"objective {objective!r} is not one of cpc, mean_cost"
            raise ValueError(msg)
        used = objective
    else:
        assert target_mean_cost is not None  # exactly one of the two is given (checked above)
        beta = _match_mean_cost(fit, cost, float(target_mean_cost), hi)
        used = "mean_cost"
    mat = fit(beta)
    params: dict[str, Any] = {
        "deterrence": deterrence,
        "beta": float(beta),
        "objective": used,
        "mean_cost": mean_cost(mat, cost),
    }
    if observed is not None:
        params["cpc"] = cpc(observed, mat)
    return mat, params


def _beta_upper(cost: np.ndarray, deterrence: Deterrence) -> float:
    if deterrence == "power":
        return _POWER_BETA_MAX
    finite = cost[np.isfinite(cost) & (cost > 0)]
    return _EXP_BETA_SCALE / float(np.median(finite)) if finite.size else 1.0


def _maximise(func: Any, lo: float, hi: float, n_grid: int = 33) -> float:
    """Grid search then bounded Brent around the best grid point (CPC can be flat)."""
    grid = np.linspace(lo, hi, n_grid)
    values = np.array([func(b) for b in grid])
    k = int(np.argmax(values))
    left, right = grid[max(k - 1, 0)], grid[min(k + 1, n_grid - 1)]
    res = optimize.minimize_scalar(
        lambda b: -func(b), bounds=(left, right), method="bounded", options={"xatol": 1e-4}
    )
    return float(res.x) if -res.fun >= values[k] else float(grid[k])


def _match_mean_cost(fit: Any, cost: np.ndarray, target: float, hi: float) -> float:
    """Beta at which the model's mean cost equals ``target`` (mean cost falls with beta)."""
    at_zero = mean_cost(fit(0.0), cost)
    at_hi = mean_cost(fit(hi), cost)
    if not at_hi <= target <= at_zero:
        msg = (
            f"target mean cost {target:.4g} is outside what the gravity model can reach "
            f"here with beta in [0, {hi:.4g}]: {at_hi:.4g}..{at_zero:.4g}"
        )
        raise InputDataError(msg)
    if np.isclose(at_zero, target):
        return 0.0
    return float(optimize.brentq(lambda b: mean_cost(fit(b), cost) - target, 0.0, hi, xtol=1e-8))


def radiation(
    origins_pop: np.ndarray,
    dest_pop: np.ndarray,
    distance: np.ndarray,
    outflows: np.ndarray,
) -> np.ndarray:
    """Radiation model (Simini et al. 2012), normalised so row i sums to ``outflows[i]``.

    ``T_ij = O_i * p_ij / sum_k p_ik`` with
    ``p_ij = m_i n_j / ((m_i + s_ij)(m_i + n_j + s_ij))``, where ``s_ij`` is the destination
    population of the zones strictly closer to ``i`` than ``j`` is, ``i`` and ``j`` excluded.
    The diagonal is 0; pairs with an infinite distance get nothing.

    Parameters
    ----------
    origins_pop
        ``m_i``, population at the origins.
    dest_pop
        ``n_j``, population (opportunities) at the destinations; also used for ``s_ij``.
    distance
        n x n distance matrix.
    outflows
        ``O_i``, trips leaving each zone.

    Returns
    -------
    np.ndarray
        n x n trip matrix.
    """
    m = np.asarray(origins_pop, dtype=float)
    n_pop = np.asarray(dest_pop, dtype=float)
    out = np.asarray(outflows, dtype=float)
    dist = np.asarray(distance, dtype=float)
    dist = np.where(np.isnan(dist), np.inf, dist)
    n = len(m)
    if n_pop.shape != (n,) or out.shape != (n,) or dist.shape != (n, n):
        msg = (
            f"shapes differ: origins {m.shape}, dest {n_pop.shape}, "
            f"outflows {out.shape}, distance {dist.shape}"
        )
        raise ValueError(msg)
    s = _intervening(n_pop, dist)
    mi = m[:, None]
    den = (mi + s) * (mi + n_pop[None, :] + s)
    # m_i cancels in the row normalisation, so weights use n_j only (works for m_i = 0)
    p = np.zeros((n, n))
    np.divide(n_pop[None, :], den, out=p, where=den > 0)
    p[~np.isfinite(dist)] = 0.0
    np.fill_diagonal(p, 0.0)
    row = p.sum(axis=1, keepdims=True)
    return _safe_div(out[:, None] * p, np.broadcast_to(row, p.shape))


def _intervening(pop: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """``s_ij``: population of zones k != i, j with ``d_ik < d_ij``."""
    n = len(pop)
    s = np.zeros((n, n))
    for i in range(n):
        row = dist[i].copy()
        row[i] = -np.inf  # i itself is removed below, whatever its diagonal value
        order = np.argsort(row, kind="stable")
        sorted_d = row[order]
        csum = np.concatenate(([0.0], np.cumsum(pop[order])))
        closer = np.searchsorted(sorted_d, dist[i], side="left")
        s[i] = csum[closer] - pop[i]
    return np.maximum(s, 0.0)


def _off_diagonal(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a[~np.eye(a.shape[0], dtype=bool)]


def cpc(observed: np.ndarray, fitted: np.ndarray) -> float:
    """Common part of commuters over inter-zone flows: ``2 sum min(T, T') / (sum T + sum T')``.

    1 means identical off-diagonal flows, 0 none in common.
    """
    obs, fit = _off_diagonal(observed), _off_diagonal(fitted)
    total = obs.sum() + fit.sum()
    return float(2.0 * np.minimum(obs, fit).sum() / total) if total > 0 else float("nan")


def rmse(observed: np.ndarray, fitted: np.ndarray) -> float:
    """Root mean squared error over the inter-zone (off-diagonal) pairs, in flow units."""
    diff = _off_diagonal(observed) - _off_diagonal(fitted)
    return float(np.sqrt(np.mean(diff**2))) if diff.size else float("nan")
