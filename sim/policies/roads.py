"""Road policies: edits of the city's directed links (closures, new links, lanes, speed, tolls).

Their effect is :func:`sim.traffic.policies.apply_road_policies`: the links in force in a
year after every road policy dated by then, in year order (scenario order within a year).
:meth:`RoadPolicy.check` checks the ids each names against the city;
:func:`sim.traffic.policies.check_road_policies` replays them to catch a link named after
an earlier-dated closure removed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from sim.errors import ScenarioError
from sim.policies.base import Pick, Policy, Stage, TemplateContext
from sim.schema_types import FiniteFloat

if TYPE_CHECKING:
    from sim.city import City


class RoadPolicy(Policy):
    """A policy editing the road links in force."""

    stage: ClassVar[Stage] = "roads"


class LinkPolicy(RoadPolicy):
    """A road policy on links the user picks on the map (``links``: directed link ids)."""

    links: list[int] = Field(min_length=1)
    pick: ClassVar[Pick] = "links"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """The base template plus the picked links."""
        return {**super().template(ctx), "links": list(ctx.links)}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Every link must be a link of the city."""
        bad = [k for k in self.links if k not in city.links.index]
        if bad:
            ids = city.links.index
            msg = (
                f"policies.{index}.links: link {bad[0]} is not a link of the city "
                f"(allowed: the link_id of a directed link, {ids.min()}..{ids.max()})"
            )
            raise ScenarioError(msg)


class RoadClosure(LinkPolicy):
    type: Literal["road_closure"]

    label: ClassVar[str] = "Road closure"
    label_zh: ClassVar[str] = "道路封闭"
    help: ClassVar[str] = "The listed directed links are removed from their year."
    help_zh: ClassVar[str] = "所列有向路段自生效年份起封闭（从路网中移除）。"


class NewLink(RoadPolicy):
    type: Literal["new_link"]
    from_node: int
    to_node: int
    lanes: int = Field(2, gt=0, le=8)
    speed_kmh: float = Field(50.0, gt=0, le=130)
    capacity_per_lane: float = Field(900.0, gt=0, le=2500)
    both_directions: bool = True

    label: ClassVar[str] = "New road link"
    label_zh: ClassVar[str] = "新建道路"
    help: ClassVar[str] = (
        "A straight link between two existing nodes (and its reverse), with the given "
        "lanes, speed and capacity per lane."
    )
    help_zh: ClassVar[str] = (
        "在两个现有节点之间新建一条直线路段（及其反向路段），车道数、车速和单车道通行能力按所填设定。"
    )

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """Nodes still to choose (0, 0)."""
        return {**super().template(ctx), "from_node": 0, "to_node": 0}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Both nodes must be distinct nodes of the city."""
        self.check_nodes(city.nodes.index, index)

    def check_nodes(self, node_ids: Any, index: int) -> None:
        """Raise ScenarioError unless both ends are distinct ids in ``node_ids``."""
        for name in ("from_node", "to_node"):
            node = getattr(self, name)
            if node not in node_ids:
                msg = f"policies.{index}.{name}: node {node} is not a node of the city"
                raise ScenarioError(msg)
        if self.from_node == self.to_node:
            msg = f"policies.{index}.to_node: {self.to_node} is the same node as from_node"
            raise ScenarioError(msg)


class LaneChange(LinkPolicy):
    type: Literal["lane_change"]
    lanes: int = Field(gt=0, le=8)

    label: ClassVar[str] = "Lane change"
    label_zh: ClassVar[str] = "车道数调整"
    help: ClassVar[str] = "The links get this many lanes; capacity scales with the lanes."
    help_zh: ClassVar[str] = "所选路段改为该车道数；通行能力随车道数按比例变化。"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """Two lanes on the picked links."""
        return {**super().template(ctx), "lanes": 2}


class SpeedChange(LinkPolicy):
    type: Literal["speed_change"]
    speed_kmh: float = Field(gt=0, le=130)

    label: ClassVar[str] = "Speed change"
    label_zh: ClassVar[str] = "限速调整"
    help: ClassVar[str] = "The links' free speed is set (km/h)."
    help_zh: ClassVar[str] = "设定所选路段的自由流车速（公里/小时）。"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """30 km/h on the picked links."""
        return {**super().template(ctx), "speed_kmh": 30.0}


class CongestionCharge(LinkPolicy):
    type: Literal["congestion_charge"]
    toll: FiniteFloat = Field(gt=0, le=1_000_000)
    """Charge per crossing, in the city's currency units (finite)."""
    links: list[int] = Field(default_factory=list)
    cordon_zones: list[int] = Field(default_factory=list)
    """Links entering these zones are charged (a cordon)."""
    start: str = "06:00"
    end: str = "10:00"
    """Cars departing from ``start`` until ``end`` (HH:MM) pay; default the whole AM period.
    Drivers may leave earlier or later to avoid it (sim.mobility.departure)."""

    label: ClassVar[str] = "Congestion charge"
    label_zh: ClassVar[str] = "拥堵收费"
    help: ClassVar[str] = (
        "A toll on the listed links and on every link entering the cordon zones; a later "
        "charge on the same link replaces the earlier toll."
    )
    help_zh: ClassVar[str] = (
        "对所列路段以及驶入收费区小区的每条路段收费；同一路段上后生效的收费取代之前的收费。"
    )

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", value):
            msg = f"{value!r} is not a time HH:MM (00:00..24:00)"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _where(self) -> CongestionCharge:
        if not self.links and not self.cordon_zones:
            msg = "give 'links' or 'cordon_zones' (or both)"
            raise ValueError(msg)
        if self.end <= self.start:
            msg = f"end {self.end} must be after start {self.start}"
            raise ValueError(msg)
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """A toll of 2.0 on the picked links."""
        return {**super().template(ctx), "toll": 2.0}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Links and cordon zones must be the city's."""
        super().check(city, index, policies)
        bad = [z for z in self.cordon_zones if z not in city.zones.index]
        if bad:
            msg = f"policies.{index}.cordon_zones: zone {bad[0]} is not a zone of the city"
            raise ScenarioError(msg)
