"""The school system: schools, grades, capacities and catchments (学区) as arrays.

:class:`SchoolSystem` is built once from a city (``city.schools``, ``city.zones`` and the
school settings in ``city.settings``) and then changed year by year by the scenario's
school policies (:meth:`SchoolSystem.apply_policies`). Schools are only ever appended,
so a school index stays valid for the whole run (``Persons.school`` stores it).

Conventions
-----------
- Grades are numbered 1..P (primary) and P+1..P+J (junior middle); the default Chinese
  system is P = 6, J = 3 with entry at age 6 by 31 August. Array columns use the grade
  *index* ``grade - 1``.
- Capacity per grade = classes_per_grade × class_size for the grades a school teaches,
  0 for other grades and for closed schools.
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
- ``resize_school``: new classes per grade (0 keeps the school open with no places).
- ``catchment_edit``: the listed zones' catchment at the school's level becomes the school.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import GeodataError, ScenarioError
from sim.policies.schools import CloseSchool, NewSchool, ResizeSchool, SchoolPolicy

LEVELS: tuple[str, ...] = ("primary", "junior")
_DEFAULTS = {
    "school_entry_age": 6,
    "entry_cutoff": "08-31",
    "primary_grades": 6,
    "junior_grades": 3,
    "class_size_primary": 45,
    "class_size_junior": 45,
}


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
    classes_per_grade, class_size
        int32; capacity per grade is their product.
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
    classes_per_grade: np.ndarray
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
        settings = {**_DEFAULTS, **{k: v for k, v in city.settings.items() if k in _DEFAULTS}}
        schools = city.schools
        zones = city.zones.sort_index()
        centroids = zones.geometry.centroid
        levels = [LEVELS.index(str(v)) for v in schools["level"]]
        n = len(schools)
        system = cls(
            school_id=[str(s) for s in schools.index],
            name=[str(s) for s in schools["name"]],
            x=np.asarray(schools.geometry.x, dtype=np.float64),
            y=np.asarray(schools.geometry.y, dtype=np.float64),
            level=np.asarray(levels, dtype=np.int8),
            grade_lo=np.asarray(schools["grade_lo"], dtype=np.int16),
            grade_hi=np.asarray(schools["grade_hi"], dtype=np.int16),
            classes_per_grade=np.asarray(schools["classes_per_grade"], dtype=np.int32),
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

    def capacity(self) -> np.ndarray:
        """int32 (S, G): places per school and grade index this year."""
        grades = np.arange(1, self.n_grades + 1)
        teaches = (grades >= self.grade_lo[:, None]) & (grades <= self.grade_hi[:, None])
        per_grade = (self.classes_per_grade * self.class_size * self.is_open).astype(np.int32)
        return np.where(teaches, per_grade[:, None], 0).astype(np.int32)

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
            self.classes_per_grade[s] = pol.classes_per_grade
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
        self.classes_per_grade = np.append(self.classes_per_grade, np.int32(pol.classes_per_grade))
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

        Columns: school_id, name, level, x, y, grade_lo, grade_hi, opens, closes
        (opens/closes: the policy year, <NA> when not set by a policy).
        """
        return pd.DataFrame(
            {
                "school_id": self.school_id,
                "name": self.name,
                "level": [LEVELS[v] for v in self.level],
                "x": self.x,
                "y": self.y,
                "grade_lo": self.grade_lo.astype(np.int32),
                "grade_hi": self.grade_hi.astype(np.int32),
                "opens": pd.array(np.where(self.opens < 0, None, self.opens), dtype="Int32"),
                "closes": pd.array(np.where(self.closes < 0, None, self.closes), dtype="Int32"),
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
