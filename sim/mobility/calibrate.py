"""Demand calibration to a city's data: OD matrix estimation from link counts, GEH and R².

:func:`estimate_od` adjusts a prior car matrix to observed link counts by the
information-minimising balancing of Van Zuylen & Willumsen (1980), *The most likely trip
matrix estimated from traffic counts*, Transportation Research B 14(3): each count's
factor ``count / modelled`` scales every OD pair whose route crosses it, count after
count, sweep after sweep, with the routes (shortest paths at the equilibrium link
costs) refreshed by a new assignment between outer rounds. GEH per count is
``sqrt(2 (m - c)² / (m + c))``; GEH < 5 for 85 % of counts is the usual acceptance test
(UK DMRB TAG M3.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputDataError
from sim.inputs import check_input_file
from sim.kernels import choice, paths
from sim.mobility.modes import FAMILIES
from sim.traffic.assignment import assign
from sim.traffic.network import Network

COUNT_COLUMNS = ("link_id", "period_start", "period_end", "count")
#: Columns of ``od_estimated.csv`` (calibrate-demand --out), read back by a run.
OD_COLUMNS = ("origin_zone", "destination_zone", "prior", "estimated")
#: Balancing sweeps over the counts within one set of routes, and outer re-assignments.
SWEEPS, ROUNDS = 30, 4
GEH_ACCEPT = 5.0


def geh(modelled: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """GEH statistic of hourly flows (0 where both are 0)."""
    m, c = np.asarray(modelled, float), np.asarray(observed, float)
    total = m + c
    return np.sqrt(np.divide(2.0 * (m - c) ** 2, total, out=np.zeros_like(m), where=total > 0))


def r_squared(modelled: np.ndarray, observed: np.ndarray) -> float:
    """Coefficient of determination of the modelled against the observed counts."""
    c = np.asarray(observed, float)
    ss = float(((c - c.mean()) ** 2).sum())
    return 1.0 - float(((np.asarray(modelled) - c) ** 2).sum()) / ss if ss > 0 else float("nan")


def _minutes(text: str, path: Path, row: int, column: str) -> int:
    try:
        hh, mm = str(text).split(":")
        value = int(hh) * 60 + int(mm)
    except ValueError:
        value = -1
    if not 0 <= value <= 24 * 60:
        msg = f"{path}: row {row}, {column} = {text!r}: expected a time HH:MM"
        raise InputDataError(msg)
    return value


def read_counts(path: str | Path, link_ids: pd.Index) -> pd.DataFrame:
    """Read ``link_id,period_start,period_end,count`` (times HH:MM); add ``per_hour``.

    Raises
    ------
    InputDataError
        A column is missing, a link is not the city's, a time or count is not allowed.
    """
    path = check_input_file(path, "counts CSV")
    try:
        df = pd.read_csv(path, dtype={"period_start": str, "period_end": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(f"{path}: not a CSV table ({exc})") from None
    missing = [c for c in COUNT_COLUMNS if c not in df.columns]
    if missing:
        raise InputDataError(f"{path}: missing column(s) {', '.join(missing)}")
    if df.empty:
        raise InputDataError(f"{path}: no counts")
    out = df[list(COUNT_COLUMNS)].copy()
    for i, row in enumerate(out.itertuples(index=False), start=2):
        if row.link_id not in link_ids:
            msg = f"{path}: row {i}, link_id = {row.link_id!r}: not a link of the city"
            raise InputDataError(msg)
        count = pd.to_numeric(pd.Series([row.count]), errors="coerce").iloc[0]
        if not (np.isfinite(count) and count >= 0):
            raise InputDataError(f"{path}: row {i}, count = {row.count!r}: expected a number >= 0")
        start = _minutes(row.period_start, path, i, "period_start")
        end = _minutes(row.period_end, path, i, "period_end")
        if end <= start:
            msg = f"{path}: row {i}, period_end = {row.period_end}: must be after period_start"
            raise InputDataError(msg)
    minutes = np.array(
        [
            _minutes(e, path, 0, "period_end") - _minutes(s, path, 0, "period_start")
            for s, e in zip(out["period_start"], out["period_end"], strict=True)
        ]
    )
    out["count"] = out["count"].astype(float)
    out["per_hour"] = out["count"] / (minutes / 60.0)
    return out


@dataclass
class ODEstimate:
    """The estimated matrix and the fit before and after."""

    prior: np.ndarray
    estimated: np.ndarray
    modelled_before: np.ndarray
    modelled_after: np.ndarray
    observed: np.ndarray

    def summary(self) -> dict[str, float]:
        """Share of counts with GEH < 5, R², and the matrix change (sum |Δ| / sum prior)."""
        g0 = geh(self.modelled_before, self.observed)
        g1 = geh(self.modelled_after, self.observed)
        return {
            "counts": len(self.observed),
            "share_geh_below_5_before": float((g0 < GEH_ACCEPT).mean()),
            "share_geh_below_5": float((g1 < GEH_ACCEPT).mean()),
            "r2_before": r_squared(self.modelled_before, self.observed),
            "r2": r_squared(self.modelled_after, self.observed),
            "matrix_total_prior": float(self.prior.sum()),
            "matrix_total": float(self.estimated.sum()),
            "matrix_change": float(
                np.abs(self.estimated - self.prior).sum() / max(self.prior.sum(), 1e-12)
            ),
        }


def route_incidence(net: Network, costs: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """``(n_counted, n_zones, n_zones)``: 1 where the OD's shortest route uses the link."""
    _, pred = paths.shortest_paths(
        net.out_start, net.out_links, net.link_to, costs, net.zone_nodes, net.first_thru_node
    )
    marks = np.zeros((len(counted), net.n_links))
    marks[np.arange(len(counted)), counted] = 1.0
    return choice.path_sums(pred, net.link_from, net.zone_nodes, marks)


def balance(prior: np.ndarray, incidence: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Scale ``prior`` so that the counted links' flows ``incidence · od`` meet ``target``."""
    od = prior.copy()
    for _ in range(SWEEPS):
        for a in range(len(target)):
            through = incidence[a] > 0
            flow = float((od * incidence[a]).sum())
            if flow > 0:
                od[through] *= target[a] / flow
    return od


def estimate_od(
    net: Network,
    prior: np.ndarray,
    counted: np.ndarray,
    observed: np.ndarray,
    **assignment: float | str | int,
) -> ODEstimate:
    """Estimate the car matrix that reproduces hourly counts on links ``counted``.

    Parameters
    ----------
    net
        The road network.
    prior
        The model's car matrix (vehicles in the hour the counts are rates of).
    counted, observed
        Network positions of the counted links and their observed hourly flows.
    assignment
        Keyword arguments of :func:`sim.traffic.assignment.assign` (algorithm, rel_gap...).
    """
    counted = np.asarray(counted, dtype=np.int64)
    res = assign(net, prior, **assignment)  # type: ignore[arg-type]
    before = res.flows[counted]
    od = prior.copy()
    for _ in range(ROUNDS):
        incidence = route_incidence(net, np.ascontiguousarray(res.costs), counted)
        od = balance(od, incidence, observed)
        res = assign(net, od, initial_flows=res.flows, **assignment)  # type: ignore[arg-type]
    return ODEstimate(prior, od, before, res.flows[counted], np.asarray(observed, float))


#: Mode families of ``--mode-shares`` (the ``mode_share_*`` KPIs, ``parameters.mode_constants``).
MODE_FAMILIES: tuple[str, ...] = tuple(FAMILIES)
#: Bounds of ``parameters.mode_constants`` (sim.scenario.ModeConstants).
SHIFT_BOUND = 10.0


def _table(path: str | Path, what: str, columns: tuple[str, ...]) -> pd.DataFrame:
    path = check_input_file(path, what)
    try:
        df = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(f"{path}: not a CSV table ({exc})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing or df.empty:
        raise InputDataError(f"{path}: needs rows with columns {', '.join(columns)}")
    for col in columns[1:] if columns[0] == "mode" else columns:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = f"{path}: row {i + 2}, {col} = {df[col].tolist()[i]!r}: expected a number >= 0"
            raise InputDataError(msg)
        df[col] = values.astype(float)
    return df


def read_mode_shares(path: str | Path) -> dict[str, float]:
    """``mode,share`` rows, modes among :data:`MODE_FAMILIES`; shares normalised to 1."""
    df = _table(path, "mode shares CSV", ("mode", "share"))
    unknown = sorted(set(df["mode"].astype(str)) - set(MODE_FAMILIES))
    if unknown:
        msg = f"{path}: mode = {unknown[0]!r}: allowed {', '.join(MODE_FAMILIES)}"
        raise InputDataError(msg)
    total = float(df["share"].sum())
    if total <= 0:
        raise InputDataError(f"{path}: the shares add up to 0")
    return {str(m): float(s) / total for m, s in zip(df["mode"], df["share"], strict=True)}


def read_trip_lengths(path: str | Path) -> pd.DataFrame:
    """``km_lo,km_hi,share`` rows of the commute trip-length distribution."""
    df = _table(path, "trip lengths CSV", ("km_lo", "km_hi", "share"))
    if (df["km_hi"] <= df["km_lo"]).any():
        i = int(np.flatnonzero(df["km_hi"] <= df["km_lo"])[0])
        raise InputDataError(f"{path}: row {i + 2}: km_hi must be above km_lo")
    return df


def mode_constant_shifts(
    observed: dict[str, float], modelled: dict[str, float]
) -> dict[str, float]:
    """Logit constant change per mode family, ``ln(observed / modelled)`` (one step)."""
    return {
        m: float(np.log(observed[m] / modelled[m]))
        if observed[m] > 0 and modelled.get(m, 0) > 0
        else float("nan")
        for m in observed
    }


def calibrated_scenario(
    base: Path,
    name: str,
    od_file: str,
    constants: dict[str, float] | None = None,
    mean_trip_km: float | None = None,
) -> str:
    """The YAML of ``calibrated.yaml``: ``base`` extended by what the calibration fitted.

    Parameters
    ----------
    base
        The calibrated scenario file (written as an absolute path, so ``extends`` resolves
        wherever the new file lies).
    name
        The new scenario's name.
    od_file
        ``parameters.od_adjustment`` (relative to the new file's folder).
    constants
        ``parameters.mode_constants`` per family (non-finite ones left out), if fitted.
    mean_trip_km
        ``parameters.mean_trip_km``, if observed.
    """
    import yaml

    params: dict[str, object] = {"od_adjustment": od_file}
    fitted = {m: float(v) for m, v in (constants or {}).items() if np.isfinite(v)}
    if fitted:
        bound = SHIFT_BOUND
        params["mode_constants"] = {m: min(max(v, -bound), bound) for m, v in fitted.items()}
    if mean_trip_km is not None and np.isfinite(mean_trip_km):
        params["mean_trip_km"] = float(mean_trip_km)
    doc = {"name": name, "extends": str(Path(base).resolve()), "parameters": params}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def trip_length_fit(tld: pd.DataFrame, km: np.ndarray) -> dict[str, object]:
    """Observed and modelled commute shares per band, and the observed mean (km)."""
    edges_lo, edges_hi = tld["km_lo"].to_numpy(), tld["km_hi"].to_numpy()
    obs = tld["share"].to_numpy() / tld["share"].sum()
    model = np.array(
        [((km >= lo) & (km < hi)).mean() for lo, hi in zip(edges_lo, edges_hi, strict=True)]
    )
    return {
        "bands_km": [[float(lo), float(hi)] for lo, hi in zip(edges_lo, edges_hi, strict=True)],
        "observed_share": obs.tolist(),
        "modelled_share": model.tolist(),
        "observed_mean_km": float(obs @ ((edges_lo + edges_hi) / 2.0)),
        "modelled_mean_km": float(km.mean()) if len(km) else float("nan"),
    }


def read_od_adjustment(path: str | Path, zone_ids: pd.Index) -> np.ndarray:
    """Factors ``estimated / prior`` per OD pair of an ``od_estimated.csv``, ``(n, n)``.

    ``parameters.od_adjustment``: a run multiplies its busiest-hour car matrix by them, so
    a scenario calibrated by ``calibrate-demand --out`` loads the estimated matrix. Pairs
    the file omits, or with a prior of 0 (the balancing never fills those), keep factor 1.

    Raises
    ------
    InputDataError
        Not such a table, a zone the city lacks, or a value not a number >= 0.
    """
    df = _table(path, "OD adjustment CSV", OD_COLUMNS)
    pos = {z: i for i, z in enumerate(zone_ids)}
    factor = np.ones((len(zone_ids), len(zone_ids)))
    for col in ("origin_zone", "destination_zone"):
        unknown = ~df[col].isin(list(zone_ids))
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            msg = f"{path}: row {i + 2}, {col} = {float(df[col].iloc[i]):g}: not a zone of the city"
            raise InputDataError(msg)
    o = df["origin_zone"].map(pos).to_numpy(dtype=np.int64)
    d = df["destination_zone"].map(pos).to_numpy(dtype=np.int64)
    prior, estimated = df["prior"].to_numpy(), df["estimated"].to_numpy()
    rows = prior > 0
    factor[o[rows], d[rows]] = estimated[rows] / prior[rows]
    return factor
