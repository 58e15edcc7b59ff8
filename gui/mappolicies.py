"""How policies appear on the map: which ones are points or links, and their styles."""

from __future__ import annotations

from typing import Any

from sim.errors import ScenarioError
from sim.policies import policy_class

#: Map styles of some policy types; any other point / link policy gets a plain one.
POINT_POLICY_MARKERS = {"new_school": "*", "housing_development": "^"}
ROAD_POLICY_COLOURS = {
    "road_closure": "black",
    "lane_change": "tab:purple",
    "speed_change": "tab:blue",
    "congestion_charge": "tab:orange",
}


def policy_pick(kind: Any) -> str | None:
    """What the map shows of a policy type: "point", "links" or None (nothing)."""
    try:
        return policy_class(str(kind)).pick
    except ScenarioError:
        return None


def policy_xy(policy: dict[str, Any]) -> tuple[float, float] | None:
    """A point policy's (x, y), or None while it has no valid location."""
    xy = policy.get("xy")
    if xy is None or len(xy) != 2:
        return None
    try:
        return float(xy[0]), float(xy[1])
    except (TypeError, ValueError):
        return None
