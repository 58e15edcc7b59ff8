"""Housing policies: a residential development delivering dwellings over several years.

Its effect is in demography (:mod:`sim.population.housing`): sold two years before
``year``, handed over from ``year`` for ``n_years`` years at ``dwellings_per_year``, then
occupied along the dwelling type's ramp by households from inside and outside the city.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator

from sim.policies.base import LocatedPolicy, Policy, Stage, TemplateContext
from sim.schema_types import FiniteFloat

if TYPE_CHECKING:
    from sim.city import City


class HousingDevelopment(LocatedPolicy):
    type: Literal["housing_development"]
    year: int = Field(validation_alias=AliasChoices("year", "start_year"))
    """The year the first dwellings are handed over (``start_year`` is accepted too)."""
    id: str = Field(min_length=1)
    dwellings_per_year: int = Field(gt=0, le=20_000)
    n_years: int = Field(3, gt=0, le=30)
    dwelling_type: Literal["flat", "house", "affordable"] = "flat"
    """flat (market flats), house, or affordable / resettlement housing (安置房)."""
    occupancy: float | None = Field(None, gt=0, le=1)
    """Share of the dwellings occupied once settled (default: the dwelling type's)."""
    occupancy_ramp: list[Annotated[FiniteFloat, Field(gt=0, le=1)]] | None = Field(
        None, min_length=1
    )
    """Cumulative share occupied by years since handover (default: the dwelling type's)."""
    household_size: float | None = Field(None, gt=1, le=10)
    """Mean size of households moving in from outside (default: the dwelling type's)."""
    inside_share: float | None = Field(None, ge=0, le=1)
    """Share of households moving in from inside the city (default: the dwelling type's)."""
    yield_scale: float = Field(1.0, ge=0, le=5)
    """Multiplier on the children of households moving in from outside."""

    @model_validator(mode="after")
    def _ramp_rises(self) -> HousingDevelopment:
        ramp = self.occupancy_ramp
        if ramp is not None and any(b < a for a, b in pairwise(ramp)):
            msg = (
                f"occupancy_ramp {ramp}: the cumulative share occupied by years since "
                "handover may not fall"
            )
            raise ValueError(msg)
        return self

    label: ClassVar[str] = "Housing development"
    label_zh: ClassVar[str] = "住宅开发"
    help: ClassVar[str] = (
        "New dwellings at a point, handed over so many a year for n years from its year, "
        "then occupied over several years by households from inside and outside the city."
    )
    help_zh: ClassVar[str] = (
        "在某地点新建住房：自生效年份起连续 n 年每年交付若干套，"
        "之后数年内由市内外迁入的住户逐步入住。"
    )
    stage: ClassVar[Stage] = "housing"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """500 dwellings a year for 3 years at the picked point."""
        return {
            **super().template(ctx),
            "id": ctx.next_id("H-new"),
            "dwellings_per_year": 500,
            "n_years": 3,
        }

    def delivers_in(self, year: int) -> bool:
        """Whether dwellings are handed over in ``year``."""
        return self.year <= year < self.year + self.n_years

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """The site must lie inside one of the city's zones."""
        self.check_inside(city, index, "the location is")
