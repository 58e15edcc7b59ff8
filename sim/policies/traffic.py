"""Traffic policies that leave the links alone.

They are signal retiming, parking guidance, parking enforcement, traveller information
and a staggered school start.

Signal retiming acts in the peak (:mod:`sim.traffic.peak`), parking guidance and
enforcement in its parking search (:mod:`sim.traffic.parking_search`), traveller
information in the dynamic loading (``TrafficControl(informed_share=...)``); the
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
from sim.policies.base import Pick, Policy, Stage, TemplateContext
from sim.traffic.signals import LOST_TIME_PER_PHASE, MIN_GREEN, SignalPlans, corridor_order

if TYPE_CHECKING:
    import pandas as pd

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


class SignalPlan(Policy):
    type: Literal["signal_plan"]
    signal: int
    """The city's signal id (the junction)."""
    greens: list[float] = Field(min_length=1, max_length=8)
    """Effective green of each phase (s): phase 0 the main road, the last the cross road."""
    cycle_s: float = Field(ge=20, le=240)
    """The cycle: the greens plus 4 s of lost time per phase."""
    offset_s: float = Field(0.0, ge=0)
    """When in the cycle the main road's green begins (s)."""

    label: ClassVar[str] = "Signal plan"
    label_zh: ClassVar[str] = "单点信号配时方案"
    help: ClassVar[str] = (
        "One junction's fixed-time plan from its year: the effective green of each phase, "
        "the cycle (greens plus 4 s lost per phase) and the offset."
    )
    help_zh: ClassVar[str] = (
        "自生效年份起为一个路口设定定时配时方案：各相位有效绿灯时间、"
        "周期（绿灯时间加每相位 4 秒损失时间）和相位差。"
    )
    stage: ClassVar[Stage] = "signals"

    @model_validator(mode="after")
    def _cycle_fits_the_greens(self) -> SignalPlan:
        if min(self.greens) < MIN_GREEN:
            msg = f"greens = {self.greens}: every phase needs at least {MIN_GREEN:g} s"
            raise ValueError(msg)
        cycle = sum(self.greens) + LOST_TIME_PER_PHASE * len(self.greens)
        if abs(self.cycle_s - cycle) > 0.5:
            msg = (
                f"cycle_s = {self.cycle_s:g} does not fit the greens: their sum plus "
                f"{LOST_TIME_PER_PHASE:g} s lost per phase is {cycle:g} s"
            )
            raise ValueError(msg)
        if self.offset_s >= self.cycle_s:
            msg = f"offset_s = {self.offset_s:g}: allowed 0 <= offset_s < cycle_s"
            raise ValueError(msg)
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """Signal 1, two phases of 40 and 32 s (cycle 80 s), no offset."""
        return {**super().template(ctx), "signal": 1, "greens": [40.0, 32.0], "cycle_s": 80.0,
                "offset_s": 0.0}  # fmt: skip

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """The signal must be the city's, with as many phases as its plan has."""
        if self.signal not in city.signals.index:
            ids = city.signals.index
            msg = (
                f"policies.{index}.signal = {self.signal}: no such signal id (the city has "
                f"{len(ids)} signals" + (f", ids {ids.min()}..{ids.max()})" if len(ids) else ")")
            )
            raise ScenarioError(msg)
        phases = len(str(city.signals.at[self.signal, "green_s"]).split(","))
        if len(self.greens) != phases:
            msg = (
                f"policies.{index}.greens has {len(self.greens)} phases; signal {self.signal} "
                f"is phased for {phases} (one green per phase)"
            )
            raise ScenarioError(msg)


class GreenWave(Policy):
    type: Literal["green_wave"]
    street: str | None = None
    """The corridor as a street name (its links heading one way along it)..."""
    links: list[int] | None = None
    """...or as directed link ids (those heading one way along them)."""
    speed_kmh: float = Field(40.0, gt=5, le=120)
    """Design speed of the wave."""
    cycle_s: float | None = Field(None, ge=30, le=240)
    """Common cycle of the corridor's signals (default their longest)."""
    reverse: bool = False
    """Run the wave west/south-bound instead of east/north-bound."""

    label: ClassVar[str] = "Green wave"
    label_zh: ClassVar[str] = "绿波协调"
    help: ClassVar[str] = (
        "The signals along a street (or picked links) get one cycle and offsets from their "
        "spacing and the design speed, so that traffic one way meets green after green."
    )
    help_zh: ClassVar[str] = (
        "沿一条街道（或所选路段）的信号灯采用同一周期，并按间距和设计车速设定相位差，"
        "使单向车流连续遇到绿灯。"
    )
    stage: ClassVar[Stage] = "signals"
    pick: ClassVar[Pick] = "links"

    @model_validator(mode="after")
    def _one_corridor(self) -> GreenWave:
        if (self.street is None) == (self.links is None):
            raise ValueError("give the corridor as street or as links, not both")
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """The picked links at 40 km/h."""
        return {**super().template(ctx), "links": list(ctx.links), "speed_kmh": 40.0}

    def corridor_links(self, links: pd.DataFrame) -> list[int]:
        """The corridor's link ids among ``links`` (both directions; see corridor_order)."""
        if self.street is not None:
            if "name" not in links:
                return []
            names = links["name"].fillna("").astype(str).str.strip().str.casefold()
            return [int(k) for k in links.index[names == self.street.strip().casefold()]]
        return [k for k in self.links or [] if k in links.index]

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """The corridor must have links in the city and at least two signals one way."""
        ids = self.corridor_links(city.links)
        if not ids:
            what = f"street = {self.street!r}: no link of that name" if self.street else (
                "links: none is a link of the city")  # fmt: skip
            raise ScenarioError(f"policies.{index}.{what}")
        ahead = corridor_order(city.links, ids, self.reverse)
        signals = set(city.links.loc[ahead, "signal_id"]) & set(city.signals.index)
        if len(signals) < 2:
            msg = (
                f"policies.{index}: a green wave needs at least two signals along its "
                f"corridor one way; it has {len(signals)}"
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

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """The city must have car parks to guide drivers to."""
        _need_car_parks(city, index)


class ParkingEnforcement(Policy):
    type: Literal["parking_enforcement"]
    share: float = Field(ge=0, le=1)
    """Share of the illegally parked drivers who get the message and move."""
    within_min: float = Field(10.0, gt=0, le=60)
    """Minutes after parking illegally that a messaged driver has moved to a car park."""

    label: ClassVar[str] = "Parking enforcement"
    label_zh: ClassVar[str] = "违停短信劝离"
    help: ClassVar[str] = (
        "This share of illegally parked drivers are texted the nearest car park with free "
        "spaces and move there within within_min minutes, freeing the lane they block."
    )
    help_zh: ClassVar[str] = (
        "该比例的违停驾驶人收到短信，告知最近有空位的停车场，并在 within_min 分钟内"
        "驶离前往，腾出被占用的车道。"
    )
    stage: ClassVar[Stage] = "parking"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """Half of the illegally parked move within 10 minutes."""
        return {**super().template(ctx), "share": 0.5, "within_min": 10.0}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """The city must have car parks to send drivers to."""
        _need_car_parks(city, index)


class TravellerInformation(Policy):
    type: Literal["traveller_information"]
    share: float = Field(ge=0, le=1)
    """Share of drivers who get current travel times and re-route on the way, from the
    policy's year (never fewer than ``parameters.dynamic.informed_share``, the drivers
    informed without a policy)."""

    label: ClassVar[str] = "Traveller information"
    label_zh: ClassVar[str] = "出行信息诱导"
    help: ClassVar[str] = (
        "This share of drivers get current travel times (navigation, road signs) and "
        "re-route on the way round queues and incidents (dynamic traffic model only; "
        "without a policy 30 % are, see parameters.dynamic.informed_share)."
    )
    help_zh: ClassVar[str] = (
        "该比例的驾驶人获得实时行程时间（导航、诱导屏），途中绕开拥堵和事故改道（仅动态交通模型；"
        "无此政策时为 30%，见动态模型参数“已获信息驾驶人比例”）。"
    )
    stage: ClassVar[Stage] = "information"

    def check_parameters(self, parameters: Any, index: int) -> str | None:
        """A share no higher than the drivers informed without a policy changes nothing."""
        floor = parameters.dynamic.informed_share
        if self.share > floor:
            return None
        return (
            f"policies.{index}.share = {self.share:g}: no more than the {floor:g} of drivers "
            "informed without a policy (parameters.dynamic.informed_share), so the policy "
            f"would change nothing; allowed: above {floor:g}"
        )

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """60 % of drivers informed (twice the drivers informed without a policy)."""
        return {**super().template(ctx), "share": 0.6}


def _need_car_parks(city: City, index: int) -> None:
    if city.parking.empty:
        msg = (
            f"policies.{index}.type: the city has no car parks (its parking table is "
            "empty), so no driver can be sent to one"
        )
        raise ScenarioError(msg)


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


def apply_signal_policy(
    plans: SignalPlans, policy: SignalPlan | GreenWave, links: pd.DataFrame
) -> SignalPlans:
    """The plans with a ``signal_plan`` or ``green_wave`` policy applied.

    Raises
    ------
    TypeError
        ``policy`` is neither.
    """
    if isinstance(policy, SignalPlan):
        return plans.with_plan(policy.signal, policy.greens, policy.offset_s)
    if isinstance(policy, GreenWave):
        corridor = corridor_order(links, policy.corridor_links(links), policy.reverse)
        return plans.with_green_wave(links, corridor, policy.speed_kmh, policy.cycle_s)
    msg = f"not a signal plan policy: {type(policy).__name__}"
    raise TypeError(msg)
