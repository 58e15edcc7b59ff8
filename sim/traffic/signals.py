"""Signal plans: phasing from junction geometry, Webster retiming, capacity and delay.

Phasing. The approaches of a junction (links ending at its signal) are paired by angle:
two approaches oppose when their headings into the node differ by 180° ± 45°; pairs are
matched greedily, closest to straight first. Each pair (or unpaired approach) is a road
through the junction; the road of the highest class, then the largest volume (flow when
known, else lanes × capacity), is the *main road* and gets the main phase (phase 0);
every other approach gets the *cross* phase (the plan's last phase). Phases between the
two (a 3-phase plan's middle phase) are protected turn phases of the main road: an
approach with two or more lanes keeps one lane for the turn, which moves only in the
turn phase (protected-only); a one-lane approach cannot and gets only the main phase.
Without turning counts every lane carries an equal share of its approach's flow.

Timing. ``green_s`` in the city's plans is the effective green of each phase. Each phase
change costs an intergreen of amber plus all-red, and the lost time per phase is the
start-up loss plus the part of the intergreen not used by drivers, so the cycle is
``C = Σ g + n · LOST_TIME_PER_PHASE``. A signalised approach discharges at the
saturation flow during its effective green: its capacity is ``s × lanes × g/C`` (the
signal's only discount: the link's mid-block ``capacity_vph`` is replaced, not scaled),
and Webster's uniform delay at low flow ``C (1 − g/C)² / 2`` is added to its time.
Webster retiming sets the cycle to ``(1.5 L + 5) / (1 − Y)`` and splits the effective
green in proportion to each phase's critical flow ratio ``y = flow / saturation flow``
(Webster 1958, Road Research Technical Paper 39).

Coordination. Each plan has an offset: the time in the cycle at which its main phase's
green begins. A green wave (:meth:`SignalPlans.with_green_wave`) gives the signals of a
corridor one cycle and offsets ``distance / design speed`` (mod the cycle) from the first,
counted to the start of the green that serves the corridor. The dynamic model runs the
offsets; the static model, which has no platoons, lowers the uniform delay of the
coordinated approaches by the Highway Capacity Manual's progression factor for favourable
arrivals (HCM 2000, arrival type 4: ``PF = (1 − P) f_PA / (1 − g/C)``, ``P = R_p g/C``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

#: Saturation flow per lane (vehicles per hour of effective green), a planning figure.
SATURATION_PER_LANE = 1800.0
#: Amber and all-red after every phase (s): the intergreen.
AMBER_S, ALL_RED_S = 3.0, 1.0
#: Start-up loss of a phase, and the part of the amber drivers still use (s).
START_UP_LOST_S, AMBER_USED_S = 2.0, 2.0
#: Lost time per phase (s): start-up loss plus the unused intergreen.
LOST_TIME_PER_PHASE = START_UP_LOST_S + AMBER_S + ALL_RED_S - AMBER_USED_S
MIN_CYCLE, MAX_CYCLE = 40.0, 150.0
MIN_GREEN = 7.0
#: Two approaches oppose when their headings differ by 180° within this (degrees).
OPPOSING_TOLERANCE_DEG = 45.0
#: Road class rank: the main road of a junction is the one of the highest rank.
CLASS_RANK = {
    "motorway": 7,
    "trunk": 6,
    "primary": 5,
    "secondary": 4,
    "tertiary": 3,
    "unclassified": 2,
    "residential": 1,
}
MAIN, CROSS = 0, 1
#: HCM 2000 arrival type 4 (favourable progression): platoon ratio R_p and f_PA.
PLATOON_RATIO, PROGRESSION_ADJUSTMENT = 1.333, 1.15


def angle_between(a: float, b: float) -> float:
    """Absolute difference of two headings in degrees, in 0..180."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


def junction_roles(heading: np.ndarray, rank: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Main (0) or cross (1) role of each approach of one junction.

    Parameters
    ----------
    heading
        Direction of travel of each approach as it enters the node (degrees).
    rank
        Road class rank of each approach (higher is more important).
    volume
        Flow (or, without flows, capacity) of each approach: breaks ties of rank.

    Returns
    -------
    numpy.ndarray
        int role of each approach: the approaches of the main road are 0, the others 1.
    """
    n = len(heading)
    pairs = sorted(
        (abs(180.0 - angle_between(heading[i], heading[j])), i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if abs(180.0 - angle_between(heading[i], heading[j])) <= OPPOSING_TOLERANCE_DEG
    )
    partner = np.full(n, -1)
    for _, i, j in pairs:
        if partner[i] < 0 and partner[j] < 0:
            partner[i], partner[j] = j, i
    group = np.where(partner >= 0, np.minimum(np.arange(n), partner), np.arange(n))
    best = max(
        set(group.tolist()),
        key=lambda g: (rank[group == g].max(), volume[group == g].sum(), -g),
    )
    return np.where(group == best, MAIN, CROSS)


def _headings(geometries: list, at_end: bool) -> np.ndarray:
    """Heading (degrees, counter-clockwise from east) of each line at its end or start."""
    out = np.empty(len(geometries))
    for k, geom in enumerate(geometries):
        xy = np.asarray(geom.coords)
        (x0, y0), (x1, y1) = (xy[-2], xy[-1]) if at_end else (xy[0], xy[1])
        out[k] = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    return out


def approach_headings(links: pd.DataFrame) -> pd.Series:
    """Heading of each link as it enters its head node (degrees)."""
    return pd.Series(_headings(list(links.geometry), at_end=True), index=links.index)


def exit_headings(links: pd.DataFrame) -> pd.Series:
    """Heading of each link as it leaves its tail node (degrees)."""
    return pd.Series(_headings(list(links.geometry), at_end=False), index=links.index)


def approach_phases(links: pd.DataFrame, flows: pd.Series | None = None) -> pd.Series:
    """Role of each link that ends at a signal: 0 main road, 1 cross road.

    Parameters
    ----------
    links
        The directed links with ``signal_id`` (−1: none), ``lanes``, ``capacity_vph``,
        line geometries and, optionally, ``link_type`` (the road class).
    flows
        Link flows by link id; without them the main road is chosen by class, then
        by lanes × capacity.
    """
    sig = links[links["signal_id"] >= 0]
    if sig.empty:
        return pd.Series(dtype=float)
    heading = approach_headings(sig)
    rank = (
        sig["link_type"].map(CLASS_RANK).fillna(0.0)
        if "link_type" in sig
        else pd.Series(0.0, index=sig.index)
    )
    volume = (
        flows.reindex(sig.index).fillna(0.0)
        if flows is not None
        else sig["capacity_vph"] * sig["lanes"]
    )
    h, r, v = heading.to_numpy(), rank.to_numpy(dtype=float), volume.to_numpy(dtype=float)
    codes = sig["signal_id"].to_numpy()
    order = np.argsort(codes, kind="stable")  # each junction's approaches in table order
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    roles = np.empty(len(sig))
    for idx in np.split(order, starts[1:]):
        roles[idx] = junction_roles(h[idx], r[idx], v[idx])
    return pd.Series(roles, index=sig.index)


def phase_shares(role: int, lanes: int, n_phases: int) -> np.ndarray:
    """Share of an approach's lanes that discharge in each phase of its signal.

    The main road discharges in phase 0, except that with two or more lanes and a
    turn phase one lane of ``lanes`` moves in each protected turn phase (phases
    1..n−2) instead; the cross road discharges in the last phase. A one-phase plan
    serves everyone in phase 0.
    """
    share = np.zeros(n_phases)
    if role == CROSS and n_phases > 1:
        share[-1] = 1.0
    elif lanes >= 2 and n_phases > 2:
        share[0] = (lanes - 1) / lanes
        share[1 : n_phases - 1] = 1.0 / lanes
    else:
        share[0] = 1.0
    return share


def webster_timing(y: np.ndarray, lost_s: float) -> tuple[float, np.ndarray]:
    """Webster's cycle and effective greens for the phases' critical flow ratios.

    Every phase keeps a flow ratio of at least 0.02, Y is capped at 0.9, the cycle is
    clipped to ``MIN_CYCLE..MAX_CYCLE`` and each green is at least ``MIN_GREEN``; the
    returned cycle is the greens plus ``lost_s``.
    """
    y = np.maximum(np.asarray(y, dtype=float), 0.02)
    big_y = min(y.sum(), 0.9)
    c0 = float(np.clip((1.5 * lost_s + 5.0) / (1.0 - big_y), MIN_CYCLE, MAX_CYCLE))
    g = np.maximum((c0 - lost_s) * y / y.sum(), MIN_GREEN)
    return float(g.sum() + lost_s), g


def progression_factor(green_ratio: np.ndarray | pd.Series) -> np.ndarray:
    """HCM 2000 progression factor of a coordinated approach (arrival type 4), at most 1."""
    g = np.minimum(np.asarray(green_ratio, dtype=float), 0.99)
    p = np.minimum(PLATOON_RATIO * g, 1.0)
    return np.minimum((1.0 - p) * PROGRESSION_ADJUSTMENT / (1.0 - g), 1.0)


@dataclass
class SignalPlans:
    """Cycle, greens and offset of every signal, and the role of every approach link.

    ``coordinated`` holds the approach links a green wave progresses (see the module).
    """

    cycle: pd.Series  # by signal_id
    greens: dict[int, np.ndarray]  # signal_id -> effective green seconds per phase
    approach_phase: pd.Series  # by link_id -> role (0 main road, 1 cross road)
    offset: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # by signal_id
    coordinated: frozenset[int] = frozenset()

    @classmethod
    def from_city(cls, signals: pd.DataFrame, links: pd.DataFrame) -> SignalPlans:
        """Read the fixed-time plans of a city and phase its approaches by geometry."""
        greens = {
            int(sid): np.array([float(g) for g in str(row.green_s).split(",")])
            for sid, row in signals.iterrows()
        }
        offset = (
            signals["offset_s"].astype(float)
            if "offset_s" in signals
            else pd.Series(0.0, index=signals.index)
        )
        return cls(
            cycle=signals["cycle_s"].astype(float).copy(),
            greens=greens,
            approach_phase=approach_phases(links),
            offset=offset.copy(),
        )

    def offset_of(self, signal_id: int) -> float:
        """The offset (s) of a signal's plan (0 if none is set)."""
        return float(self.offset.get(signal_id, 0.0))

    def with_plan(self, signal_id: int, greens: Sequence[float], offset_s: float) -> SignalPlans:
        """A new fixed-time plan for one signal: effective greens per phase and offset.

        The cycle is the greens plus the lost time of every phase.
        """
        g = np.asarray(greens, dtype=float)
        cycle = self.cycle.copy()
        cycle.loc[signal_id] = float(g.sum() + LOST_TIME_PER_PHASE * len(g))
        offset = self.offset.copy()
        offset.loc[signal_id] = float(offset_s)
        return replace(self, cycle=cycle, greens={**self.greens, signal_id: g}, offset=offset)

    def with_green_wave(
        self,
        links: pd.DataFrame,
        corridor: Sequence[int],
        speed_kmh: float,
        cycle_s: float | None = None,
    ) -> SignalPlans:
        """Coordinate the signals along a corridor for one direction of travel.

        Parameters
        ----------
        links
            The links in force (``signal_id``, ``length_m``).
        corridor
            The corridor's directed link ids in the order of travel (:func:`corridor_order`).
        speed_kmh
            The design speed of the wave.
        cycle_s
            The common cycle (default the longest cycle of the corridor's signals); each
            signal keeps its splits (:meth:`with_cycle`).

        Each signal the corridor's links end at gets the offset at which the green serving
        the corridor (phase 0 for the main road, the last phase for the cross road) begins
        when a vehicle from the first such stop line arrives at the design speed.
        """
        ends = [
            (k, int(links.at[k, "signal_id"]))
            for k in corridor
            if int(links.at[k, "signal_id"]) in self.greens
        ]
        if not ends:
            return self
        ids = list(dict.fromkeys(sid for _, sid in ends))
        common = float(cycle_s or max(self.cycle.loc[sid] for sid in ids))
        plans = self.with_cycle(common, ids)
        common = float(plans.cycle.loc[ids[0]])
        distance = np.cumsum(links.loc[list(corridor), "length_m"].to_numpy(dtype=float))
        at = dict(zip(corridor, distance, strict=True))
        first = at[ends[0][0]]
        offset = plans.offset.copy()
        for link, sid in ends:
            g = plans.greens[sid]
            role = int(plans.approach_phase.get(link, MAIN))
            starts = 0.0 if role == MAIN or len(g) == 1 else float(g[:-1].sum())
            starts += LOST_TIME_PER_PHASE * (len(g) - 1) if role == CROSS and len(g) > 1 else 0
            travel = (at[link] - first) / (speed_kmh / 3.6)
            offset.loc[sid] = float((travel - starts) % common)
        coordinated = plans.coordinated | {link for link, _ in ends[1:]}
        return replace(plans, offset=offset, coordinated=frozenset(coordinated))

    def _shares(self, links: pd.DataFrame) -> list[tuple[int, int, int, np.ndarray]]:
        """Each signalised approach with a known plan: link, signal, lanes, share by phase."""
        role = self.approach_phase.reindex(links.index).to_numpy(dtype=float)
        known = ~np.isnan(role)
        out = []
        for link_id, sid, lanes, r in zip(
            links.index[known],
            links["signal_id"].to_numpy()[known].tolist(),
            links["lanes"].to_numpy()[known].tolist(),
            role[known].tolist(),
            strict=True,
        ):
            greens = self.greens.get(int(sid))
            if greens is not None:
                share = phase_shares(int(r), int(lanes), len(greens))
                out.append((link_id, int(sid), int(lanes), share))
        return out

    def green_ratio(self, links: pd.DataFrame) -> pd.Series:
        """Effective g/C of each link (1.0 where the link does not end at a signal)."""
        ratio = pd.Series(1.0, index=links.index)
        approaches = self._shares(links)
        if approaches:
            cycle = self.cycle.to_dict()
            ratio.loc[[a[0] for a in approaches]] = [
                float(share @ self.greens[sid]) / cycle[sid] for _, sid, _, share in approaches
            ]
        return ratio

    def retime_webster(
        self, links: pd.DataFrame, flows: pd.Series, signal_ids: list[int] | None = None
    ) -> SignalPlans:
        """New plans with Webster's optimal cycle and greens for the given flows.

        A phase's flow ratio is the largest over its approaches of flow per lane over
        ``SATURATION_PER_LANE`` (every lane carries an equal share of its approach).
        """
        cycle = self.cycle.copy()
        greens = dict(self.greens)
        flow = flows.reindex(links.index).fillna(0.0)
        y_by_signal: dict[int, np.ndarray] = {}
        for link_id, sid, lanes, share in self._shares(links):
            y = y_by_signal.setdefault(sid, np.zeros(len(share)))
            y_link = flow.loc[link_id] / (SATURATION_PER_LANE * max(lanes, 1))
            np.maximum(y, np.where(share > 0, y_link, 0.0), out=y)
        for sid in signal_ids if signal_ids is not None else list(greens):
            n_phases = len(greens[sid])
            y = y_by_signal.get(sid, np.zeros(n_phases))
            cycle.loc[sid], greens[sid] = webster_timing(y, LOST_TIME_PER_PHASE * n_phases)
        return replace(self, cycle=cycle, greens=greens)

    def with_cycle(self, cycle_s: float, signal_ids: list[int] | None = None) -> SignalPlans:
        """Fixed-time retiming: the same splits scaled to a new cycle length."""
        cycle = self.cycle.copy()
        greens = dict(self.greens)
        for sid in signal_ids if signal_ids is not None else list(greens):
            lost = LOST_TIME_PER_PHASE * len(greens[sid])
            share = greens[sid] / greens[sid].sum()
            greens[sid] = np.maximum(share * (cycle_s - lost), MIN_GREEN)
            cycle.loc[sid] = float(greens[sid].sum() + lost)
        return replace(self, cycle=cycle, greens=greens)


def apply_signal_timing(links: pd.DataFrame, plans: SignalPlans) -> pd.DataFrame:
    """Links with signalised capacity ``s × lanes × g/C`` and uniform delay added.

    The uniform delay of an approach a green wave coordinates is multiplied by the
    progression factor (:func:`progression_factor`).

    The returned table has the column ``signal_delay_s`` (0 away from signals); its
    ``free_speed_kmh`` includes that delay, so true free-flow time must be taken from
    the input links.
    """
    out = links.copy()
    ratio = plans.green_ratio(links)
    signalised = pd.Series(False, index=links.index)
    signalised.loc[plans.approach_phase.index.intersection(links.index)] = True
    signalised &= links["signal_id"].isin(plans.cycle.index)
    cycle = links["signal_id"].map(plans.cycle).fillna(0.0)
    delay_s = (cycle * (1.0 - ratio) ** 2 / 2.0).where(signalised, 0.0)
    progressed = links.index.isin(list(plans.coordinated))
    delay_s[progressed] *= progression_factor(ratio[progressed])
    free_s = links["length_m"] / (links["free_speed_kmh"] / 3.6)
    sat = SATURATION_PER_LANE * links["lanes"].clip(lower=1)
    out["capacity_vph"] = (sat * ratio).where(signalised, links["capacity_vph"])
    out["free_speed_kmh"] = links["length_m"] / (free_s + delay_s) * 3.6
    out["signal_delay_s"] = delay_s
    return out


def corridor_order(
    links: pd.DataFrame, link_ids: Sequence[int], reverse: bool = False
) -> list[int]:
    """The links of a corridor that run one way along it, in the order of travel.

    The corridor's axis is the first principal direction of its links' vertices, pointing
    east (or north, for a north-south corridor); the links heading along it (against it
    with ``reverse``) are kept and ordered by where their end lies on the axis.
    """
    import shapely

    part = links.loc[list(dict.fromkeys(link_ids))]
    geoms = part.geometry.to_numpy()
    coords = shapely.get_coordinates(geoms)
    centred = coords - coords.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if len(coords) > 1 else np.ones(2)
    if axis[0] < -1e-9 or (abs(axis[0]) <= 1e-9 and axis[1] < 0):
        axis = -axis
    if reverse:
        axis = -axis
    start = shapely.get_coordinates(shapely.get_point(geoms, 0)) @ axis
    end = shapely.get_coordinates(shapely.get_point(geoms, -1)) @ axis
    along = end > start
    order = np.argsort(end[along], kind="stable")
    return [int(k) for k in part.index[along][order]]
