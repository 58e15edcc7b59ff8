"""What the editor tells a planner beside the schema: seats, zone ids checked, policies named.

:func:`seats_note` says how many seats a new school's classes make (a blank class size is
the school system's); :func:`zone_check` refuses zone ids the city does not have;
:func:`name_policies` turns ``policies.0`` in a validation message into the policy's label
and id; :func:`missing_pick` says what a road policy still needs from the map.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from gui.i18n import policy_label, tr
from sim.city import City
from sim.education.systems import school_settings
from sim.errors import ScenarioError
from sim.policies import policy_class


def seats(policy: dict[str, Any], city: City) -> tuple[int, int, int, int] | None:
    """(seats, classes, class size, grades) of a new school; None when classes are unset."""
    level = policy.get("level")
    if level not in ("primary", "junior"):
        return None
    system = school_settings(city.settings)
    size = policy.get("class_size") or system[f"class_size_{level}"]
    grades = int(system[f"{level}_grades"])
    by_grade = policy.get("classes_by_grade")
    if by_grade:
        classes = sum(int(c) for c in by_grade)
        return classes * int(size), classes, int(size), len(by_grade)
    per_grade = policy.get("classes_per_grade")
    if not isinstance(per_grade, int):
        return None
    return per_grade * int(size) * grades, per_grade, int(size), grades


def seats_note(policy: dict[str, Any], city: City | None) -> str:
    """``= 1,620 seats (6 classes × 45 pupils × 6 grades)``, or "" when unknown."""
    found = seats(policy, city) if city is not None else None
    if found is None:
        return ""
    total, classes, size, grades = found
    if policy.get("classes_by_grade"):
        text = tr("= {seats} seats ({classes} classes × {size} pupils)")
    else:
        text = tr("= {seats} seats ({classes} classes × {size} pupils × {grades} grades)")
    return text.format(seats=f"{total:,}", classes=classes, size=size, grades=grades)


def zone_check(city: City | None) -> Callable[[Any], str | None]:
    """A check of a list of zone ids against the city's zones."""

    def check(zones: Any) -> str | None:
        if city is None or not zones:
            return None
        known = {int(z) for z in city.zones.index}
        unknown = [z for z in zones if int(z) not in known]
        if not unknown:
            return None
        return tr("zone(s) {zones} are not in the city (its zones: {low}..{high})").format(
            zones=", ".join(str(z) for z in unknown), low=min(known), high=max(known)
        )

    return check


def policy_name(policy: dict[str, Any], index: int) -> str:
    """``policy 2 (New school P60)``: its place in the list, type label and id."""
    ident = policy.get("id") or policy.get("name")
    label = policy_label(str(policy.get("type", "")))
    inner = f"{label} {ident}" if ident else label
    return tr("policy {n} ({what})").format(n=index + 1, what=inner)


def name_policies(message: str, policies: Sequence[dict[str, Any]]) -> str:
    """``policies.0.year`` in a message -> ``policy 1 (New school P60) year``."""

    def named(match: re.Match[str]) -> str:
        i = int(match.group(1))
        name = policy_name(policies[i], i) if i < len(policies) else match.group(0)
        return name + (" " if match.group(2) else "")

    return re.sub(r"policies\.(\d+)(\.)?", named, message)


def missing_pick(policy: dict[str, Any], index: int) -> str | None:
    """``policy 3 (Road closure): no road picked yet...``, or None when it has its roads.

    For a policy whose roads are picked on the map and that has none yet (nor a cordon of
    zones, where the type has one): the state of every road policy just added, which
    the schema calls "List should have at least 1 item after validation, not 0".
    """
    try:
        cls = policy_class(str(policy.get("type")))
    except ScenarioError:
        return None
    if cls.pick != "links" or policy.get("links") or policy.get("cordon_zones"):
        return None
    if "cordon_zones" in cls.model_fields:
        hint = tr("no road or zone picked yet: use Pick roads or Pick zones, then click the map")
    else:
        hint = tr("no road picked yet: with Pick roads on, click a street on the map")
    return f"{policy_name(policy, index)}: {hint}"
