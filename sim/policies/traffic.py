"""Traffic policies that leave the links alone.

They are signal retiming, parking guidance and a staggered school start.

Signal retiming and parking guidance act in the peak hour (:mod:`sim.traffic.peak`); the
staggered start moves school start times, and the pupils' departures follow them through
the departure-time choice (:mod:`sim.mobility.demand`).
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
    help_zh: ClassVar[str] = (
        "自生效年份起为所列信号灯（或全部信号灯）重新配时："
        "按高峰流量用韦伯斯特法，或按各进口道通行能力分配固定周期。"
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
    help_zh: ClassVar[str] = "该比例的驾驶人被引导至最近的空闲停车场（减少绕行找车位）。"
    stage: ClassVar[Stage] = "parking"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """30 % of drivers guided."""
        return {**super().template(ctx), "share": 0.3}


class StaggeredSchoolStart(Policy):
    type: Literal["staggered_school_start"]
    share_shifted: float | None = Field(None, ge=0, le=1)
    """The first form: this share of pupils (drawn per pupil) start school
    :data:`LEGACY_SHIFT_MIN` minutes later."""
    level: Literal["primary", "junior"] | None = None
    """The second form: every school of this level starts ``shift_min`` later..."""
    schools: list[str] | None = None
    """...or the listed schools (ids) do."""
    shift_min: int | None = Field(None, ge=-120, le=120)
    """Minutes the start moves (negative = earlier)."""

    label: ClassVar[str] = "Staggered school start"
    label_zh: ClassVar[str] = "错峰上学"
    help: ClassVar[str] = (
        "School start times move by shift_min for a level or for listed schools (or, the "
        "first form, a share of pupils start an hour later); the pupils' trips move with them."
    )
    help_zh: ClassVar[str] = (
        "某学段或所列学校的上学时间调整 shift_min 分钟（或按第一种形式，"
        "部分学生晚一小时上学）；学生的出行随之平移。"
    )
    stage: ClassVar[Stage] = "trips"

    @model_validator(mode="after")
    def _one_form(self) -> StaggeredSchoolStart:
        if self.share_shifted is not None:
            if self.level is not None or self.schools is not None or self.shift_min is not None:
                msg = "share_shifted is a form of its own: give it without level/schools/shift_min"
                raise ValueError(msg)
            return self
        if self.shift_min is None or (self.level is None) == (self.schools is None):
            msg = "give share_shifted, or shift_min with one of level or schools"
            raise ValueError(msg)
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """Junior schools start 30 minutes later."""
        return {**super().template(ctx), "level": "junior", "shift_min": 30}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Listed schools must be the city's or opened by a policy."""
        if not self.schools:
            return
        known = set(city.schools.index) | {getattr(p, "id", None) for p in policies}
        unknown = [s for s in self.schools if s not in known]
        if unknown:
            msg = f"policies.{index}.schools = {unknown[:5]}: no such school ids"
            raise ScenarioError(msg)


#: Minutes later the pupils of the first form (share_shifted) start.
LEGACY_SHIFT_MIN = 60
