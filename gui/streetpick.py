"""Road picking by whole streets, and how a road policy's links are named in the list.

A click on a road means the whole named, connected street in both directions
(:func:`sim.traffic.streets.street_links`); a Shift-click means only the piece under the
mouse (both directions of it), to extend or trim a street.
"""

from __future__ import annotations

import pandas as pd

from gui.i18n import tr
from sim.traffic.streets import describe_links, street_links


def picked_links(links: pd.DataFrame, piece: list[int], *, whole_street: bool) -> list[int]:
    """The links a click picks: the street of ``piece`` (the road under the mouse) or the piece."""
    if not piece or not whole_street:
        return list(piece)
    return street_links(links, piece[0])


def street_label(links: pd.DataFrame, link_ids: list[int]) -> str:
    """E.g. "Camino Ovalle La Serena · 1.2 km · both directions" ("" for no links)."""
    summary = describe_links(links, link_ids)
    if not summary.names and summary.length_m == 0:
        return ""
    names = ", ".join(summary.names) if summary.names else tr("unnamed road")
    directions = tr("both directions") if summary.both_directions else tr("one direction")
    return f"{names} · {summary.length_m / 1000:.1f} km · {directions}"
