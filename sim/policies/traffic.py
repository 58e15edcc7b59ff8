"""Traffic policies that leave the links alone: signal retiming, parking guidance, a staggered
school start.

Signal retiming and parking guidance act in the peak hour (:mod:`sim.traffic.peak`); the
staggered start moves school trips out of it (:func:`sim.mobility.trips.weekday_trips`).
Of several policies of one of these types, the latest dated in force acts
(:func:`sim.policies.base.latest_in_force`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from sim.errors import ScenarioError
from sim.policies.base import Policy, Stage, TemplateContext

if TYPE_CHECKING:
    from sim.city import City


class SignalRetiming(Policy):
    type: Literal["signal_retiming"]
    signals: list[int] | Literal["all"] = "all"
    method: Literal["webster", "fixed"] = "webster"
    cycle_s: float | None = Field(None, ge=30, le=240)
    """Cycle length of a ``fixed`` retiming (default 90 s); Webster computes its own."""

    label: ClassVar[str] = "Signal retiming"
    label_zh: ClassVar[str] = "信号配时优化"
    help: ClassVar[str] = (
        "The listed signals (or all) are retimed from their year: Webster's method from the "
        "peak flows, or a fixed cycle split by the approaches' capacity."
    )
    stage: ClassVar[Stage] = "signals"

    @model_validator(mode="after")
    def _cycle_only_when_fixed(self) -> SignalRetiming:
        if self.method == "webster" and self.cycle_s is not None:
            msg = "cycle_s applies to method: fixed only; Webster's method computes the cycle"
            raise ValueError(msg)
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """All signals, Webster's method."""
        return {**super().template(ctx), "signals": "all", "method": "webster"}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Listed signals must be the city's."""
        if self.signals == "all":
            return
        unknown = sorted(set(self.signals) - set(city.signals.index))
        if unknown:
            ids = city.signals.index
            msg = (
                f"policies.{index}.signals = {unknown[:5]}: no such signal ids "
                f"(the city has {len(ids)} signals, ids {ids.min()}..{ids.max()})"
            )
            raise ScenarioError(msg)


class ParkingGuidance(Policy):
    type: Literal["parking_guidance"]
    share: float = Field(ge=0, le=1)

    label: ClassVar[str] = "Parking guidance"
    label_zh: ClassVar[str] = "停车诱导"
    help: ClassVar[str] = "This share of drivers is guided to the nearest free lot (less cruising)."
    stage: ClassVar[Stage] = "parking"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """30 % of drivers guided."""
        return {**super().template(ctx), "share": 0.3}


class StaggeredSchoolStart(Policy):
    type: Literal["staggered_school_start"]
    share_shifted: float = Field(ge=0, le=1)
    """Share of school trips moved out of the modelled peak hour."""

    label: ClassVar[str] = "Staggered school start"
    label_zh: ClassVar[str] = "错峰上学"
    help: ClassVar[str] = "This share of school trips moves out of the modelled peak hour."
    stage: ClassVar[Stage] = "trips"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """30 % of school trips shifted."""
        return {**super().template(ctx), "share_shifted": 0.3}
