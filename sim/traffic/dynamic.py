"""The dynamic (mesoscopic) traffic model: networks, signals as Mesa agents, loading.

A :class:`DynamicNetwork` is a directed road network on arrays with its signals; each
:class:`SignalSpec` says which movements (incoming link → outgoing link) have green in
each phase. :func:`geometry_signal` derives them from junction geometry (the rules of
:mod:`sim.traffic.signals`). :class:`TrafficControl` is a Mesa model whose
:class:`SignalAgent` controllers set each signal's control (fixed time, Webster
retiming from simulated flows, actuated, max-pressure); :meth:`TrafficControl.load`
runs the numba link transmission model (:mod:`sim.kernels.dnl`) on a set of
vehicles. Gridlock is raised as :class:`GridlockError` naming the links involved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.errors import RunError, UsageError
from sim.kernels import dnl
from sim.kernels.routes import route_turns
from sim.traffic.dynamic_network import DynamicNetwork, SignalSpec, Vehicles
from sim.traffic.information import informed_destinations, through_turns
from sim.traffic.signals import (
    CROSS,
    MIN_GREEN,
    SATURATION_PER_LANE,
    junction_roles,
    webster_timing,
)

#: Jam density per lane (vehicles per metre): one car per 7.5 m.
JAM_DENSITY = 1.0 / 7.5
MAX_DT = 2.0
#: Time bins of the link results (s): five minutes.
BIN_S = 300.0
#: Without a horizon, a loading runs this long (s) after the last departure.
DRAIN_S = 4 * 3600.0
#: Seconds without any movement, nobody driving, that count as gridlock.
GRIDLOCK_S = 600.0
CONTROLS = ("fixed", "webster", "actuated", "max-pressure")
MODE = {"fixed": dnl.FIXED, "webster": dnl.FIXED, "actuated": dnl.ACTUATED,
        "max-pressure": dnl.MAX_PRESSURE}  # fmt: skip
#: How often the traveller information's quickest paths are recomputed (s).
INFO_EVERY_S = 300.0
#: Actuated and max-pressure limits (s): minimum and maximum green, detector gap.
ADAPTIVE_MIN_GREEN, ADAPTIVE_MAX_GREEN, GAP_S = 10.0, 60.0, 3.0
#: A turn sharper than this (degrees) is a left or right turn; above 150° a U-turn.
TURN_DEG = 30.0


class GridlockError(RunError):
    """The loading stopped: vehicles wait on each other in a cycle of full links.

    ``links`` are all the links whose front vehicle waits, ``cycle`` the links of one
    cycle of waits (each front vehicle waits to enter the next link of the cycle).
    """

    def __init__(self, message: str, links: list[str], cycle: list[str]) -> None:
        super().__init__(message)
        self.links = links
        self.cycle = cycle

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the links (a gridlock in a replication worker reaches the run whole)."""
        return (type(self), (self.message, self.links, self.cycle))


def waiting_cycle(waits: np.ndarray) -> list[int]:
    """One cycle of the wait graph ``l -> waits[l]`` (links whose fronts wait on each other).

    Returns the links of the first cycle found, in order; empty if there is none.
    """
    state = np.zeros(len(waits), dtype=np.int8)  # 0 new, 1 on the current walk, 2 done
    for start in np.flatnonzero(waits >= 0):
        walk, node = [], int(start)
        while node >= 0 and state[node] == 0:
            state[node] = 1
            walk.append(node)
            node = int(waits[node])
        if node >= 0 and state[node] == 1:
            return walk[walk.index(node) :]
        state[walk] = 2
    return []


@dataclass
class LoadResult:
    """What one loading gives: vehicle times, link totals, greens, speed."""

    depart: np.ndarray
    arrive: np.ndarray  # NaN: not arrived
    free_time: np.ndarray  # free-flow time of each vehicle's route (s)
    bin_s: float
    bin_in: np.ndarray  # (links, bins) vehicles in
    bin_out: np.ndarray  # vehicles out
    bin_tt: np.ndarray  # travel time of the vehicles out (s)
    bin_occ: np.ndarray  # vehicle-seconds on the link of vehicles that left it
    bin_queue: np.ndarray  # largest stop-line queue
    bin_forced: np.ndarray  # vehicles moved past full links (time-to-teleport)
    #: By bin of entry: vehicles that entered then and left, and their time on the link (s).
    entry_out: np.ndarray
    entry_tt: np.ndarray
    green_s: list[np.ndarray]  # per signal: green given to each phase (s)
    sim_s: float
    wall_s: float
    dt: float

    @property
    def teleported(self) -> int:
        """Vehicles moved past full links after waiting ``max_wait_s`` (all links)."""
        return int(self.bin_forced.sum())

    @property
    def link_inflow(self) -> np.ndarray:
        """Vehicles that entered each link."""
        return self.bin_in.sum(axis=1)

    @property
    def link_outflow(self) -> np.ndarray:
        """Vehicles that left each link."""
        return self.bin_out.sum(axis=1)

    @property
    def link_time_s(self) -> np.ndarray:
        """Vehicle-seconds spent on each link (by vehicles that left it)."""
        return self.bin_occ.sum(axis=1)

    @property
    def link_max_queue(self) -> np.ndarray:
        """Largest stop-line queue of each link (vehicles)."""
        return self.bin_queue.max(axis=1)

    def links_t(self, link_ids: list[str], length_m: np.ndarray) -> pd.DataFrame:
        """Link results by time bin (rows with traffic only).

        Columns ``link``, ``bin_start_s``, ``inflow``, ``outflow``, ``mean_speed_kmh``
        (length over the mean travel time of the vehicles that left; NaN without
        any), ``queue`` (largest stop-line queue) and ``occupancy`` (mean vehicles on
        the link, counted when they leave it).
        """
        link, b = np.nonzero(self.bin_in + self.bin_out + self.bin_queue)
        out = self.bin_out[link, b]
        tt = self.bin_tt[link, b]
        speed = np.full(len(link), np.nan)
        np.divide(length_m[link] * out * 3.6, tt, out=speed, where=tt > 0)
        return pd.DataFrame(
            {
                "link": np.asarray(link_ids, dtype=object)[link],
                "bin_start_s": b * self.bin_s,
                "inflow": self.bin_in[link, b],
                "outflow": out,
                "mean_speed_kmh": speed,
                "queue": self.bin_queue[link, b],
                "occupancy": self.bin_occ[link, b] / self.bin_s,
            }
        )

    @property
    def travel_time(self) -> np.ndarray:
        """Travel time of each vehicle (s); NaN if not arrived."""
        return self.arrive - self.depart

    def summary(self) -> dict[str, float]:
        """The headline figures: counts, mean travel time and delay, speed."""
        done = ~np.isnan(self.arrive)
        tt = self.travel_time[done]
        vs = float(self.link_time_s.sum())
        return {
            "vehicles": float(len(self.depart)),
            "completed": float(done.sum()),
            "mean_travel_time_s": float(tt.mean()) if done.any() else float("nan"),
            "mean_delay_s": float((tt - self.free_time[done]).mean()) if done.any() else 0.0,
            "vehicle_seconds": vs,
            "wall_s": self.wall_s,
            "vehicle_seconds_per_s": vs / self.wall_s if self.wall_s > 0 else 0.0,
            "dt_s": self.dt,
            "simulated_s": self.sim_s,
            "teleported": float(self.teleported),
        }


def turn_kind(heading_in: float, heading_out: float) -> str:
    """'left', 'right', 'through' or 'u' for headings in degrees (right-hand traffic)."""
    d = (heading_out - heading_in + 180.0) % 360.0 - 180.0  # + is anticlockwise: left
    if abs(d) > 150.0:
        return "u"
    if d > TURN_DEG:
        return "left"
    return "right" if d < -TURN_DEG else "through"


def geometry_signal(
    net: DynamicNetwork,
    node: int,
    greens: np.ndarray,
    heading_in: np.ndarray,
    heading_out: np.ndarray,
    rank: np.ndarray,
    offset_s: float = 0.0,
    volume: np.ndarray | None = None,
    roles: np.ndarray | None = None,
) -> SignalSpec:
    """A signal whose phases follow the junction geometry (see :mod:`sim.traffic.signals`).

    ``volume`` (per link; default capacity × lanes) breaks ties of rank between roads;
    ``roles`` (per link: 0 main road, 1 cross road, NaN: not given) gives them instead,
    e.g. the static model's :attr:`~sim.traffic.signals.SignalPlans.approach_phase`.
    Phase 0 serves the main road, the last phase the cross road; the phases between
    are protected turn phases in which the main road's left (and U) turns from
    approaches of two or more lanes move at one lane's rate (they may also turn
    permissively in the main phase).
    """
    ins = np.flatnonzero(net.link_to == node)
    outs = np.flatnonzero(net.link_from == node)
    n = len(greens)
    vol = (net.capacity_vph * net.lanes if volume is None else volume)[ins]
    role_of = junction_roles(heading_in[ins], rank[ins], vol) if len(ins) else np.zeros(0)
    if roles is not None:  # given roles win; an approach without one keeps the geometry's
        role_of = np.where(np.isfinite(roles[ins]), roles[ins], role_of)
    masks = {}
    for ln, role in zip(ins, role_of, strict=True):
        for m in outs:
            if role == CROSS and n > 1:
                masks[int(ln), int(m)] = (1 << (n - 1), 0)
                continue
            turn = turn_kind(heading_in[ln], heading_out[m]) in ("left", "u")
            protected = sum(1 << p for p in range(1, n - 1)) if turn and net.lanes[ln] >= 2 else 0
            masks[int(ln), int(m)] = (1, protected)
    return SignalSpec(node=node, greens=np.asarray(greens, float), offset_s=offset_s, masks=masks)


def node_headings(net: DynamicNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Headings (degrees) of straight links between node coordinates: in and out alike."""
    d = xy[net.link_to] - xy[net.link_from]
    h = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    return h, h


class SignalAgent(mesa.Agent):
    """The controller of one signal: its control method and its current plan."""

    model: TrafficControl

    def __init__(self, model: TrafficControl, index: int, spec: SignalSpec) -> None:
        super().__init__(model)
        self.index = index
        self.spec = spec
        self.greens = spec.greens.copy()
        self.method = "fixed"

    def retime_webster(self, result: LoadResult) -> None:
        """Webster's cycle and greens from the flows the last loading measured.

        A phase's flow ratio is the largest over its approaches of the approach's
        outflow per hour of the simulated period over its saturation flow.
        """
        net = self.model.net
        hours = max(result.sim_s, 1.0) / 3600.0
        y = np.zeros(len(self.greens))
        for (ln, _), (full, _turn) in self.spec.masks.items():
            flow = result.link_outflow[ln] / hours
            sat = SATURATION_PER_LANE * max(float(net.lanes[ln]), 1.0)
            for p in range(len(y)):
                if full >> p & 1:
                    y[p] = max(y[p], flow / sat)
        _, self.greens = webster_timing(y, self.spec.lost_s * len(y))

    def mode_arrays(self) -> tuple[int, float, float]:
        """Kernel mode and minimum and maximum green of this controller."""
        if self.method in ("actuated", "max-pressure"):
            return MODE[self.method], ADAPTIVE_MIN_GREEN, ADAPTIVE_MAX_GREEN
        return dnl.FIXED, MIN_GREEN, float(self.greens.max())


class TrafficControl(mesa.Model):
    """The signal controllers of a network, and the dynamic loading they steer."""

    def __init__(
        self,
        net: DynamicNetwork,
        control: str = "fixed",
        dt: float = 1.0,
        max_wait_s: float | None = None,
        informed_share: float = 0.0,
        accel_ms2: float | None = None,
    ) -> None:
        super().__init__(rng=0)
        if control not in CONTROLS:
            raise UsageError(field="control", value=control, allowed=", ".join(CONTROLS))
        if not (0 < dt <= MAX_DT):
            raise UsageError(field="dt", value=str(dt), allowed=f"0 < dt <= {MAX_DT:g} s")
        if max_wait_s is not None and not max_wait_s > 0:
            raise UsageError(field="max_wait_s", value=str(max_wait_s), allowed="> 0 s or none")
        if not 0.0 <= informed_share <= 1.0:
            raise UsageError(field="informed_share", value=str(informed_share), allowed="0..1")
        if accel_ms2 is not None and not accel_ms2 > 0:
            raise UsageError(field="accel_ms2", value=str(accel_ms2), allowed="> 0 m/s² or none")
        self.net = net
        self.control = control
        #: Acceleration from a standstill (m/s²): a vehicle that departs, or waited at a
        #: stop line, loses v / (2 a) on its next link reaching the link's speed v
        #: (uniform acceleration from rest); None: vehicles move off at full speed.
        self.accel_ms2 = accel_ms2
        #: Share of drivers with traveller information (re-routing en route, see
        #: :func:`informed_destinations`).
        self.informed_share = float(informed_share)
        self.dt = float(dt)
        #: Time-to-teleport (s): a front vehicle waiting this long for a full next link
        #: is moved past the full links of its route at their free-flow time (SUMO's
        #: rule; counted in LoadResult.teleported); None: never (gridlock).
        self.max_wait_s = max_wait_s
        self.controllers = [SignalAgent(self, i, s) for i, s in enumerate(net.signals)]
        for agent in self.controllers:
            agent.method = control

    def run(
        self,
        vehicles: Vehicles,
        horizon_s: float | None = None,
        capacity_factor: np.ndarray | None = None,
    ) -> LoadResult:
        """Load the vehicles under the chosen control (Webster: time on a first loading)."""
        if self.control == "webster":
            first = self.load(vehicles, horizon_s, capacity_factor)
            for agent in self.controllers:
                agent.retime_webster(first)
        return self.load(vehicles, horizon_s, capacity_factor)

    def load(
        self,
        vehicles: Vehicles,
        horizon_s: float | None = None,
        capacity_factor: np.ndarray | None = None,
    ) -> LoadResult:
        """One dynamic network loading of the vehicles with the controllers' plans.

        ``capacity_factor`` (``(n_links, n_bins)``, > 0, bins of :data:`BIN_S` from
        t = 0; 1 after the last) scales each link's discharge rate, e.g. 0.5 while one
        lane of two is blocked.
        """
        net, dt = self.net, self.dt
        dest_of, dest_nodes = informed_destinations(net, vehicles, self.informed_share)
        arrays = _kernel_arrays(net, vehicles, self.controllers, dt, every_turn=len(dest_nodes) > 0)
        n_links = len(net.link_ids)
        factor = np.ones((n_links, 0)) if capacity_factor is None else capacity_factor
        factor = np.ascontiguousarray(factor, dtype=float)
        if factor.ndim != 2 or factor.shape[0] != n_links or not (factor > 0).all():
            raise UsageError(
                field="capacity_factor",
                value=f"shape {factor.shape}, min {factor.min() if factor.size else 1:g}",
                allowed=f"(n_links = {n_links}, n_bins) factors > 0",
            )
        end = horizon_s
        if end is None:
            last = float(vehicles.depart.max()) if len(vehicles.depart) else 0.0
            end = last + DRAIN_S
        n_steps = int(np.ceil(end / dt))
        shape = (max(int(np.ceil(n_steps * dt / BIN_S)), 1), n_links)  # bin-major
        out: dict[str, np.ndarray] = {
            "arrive": np.full(len(vehicles.depart), np.nan),
            "bin_in": np.zeros(shape, np.int32),  # counts: int32 halves their memory
            "bin_out": np.zeros(shape, np.int32),
            "bin_tt": np.zeros(shape),
            "bin_occ": np.zeros(shape),
            "bin_queue": np.zeros(shape, np.int32),
            "bin_forced": np.zeros(shape, np.int32),
            "green_time": np.zeros(len(arrays["ph_green"])),
            "entry_out": np.zeros(shape, np.int32),
            "entry_tt": np.zeros(shape),
        }
        start = time.perf_counter()
        status, steps, waits = dnl.simulate(
            dt,
            n_steps,
            int(np.ceil(GRIDLOCK_S / dt)),
            **arrays,
            cap_factor=factor,
            max_wait_s=np.inf if self.max_wait_s is None else float(self.max_wait_s),
            dest_of=dest_of,
            dest_nodes=dest_nodes,
            info_s=INFO_EVERY_S,
            startup_s=(
                net.speed_ms / (2.0 * self.accel_ms2) if self.accel_ms2 else np.zeros(n_links)
            ),
            bin_s=BIN_S,
            **out,
        )
        wall = time.perf_counter() - start
        if status == dnl.GRIDLOCK:
            names = [net.link_ids[i] for i in np.flatnonzero(waits != -1)]
            cycle = [net.link_ids[i] for i in waiting_cycle(waits)]
            why = (
                f"full links wait on each other in a cycle: {' -> '.join(cycle[:20])}"
                if cycle
                else "no cycle of full links: front vehicles wait on signals (a movement no "
                "phase serves, or a controller that holds its phase)"
            )
            raise GridlockError(
                f"gridlock at t = {steps * dt:.0f} s: no vehicle moved for {GRIDLOCK_S:.0f} s; "
                f"{why}; vehicles wait at the end of {len(names)} links: {', '.join(names[:10])}",
                names,
                cycle,
            )
        ph0 = arrays["sig_ph0"]
        fft = arrays["fft"]
        free = np.add.reduceat(fft[vehicles.route_links], vehicles.route_start[:-1])
        return LoadResult(
            depart=vehicles.depart,
            arrive=out["arrive"],
            free_time=free if len(vehicles.depart) else np.zeros(0),
            bin_s=BIN_S,
            bin_in=out["bin_in"].T,
            bin_out=out["bin_out"].T,
            bin_tt=out["bin_tt"].T,
            bin_occ=out["bin_occ"].T,
            bin_queue=out["bin_queue"].T,
            bin_forced=out["bin_forced"].T,
            entry_out=out["entry_out"].T,
            entry_tt=out["entry_tt"].T,
            green_s=[out["green_time"][ph0[i] : ph0[i + 1]] for i in range(len(ph0) - 1)],
            sim_s=steps * dt,
            wall_s=wall,
            dt=dt,
        )


def link_storage(net: DynamicNetwork, dt: float) -> np.ndarray:
    """Vehicles each link holds in a loading with step ``dt`` (s).

    Jam density × length × lanes, but at least one vehicle per lane (a lane shorter
    than a car still holds the car crossing it: a 5 m two-lane link of a divided road's
    junction holds two, not one, or it halves the junction's capacity), and at least one
    more than the vehicles it carries at capacity over its free-flow time and one step
    (``⌈q (fft + dt)⌉ + 1``): a place comes free one step or more after its vehicle left
    (the backward wave's delay, at least a step), so a 14 m one-lane link of 1,800 veh/h
    holding one car passed 1,200 veh/h at Δt 2 s, and OSM's chains of such links
    (crossings, junction pieces) were bottlenecks at two thirds of their capacity. Only
    links shorter than about 15 m (urban) to 30 m (motorway) get more than their jam
    storage.
    """
    lanes = np.maximum(net.lanes.astype(np.int64), 1)
    jam = np.maximum(np.floor(JAM_DENSITY * net.length_m * lanes), lanes)
    carried = np.ceil(net.capacity_vph / 3600.0 * (net.length_m / net.speed_ms + dt)) + 1.0
    return np.maximum(jam, carried).astype(np.int64)


def _groups(key: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the links by ``key`` (0..n-1; other values left out), links ascending."""
    links = np.flatnonzero((key >= 0) & (key < n))
    links = links[np.argsort(key[links], kind="stable")]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key[links], minlength=n), out=start[1:])
    return start, links.astype(np.int64)


def _kernel_arrays(
    net: DynamicNetwork,
    veh: Vehicles,
    agents: list[SignalAgent],
    dt: float,
    every_turn: bool = False,
) -> dict[str, np.ndarray]:
    """The plain arrays :func:`sim.kernels.dnl.simulate` takes.

    ``every_turn``: movements for every turn at nodes some route passes through (not
    only the turns routes make), so that informed vehicles can take any of them.
    """
    n_links = len(net.link_ids)
    lanes = np.maximum(net.lanes.astype(np.int64), 1)
    fft = net.length_m / net.speed_ms
    cap = net.capacity_vph / 3600.0
    storage = link_storage(net, dt)
    # backward wave speed of the triangular diagram: w = q v / (k_j v - q)
    kj = JAM_DENSITY * lanes
    w = np.where(kj * net.speed_ms > cap * 1.05, cap * net.speed_ms / (kj * net.speed_ms - cap),
                 net.speed_ms)  # fmt: skip
    # the wave's delay in steps, rounded down where needed so that a link carrying its
    # capacity flow (q (fft + lag dt) vehicles counted on it) is one vehicle short of full
    at_capacity = np.floor(((storage - 1) / np.maximum(cap, 1e-9) - fft) / dt)
    lag = np.maximum(np.minimum(np.ceil(net.length_m / w / dt), at_capacity), 1).astype(np.int64)
    # exits within one wave delay: at most the capacity flow over it, and the storage
    ex_size = (np.minimum(np.ceil(cap * lag * dt), storage) + 2).astype(np.int64)
    ex_start = np.concatenate([[0], np.cumsum(ex_size)[:-1]]).astype(np.int64)
    buf_start = np.concatenate([[0], np.cumsum(storage)[:-1]]).astype(np.int64)
    # movements: every turn some route makes, plus the signals' movements
    codes = _route_turns(net, veh)
    if every_turn:
        codes = np.union1d(codes, through_turns(net, veh, codes))
    pairs = set(zip((codes // n_links).tolist(), (codes % n_links).tolist(), strict=True))
    link_signal = np.full(n_links, -1, dtype=np.int64)
    masks: dict[tuple[int, int], tuple[int, int]] = {}
    for i, spec in enumerate(net.signals):
        link_signal[net.link_to == spec.node] = i
        masks.update(spec.masks)
    for pair in pairs:
        if link_signal[pair[0]] >= 0 and pair not in masks:
            masks[pair] = (0, 0)  # a movement the signal never serves
    movs: list[list[tuple[int, int, int]]] = [[] for _ in range(n_links)]
    for a, b in sorted(pairs | set(masks)):
        full, turn = masks.get((a, b), (-1, 0))
        movs[a].append((b, full, turn))
    mov_start = np.zeros(n_links + 1, dtype=np.int64)
    np.cumsum([len(m) for m in movs], out=mov_start[1:])
    flat = [x for m in movs for x in m]
    node_in_start, node_in_links = _groups(net.link_to, net.n_nodes)
    app_start, app_links = _groups(link_signal, len(net.signals))
    modes = [a.mode_arrays() for a in agents]
    greens = [a.greens for a in agents]
    return {
        "fft": fft.astype(float),
        "cap": cap.astype(float),
        "lanes": lanes,
        "storage": storage,
        "lag": lag,
        "ex_start": ex_start,
        "ex_size": ex_size,
        "buf_start": buf_start,
        "buf_cap": storage,
        "mov_start": mov_start,
        "mov_out": np.array([x[0] for x in flat], dtype=np.int64),
        "mov_mask": np.array([x[1] for x in flat], dtype=np.int64),
        "mov_turn_mask": np.array([x[2] for x in flat], dtype=np.int64),
        "node_in_start": node_in_start,
        "node_in_links": node_in_links,
        "link_from": net.link_from.astype(np.int64),
        "link_signal": link_signal,
        "sig_nph": np.array([len(g) for g in greens], dtype=np.int64),
        "sig_ph0": np.concatenate([[0], np.cumsum([len(g) for g in greens])]).astype(np.int64),
        "ph_green": np.concatenate([*greens, np.zeros(0)]).astype(float),
        "sig_mode": np.array([m[0] for m in modes], dtype=np.int64),
        "min_green": np.array([m[1] for m in modes], dtype=float),
        "max_green": np.array([m[2] for m in modes], dtype=float),
        "gap_s": np.full(len(agents), GAP_S),
        "lost_s": np.array([s.lost_s for s in net.signals], dtype=float),
        "sig_offset": np.array([s.offset_s for s in net.signals], dtype=float),
        "app_start": app_start,
        "app_links": app_links,
        "depart": veh.depart,
        "route_start": veh.route_start,
        "route_links": veh.route_links,
    }


def _route_turns(net: DynamicNetwork, veh: Vehicles) -> np.ndarray:
    """Codes ``in * n_links + out`` of the turns routes make, ascending; routes checked.

    Raises :class:`~sim.errors.UsageError` unless departures are sorted and every route
    is a non-empty chain of connected links.
    """
    if len(veh.depart) > 1 and (np.diff(veh.depart) < 0).any():
        raise UsageError("vehicles: departures must be sorted by time")
    if (np.diff(veh.route_start) < 1).any():
        i = int(np.flatnonzero(np.diff(veh.route_start) < 1)[0])
        raise UsageError(f"vehicle {veh.ids[i]}: empty route")
    out_start, out_links = _groups(net.link_from, net.n_nodes)
    r = veh.route_links.astype(np.int64, copy=False)
    k, codes = route_turns(
        veh.route_start.astype(np.int64, copy=False), r, net.link_from.astype(np.int64),
        net.link_to.astype(np.int64), out_start, out_links,
    )  # fmt: skip
    if k >= 0:
        v = int(np.searchsorted(veh.route_start, k, side="right") - 1)
        raise UsageError(
            f"vehicle {veh.ids[v]}: link {net.link_ids[r[k]]} does not lead to "
            f"link {net.link_ids[r[k + 1]]}; a route must be a chain of connected links"
        )
    return codes
