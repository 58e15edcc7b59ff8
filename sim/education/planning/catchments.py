"""Redraw catchments (学区): assign whole zones to schools as a MILP (HiGHS).

Every zone with children of the level goes to exactly one open school of the level
(within ``max_km`` of it, its current school always allowed), minimising over the plan's
years

    seats short  +  W_KM * pupil-km

(seats short = Σ_t Σ_school max(0, demand - places), pupil-years). With ``contiguous``
each catchment is one connected piece of adjacent zones around its school: a zone may
join a school only next to a zone of the same catchment that is nearer to the school, so
every zone is linked to the school's nearest zone by a chain of catchment zones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.education.planning.siting import W_KM


@dataclass(frozen=True)
class CatchmentProblem:
    """Data of one catchment MILP (plan years T, zones Z, schools S of the level).

    Attributes
    ----------
    demand
        Children of the level by plan year and zone ``(T, Z)``.
    current
        The zone's catchment school now ``(Z,)`` (index into S; -1 = none).
    capacity
        Places per school and plan year ``(T, S)``.
    km
        Zone-to-school km ``(Z, S)``.
    adjacency
        Bool ``(Z, Z)``, zones that share a border; None = no contiguity rule.
    max_km
        Farthest school a zone may be given (its current one always allowed).
    """

    demand: np.ndarray
    current: np.ndarray
    capacity: np.ndarray
    km: np.ndarray
    adjacency: np.ndarray | None = None
    max_km: float | None = None


@dataclass(frozen=True)
class CatchmentSolution:
    """``school[z]``: the school index each zone is given; objective and proven gap."""

    school: np.ndarray
    objective: float
    gap: float


def nearer(km: np.ndarray) -> np.ndarray:
    """Bool ``(Z, Z, S)``: zone ``z'`` comes before zone ``z`` seen from school ``s``.

    Nearer, or as near and listed first: a strict order, so chains of nearer zones end
    at each school's nearest zone (``argmin``).
    """
    n_z = km.shape[0]
    first = np.arange(n_z)[:, None, None] < np.arange(n_z)[None, :, None]
    return (km[:, None, :] < km[None, :, :]) | ((km[:, None, :] == km[None, :, :]) & first)


def allowed(problem: CatchmentProblem) -> np.ndarray:
    """Bool ``(Z, S)``: the zone may be given to the school."""
    ok = np.ones(problem.km.shape, dtype=bool)
    if problem.max_km is not None:
        ok &= problem.km <= problem.max_km
    has = problem.current >= 0
    ok[np.flatnonzero(has), problem.current[has]] = True
    if problem.adjacency is not None:
        root = np.argmin(problem.km, axis=0)  # each school's nearest zone
        reach = (problem.adjacency[:, :, None] & nearer(problem.km)).any(axis=0)
        reach[root, np.arange(problem.km.shape[1])] = True
        ok &= reach
    return ok


def solve(
    problem: CatchmentProblem, time_limit: float = 60.0, gap: float = 1e-4
) -> CatchmentSolution:
    """Solve the catchment MILP (see the module docstring)."""
    d, cap, km = problem.demand, problem.capacity, problem.km
    n_t, n_z = d.shape
    n_s = cap.shape[1]
    ok = allowed(problem)
    active = d.sum(axis=0) > 0
    ok[~active] = False
    pz, ps = np.nonzero(ok)
    n_p = len(pz)
    index = -np.ones((n_z, n_s), dtype=np.int64)
    index[pz, ps] = np.arange(n_p)
    n_var = n_p + n_t * n_s
    c = np.zeros(n_var)
    c[:n_p] = W_KM * (d[:, pz] * km[pz, ps][None, :]).sum(axis=0)
    c[n_p:] = 1.0
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(cs: np.ndarray, vs: np.ndarray, low: float, high: float) -> None:
        nonlocal r
        rows.append(np.full(len(cs), r))
        cols.append(cs)
        vals.append(vs)
        lo.append(low)
        hi.append(high)
        r += 1

    for z in np.flatnonzero(active):
        at = np.flatnonzero(pz == z)
        add(at, np.ones(len(at)), 1, 1)
    for t in range(n_t):
        for s in range(n_s):
            at = np.flatnonzero(ps == s)
            if at.size:
                add(np.r_[at, n_p + t * n_s + s], np.r_[d[t, pz[at]], -1.0], -np.inf, cap[t, s])
    if problem.adjacency is not None:
        root = np.argmin(km, axis=0)
        order = nearer(km)
        for p in range(n_p):
            z, s = pz[p], ps[p]
            if z == root[s]:
                continue
            nb = np.flatnonzero(problem.adjacency[z] & order[:, z, s])
            feed = index[nb, s]
            feed = feed[feed >= 0]
            add(np.r_[p, feed], np.r_[1.0, -np.ones(len(feed))], -np.inf, 0)
    a_mat = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_var)
    )
    integrality = np.r_[np.ones(n_p), np.zeros(n_t * n_s)]
    upper = np.r_[np.ones(n_p), np.full(n_t * n_s, np.inf)]
    res = milp(
        c,
        constraints=LinearConstraint(a_mat, lo, hi),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), upper),
        options={"time_limit": time_limit, "mip_rel_gap": gap},
    )
    if res.x is None:
        msg = f"the catchment MILP found no solution ({res.message})"
        raise RuntimeError(msg)
    school = problem.current.copy()
    chosen = np.round(res.x[:n_p]).astype(bool)
    school[pz[chosen]] = ps[chosen]
    return CatchmentSolution(school, float(res.fun), float(res.mip_gap or 0.0))


def adjacency(geometries: object) -> np.ndarray:
    """Bool ``(Z, Z)``: zones (a GeoSeries of polygons) that share a border."""
    import geopandas as gpd

    geo = gpd.GeoSeries(geometries).reset_index(drop=True)
    left, right = geo.sindex.query(geo, predicate="intersects")
    out = np.zeros((len(geo), len(geo)), dtype=bool)
    out[left, right] = True
    np.fill_diagonal(out, False)
    return out
