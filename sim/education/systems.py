"""School-system presets: grades per level, entry age and cut-off date, class sizes.

A city names its system in ``city_settings`` (``school_system: "china"``); the preset
supplies the school settings, and keys the city also states explicitly override it.

``china``
    6 + 3 compulsory grades (小学 6 年, 初中 3 年), entry at 6 (年满 6 周岁) by
    31 August, the cut-off most cities use; standard class sizes 45 (primary) and 50
    (junior), the 标准班额 of the national school-building standard
    (《城市普通中小学校校舍建设标准》, 2002: 小学 45 人, 初中 50 人).
``chile``
    8 + 4 grades (educación básica 1º–8º, educación media 1º–4º), entry to 1º básico at 6
    by 31 March (Decreto 1126/2017, Mineduc), class size 45 (the subsidised-school
    maximum, Ley 20.370 art. 46 / DFL 2 1998).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SchoolSystemPreset:
    """One country's compulsory school system.

    Attributes
    ----------
    name
        Preset name (the ``school_system`` setting).
    primary_grades, junior_grades
        Grades of the first and second level (grades are numbered 1..P+J).
    entry_age
        Age a child must have reached by the cut-off date to enter grade 1.
    entry_cutoff
        The cut-off date, ``"MM-DD"``.
    class_size_primary, class_size_junior
        Standard class size of each level.
    """

    name: str
    primary_grades: int
    junior_grades: int
    entry_age: int
    entry_cutoff: str
    class_size_primary: int
    class_size_junior: int

    def settings(self) -> dict[str, Any]:
        """The ``city_settings`` keys this preset stands for."""
        return {
            "school_entry_age": self.entry_age,
            "entry_cutoff": self.entry_cutoff,
            "primary_grades": self.primary_grades,
            "junior_grades": self.junior_grades,
            "class_size_primary": self.class_size_primary,
            "class_size_junior": self.class_size_junior,
        }


SYSTEMS: dict[str, SchoolSystemPreset] = {
    "china": SchoolSystemPreset("china", 6, 3, 6, "08-31", 45, 50),
    "chile": SchoolSystemPreset("chile", 8, 4, 6, "03-31", 45, 45),
}
DEFAULT_SYSTEM = "china"
"""The system of a city that names none (the product's default)."""


def preset(name: str) -> SchoolSystemPreset:
    """The preset called ``name``.

    Raises
    ------
    ValueError
        Naming the value and the allowed names (callers wrap it in their own error type
        with the file and field).
    """
    try:
        return SYSTEMS[name]
    except KeyError:
        msg = f"school_system = {name!r}: allowed: {', '.join(SYSTEMS)}"
        raise ValueError(msg) from None


def cutoff_month(cutoff: str) -> int:
    """The last birth month (0..12) whose children have reached their age by the cut-off.

    Ages are kept in completed years at the cut-off, and persons carry a birth month:
    a child born in a month after this one has its birthday after the cut-off. Persons
    carry no birth day, so the cut-off is rounded to the nearest month end: ``"08-31"``
    and ``"09-01"`` ("6 before 1 September") both give 8, ``"03-31"`` gives 3, and
    ``"01-01"`` gives 0 (a child must be 6 by New Year's Day: only the previous year's
    births are old enough).

    Raises
    ------
    ValueError
        When the date is not ``"MM-DD"``, a day of that month (29 February allowed).
    """
    parts = str(cutoff).split("-")
    ok = len(parts) == 2 and all(p.isdigit() for p in parts)
    try:
        day = date(2000, int(parts[0]), int(parts[1])) if ok else None
    except ValueError:
        day = None
    if day is None:
        msg = f"entry_cutoff = {cutoff!r}: must be 'MM-DD', a day of the year, e.g. '08-31'"
        raise ValueError(msg)
    return day.month if day.day >= 15 else day.month - 1


def school_settings(city_settings: dict[str, Any]) -> dict[str, Any]:
    """The school settings of a city: its preset, overridden by keys it states itself.

    Raises
    ------
    ValueError
        An unknown ``school_system``.
    """
    base = preset(str(city_settings.get("school_system", DEFAULT_SYSTEM))).settings()
    return {**base, **{k: v for k, v in city_settings.items() if k in base}}
