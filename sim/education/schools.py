"""The school system: schools, grades, capacities and catchments (学区) as arrays.

:class:`SchoolSystem` is built once from a city (``city.schools``, ``city.zones`` and the
school settings in ``city.settings``) and then changed year by year by the scenario's
school policies (:meth:`SchoolSystem.apply_policies`). Schools are only ever appended,
so a school index stays valid for the whole run (``Persons.school`` stores it).

Conventions
-----------
- Grades are numbered 1..P (primary) and P+1..P+J (junior middle); the city's
  ``school_system`` preset (:mod:`sim.education.systems`, default ``china``: P = 6,
  J = 3, entry at 6 by 31 August) sets them. Array columns use the grade *index*
  ``grade - 1``.
- Classes may differ by grade: ``classes[school, grade_index]`` (the schools layer's
  ``classes_per_grade``, or its optional text column ``classes_by_grade`` with one number
  per grade taught, e.g. ``"5,5,4,4,4,4"``). Capacity of a grade = classes × class_size,
  0 for grades a school does not teach and for closed schools.
- Catchments: ``catchment[level, zone_index]`` is the school index of the zone's catchment
  school at that level (0 = primary, 1 = junior), -1 when no school of the level is open.
- Distances are straight lines between a zone's centroid (the home location of its
  residents) and the school point, in km.

Policy rules
------------
- ``new_school``: appended and open from its year. With ``zones`` it takes over their
  catchment at its level; without, it takes over the zones whose nearest open school of
  its level it becomes (a planner placing a school expects it to serve its neighbourhood).
- ``close_school``: closed from its year; its catchment zones go to the nearest open
  school of the same level.
- ``resize_school``: new classes per grade, one number for every grade or a list with one
  per grade taught (0 keeps the school open with no places).
- ``catchment_edit``: the listed zones' catchment at the school's level becomes the school.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.education.systems import cutoff_month, school_settings
from sim.errors import GeodataError, ScenarioError
from sim.inputs import preview
from sim.policies.schools import CloseSchool, NewSchool, ResizeSchool, SchoolPolicy

LEVELS: tuple[str, ...] = ("primary", "junior")
#: Most classes a school may have in one grade (as the schools layer's classes_per_grade).
MAX_CLASSES = 40


@dataclass
class SchoolSystem:
    """Schools (one array element each), zones and catchments of a city.

    Attributes
    ----------
    school_id, name
        Per school, strings.
    x, y
        School location in the city CRS (metres).
    level
        int8, 0 = primary, 1 = junior (index into :data:`LEVELS`).
    grade_lo, grade_hi
        int16, first and last grade taught (1-based).
    classes
        int32 (S, G), classes per school and grade index (0 for grades not taught).
    class_size
        int32 (S,); capacity of a grade is classes × class_size.
    quality
        float64, a quality score (about N(0, 1)), used by the choice policy.
    is_open
        bool, the school admits pupils this year.
    opens, closes
        int32, the year a policy opened / closed the school; -1 = not by a policy.
    zone_id, zone_x, zone_y
        Per zone (city.zones order): id and centroid (the residents' home location).
    catchment
        int32 (2, Z), catchment school index per level and zone.
    """

    school_id: list[str]
    name: list[str]
    x: np.ndarray
    y: np.ndarray
    level: np.ndarray
    grade_lo: np.ndarray
    grade_hi: np.ndarray
    classes: np.ndarray
    class_size: np.ndarray
    quality: np.ndarray
    is_open: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    zone_id: np.ndarray
    zone_x: np.ndarray
    zone_y: np.ndarray
    catchment: np.ndarray
    entry_age: int = 6
    entry_cutoff: str = "08-31"
    primary_grades: int = 6
    junior_grades: int = 3
    default_class_size: tuple[int, int] = (45, 45)
    crs: Any = None
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {sid: i for i, sid in enumerate(self.school_id)}

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_city(cls, city: Any) -> SchoolSystem:
        """Build the school system of a :class:`sim.city.City`.

        Zones with an empty catchment get the nearest school of the level.

        Raises
        ------
        GeodataError
            A zone's catchment names a school that does not exist or is of another level.
        """
        try:
            return cls._build(city, _checked_settings(city.settings))
        except GeodataError as exc:
            path = getattr(city, "path", None)
            raise (exc.located(str(path)) if path else exc) from None

    @classmethod
    def _build(cls, city: Any, settings: dict[str, Any]) -> SchoolSystem:
        schools = city.schools
        zones = city.zones.sort_index()
        centroids = zones.geometry.centroid
        levels = [LEVELS.index(str(v)) for v in schools["level"]]
        n = len(schools)
        n_grades = int(settings["primary_grades"]) + int(settings["junior_grades"])
        system = cls(
            school_id=[str(s) for s in schools.index],
            name=[str(s) for s in schools["name"]],
            x=np.asarray(schools.geometry.x, dtype=np.float64),
            y=np.asarray(schools.geometry.y, dtype=np.float64),
            level=np.asarray(levels, dtype=np.int8),
            grade_lo=np.asarray(schools["grade_lo"], dtype=np.int16),
            grade_hi=np.asarray(schools["grade_hi"], dtype=np.int16),
            classes=_classes_table(schools, n_grades),
            class_size=np.asarray(schools["class_size"], dtype=np.int32),
            quality=np.asarray(schools["quality"], dtype=np.float64),
            is_open=np.ones(n, dtype=bool),
            opens=np.full(n, -1, dtype=np.int32),
            closes=np.full(n, -1, dtype=np.int32),
            zone_id=np.asarray(zones.index, dtype=np.int64),
            zone_x=np.asarray(centroids.x, dtype=np.float64),
            zone_y=np.asarray(centroids.y, dtype=np.float64),
            catchment=np.full((2, len(zones)), -1, dtype=np.int32),
            entry_age=int(settings["school_entry_age"]),
            entry_cutoff=str(settings["entry_cutoff"]),
            primary_grades=int(settings["primary_grades"]),
            junior_grades=int(settings["junior_grades"]),
            default_class_size=(
                int(settings["class_size_primary"]),
                int(settings["class_size_junior"]),
            ),
            crs=getattr(city, "crs", None),
        )
        for lvl, column in enumerate(("catchment_primary", "catchment_junior")):
            for z, sid in enumerate(zones[column]):
                system.catchment[lvl, z] = system._catchment_school(
                    sid, lvl, column, zones.index[z]
                )
        system._fill_empty_catchments()
        return system

    def _catchment_school(self, sid: Any, lvl: int, column: str, zone: Any) -> int:
        if sid is None or (isinstance(sid, float) and np.isnan(sid)) or str(sid) == "":
            return -1
        s = self._index.get(str(sid))
        if s is None or self.level[s] != lvl:
            msg = (
                f"zones layer, zone {zone}: {column} = {sid!r} is not a {LEVELS[lvl]} "
                "school id of the schools layer"
            )
            raise GeodataError(msg)
        return s

    # ------------------------------------------------------------------ derived arrays

    @property
    def n_schools(self) -> int:
        """Number of schools ever in the system (open or not)."""
        return len(self.school_id)

    @property
    def n_grades(self) -> int:
        """Number of compulsory grades (primary + junior)."""
        return self.primary_grades + self.junior_grades

    def index_of(self, school_id: str) -> int:
        """School index of an id; KeyError when unknown."""
        return self._index[school_id]

    def grade_level(self) -> np.ndarray:
        """int8 (G,): the level (0 primary, 1 junior) of each grade index."""
        return (np.arange(self.n_grades) >= self.primary_grades).astype(np.int8)

    @property
    def cutoff_month(self) -> int:
        """Month (1..12) of the entry cut-off date."""
        return cutoff_month(self.entry_cutoff)

    def teaches(self) -> np.ndarray:
        """Whether each school teaches each grade, open or not: bool (S, G)."""
        grades = np.arange(1, self.n_grades + 1)
        return (grades >= self.grade_lo[:, None]) & (grades <= self.grade_hi[:, None])

    def capacity(self) -> np.ndarray:
        """int32 (S, G): places per school and grade index this year."""
        per_class = (self.class_size * self.is_open).astype(np.int32)
        return np.where(self.teaches(), self.classes * per_class[:, None], 0).astype(np.int32)

    def grade_classes(self, s: int, classes: int | Sequence[int], where: str) -> np.ndarray:
        """int32 (G,) classes of school ``s`` by grade index from one number or a list.

        A list has one entry per grade the school teaches (``grade_lo..grade_hi``).

        Raises
        ------
        ScenarioError
            A list of the wrong length (``where`` names the policy).
        """
        lo, hi = int(self.grade_lo[s]), int(self.grade_hi[s])
        out = np.zeros(self.n_grades, dtype=np.int32)
        if isinstance(classes, int | np.integer):
            out[lo - 1 : hi] = int(classes)
            return out
        values = list(classes)
        if len(values) != hi - lo + 1:
            msg = (
                f"{where}.classes_by_grade = {values}: needs one number per grade taught "
                f"({hi - lo + 1} for grades {lo}..{hi})"
            )
            raise ScenarioError(msg)
        out[lo - 1 : hi] = values
        return out

    def distance_km(self) -> np.ndarray:
        """float64 (Z, S): straight-line zone-centroid to school distance in km."""
        dx = self.zone_x[:, None] - self.x[None, :]
        dy = self.zone_y[:, None] - self.y[None, :]
        return np.hypot(dx, dy) / 1000.0

    def zone_rank(self) -> np.ndarray:
        """int32 (Z, S): school indices sorted by distance from each zone, nearest first."""
        return np.argsort(self.distance_km(), axis=1, kind="stable").astype(np.int32)

    def nearest_open(self, level: int, zones: np.ndarray | None = None) -> np.ndarray:
        """int32: nearest open school of ``level`` for each zone index (-1 when none)."""
        zones = np.arange(len(self.zone_id)) if zones is None else np.asarray(zones)
        dist = self.distance_km()[zones]
        ok = self.is_open & (self.level == level)
        if not ok.any():
            return np.full(len(zones), -1, dtype=np.int32)
        dist[:, ~ok] = np.inf
        return np.argmin(dist, axis=1).astype(np.int32)

    def _fill_empty_catchments(self) -> None:
        for lvl in range(len(LEVELS)):
            empty = np.flatnonzero(self.catchment[lvl] < 0)
            if empty.size:
                self.catchment[lvl, empty] = self.nearest_open(lvl, empty)

    # ------------------------------------------------------------------ policies

    def apply_policies(self, policies: Iterable[Any], year: int) -> None:
        """Apply, in list order, the school policies that take effect in ``year``.

        New schools of the year come first, so other policies of the same year may name
        them. Other policy types are ignored. Run :meth:`sim.policies.Policy.check` first for
        user-facing messages; here a bad reference still raises ScenarioError.
        """
        todo = [
            (not isinstance(pol, NewSchool), i, pol)
            for i, pol in enumerate(policies)
            if isinstance(pol, SchoolPolicy) and pol.year == year
        ]
        for _, i, pol in sorted(todo, key=lambda t: t[:2]):
            self._apply(pol, i, year)

    def _apply(self, pol: Any, i: int, year: int) -> None:
        if isinstance(pol, NewSchool):
            self._add_school(pol, i, year)
            return
        s = self._lookup(pol.school, i)
        if isinstance(pol, CloseSchool):
            self.is_open[s] = False
            self.closes[s] = year
            lvl = int(self.level[s])
            lost = np.flatnonzero(self.catchment[lvl] == s)
            self.catchment[lvl, lost] = self.nearest_open(lvl, lost)
        elif isinstance(pol, ResizeSchool):
            self.classes[s] = self.grade_classes(s, _policy_classes(pol), f"policies.{i}")
        else:  # CatchmentEdit
            self.catchment[self.level[s], self._zone_indices(pol.zones, i)] = s

    def _lookup(self, school_id: str, i: int) -> int:
        s = self._index.get(school_id)
        if s is None:
            msg = f"policies.{i}.school = {school_id!r}: unknown school id"
            raise ScenarioError(msg)
        return s

    def _zone_indices(self, zones: Sequence[int], i: int) -> np.ndarray:
        idx = np.searchsorted(self.zone_id, zones)
        idx = np.minimum(idx, len(self.zone_id) - 1)
        bad = [z for z, j in zip(zones, idx, strict=True) if self.zone_id[j] != z]
        if bad:
            msg = f"policies.{i}.zones = {bad}: unknown zone id(s)"
            raise ScenarioError(msg)
        return idx

    def _add_school(self, pol: NewSchool, i: int, year: int) -> None:
        if pol.id in self._index:
            msg = f"policies.{i}.id = {pol.id!r}: a school with this id already exists"
            raise ScenarioError(msg)
        lvl = LEVELS.index(pol.level)
        x, y = pol.city_xy(self.crs)
        lo = 1 if lvl == 0 else self.primary_grades + 1
        hi = self.primary_grades if lvl == 0 else self.n_grades
        s = self.n_schools
        self.school_id.append(pol.id)
        self.name.append(pol.name or pol.id)
        self._index[pol.id] = s
        self.x = np.append(self.x, x)
        self.y = np.append(self.y, y)
        self.level = np.append(self.level, np.int8(lvl))
        self.grade_lo = np.append(self.grade_lo, np.int16(lo))
        self.grade_hi = np.append(self.grade_hi, np.int16(hi))
        self.classes = np.vstack([self.classes, np.zeros((1, self.n_grades), np.int32)])
        self.classes[s] = self.grade_classes(s, _policy_classes(pol), f"policies.{i}")
        size = pol.class_size or self.default_class_size[lvl]
        self.class_size = np.append(self.class_size, np.int32(size))
        self.quality = np.append(self.quality, pol.quality)
        self.is_open = np.append(self.is_open, True)
        self.opens = np.append(self.opens, np.int32(year))
        self.closes = np.append(self.closes, np.int32(-1))
        if pol.zones:
            self.catchment[lvl, self._zone_indices(pol.zones, i)] = s
        else:
            gained = self.nearest_open(lvl) == s
            self.catchment[lvl, gained] = s

    # ------------------------------------------------------------------ tables

    def schools_frame(self) -> pd.DataFrame:
        """One row per school: the run folder's ``schools.parquet``.

        Columns: school_id, name, level, x, y, grade_lo, grade_hi, classes_by_grade
        (text, classes per grade taught at the end of the run), opens, closes
        (opens/closes: the policy year, <NA> when not set by a policy).
        """
        classes = [
            classes_text(c, lo, hi)
            for c, lo, hi in zip(self.classes, self.grade_lo, self.grade_hi, strict=True)
        ]
        return pd.DataFrame(
            {
                "school_id": self.school_id,
                "name": self.name,
                "level": [LEVELS[v] for v in self.level],
                "x": self.x,
                "y": self.y,
                "grade_lo": self.grade_lo.astype(np.int32),
                "grade_hi": self.grade_hi.astype(np.int32),
                "classes_by_grade": classes,
                "opens": _policy_years(self.opens),
                "closes": _policy_years(self.closes),
            }
        )

    def catchment_frame(self, year: int) -> pd.DataFrame:
        """The catchments of ``year``: year, zone_id, level, school_id (``catchments.parquet``)."""
        n_zones = len(self.zone_id)
        lvl = np.repeat(np.arange(len(LEVELS)), n_zones)
        school = self.catchment.ravel()
        ids = np.array([*self.school_id, ""], dtype=object)
        return pd.DataFrame(
            {
                "year": np.full(lvl.size, year, dtype=np.int32),
                "zone_id": np.tile(self.zone_id, len(LEVELS)),
                "level": np.asarray(LEVELS, dtype=object)[lvl],
                "school_id": ids[school],  # -1 (no school of the level) -> ""
            }
        )


#: The school settings that are whole numbers, and their allowed range.
_SETTING_RANGES = {
    "school_entry_age": (3, 10),
    "primary_grades": (1, 10),
    "junior_grades": (0, 6),
    "class_size_primary": (1, 80),
    "class_size_junior": (1, 80),
}


def _checked_settings(city_settings: dict[str, Any]) -> dict[str, Any]:
    """The city's school settings (preset + its own keys), each checked.

    Raises
    ------
    GeodataError
        An unknown ``school_system``, a bad ``entry_cutoff``, or a setting that is not a
        whole number in its range.
    """
    try:
        settings = school_settings(city_settings)
        cutoff_month(settings["entry_cutoff"])
    except ValueError as exc:
        raise GeodataError(f"layer 'city_settings': {exc}") from None
    for key, (lo, hi) in _SETTING_RANGES.items():
        value = settings[key]
        whole = not isinstance(value, bool) and str(value).strip().removesuffix(".0").isdigit()
        if not whole or not lo <= int(float(value)) <= hi:
            msg = (
                f"layer 'city_settings': {key} = {preview(value)}; allowed: a whole number "
                f"{lo}..{hi}"
            )
            raise GeodataError(msg)
        settings[key] = int(float(value))
    return settings


def _policy_years(years: np.ndarray) -> pd.arrays.IntegerArray:
    """Int32 policy years, <NA> where a policy set none (-1)."""
    return pd.array([None if y < 0 else int(y) for y in years], dtype="Int32")


def _policy_classes(pol: NewSchool | ResizeSchool) -> int | list[int]:
    """A school policy's classes: the per-grade list when given, else the one number."""
    return pol.classes_per_grade if pol.classes_by_grade is None else pol.classes_by_grade


def _classes_table(schools: pd.DataFrame, n_grades: int) -> np.ndarray:
    """int32 (S, G) classes by school and grade index from the schools layer.

    ``classes_by_grade`` (text, one number per grade taught, comma-separated; optional,
    empty = not given) wins over ``classes_per_grade`` (the same number in every grade).

    Raises
    ------
    GeodataError
        A ``classes_by_grade`` entry that is not a list of whole numbers >= 0 of the right
        length, or grades outside 1..G.
    """
    out = np.zeros((len(schools), n_grades), dtype=np.int32)
    by_grade = schools.get("classes_by_grade")
    for s, (sid, row) in enumerate(schools.iterrows()):
        lo, hi = int(row["grade_lo"]), int(row["grade_hi"])
        if not 1 <= lo <= hi <= n_grades:
            msg = f"layer 'schools', school {sid}: grades {lo}..{hi} outside 1..{n_grades}"
            raise GeodataError(msg)
        text = "" if by_grade is None or pd.isna(by_grade.iloc[s]) else str(by_grade.iloc[s])
        if not text.strip():
            out[s, lo - 1 : hi] = int(row["classes_per_grade"])
            continue
        parts = [p.strip() for p in text.split(",")]
        whole = all(p.isdigit() for p in parts)
        if len(parts) != hi - lo + 1 or not whole or max(int(p) for p in parts) > MAX_CLASSES:
            msg = (
                f"layer 'schools', school {sid}: classes_by_grade = {preview(text)}; allowed: "
                f"{hi - lo + 1} whole numbers 0..{MAX_CLASSES} separated by commas "
                f"(grades {lo}..{hi})"
            )
            raise GeodataError(msg)
        out[s, lo - 1 : hi] = [int(p) for p in parts]
    return out


def classes_text(classes: np.ndarray, lo: int, hi: int) -> str:
    """The ``classes_by_grade`` text of one school's (G,) classes row."""
    return ",".join(str(int(c)) for c in classes[lo - 1 : hi])
