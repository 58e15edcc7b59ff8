"""Signal plans and their effect on the peak-hour static assignment.

A signalised approach gets the green share of its phase: its capacity becomes
``capacity × g/C`` and its free-flow time gains Webster's uniform delay at low flow,
``C (1 − g/C)² / 2``. Approaches are put into phases by direction (north–south
approaches in phase 0, east–west in phase 1; further phases are turning phases whose
green is lost to through traffic). Retiming by Webster's method sets the cycle to
``(1.5 L + 5) / (1 − Y)`` and splits the effective green in proportion to each phase's
critical flow ratio ``y = flow / saturation flow`` (Webster 1958, Road Research Technical
Paper 39).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Saturation flow per lane (vehicles per hour of green), a usual planning figure.
SATURATION_PER_LANE = 1800.0
#: Lost time per phase (s): start-up plus clearance.
LOST_TIME_PER_PHASE = 4.0
MIN_CYCLE, MAX_CYCLE = 40.0, 150.0
MIN_GREEN = 7.0


@dataclass
class SignalPlans:
    """Cycle and greens of every signal, and the phase of every signalised approach link."""

    cycle: pd.Series  # by signal_id
    greens: dict[int, np.ndarray]  # signal_id -> green seconds per phase
    approach_phase: pd.Series  # by link_id -> phase index

    @classmethod
    def from_city(cls, signals: pd.DataFrame, links: pd.DataFrame) -> SignalPlans:
        """Read the fixed-time plans of a city and put its approaches into phases."""
        greens = {
            int(sid): np.array([float(g) for g in str(row.green_s).split(",")])
            for sid, row in signals.iterrows()
        }
        return cls(
            cycle=signals["cycle_s"].astype(float).copy(),
            greens=greens,
            approach_phase=approach_phases(links),
        )

    def green_ratio(self, links: pd.DataFrame) -> pd.Series:
        """g/C of each link (1.0 where the link does not end at a signal)."""
        ratio = pd.Series(1.0, index=links.index)
        phase = self.approach_phase.reindex(links.index)
        sig = links["signal_id"]
        for link_id in phase.dropna().index:
            sid = int(sig.loc[link_id])
            greens = self.greens.get(sid)
            if greens is None:
                continue
            p = min(int(phase.loc[link_id]), len(greens) - 1)
            ratio.loc[link_id] = greens[p] / self.cycle.loc[sid]
        return ratio

    def retime_webster(
        self, links: pd.DataFrame, flows: pd.Series, signal_ids: list[int] | None = None
    ) -> SignalPlans:
        """New plans with Webster's optimal cycle and greens for the given flows."""
        cycle = self.cycle.copy()
        greens = dict(self.greens)
        sat = SATURATION_PER_LANE * links["lanes"].clip(lower=1)
        y_link = (flows.reindex(links.index).fillna(0.0) / sat).rename("y")
        frame = pd.DataFrame(
            {"signal": links["signal_id"], "phase": self.approach_phase, "y": y_link}
        ).dropna()
        for sid in signal_ids if signal_ids is not None else list(greens):
            n_phases = len(greens[sid])
            rows = frame[frame["signal"] == sid]
            y = np.zeros(n_phases)
            for p, grp in rows.groupby("phase"):
                y[min(int(p), n_phases - 1)] = grp["y"].max()
            y = np.maximum(y, 0.02)  # every phase keeps a minimum demand share
            lost = LOST_TIME_PER_PHASE * n_phases
            big_y = min(y.sum(), 0.9)
            c0 = float(np.clip((1.5 * lost + 5.0) / (1.0 - big_y), MIN_CYCLE, MAX_CYCLE))
            g = np.maximum((c0 - lost) * y / y.sum(), MIN_GREEN)
            cycle.loc[sid] = float(g.sum() + lost)
            greens[sid] = g
        return SignalPlans(cycle=cycle, greens=greens, approach_phase=self.approach_phase)

    def with_cycle(self, cycle_s: float, signal_ids: list[int] | None = None) -> SignalPlans:
        """Fixed-time retiming: the same splits scaled to a new cycle length."""
        cycle = self.cycle.copy()
        greens = dict(self.greens)
        for sid in signal_ids if signal_ids is not None else list(greens):
            lost = LOST_TIME_PER_PHASE * len(greens[sid])
            share = greens[sid] / greens[sid].sum()
            greens[sid] = np.maximum(share * (cycle_s - lost), MIN_GREEN)
            cycle.loc[sid] = float(greens[sid].sum() + lost)
        return SignalPlans(cycle=cycle, greens=greens, approach_phase=self.approach_phase)


def approach_phases(links: pd.DataFrame) -> pd.Series:
    """Phase of each link that ends at a signal: 0 north–south, 1 east–west."""
    sig = links[links["signal_id"] >= 0]
    if sig.empty:
        return pd.Series(dtype=float)
    starts = np.array([g.coords[0] for g in sig.geometry])
    ends = np.array([g.coords[-1] for g in sig.geometry])
    dx, dy = (ends - starts).T
    return pd.Series(np.where(np.abs(dy) >= np.abs(dx), 0, 1), index=sig.index, dtype=float)


def apply_signal_timing(links: pd.DataFrame, plans: SignalPlans) -> pd.DataFrame:
    """Links with capacity × g/C and free-flow time plus uniform delay at signals."""
    out = links.copy()
    ratio = plans.green_ratio(links)
    signalised = ratio < 1.0
    cycle = links["signal_id"].map(plans.cycle).fillna(0.0)
    delay_s = (cycle * (1.0 - ratio) ** 2 / 2.0).where(signalised, 0.0)
    free_s = links["length_m"] / (links["free_speed_kmh"] / 3.6)
    out["capacity_vph"] = links["capacity_vph"] * ratio
    out["free_speed_kmh"] = links["length_m"] / (free_s + delay_s) * 3.6
    return out
