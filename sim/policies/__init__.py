"""Scenario policies: one class per policy type, grouped by the process it changes.

:mod:`sim.policies.base` holds the :class:`~sim.policies.base.Policy` base class and the
registry; each domain module defines its types (schools, housing, roads, other traffic).
Importing this package registers them all. A new policy type is one class in a domain
module (plus its effect in the process it changes): the scenario schema, the editor and
the translations find it in the registry.
"""

# The import order is the registry's order (the editor's menu, the allowed types in messages).
from sim.policies import schools, housing, roads, traffic  # noqa: F401, I001  (registers them)
from sim.policies.base import (
    POLICY_CLASSES,
    LocatedPolicy,
    Policy,
    TemplateContext,
    check_policies,
    latest_in_force,
    policy_class,
    policy_types,
)
from sim.policies.housing import HousingDevelopment
from sim.policies.roads import (
    CongestionCharge,
    LaneChange,
    LinkPolicy,
    NewLink,
    RoadClosure,
    RoadPolicy,
    SpeedChange,
)
from sim.policies.schools import CatchmentEdit, CloseSchool, NewSchool, ResizeSchool, SchoolPolicy
from sim.policies.traffic import (
    ParkingEnforcement,
    ParkingGuidance,
    SignalRetiming,
    StaggeredSchoolStart,
    TravellerInformation,
)

__all__ = [
    "POLICY_CLASSES",
    "CatchmentEdit",
    "CloseSchool",
    "CongestionCharge",
    "HousingDevelopment",
    "LaneChange",
    "LinkPolicy",
    "LocatedPolicy",
    "NewLink",
    "NewSchool",
    "ParkingEnforcement",
    "ParkingGuidance",
    "Policy",
    "ResizeSchool",
    "RoadClosure",
    "RoadPolicy",
    "SchoolPolicy",
    "SignalRetiming",
    "SpeedChange",
    "StaggeredSchoolStart",
    "TemplateContext",
    "TravellerInformation",
    "check_policies",
    "latest_in_force",
    "policy_class",
    "policy_types",
]
