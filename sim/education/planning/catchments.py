"""Redraw catchments (学区): assign whole zones to schools as a MILP (HiGHS).

Every zone with children of the level goes to exactly one open school of the level
(within ``max_km`` of it, its current school always allowed), minimising over the plan's
years

    seats short  +  W_KM * pupil-km

(seats short = Σ_t Σ_school max(0, demand - places), pupil-years), with seats short no
more than the current catchments have. With ``contiguous`` every zone is given a school
and each catchment is one connected piece of adjacent zones containing its root (the
school's nearest current catchment zone, or its nearest zone), enforced by a flow of
one unit from every zone of the catchment to the root through zones of the catchment;
zones already cut off from their school's root today may stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, milp

from sim.education.planning.milp import ConstraintRows
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


def roots(problem: CatchmentProblem) -> np.ndarray:
    """Each school's root zone: its nearest current catchment zone, else its nearest zone."""
    km = np.where(
        problem.current[:, None] == np.arange(problem.km.shape[1])[None, :], problem.km, np.inf
    )
    has = np.isfinite(km).any(axis=0)
    return np.where(has, np.argmin(km, axis=0), np.argmin(problem.km, axis=0))


def exclaves(problem: CatchmentProblem, root: np.ndarray) -> np.ndarray:
    """Bool ``(Z,)``: zones cut off from their current school's root zone today.

    They may stay as they are (the flow rule exempts them), so today's catchments are
    always a feasible plan even where they are in pieces.
    """
    assert problem.adjacency is not None
    cur = problem.current
    reached = np.zeros(len(cur), dtype=bool)
    for s, r in enumerate(root):
        if cur[r] != s:
            continue
        frontier = [int(r)]
        reached[r] = True
        while frontier:
            z = frontier.pop()
            nxt = np.flatnonzero(problem.adjacency[z] & (cur == s) & ~reached)
            reached[nxt] = True
            frontier.extend(int(n) for n in nxt)
    return (cur >= 0) & ~reached


def allowed(problem: CatchmentProblem) -> np.ndarray:
    """Bool ``(Z, S)``: the zone may be given to the school (its current one always)."""
    ok = np.ones(problem.km.shape, dtype=bool)
    if problem.max_km is not None:
        ok &= problem.km <= problem.max_km
    has = problem.current >= 0
    ok[np.flatnonzero(has), problem.current[has]] = True
    if problem.adjacency is None:
        ok[problem.demand.sum(axis=0) <= 0] = False  # empty zones matter only for contiguity
    return ok


def _shortage(problem: CatchmentProblem, school: np.ndarray) -> float:
    """Seats short (pupil-years) of an assignment in the MILP's own terms."""
    keep = school >= 0
    total = 0.0
    for t in range(problem.demand.shape[0]):
        load = np.bincount(
            school[keep], weights=problem.demand[t][keep], minlength=problem.capacity.shape[1]
        )
        total += float(np.maximum(load - problem.capacity[t], 0).sum())
    return total


def solve(
    problem: CatchmentProblem, time_limit: float = 60.0, gap: float = 1e-4
) -> CatchmentSolution:
    """Solve the catchment MILP (see the module docstring).

    Seats short may not exceed those of the current catchments (in the MILP's terms), so
    a plan never trades shortage for travel. When no assignment meets the rules (current
    catchments in pieces under ``contiguous``), the current catchments are returned.
    """
    d, cap, km = problem.demand, problem.capacity, problem.km
    n_t, n_z = d.shape
    n_s = cap.shape[1]
    ok = allowed(problem)
    pz, ps = np.nonzero(ok)
    n_p = len(pz)
    index = -np.ones((n_z, n_s), dtype=np.int64)
    index[pz, ps] = np.arange(n_p)
    arcs = np.empty((0, 3), dtype=np.int64)  # (school, from zone, to zone)
    if problem.adjacency is not None:
        fz, tz = np.nonzero(problem.adjacency)
        per = [np.c_[np.full(len(fz), s), fz, tz] for s in range(n_s)]
        arcs = np.concatenate(per) if per else arcs
        arcs = arcs[ok[arcs[:, 1], arcs[:, 0]] & ok[arcs[:, 2], arcs[:, 0]]]
    n_f = len(arcs)
    of = n_p + n_t * n_s
    n_var = of + n_f
    c = np.zeros(n_var)
    c[:n_p] = W_KM * (d[:, pz] * km[pz, ps][None, :]).sum(axis=0)
    c[n_p:of] = 1.0
    rows = ConstraintRows()
    add = rows.add

    for z in np.unique(pz):
        at = np.flatnonzero(pz == z)
        add(at, np.ones(len(at)), 1, 1)
    for t in range(n_t):
        for s in range(n_s):
            at = np.flatnonzero(ps == s)
            if at.size:
                add(np.r_[at, n_p + t * n_s + s], np.r_[d[t, pz[at]], -1.0], -np.inf, cap[t, s])
    add(np.arange(n_p, of), np.ones(of - n_p), 0, _shortage(problem, problem.current))
    if problem.adjacency is not None:
        # single-commodity flow per school: every zone given to it sends one unit to its
        # root, along arcs between zones given to it, so the catchment is connected
        root = roots(problem)
        cut_off = exclaves(problem, root)
        big = float(ok.sum(axis=0).max())
        for p in range(n_p):
            z, s = pz[p], ps[p]
            out = np.flatnonzero((arcs[:, 0] == s) & (arcs[:, 1] == z))
            inn = np.flatnonzero((arcs[:, 0] == s) & (arcs[:, 2] == z))
            if z != root[s] and not (cut_off[z] and problem.current[z] == s):
                add(
                    np.r_[of + out, of + inn, p],
                    np.r_[np.ones(len(out)), -np.ones(len(inn)), -1.0],
                    0,
                    0,
                )
            for f in np.r_[out, inn]:
                add(np.r_[of + f, p], np.r_[1.0, -big], -np.inf, 0)
    integrality = np.r_[np.ones(n_p), np.zeros(n_var - n_p)]
    upper = np.r_[np.ones(n_p), np.full(n_var - n_p, np.inf)]
    res = milp(
        c,
        constraints=rows.constraint(n_var),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), upper),
        options={"time_limit": time_limit, "mip_rel_gap": gap},
    )
    if res.x is None:
        school = problem.current.copy()
        km_now = np.where(school >= 0, km[np.arange(n_z), np.maximum(school, 0)], 0.0)
        cost = _shortage(problem, school) + W_KM * float((d * km_now[None, :]).sum())
        return CatchmentSolution(school, cost, 0.0)
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
