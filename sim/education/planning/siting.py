"""Where to build new schools: a capacitated multi-year p-median as a MILP (HiGHS).

Given each zone's children of one level by year (simulated), the zones' current catchment
schools and their places, and candidate sites with a choice of sizes, choose at most
``budget`` sites and a size for each, and the zones each new school takes over (whole
zones, as a ``new_school`` policy's ``zones``), minimising over the plan's years

    seats short  +  W_KM * pupil-km  +  W_EMPTY * empty new places

where seats short = Σ_t Σ_school max(0, demand - places) (pupil-years; every school of
the level, old and new), pupil-km = Σ_t Σ_zone children × km to their catchment school,
and empty new places = Σ_t Σ_new max(0, places - demand) (so a school is not built larger
than its catchment needs). Solved exactly by :func:`scipy.optimize.milp` (HiGHS), with
the relative optimality gap it proves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, milp

from sim.education.planning.milp import ConstraintRows

W_KM = 0.1  # one seat short weighs as much as 10 pupil-km of travel
W_EMPTY = 0.02  # an empty new place-year: a small cost, so sizes follow need
SIZES = (2, 3, 4, 5, 6)  # classes per grade a new school may have


@dataclass(frozen=True)
class SitingProblem:
    """The data of one siting MILP (plan years T, zones Z, schools S, candidates J).

    Attributes
    ----------
    demand
        Children of the level by plan year and zone ``(T, Z)``.
    current
        Catchment school of each zone by year ``(T, Z)`` (index into S; -1 = none).
    capacity
        Places of each existing school of the level by year ``(T, S)``.
    km_current
        km from each zone to each existing school ``(Z, S)``.
    km_candidate
        km from each zone to each candidate ``(Z, J)``.
    places
        Places of a new school of each size ``(K,)``.
    budget
        Most new schools.
    max_km
        A zone may be given only to a candidate within this distance (None: any).
    """

    demand: np.ndarray
    current: np.ndarray
    capacity: np.ndarray
    km_current: np.ndarray
    km_candidate: np.ndarray
    places: np.ndarray
    budget: int
    max_km: float | None = None


@dataclass(frozen=True)
class SitingSolution:
    """The chosen sites: ``opened[i] = (candidate, size index)``, ``zones[i]`` theirs."""

    opened: list[tuple[int, int]]
    zones: list[list[int]]
    objective: float
    gap: float


def pairs(problem: SitingProblem) -> tuple[np.ndarray, np.ndarray]:
    """Zone and candidate index of every allowed (zone, candidate) assignment."""
    ok = problem.demand.sum(axis=0)[:, None] > 0
    if problem.max_km is not None:
        ok = ok & (problem.km_candidate <= problem.max_km)
    else:
        ok = np.broadcast_to(ok, problem.km_candidate.shape)
    z, j = np.nonzero(ok)
    return z, j


def solve(problem: SitingProblem, time_limit: float = 60.0, gap: float = 1e-4) -> SitingSolution:
    """Solve the siting MILP (see the module docstring for the objective)."""
    d, cur, cap = problem.demand, problem.current, problem.capacity
    n_t, n_z = d.shape
    n_s = cap.shape[1]
    n_j, n_k = problem.km_candidate.shape[1], len(problem.places)
    pz, pj = pairs(problem)
    n_p = len(pz)
    # variables: x (J*K) | a (P) | u (T*S) | v (T*J)
    ox, oa, ou, ov = 0, n_j * n_k, n_j * n_k + n_p, n_j * n_k + n_p + n_t * n_s
    n_var = ov + n_t * n_j
    zt = np.arange(n_t)
    km_cur = np.where(cur >= 0, problem.km_current[np.arange(n_z)[None, :], np.maximum(cur, 0)], 0)
    c = np.zeros(n_var)
    c[ox:oa] = (W_EMPTY * n_t * problem.places)[None, :].repeat(n_j, 0).ravel()
    gain_km = (d[:, pz] * (problem.km_candidate[pz, pj][None, :] - km_cur[:, pz])).sum(axis=0)
    c[oa:ou] = W_KM * gain_km - W_EMPTY * d[:, pz].sum(axis=0)
    c[ou:ov] = 1.0
    c[ov:] = 1.0 + W_EMPTY
    rows = ConstraintRows()
    add = rows.add

    xk = ox + np.arange(n_j)[:, None] * n_k + np.arange(n_k)[None, :]
    for j in range(n_j):
        add(xk[j], np.ones(n_k), 0, 1)
    add(xk.ravel(), np.ones(n_j * n_k), 0, problem.budget)
    for p in range(n_p):
        add(np.r_[oa + p, xk[pj[p]]], np.r_[1.0, -np.ones(n_k)], -np.inf, 0)
    for z in np.unique(pz):
        at = np.flatnonzero(pz == z)
        add(oa + at, np.ones(len(at)), 0, 1)
    for t in zt:
        load0 = np.bincount(cur[t][cur[t] >= 0], weights=d[t][cur[t] >= 0], minlength=n_s)
        for s in np.flatnonzero(load0 > 0):
            at = np.flatnonzero(cur[t, pz] == s)
            add(
                np.r_[ou + t * n_s + s, oa + at],
                np.r_[-1.0, -d[t, pz[at]]],
                -np.inf,
                cap[t, s] - load0[s],
            )
        for j in range(n_j):
            at = np.flatnonzero(pj == j)
            if not at.size:
                continue
            add(
                np.r_[oa + at, xk[j], ov + t * n_j + j],
                np.r_[d[t, pz[at]], -problem.places, -1.0],
                -np.inf,
                0,
            )
    integrality = np.zeros(n_var)
    integrality[:ou] = 1
    upper = np.full(n_var, np.inf)
    upper[:ou] = 1
    res = milp(
        c,
        constraints=rows.constraint(n_var),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), upper),
        options={"time_limit": time_limit, "mip_rel_gap": gap},
    )
    if res.x is None:
        msg = f"the siting MILP found no solution ({res.message})"
        raise RuntimeError(msg)
    x = np.round(res.x[ox:oa]).reshape(n_j, n_k).astype(bool)
    a = np.round(res.x[oa:ou]).astype(bool)
    opened, zones = [], []
    for j, k in zip(*np.nonzero(x), strict=True):
        mine = sorted(int(z) for z in pz[a & (pj == j)])
        if mine:
            opened.append((int(j), int(k)))
            zones.append(mine)
    constant = W_KM * float((d * km_cur).sum())
    return SitingSolution(opened, zones, float(res.fun) + constant, float(res.mip_gap or 0.0))


def plan_cost(problem: SitingProblem, opened: list[tuple[int, int]], assign: np.ndarray) -> float:
    """The MILP objective of a given plan (to score another tool's plan on it).

    ``opened`` lists ``(candidate, size index)``; ``assign[z]`` is the index into
    ``opened`` of the school zone ``z`` moves to, or -1 to stay with its current school.
    """
    d, cur, cap = problem.demand, problem.current, problem.capacity
    zi = np.arange(d.shape[1])
    total = 0.0
    for t in range(d.shape[0]):
        stay = (assign < 0) & (cur[t] >= 0)
        load = np.bincount(cur[t][stay], weights=d[t][stay], minlength=cap.shape[1])
        total += float(np.maximum(load - cap[t], 0).sum())
        km = np.where(cur[t] >= 0, problem.km_current[zi, np.maximum(cur[t], 0)], 0.0)
        for i, (j, k) in enumerate(opened):
            mine = assign == i
            load_j = float(d[t][mine].sum())
            total += max(load_j - problem.places[k], 0.0)
            total += W_EMPTY * max(problem.places[k] - load_j, 0.0)
            km = np.where(mine, problem.km_candidate[:, j], km)
        total += W_KM * float((d[t] * km).sum())
    return total
