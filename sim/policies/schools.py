"""School policies: open, close and resize schools, redraw catchments (学区).

Their effect is :meth:`sim.education.schools.SchoolSystem.apply_policies`, at the start of
their year, before enrollment: by year, new schools first within a year, then in scenario
order. :meth:`SchoolPolicy.check` replays the same order against the city's schools, so a
school named before it opens or after it closes is refused before a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from sim.education.systems import school_settings
from sim.errors import ScenarioError
from sim.policies.base import LocatedPolicy, Policy, Stage, TemplateContext
from sim.schema_types import Integer

if TYPE_CHECKING:
    from sim.city import City


Classes = list[Annotated[Integer, Field(ge=0, le=40)]]


def _classes_list(data: Any) -> Any:
    """``classes_per_grade: [..]`` means classes by grade: move the list to its field.

    ``classes_per_grade`` becomes the largest valid entry (1 when none is), so a bad entry
    is reported once, on ``classes_by_grade``.
    """
    if isinstance(data, dict) and isinstance(data.get("classes_per_grade"), list):
        data = dict(data)
        data["classes_by_grade"] = data.pop("classes_per_grade")
        valid = [
            v
            for v in data["classes_by_grade"]
            if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 40
        ]
        data["classes_per_grade"] = max(valid, default=0) or 1
    return data


class SchoolPolicy(Policy):
    """A policy acting on the school system."""

    stage: ClassVar[Stage] = "schools"

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Unknown zones, and the school it names must be open in its year."""
        zone_ids = {int(z) for z in city.zones.index}
        bad = [z for z in getattr(self, "zones", []) if z not in zone_ids]
        if bad:
            msg = (
                f"policies.{index}.zones = {bad}: unknown zone id(s); the city has {few(zone_ids)}"
            )
            raise ScenarioError(msg)
        problem = school_replay(city, policies).get(index)
        if problem:
            raise ScenarioError(f"policies.{index}.{problem}")


class NamedSchoolPolicy(SchoolPolicy):
    """A school policy about an existing (or planned) school, named by ``school``."""

    school: str

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """The base template plus the city's first school."""
        return {**super().template(ctx), "school": ctx.school}


class NewSchool(SchoolPolicy, LocatedPolicy):
    type: Literal["new_school"]
    id: str = Field(min_length=1)
    name: str | None = None
    level: Literal["primary", "junior"]
    classes_per_grade: int = Field(gt=0, le=40)
    classes_by_grade: Classes | None = None
    """Classes of each grade taught (overrides classes_per_grade); a list given as
    classes_per_grade lands here."""
    class_size: int | None = Field(None, gt=0, le=80)
    quality: float = Field(0.0, ge=-3, le=3)
    zones: list[int] = Field(default_factory=list)
    """Zones whose catchment this school takes over; empty = the zones it becomes the nearest
    open school of its level for."""

    _classes = model_validator(mode="before")(_classes_list)

    @model_validator(mode="after")
    def _some_places(self) -> NewSchool:
        if self.classes_by_grade is not None and not any(self.classes_by_grade):
            msg = (
                f"classes_by_grade {self.classes_by_grade}: a new school needs a class in "
                "some grade"
            )
            raise ValueError(msg)
        return self

    label: ClassVar[str] = "New school"
    label_zh: ClassVar[str] = "新建学校"
    help: ClassVar[str] = (
        "A school opens at a point from its year and takes over the catchment of the listed "
        "zones (or of the zones it becomes the nearest school of its level for)."
    )
    help_zh: ClassVar[str] = (
        "自生效年份起在某地点开办一所学校，接管所列小区的学区（未列小区时，接管以它为同学段最近学校的小区）。"
    )

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """A primary school of 4 classes per grade at the picked point."""
        return {
            **super().template(ctx),
            "id": ctx.next_id("S-new"),
            "level": "primary",
            "classes_per_grade": 4,
        }

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Zones, a fresh id, and a site inside the city."""
        super().check(city, index, policies)
        self.check_inside(city, index, "the new school lies")


class CloseSchool(NamedSchoolPolicy):
    type: Literal["close_school"]

    label: ClassVar[str] = "Close school"
    label_zh: ClassVar[str] = "关闭学校"
    help: ClassVar[str] = (
        "The school closes from its year; its catchment zones go to the nearest open school "
        "of the same level."
    )
    help_zh: ClassVar[str] = "该校自生效年份起关闭；其学区内的小区划归同学段最近的在办学校。"


class ResizeSchool(NamedSchoolPolicy):
    type: Literal["resize_school"]
    classes_per_grade: int = Field(0, ge=0, le=40)
    classes_by_grade: Classes | None = None
    """Classes of each grade taught (overrides classes_per_grade); a list given as
    classes_per_grade lands here."""

    _classes = model_validator(mode="before")(_classes_list)

    label: ClassVar[str] = "Resize school"
    label_zh: ClassVar[str] = "调整学校规模"
    help: ClassVar[str] = "New classes per grade from its year (0 keeps the school with no places)."
    help_zh: ClassVar[str] = "自生效年份起调整每年级班数（0 表示保留学校但不提供学位）。"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """4 classes per grade at the city's first school."""
        return {**super().template(ctx), "classes_per_grade": 4}


class CatchmentEdit(NamedSchoolPolicy):
    type: Literal["catchment_edit"]
    zones: list[int] = Field(min_length=1)

    label: ClassVar[str] = "Catchment edit"
    label_zh: ClassVar[str] = "调整学区"
    help: ClassVar[str] = "The listed zones' catchment at the school's level becomes the school."
    help_zh: ClassVar[str] = "所列小区在该校学段的学区划归该校。"

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """The city's first zone to its first school."""
        return {**super().template(ctx), "zones": [ctx.zone]}


def school_replay(city: City, policies: Sequence[Policy]) -> dict[int, str]:
    """Replay the school policies in the order they take effect; what is wrong with each.

    Returns
    -------
    dict
        Policy index -> ``"<field> = <value>: <why>"`` for every school policy that names
        an unknown school, a school not open in its year, reuses a school id, or gives
        classes by grade for another number of grades than the school teaches.
    """
    known: dict[str, tuple[int, int | None]] = {str(s): (-1, None) for s in city.schools.index}
    grades = {
        str(s): (int(lo), int(hi))
        for s, lo, hi in zip(
            city.schools.index, city.schools["grade_lo"], city.schools["grade_hi"], strict=True
        )
    }
    planned = {p.id: p.year for p in policies if isinstance(p, NewSchool)}
    indexed = [(i, p) for i, p in enumerate(policies) if isinstance(p, SchoolPolicy)]
    problems: dict[int, str] = {}
    # the order apply_policies uses: by year, new schools first within a year
    for i, pol in sorted(indexed, key=lambda t: (t[1].year, not isinstance(t[1], NewSchool), t[0])):
        if isinstance(pol, NewSchool):
            if pol.id in known:
                problems[i] = (
                    f"id = {pol.id!r}: a school with this id already exists; choose a new id"
                )
            known[pol.id] = (pol.year, None)
            grades[pol.id] = _new_school_grades(city, pol.level)
            problems.setdefault(i, _classes_problem(pol, grades[pol.id]))
            continue
        assert isinstance(pol, NamedSchoolPolicy)
        if isinstance(pol, ResizeSchool) and pol.school in grades:
            problems[i] = _classes_problem(pol, grades[pol.school])
        opened, closed = known.get(pol.school, (planned.get(pol.school), None))
        if opened is None:
            problems[i] = f"school = {pol.school!r}: unknown school id; the city has {few(known)}"
        elif opened > pol.year or (closed is not None and closed <= pol.year):
            when = f"opens in {opened}" if opened > pol.year else f"is closed from {closed}"
            problems[i] = f"school = {pol.school!r}: that school {when}, not open in {pol.year}"
        elif isinstance(pol, CloseSchool):
            known[pol.school] = (opened, pol.year)
    return {i: problem for i, problem in problems.items() if problem}


def _new_school_grades(city: City, level: str) -> tuple[int, int]:
    settings = school_settings(city.settings)
    primary = int(settings["primary_grades"])
    if level == "primary":
        return 1, primary
    return primary + 1, primary + int(settings["junior_grades"])


def _classes_problem(pol: NewSchool | ResizeSchool, grades: tuple[int, int]) -> str:
    lo, hi = grades
    if pol.classes_by_grade is not None and len(pol.classes_by_grade) != hi - lo + 1:
        return (
            f"classes_by_grade = {pol.classes_by_grade}: needs one number per "
            f"grade taught ({hi - lo + 1} for grades {lo}..{hi})"
        )
    return ""


def few(ids: Iterable[Any]) -> str:
    """``"<n> ids (a, b, c, d, e, ...)"``: how many ids there are and the first five."""
    ids = sorted(ids, key=str)
    shown = ", ".join(str(v) for v in ids[:5])
    return f"{len(ids)} ids ({shown}{', ...' if len(ids) > 5 else ''})"
