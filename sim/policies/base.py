"""The policy base class and the registry every policy type enters by being defined.

A policy type is one subclass of :class:`Policy` with a ``type: Literal["..."]`` field. It
carries everything the rest of the program needs to know about it:

- ``label`` / ``label_zh``: its name in the editor (English, Chinese) and ``help`` /
  ``help_zh``: a sentence on what it does (the editor's tooltip; without ``help_zh`` the
  Chinese editor shows ``help``);
- ``stage``: the step of the simulated year where its effect acts (see :data:`Stage`);
- ``pick``: what the editor lets the user pick on the map for it (a point, links, nothing);
- :meth:`Policy.template`: the fields of a new policy of this type in the editor;
- :meth:`Policy.check`: its validation against the city before a run.

Every policy is dated by ``year``, the first calendar year it is in force. Defining the
class registers it (:data:`POLICY_CLASSES`); the scenario's union of policies, its list of
allowed types, the editor and the translations are all read from the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from sim.errors import ScenarioError
from sim.geo import to_xy

if TYPE_CHECKING:
    from sim.city import City

#: Where in the simulated year a policy acts: ``schools`` (the school system, before
#: enrollment; :mod:`sim.education.schools`), ``housing`` (new dwellings in demography;
#: :mod:`sim.model`), ``trips`` (weekday trips; :mod:`sim.mobility.trips`), ``roads`` (the
#: links in force; :mod:`sim.traffic.policies`), ``signals`` (signal plans), ``parking``
#: (parking search), both in :mod:`sim.traffic.peak`, and ``information`` (drivers
#: re-routing en route in the dynamic loading; :mod:`sim.traffic.information`).
Stage = Literal["schools", "housing", "trips", "roads", "signals", "parking", "information"]
#: What the editor picks on the map for a new policy: a point, road links, or nothing.
Pick = Literal["point", "links"] | None

#: Every policy class, in the order defined (the order of the scenario's union).
POLICY_CLASSES: list[type[Policy]] = []


class StrictModel(BaseModel):
    """A schema model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=False)


@dataclass(frozen=True)
class TemplateContext:
    """What the editor knows when it makes a new policy.

    Attributes
    ----------
    year
        The default year of a new policy (the second simulated year, if any).
    school
        A school id of the city ("" without a city).
    zone
        A zone id of the city.
    xy
        The point picked on the map (point policies), else empty.
    links
        The links picked on the map (link policies), else empty.
    used_ids
        The ``id`` values other policies of the scenario already use.
    """

    year: int
    school: str = ""
    zone: int = 1
    xy: tuple[float, ...] = ()
    links: tuple[int, ...] = ()
    used_ids: frozenset[Any] = field(default_factory=frozenset)

    def next_id(self, prefix: str) -> str:
        """The first ``<prefix>-<n>`` (n = 1, 2, ...) no other policy uses."""
        n = 1
        while f"{prefix}-{n}" in self.used_ids:
            n += 1
        return f"{prefix}-{n}"


class Policy(StrictModel):
    """A dated scenario edit. Subclasses with a ``type`` literal are registered types."""

    type: str
    year: int
    """The first calendar year the policy is in force."""

    label: ClassVar[str] = ""
    label_zh: ClassVar[str] = ""
    help: ClassVar[str] = ""
    help_zh: ClassVar[str] = ""
    stage: ClassVar[Stage]
    pick: ClassVar[Pick] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        annotation = cls.model_fields["type"].annotation
        if get_origin(annotation) is not Literal:
            return  # an abstract family (e.g. RoadPolicy), not a type of its own
        (kind,) = get_args(annotation)
        if kind in policy_types():
            msg = f"policy type {kind!r} is defined twice ({cls.__name__})"
            raise TypeError(msg)
        if not (cls.label and cls.label_zh and cls.help):
            msg = f"policy {cls.__name__} needs a label, a label_zh and a help text"
            raise TypeError(msg)
        POLICY_CLASSES.append(cls)

    @classmethod
    def kind(cls) -> str:
        """The policy type, e.g. ``"new_school"``."""
        return get_args(cls.model_fields["type"].annotation)[0]

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """A new policy of this type as the editor first shows it (valid but for picks).

        Subclasses add the fields they require; ``type`` and ``year`` are set here.
        """
        return {"type": cls.kind(), "year": ctx.year}

    def check(self, city: City, index: int, policies: Sequence[Policy]) -> None:
        """Check this policy against the city (and the scenario's other policies).

        Parameters
        ----------
        city
            The loaded city.
        index
            This policy's position in the scenario, for messages (``policies.<index>``).
        policies
            All the scenario's policies, in scenario order.

        Raises
        ------
        ScenarioError
            Naming ``policies.<index>.<field>``, the bad value and what is allowed.
        """

    def check_parameters(self, parameters: Any, index: int) -> str | None:
        """Why this policy cannot act under the scenario's ``parameters``, or None.

        Checked when the scenario is validated (``sim.scenario.Scenario``), before any
        city is loaded: a policy that would change nothing is refused, not run.
        """
        return None


class LocatedPolicy(Policy):
    """A policy placed on the map, either in the city's CRS (metres) or in lon/lat."""

    xy: tuple[float, float] | None = None
    lonlat: tuple[float, float] | None = None
    pick: ClassVar[Pick] = "point"

    @model_validator(mode="after")
    def _one_location(self) -> LocatedPolicy:
        if (self.xy is None) == (self.lonlat is None):
            msg = "give exactly one of 'xy' (city CRS metres) or 'lonlat' (degrees)"
            raise ValueError(msg)
        if self.lonlat is not None:
            lon, lat = self.lonlat
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                msg = (
                    f"lonlat {list(self.lonlat)} is not a longitude in [-180, 180] "
                    "and a latitude in [-90, 90]"
                )
                raise ValueError(msg)
        return self

    @classmethod
    def template(cls, ctx: TemplateContext) -> dict[str, Any]:
        """The base template plus the picked point."""
        return {**super().template(ctx), "xy": list(ctx.xy)}

    def city_xy(self, crs: Any) -> tuple[float, float]:
        """City-CRS coordinates (``xy`` as given, ``lonlat`` projected to ``crs``)."""
        if self.xy is not None:
            return float(self.xy[0]), float(self.xy[1])
        if crs is None:
            msg = (
                f"{self.type} {getattr(self, 'id', '')!r}: lonlat needs a city with a CRS; give xy"
            )
            raise ScenarioError(msg)
        assert self.lonlat is not None
        x, y = to_xy(*self.lonlat, crs)
        return float(x), float(y)

    def check_inside(self, city: City, index: int, what: str) -> None:
        """Raise ScenarioError when the location lies outside every zone of the city."""
        if city.zone_at(*self.city_xy(city.crs)) is None:
            where, value = ("xy", self.xy) if self.xy is not None else ("lonlat", self.lonlat)
            msg = f"policies.{index}.{where} = {list(value or ())}: {what} outside the city's zones"
            raise ScenarioError(msg)


def policy_types() -> tuple[str, ...]:
    """The registered policy types, in definition order."""
    return tuple(c.kind() for c in POLICY_CLASSES)


def policy_class(kind: str) -> type[Policy]:
    """The class of policy type ``kind`` (e.g. ``"new_school"`` -> ``NewSchool``).

    Raises
    ------
    ScenarioError
        No such policy type (the message lists the allowed ones).
    """
    for cls in POLICY_CLASSES:
        if cls.kind() == kind:
            return cls
    msg = f"unknown policy type {kind!r}; allowed: {', '.join(policy_types())}"
    raise ScenarioError(msg)


def check_policies(city: City, policies: Sequence[Policy]) -> None:
    """Run every policy's :meth:`Policy.check` against the city, in scenario order.

    Raises
    ------
    ScenarioError
        The first problem, naming ``policies.<index>.<field>`` and the bad value.
    """
    for i, pol in enumerate(policies):
        pol.check(city, i, policies)


P = TypeVar("P", bound=Policy)


def latest_in_force(policies: Sequence[Policy], kind: type[P], year: int) -> P | None:
    """The policy of type ``kind`` in force in ``year``, or None.

    That is the latest dated one by then (of several dated the same year, the last listed).
    """
    in_force = [p for p in policies if isinstance(p, kind) and p.year <= year]
    # max() keeps the first of equal keys: scan backwards so the last listed wins a tie
    return max(reversed(in_force), key=lambda p: p.year, default=None)
