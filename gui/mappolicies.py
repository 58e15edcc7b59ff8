"""How policies appear on the map: which ones are points or links, and their styles.

Point policies (a new school, a housing development...) can be dragged on the map:
:func:`moved_policy` is the policy at its new place and :func:`move_point` makes that one
undoable edit of the scenario document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
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
#: The gid of a point policy's marker: ``policy:<index in the scenario's list>``.
POINT_GID = "policy:{index}"
#: Placed points are stored to the decimetre (plenty for a site on a city map).
XY_DECIMALS = 1


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


def point_index(gid: str | None) -> int | None:
    """The policy index a marker's gid (:data:`POINT_GID`) names, or None for other artists."""
    prefix = POINT_GID.split("{", 1)[0]
    if not gid or not gid.startswith(prefix):
        return None
    return int(gid[len(prefix) :])


def moved_policy(policy: dict[str, Any], x: float, y: float) -> dict[str, Any]:
    """A copy of a point policy placed at (x, y), rounded to :data:`XY_DECIMALS`."""
    moved = copy.deepcopy(policy)
    moved["xy"] = [round(float(x), XY_DECIMALS), round(float(y), XY_DECIMALS)]
    return moved


def move_point(doc: Any, index: int, x: float, y: float) -> bool:
    """Move point policy ``index`` of ``doc`` (a :class:`gui.document.ScenarioDocument`).

    One undoable edit; False (nothing done) when ``index`` is no point policy.
    """
    if not 0 <= index < len(doc.policies):
        return False
    policy = doc.policies[index]
    if policy_pick(policy.get("type")) != "point":
        return False
    doc.edit_policy(index, moved_policy(policy, x, y))
    return True


def connect_point_drag(mapview: Any, doc: Any, select: Callable[[int], None]) -> None:
    """Make a dragged point on ``mapview`` move its policy in ``doc``, then ``select`` it.

    ``select`` is the editor's (so its fields show the new place).
    """

    def dropped(index: int, x: float, y: float) -> None:
        if move_point(doc, index, x, y):
            select(index)

    mapview.pointMoved.connect(dropped)
