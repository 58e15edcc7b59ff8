"""Scenario files: YAML validated by a pydantic schema.

A scenario names a city, a seed, the simulated years, the number of Monte Carlo
replications, model parameters and a list of typed policy edits::

    name: new-school
    extends: default.yaml          # optional: inherit everything, then override
    city: ../geodata/default_city.gpkg
    seed: 42
    start_year: 2024
    years: 10
    replications: 5
    parameters: {fertility_multiplier: 0.9, car_share: 0.45}
    policies:
      - {type: new_school, id: S-new-1, level: primary, xy: [281000, 6680000],
         classes_per_grade: 4, year: 2026}

Loading uses :func:`sim.inputs.read_yaml` (safe YAML without duplicate keys or alias
bombs); relative paths resolve against the scenario file.
Every problem raises :class:`~sim.errors.ScenarioError` with one message naming the
file, the field, the bad value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

import yaml
from pydantic import Field, ValidationError, model_validator

from sim.errors import ScenarioError
from sim.inputs import preview, read_yaml
from sim.policies import POLICY_CLASSES, policy_types
from sim.policies import Policy as PolicyBase
from sim.policies.base import StrictModel as _Strict
from sim.schema_types import MAX_YEAR as MAX_YEAR
from sim.schema_types import MIN_YEAR as MIN_YEAR
from sim.schema_types import FiniteFloat, Integer, Year

MAX_YEARS = 50
#: Most scenario files one ``extends`` chain may pass through.
MAX_EXTENDS = 16


# --------------------------------------------------------------------------- parameters


class AssignmentParams(_Strict):
    """Static traffic assignment settings for the weekday peak."""

    algorithm: Literal["fw", "cfw", "bfw"] = "bfw"
    rel_gap: FiniteFloat = Field(1e-3, gt=0, lt=1)
    max_iter: Integer = Field(30, ge=1, le=10_000)
    toll_factor: FiniteFloat = Field(0.01, ge=0, le=10)
    """Minutes of generalised cost per currency unit of toll (0.01 = a value of time of
    100 units per minute, e.g. 6,000 CLP per hour)."""
    distance_factor: FiniteFloat = Field(0.0, ge=0, le=60)
    """Minutes of generalised cost per km."""
    access_connectors: Integer = Field(3, ge=0, le=12)
    """Connectors from each zone's centroid to its heaviest access points, beside the city's
    own (sim.mobility.access: traffic enters a zone's streets at several places; 0 = the
    city's connectors only)."""


class ModeConstants(_Strict):
    """Shifts of the mode-choice constants per mode family (``parameters.mode_constants``).

    Added to the utility of every mode of the family (car: driver and passenger; pt: bus;
    bike: bicycle and e-bike) after the car-driver and escort constants are calibrated to
    ``car_share`` and ``escort_share``, so they move the shares away from those targets:
    ``calibrate-demand --mode-shares`` writes ``ln(observed / modelled)`` here
    (``calibrated.yaml``); 0 = the model's own constants.
    """

    car: FiniteFloat = Field(0.0, ge=-10, le=10)
    pt: FiniteFloat = Field(0.0, ge=-10, le=10)
    walk: FiniteFloat = Field(0.0, ge=-10, le=10)
    bike: FiniteFloat = Field(0.0, ge=-10, le=10)


class DynamicParams(_Strict):
    """Settings of the dynamic peak model (``parameters.traffic_model: dynamic``)."""

    due_gap: FiniteFloat = Field(0.05, gt=0, lt=1)
    """Stop swapping routes when the loading's relative gap Σ(experienced − best) / Σ best
    is at most this (the ``due_gap`` KPI)."""
    due_iterations: Integer = Field(2, ge=1, le=50)
    """Most loadings in a year whose routes start from the static equilibrium (the first
    dynamic year; each loading but the last followed by a route swap)."""
    warm_iterations: Integer = Field(1, ge=1, le=50)
    """Most loadings in a year whose routes start from last year's after their swap (every
    year's last loading is followed by a swap that next year's drivers start from, so the
    swapping goes on across the years). 1: on the default city, ten years took 178 s
    against 313 s with two loadings a year; the busiest hour's travel-time index was
    1.6 % higher on average (1.21-1.29 against 1.20-1.24), the mean gap 0.13 against
    0.18, and the worst year left 2,764 vehicles driving at 10:30 against 9,010."""
    dt_s: FiniteFloat = Field(2.0, gt=0, le=2)
    """Time step of the loading (s)."""
    max_wait_s: FiniteFloat | None = Field(300.0, gt=0, le=3600)
    """A front vehicle that has waited this long (s) for a full next link enters it anyway
    (SUMO's time-to-teleport; counted as ``teleported_vehicles``): what keeps spill-back
    cycles around blocks from locking the city. None: never (a lock is a GridlockError)."""
    informed_share: FiniteFloat = Field(0.3, ge=0, le=1)
    """Share of drivers who re-route en route on current travel times without any policy
    (navigation apps). 0.3 from two driver surveys: of the 85 % of Russian drivers who use
    a navigator, 23 % use it daily and 8 % to steer round jams, ~27 % of all drivers
    (SberAvto and Rambler&Co); 37 % of US drivers do not take the same route to and from
    work every day (Waze and Lab42). A ``traveller_information`` policy raises it to its
    share."""
    every: Integer = Field(1, ge=1, le=50)
    """Load the dynamic model every this many years from the start year, and in the last
    year; the years between report the static busiest hour (a run that samples says so:
    manifest ``traffic.dynamic_years``). 1 = every year."""

    def years(self, start_year: int, years: int) -> list[int]:
        """The simulated years in which the dynamic model loads."""
        last = start_year + years - 1
        return [
            y
            for y in range(start_year, last + 1)
            if (y - start_year) % self.every == 0 or y == last
        ]


class Parameters(_Strict):
    """Model parameters a scenario may change; every one has a sensible default."""

    # demography
    fertility_multiplier: FiniteFloat = Field(1.0, ge=0, le=5)
    """Scales the age-specific fertility rates (1.0 = the city's base TFR)."""
    tfr: FiniteFloat | None = Field(None, gt=0, le=8)
    """Total fertility rate; overrides the city's base TFR when given."""
    birth_index: dict[Year, Annotated[FiniteFloat, Field(ge=0, le=5)]] = Field(default_factory=dict)
    """Fertility multiplier by calendar year, e.g. ``{2016: 1.0, 2024: 0.6}``; years between are
    interpolated, years outside hold the nearest value (multipliers 0..5)."""
    mortality_multiplier: FiniteFloat = Field(1.0, ge=0, le=5)
    in_migration_rate: FiniteFloat = Field(0.012, ge=0, le=0.5)
    """Arrivals per year as a share of the population."""
    out_migration_rate: FiniteFloat = Field(0.010, ge=0, le=0.5)
    """Departures per year as a share of the population."""
    residential_mobility_rate: FiniteFloat = Field(0.08, ge=0, le=1)
    """Share of households moving zone within the city per year."""
    parameter_uncertainty: bool = True
    """Each replication draws multipliers on fertility, migration, pupil yield and take-up
    of new dwellings (sim.population.uncertainty); false = every multiplier 1."""
    # enrollment
    enrollment_policy: Literal["catchment", "nearest", "choice"] = "catchment"
    choice_distance_km_weight: FiniteFloat = Field(-0.8, ge=-20, le=0)
    """Utility per km of home-school distance in the choice model (0 = distance is ignored)."""
    choice_quality_weight: FiniteFloat = Field(1.0, ge=0, le=20)
    """Utility per unit of school quality (z-score) in the choice model."""
    # mobility
    employment_rate: FiniteFloat = Field(0.62, ge=0, le=1)
    """Share of residents aged 18–64 who work."""
    od_model: Literal["gravity", "radiation"] = "gravity"
    """Home→work distribution: doubly-constrained gravity calibrated to ``mean_trip_km``, or
    the parameter-free radiation model (Simini et al. 2012)."""
    car_share: FiniteFloat = Field(0.45, ge=0, le=1)
    """Observed car-driver share of commutes: the car-driver constant of the mode choice is
    set once so that commutes reach it at the reference prices on the free-flow base-year
    network (sim.mobility.modes); prices, tolls and congestion then move it."""
    escort_share: FiniteFloat = Field(0.5, ge=0, le=1)
    """Observed share of primary pupils driven to school: sets the escort constant likewise."""
    car_cost_per_km: FiniteFloat = Field(120.0, ge=0, le=1e5)
    """Perceived car operating cost, money per km in the city's currency (default: CLP)."""
    bus_fare: FiniteFloat = Field(750.0, ge=0, le=1e6)
    """Flat bus fare per trip (city's currency; pupils ride at a third of it)."""
    gtfs: str | None = None
    """A GTFS feed (a .zip or a folder; relative to the scenario file): the bus level of
    service of the mode choice comes from its weekday AM timetable (sim.mobility.gtfs)
    instead of the simple bus along the roads; none = the simple bus."""
    parking_cost: FiniteFloat = Field(1500.0, ge=0, le=1e6)
    """Parking charge of a car trip ending in a zone with public car parks (city's currency)."""
    through_trips_peak: FiniteFloat = Field(600.0, ge=0, le=1e5)
    """Vehicles per AM hour crossing the city between the two ends of its main trunk road."""
    demand_iterations: Integer = Field(6, ge=1, le=50)
    """Most demand-supply (skims → choices → assignment) rounds per year (sim.mobility.loop);
    the loop stops earlier once ``demand_gap`` is reached. The rounds a year took are its
    diagnostic KPI ``demand_rounds`` (the base year, which starts from free flow, takes
    more than the warm-started later years)."""
    demand_gap: FiniteFloat = Field(0.005, gt=0, lt=1)
    """Stop the demand-supply loop when the choices' expected car matrix differs from the
    loaded one by at most this share (L1); below ~0.003 the inner assignments' own gap
    (0.01) keeps the default city from settling further."""
    od_adjustment: str | None = None
    """An ``od_estimated.csv`` of ``calibrate-demand --out`` (relative to the scenario file):
    the busiest-hour car matrix the static assignment loads is multiplied by its factors
    ``estimated / prior`` per OD pair, so the run reproduces the counts it was calibrated
    to (sim.mobility.calibrate.read_od_adjustment); none = the modelled matrix as it is."""
    mean_trip_km: FiniteFloat = Field(6.0, gt=0, le=100)
    """Observed mean home-work trip length the gravity model is calibrated to."""
    mode_constants: ModeConstants = Field(default_factory=ModeConstants)
    """Utility shifts per mode family ``{car, pt, walk, bike}`` added to the calibrated
    mode constants (ModeConstants; calibrate-demand --mode-shares fits them)."""
    traffic_model: Literal["dynamic", "static"] = "static"
    """The peak model: ``dynamic`` loads the AM period's vehicles (sim.traffic.due: route
    swapping to a dynamic user equilibrium, signals, queues, spill-back; departures from
    a 05:00 warm-up on) and reports its traffic KPIs; ``static`` reports the busiest
    hour's static equilibrium (which the dynamic model also runs, as its warm start and
    for the demand loop's skims). Static is the default for now, for its cost: on the
    default city ten dynamic years of one replication took 200 s of one core against
    28 s static (~17 s a year more: two loadings in the first year, one in a year that
    starts from last year's routes: ``dynamic.warm_iterations``; 30 % of drivers
    informed: ``dynamic.informed_share``), 100 replication-years ~17 min on 2 cores.
    It leaves ~1,800 of ~139,000 vehicles driving at 10:30 in the first year
    (busiest-hour travel-time index 1.24) and at most ~2,800 (0-3 in eight of nine) in
    the nine years after (1.21-1.29)."""
    traffic_replications: Annotated[Integer, Field(ge=1, le=1000)] | Literal["all"] = 1
    """How many replications run the peak traffic (the first N, or ``all``). Traffic is a
    run's dearest stage (~3-4 s CPU per replication-year on the default city against ~1 s
    for the rest). With 1 (the schema's default, for quick runs) only the first
    replication has it: its traffic KPIs then have no p10-p90 band (the manifest lists
    them in ``kpis_without_band`` and its ``traffic`` entry says the replications were
    sampled); ``all`` (the shipped default scenario's choice) or N ≥ 2 gives them bands
    from the replications' own demography and demand, the replications spread over the
    cores (sim.runs.run.replication_workers)."""
    dynamic: DynamicParams = Field(default_factory=DynamicParams)
    assignment: AssignmentParams = Field(default_factory=AssignmentParams)


# --------------------------------------------------------------------------- policies

if TYPE_CHECKING:  # the union is built at run time; a type checker sees the base class
    Policy: TypeAlias = PolicyBase
else:
    #: Every registered policy class (see :mod:`sim.policies`), as one tagged union.
    Policy = Annotated[Union[tuple(POLICY_CLASSES)], Field(discriminator="type")]  # noqa: UP007
POLICY_TYPES: tuple[str, ...] = policy_types()


# --------------------------------------------------------------------------- scenario


class Scenario(_Strict):
    """A validated scenario. ``city`` is an absolute path once loaded from a file."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    city: Path
    seed: Integer = Field(42, ge=0, lt=2**63)
    start_year: Year = 2024
    """Must be the city's ``base_year`` (checked against the city by :mod:`sim.validate`)."""
    years: Integer = Field(10, ge=1, le=MAX_YEARS)
    replications: Integer = Field(5, ge=1, le=1000)
    parameters: Parameters = Field(default_factory=Parameters)
    policies: list[Policy] = Field(default_factory=list)

    @model_validator(mode="after")
    def _policies_fit(self) -> Scenario:
        """Every policy's year is simulated and its values fit the parameters."""
        last = self.end_year
        for i, pol in enumerate(self.policies):
            if not self.start_year <= pol.year <= last:
                msg = (
                    f"{policy_name(pol, i, 'year')}: {pol.year} is outside the simulated years "
                    f"{self.start_year}..{last}"
                )
                raise ValueError(msg)
            why = pol.check_parameters(self.parameters, i)
            if why is not None:
                raise ValueError(why)
        return self

    @property
    def end_year(self) -> int:
        """The last simulated year (inclusive)."""
        return self.start_year + self.years - 1

    def fingerprint(self) -> str:
        """Short stable hash of everything that determines the outputs."""
        from sim import __version__

        payload = self.model_dump(mode="json")
        payload["city"] = Path(self.city).name
        payload["model_version"] = __version__  # resume never mixes model versions
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def run_id(self) -> str:
        """The run folder name, ``<scenario>-<short hash>``."""
        return f"{self.name}-{self.fingerprint()}"

    def to_yaml(self, path: Path | None = None) -> str:
        """Serialise to YAML; ``city`` is written relative to ``path``'s folder when given."""
        data = self.model_dump(mode="json", exclude_defaults=False)
        if path is not None:
            data["city"] = _relative(Path(self.city), Path(path).resolve().parent)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def policy_name(policy: Any, index: int, field: str = "") -> str:
    """How messages name a policy (field): position, then its ``id`` when it has one and type.

    E.g. ``policies.2.year (policy 'S-new-1', new_school)`` or ``policies.0 (road_closure)``.
    """
    ident = getattr(policy, "id", None)
    where = f"policies.{index}" + (f".{field}" if field else "")
    return f"{where} (policy {ident!r}, {policy.type})" if ident else f"{where} ({policy.type})"


def _relative(target: Path, base: Path) -> str:
    import os

    try:
        return Path(os.path.relpath(target.resolve(), base)).as_posix()
    except ValueError:  # different drive on Windows
        return target.resolve().as_posix()


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml(path, "scenario", ScenarioError)
    if not isinstance(data, dict):
        kind = type(data).__name__
        msg = f"{path}: a scenario must be a YAML mapping (name:, city:, ...), got {kind}"
        raise ScenarioError(msg)
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key == "policies":
            out[key] = list(base.get(key) or []) + list(value or [])
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        msg = f"{path}: 'extends' forms a cycle"
        raise ScenarioError(msg)
    if len(seen) >= MAX_EXTENDS:
        msg = f"{seen[0]}: 'extends' chain is deeper than {MAX_EXTENDS} files (at {path.name})"
        raise ScenarioError(msg)
    data = _read_yaml(path)
    if isinstance(data.get("city"), str):
        data["city"] = str((path.parent / data["city"]).resolve())
    params = data.get("parameters")
    for key in ("gtfs", "od_adjustment"):  # input files named relative to the scenario
        if isinstance(params, dict) and isinstance(params.get(key), str):
            params[key] = str((path.parent / params[key]).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        msg = f"{path}: field 'extends' must be a file name, got {preview(parent)}"
        raise ScenarioError(msg)
    base = _resolve_raw(path.parent / parent, (*seen, path))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, data)


def format_validation_error(source: str, exc: ValidationError, data: Any = None) -> str:
    """One clear line per problem: file, field path, bad value, what is allowed."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p) and p != "[key]")
        value = err.get("input")
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            reason = f"unknown policy type; allowed: {', '.join(POLICY_TYPES)}"
            value = (err.get("ctx") or {}).get("tag", value)
        elif err["type"] == "extra_forbidden":
            reason = "unknown field (not allowed here)"
        elif err["type"] == "missing":
            value = None
            reason = "required field is missing"
        shown = "" if value is None or isinstance(value, dict) else f" = {preview(value)}"
        where = f"{loc}{shown}: " if loc else ""
        lines.append(f"{source}: {where}{reason}")
    return "\n".join(lines[:5]) + (f"\n... and {len(lines) - 5} more" if len(lines) > 5 else "")


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in POLICY_TYPES


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (following ``extends``).

    Parameters
    ----------
    path
        The scenario YAML file.

    Returns
    -------
    Scenario
        The validated scenario; ``city`` is an absolute path.

    Raises
    ------
    ScenarioError
        With a message naming the file, field, value and what is allowed.
    """
    path = Path(path)
    data = _resolve_raw(path)
    return scenario_from_dict(data, source=str(path))


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a mapping (used by the GUI and batch sweeps)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc, data)) from None
