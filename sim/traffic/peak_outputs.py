"""What a dynamic peak loading reports: traffic KPIs and the ``links_t`` and ``signals`` tables.

From a :class:`~sim.traffic.dynamic.LoadResult`, its
:class:`~sim.traffic.dynamic.DynamicNetwork` (links in the order of the year's city
links) and the city's schools, :func:`peak_outputs` computes:

- ``vkt``, ``vht``: vehicle-km and vehicle-hours of the vehicles entering each link (their
  mean time on it from those leaving it: the static model's link totals), over the
  whole loading (``vht`` with the waits at the origin) or over the busiest hour's bins;
- ``delay_vh``: vehicle-hours above true free-flow time (length / free speed: the
  dynamic network's links carry no signal delay), waits at the origin for a full first
  link included, split into ``signal_delay_vh`` and ``congestion_delay_vh`` (they sum
  to ``delay_vh``);
- ``travel_time_index``: ``vht`` over the true free-flow vehicle-hours;
- ``max_queue_veh``: the largest stop-line queue of any link;
- ``spillback_link_min``: link-minutes during which a link's storage is full, so that
  its upstream node (or the origin queue) cannot send a vehicle into it;
- ``school_zone_delay_vh``: the delay on links within :data:`SCHOOL_RADIUS_M` of a school.

Signal delay. The kernel does not (yet) report the time vehicles wait at red, so the
split is derived from what it does report: on a signalised approach, each 5-minute bin's
vehicles are given Webster's (1958) uniform delay ``C (1 − λ)² / (2 (1 − min(x, 1) λ))``
at the bin's measured flow ratio ``x`` and the approach's measured effective green share
``λ`` (green seconds the loading gave its phases over the simulated time); the
approach's signal delay is that sum, capped at its measured delay. The rest of the delay
(queues behind a bottleneck, spill-back, the over-saturated part of a signal queue) is
congestion. An under-saturated approach thus has congestion delay ≈ 0, a link without a
signal signal delay 0.

Spill-back. A link is full when the vehicles on it plus those that left it less than one
backward-wave delay ago (whose space has not yet come free) fill its storage. From a
bin's mean count ``m`` of that sum, the share of the bin it was full is at least
``m − (storage − 1)`` (the count never exceeds the storage); that bound is counted, so a
bin in which a link fills or empties counts little or nothing (each full period may be
short by up to two bins). A full link blocks its upstream node only if someone waits
there: a bin counts only if a vehicle queued at the stop line of a link into that node
(waits at an origin with incoming links, such as a zone centroid, are not seen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from sim.traffic.dynamic import JAM_DENSITY, DynamicNetwork, LoadResult, link_storage

#: Links within this distance (m) of a school count for ``school_zone_delay_vh``.
SCHOOL_RADIUS_M = 300.0
#: One hour (s): the busiest hour of a phase's degree of saturation, the loaded period.
HOUR_S = 3600.0
#: Every bin of a loading.
ALL_BINS = slice(None)
#: ``links_t.parquet`` columns.
LINKS_T_COLUMNS: tuple[str, ...] = (
    "year",
    "link",
    "bin_start_s",
    "inflow",
    "outflow",
    "mean_speed_kmh",
    "queue",
    "occupancy",
)
#: What a run folder keeps of the dynamic peak's link table (its manifest says it).
LINKS_T_NOTE = (
    "links_t.parquet and signals.parquet hold replication 0 only; links_t has one row per "
    "link and 5-minute bin with traffic (vehicles in, out or queued), counts int32, speed "
    "and occupancy float32: measured 2.9 to 6.5 MB per simulated year on the default city "
    "(428,148 rows at half its AM demand, 892,791 at its full, congested AM period) and "
    "0.03 MB per year on the 547-link imported Helsinki district"
)
#: ``signals.parquet`` columns: one row per signal and phase.
SIGNAL_COLUMNS: tuple[str, ...] = (
    "year",
    "signal",
    "phases",
    "phase",
    "cycle_s",
    "green_s",
    "degree_of_saturation",
    "control",
)


@dataclass
class PeakOutputs:
    """The KPIs and tables of one dynamic peak loading."""

    kpis: dict[str, float]
    links_t: pd.DataFrame
    signals: pd.DataFrame


class PeakRecorder:
    """The ``links_t`` and ``signals`` rows of every simulated year of one replication."""

    def __init__(self) -> None:
        self._links_t: list[pd.DataFrame] = []
        self._signals: list[pd.DataFrame] = []

    def add(self, outputs: PeakOutputs) -> None:
        """Keep one year's tables."""
        self._links_t.append(outputs.links_t)
        self._signals.append(outputs.signals)

    def links_t_frame(self) -> pd.DataFrame:
        """Every year's ``links_t`` rows (:data:`LINKS_T_COLUMNS`; empty without any)."""
        return _concat(self._links_t, LINKS_T_COLUMNS)

    def signals_frame(self) -> pd.DataFrame:
        """Every year's ``signals`` rows (:data:`SIGNAL_COLUMNS`; empty without any)."""
        return _concat(self._signals, SIGNAL_COLUMNS)


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)[list(columns)]


@dataclass
class Approaches:
    """The signalised approaches of a network, as the loading served them.

    ``signal`` is the index (in ``net.signals``) of the signal each link ends at (−1:
    none); ``green_ratio`` the effective green share of each link's discharge (1 away
    from signals: a protected-turn phase counts at one lane of its lanes); ``phase_links``
    the approach links each phase serves, per signal.
    """

    signal: np.ndarray
    green_ratio: np.ndarray
    cycle_s: np.ndarray
    phase_links: list[list[list[int]]]


def approaches(
    net: DynamicNetwork, result: LoadResult, greens: Sequence[np.ndarray] | None = None
) -> Approaches:
    """The approaches of ``net``'s signals with the green the loading gave each phase.

    Parameters
    ----------
    net, result
        The network and one loading of it.
    greens
        The plans' effective greens per signal (default each signal's spec, e.g. the
        controllers' greens after a Webster retiming): they give the cycle
        ``Σ g + phases × lost time``.
    """
    n = len(net.link_ids)
    signal = np.full(n, -1, dtype=np.int64)
    ratio = np.ones(n)
    cycles = np.zeros(len(net.signals))
    phase_links: list[list[list[int]]] = []
    sim_s = max(result.sim_s, 1e-9)
    for i, spec in enumerate(net.signals):
        g = spec.greens if greens is None else np.asarray(greens[i], dtype=float)
        cycles[i] = float(g.sum() + spec.lost_s * len(g))
        share = np.asarray(result.green_s[i], dtype=float) / sim_s  # measured g/C per phase
        served: list[list[int]] = [[] for _ in range(len(g))]
        rate: dict[int, np.ndarray] = {}
        for (ln, _), (full, turn) in spec.masks.items():
            r = rate.setdefault(ln, np.zeros(len(g)))
            for p in range(len(g)):
                if full >> p & 1:
                    r[p] = 1.0
                elif turn >> p & 1:
                    r[p] = max(r[p], 1.0 / max(float(net.lanes[ln]), 1.0))
        for ln, r in rate.items():
            signal[ln] = i
            ratio[ln] = float(r @ share)
            for ph in np.flatnonzero(r > 0).tolist():
                served[ph].append(ln)
        phase_links.append(served)
    return Approaches(signal, ratio, cycles, phase_links)


def link_flows(
    result: LoadResult, net: DynamicNetwork, bins: slice = ALL_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Vehicles entering each link in ``bins`` and the mean time (s) of those leaving it.

    The static model's link totals, read from a loading (a link nobody left in the bins
    has its free-flow time); over all bins of a loading in which every vehicle arrived,
    ``flow × time`` is exactly the vehicle-seconds spent on the link.
    """
    fft = net.length_m / net.speed_ms
    flow = result.bin_in[:, bins].sum(axis=1).astype(float)
    out = result.bin_out[:, bins].sum(axis=1)
    spent = result.bin_tt[:, bins].sum(axis=1)
    return flow, np.divide(spent, out, out=fft.copy(), where=out > 0)


def delay_split(
    result: LoadResult, net: DynamicNetwork, app: Approaches, bins: slice = ALL_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Delay (s) of each link's vehicles in ``bins`` and its signal part (see the module)."""
    fft = net.length_m / net.speed_ms
    flow, time_s = link_flows(result, net, bins)
    delay = flow * np.maximum(time_s - fft, 0.0)
    signal = np.zeros(len(fft))
    sig = np.flatnonzero(app.signal >= 0)
    if sig.size:
        lam = app.green_ratio[sig][:, None]
        cycle = app.cycle_s[app.signal[sig]][:, None]
        sat = net.capacity_vph[sig][:, None] / 3600.0  # saturation flow in the green
        out = result.bin_out[sig, bins].astype(float)
        x = np.divide(out, result.bin_s * sat * lam, out=np.ones_like(out), where=lam > 0)
        uniform = cycle * (1.0 - lam) ** 2 / (2.0 * (1.0 - np.minimum(x, 1.0) * lam))
        n_out = out.sum(axis=1)
        per_vehicle = np.divide((out * uniform).sum(axis=1), n_out, out=np.zeros(sig.size),
                                where=n_out > 0)  # fmt: skip
        signal[sig] = np.minimum(flow[sig] * per_vehicle, delay[sig])
    return delay, signal


def spillback_seconds(
    result: LoadResult, net: DynamicNetwork, bins: slice = ALL_BINS
) -> np.ndarray:
    """Seconds each link was full and blocked its upstream node, per time bin of ``bins``.

    A lower bound (see the module), counted in bins in which a vehicle was queued at the
    end of a link into the link's upstream node; a link leaving a node that no link
    enters (an origin) counts whenever full, as its vehicles wait at the origin.
    """
    lanes = np.maximum(net.lanes.astype(float), 1.0)
    storage = link_storage(net, result.dt).astype(float)
    cap = net.capacity_vph / 3600.0
    kj_v = JAM_DENSITY * lanes * net.speed_ms
    # the backward wave of the triangular diagram, as the kernel's link model has it
    wave = np.where(kj_v > cap * 1.05, cap * net.speed_ms / np.maximum(kj_v - cap, 1e-9),
                    net.speed_ms)  # fmt: skip
    fft = net.length_m / net.speed_ms
    at_capacity = (storage - 1.0) / np.maximum(cap, 1e-9) - fft
    wave_s = np.maximum(np.minimum(net.length_m / wave, at_capacity), 0.0)
    held = (result.bin_occ[:, bins] + result.bin_out[:, bins] * wave_s[:, None]) / result.bin_s
    full = np.clip(held - (storage[:, None] - 1.0), 0.0, 1.0) * result.bin_s
    # it blocks its upstream node if a vehicle queued there in the bin (or the node has
    # no incoming link: the vehicles wait at their origin)
    n = len(net.link_to)
    into = csr_matrix((np.ones(n), (net.link_to, np.arange(n))), shape=(net.n_nodes, n))
    queued = (into @ (result.bin_queue[:, bins] > 0).astype(float)) > 0
    origin = np.bincount(net.link_to, minlength=net.n_nodes) == 0
    return np.where(queued[net.link_from] | origin[net.link_from][:, None], full, 0.0)


def origin_wait_s(result: LoadResult) -> float:
    """Vehicle-seconds spent waiting at the origin for a full first link (congestion).

    The arrived vehicles' travel times less the time spent on links; exact when every
    vehicle arrived (the links then hold only arrived vehicles' time).
    """
    done = ~np.isnan(result.arrive)
    return max(float(result.travel_time[done].sum() - result.link_time_s.sum()), 0.0)


def school_links(links: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """Whether each link lies within :data:`SCHOOL_RADIUS_M` of a school (point geometries)."""
    import shapely

    if len(schools) == 0 or len(links) == 0:
        return np.zeros(len(links), dtype=bool)
    tree = shapely.STRtree(np.asarray(links.geometry))
    hit = tree.query(np.asarray(schools.geometry), predicate="dwithin", distance=SCHOOL_RADIUS_M)
    near = np.zeros(len(links), dtype=bool)
    near[hit[1]] = True
    return near


def peak_kpis(
    result: LoadResult,
    net: DynamicNetwork,
    app: Approaches,
    near_school: np.ndarray | None = None,
    hour: slice | None = None,
) -> dict[str, float]:
    """The traffic KPIs of one loading (see the module for their definitions).

    With ``hour`` (a slice of 5-minute bins) they are those of the vehicles entering
    links in those bins, as the static model's link totals (waits at the origin are then
    not counted); without, of the whole loading, origin waits included.
    """
    bins = ALL_BINS if hour is None else hour
    fft = net.length_m / net.speed_ms
    flow, time_s = link_flows(result, net, bins)
    wait = origin_wait_s(result) if hour is None else 0.0
    vht = (float(flow @ time_s) + wait) / 3600.0
    free_vht = float(flow @ fft) / 3600.0
    delay, signal = delay_split(result, net, app, bins)
    school = 0.0 if near_school is None else float(delay[near_school].sum()) / 3600.0
    return {
        "vkt": float(flow @ net.length_m) / 1000.0,
        "vht": vht,
        "delay_vh": (float(delay.sum()) + wait) / 3600.0,
        "signal_delay_vh": float(signal.sum()) / 3600.0,
        "congestion_delay_vh": (float((delay - signal).sum()) + wait) / 3600.0,
        "travel_time_index": vht / free_vht if free_vht > 0 else 1.0,
        "max_queue_veh": float(result.bin_queue[:, bins].max(initial=0)),
        "spillback_link_min": float(spillback_seconds(result, net, bins).sum()) / 60.0,
        "school_zone_delay_vh": school,
    }


def links_t_frame(
    result: LoadResult,
    net: DynamicNetwork,
    link_ids: Sequence[int],
    year: int,
    first_bin: int = 0,
) -> pd.DataFrame:
    """``links_t`` rows of one loading: links with traffic, 5-minute bins, compact dtypes.

    ``link`` is the city's link id; counts are int32, speeds and occupancies float32. The
    columns mean what :meth:`~sim.traffic.dynamic.LoadResult.links_t` says, with
    ``bin_start_s`` counted from bin ``first_bin`` (the AM period's start) and the bins
    before it (a warm-up) left out.
    """
    link, b = np.nonzero(result.bin_in + result.bin_out + result.bin_queue)
    keep = b >= first_bin
    link, b = link[keep], b[keep]
    out = result.bin_out[link, b]
    tt = result.bin_tt[link, b]
    speed = np.full(len(link), np.nan, dtype=np.float32)
    np.divide(net.length_m[link] * out * 3.6, tt, out=speed, where=tt > 0, casting="unsafe")
    return pd.DataFrame(
        {
            "year": np.full(len(link), year, dtype=np.int32),
            "link": np.asarray(link_ids, dtype=np.int64)[link],
            "bin_start_s": ((b - first_bin) * result.bin_s).astype(np.int32),
            "inflow": result.bin_in[link, b].astype(np.int32),
            "outflow": out.astype(np.int32),
            "mean_speed_kmh": speed,
            "queue": result.bin_queue[link, b].astype(np.int32),
            "occupancy": (result.bin_occ[link, b] / result.bin_s).astype(np.float32),
        }
    )


def signals_frame(
    result: LoadResult,
    net: DynamicNetwork,
    app: Approaches,
    signal_ids: Sequence[int],
    control: str,
    year: int,
) -> pd.DataFrame:
    """One row per signal and phase: cycle, green per cycle, degree of saturation.

    ``green_s`` is the mean effective green per cycle (measured green share × cycle);
    ``degree_of_saturation`` is the largest over the phase's approaches of the busiest
    hour's outflow over the approach's capacity ``s × green share``.
    """
    bins = max(round(HOUR_S / result.bin_s), 1)
    kernel = np.ones(min(bins, result.bin_out.shape[1]))
    rows = []
    for i, (sid, served) in enumerate(zip(signal_ids, app.phase_links, strict=True)):
        share = np.asarray(result.green_s[i], dtype=float) / max(result.sim_s, 1e-9)
        for p, links in enumerate(served):
            x = 0.0
            for ln in links:
                hour = np.convolve(result.bin_out[ln].astype(float), kernel, "valid").max()
                flow = hour / (len(kernel) * result.bin_s)  # veh/s in the busiest hour
                cap = net.capacity_vph[ln] / 3600.0 * app.green_ratio[ln]
                x = max(x, flow / cap if cap > 0 else np.inf)
            rows.append((year, sid, len(served), p, app.cycle_s[i],
                         share[p] * app.cycle_s[i], x, control))  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))
    return frame.astype(
        {"year": np.int32, "signal": np.int64, "phases": np.int32, "phase": np.int32,
         "cycle_s": np.float32, "green_s": np.float32, "degree_of_saturation": np.float32}
    )  # fmt: skip


def peak_outputs(
    result: LoadResult,
    net: DynamicNetwork,
    links: pd.DataFrame,
    schools: pd.DataFrame,
    signal_ids: Sequence[int],
    *,
    control: str,
    year: int,
    greens: Sequence[np.ndarray] | None = None,
    hour: slice | None = None,
    tables: bool = True,
    first_bin: int = 0,
) -> PeakOutputs:
    """KPIs, ``links_t`` and ``signals`` rows of one year's dynamic peak loading.

    Parameters
    ----------
    result, net
        The loading and its network (links in the order of ``links``).
    links
        The year's city links (index link_id, line geometries).
    schools
        The city's schools (point geometries) for ``school_zone_delay_vh``.
    signal_ids
        The city signal id of each of ``net.signals``.
    control, year
        The control method (``signals.control``) and the simulated year.
    greens
        The plans' greens per signal when the controllers retimed them (see
        :func:`approaches`).
    hour
        The busiest hour's 5-minute bins: the KPIs are then that hour's (see
        :func:`peak_kpis`); the tables always hold the whole loading.
    tables
        Build the ``links_t`` and ``signals`` rows (False: empty frames, for the
        replications whose tables a run does not keep; saves ~0.5 s on the default city).
    first_bin
        The loading's bin at which the AM period starts: ``links_t`` leaves out the bins
        before it (the warm-up) and counts ``bin_start_s`` from it.
    """
    app = approaches(net, result, greens)
    near = school_links(links, schools)
    return PeakOutputs(
        kpis=peak_kpis(result, net, app, near, hour),
        links_t=links_t_frame(result, net, list(links.index), year, first_bin)
        if tables
        else _concat([], LINKS_T_COLUMNS),
        signals=signals_frame(result, net, app, signal_ids, control, year)
        if tables
        else _concat([], SIGNAL_COLUMNS),
    )
