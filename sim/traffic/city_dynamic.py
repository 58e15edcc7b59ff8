"""The city's road network and peak demand for the dynamic model.

:func:`city_network` turns the city's link, node and signal tables into a
:class:`~sim.traffic.dynamic.DynamicNetwork` in the link order of the static
:class:`~sim.traffic.network.Network` (so the two models' link results line up):
signalised approaches discharge at the saturation flow ``s × lanes`` during their
green (the signal is the only discount), other links at their mid-block capacity but
never below ``s × lanes`` (the city's ``capacity_vph`` of arterials already holds an
average signal discount, see geodata/README.md), and every signal gives its phases to
the approaches the static model gives them (the plans' ``approach_phase``,
:mod:`sim.traffic.signals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.traffic.dynamic import DynamicNetwork, geometry_signal
from sim.traffic.network import Network, network_from_links
from sim.traffic.signals import (
    CLASS_RANK,
    SATURATION_PER_LANE,
    SignalPlans,
    approach_headings,
    exit_headings,
)

if TYPE_CHECKING:
    pass


def city_network(
    links: pd.DataFrame,
    nodes: pd.DataFrame,
    signals: pd.DataFrame,
    plans: SignalPlans,
    zone_centroids: Sequence[int],
) -> tuple[DynamicNetwork, Network]:
    """The dynamic network of the city's links and signal plans, and its static twin.

    Parameters
    ----------
    links, nodes, signals
        The city's tables (links with ``lanes``, ``length_m``, ``free_speed_kmh``,
        ``capacity_vph``, ``link_type``, ``signal_id`` and line geometries; signals
        with ``node_id``).
    plans
        The signal plans in force (cycle, effective greens and offset per signal).
    zone_centroids
        Centroid node id of each zone, in zone order.
    """
    static = network_from_links(links, nodes, zone_centroids)
    lanes = links["lanes"].to_numpy(dtype=np.int64).clip(min=1)
    sat = SATURATION_PER_LANE * lanes
    signalised = links["signal_id"].isin(list(plans.greens)).to_numpy()
    capacity = links["capacity_vph"].to_numpy(dtype=float)
    net = DynamicNetwork(
        link_ids=[str(k) for k in links.index],
        link_from=static.link_from.astype(np.int64),
        link_to=static.link_to.astype(np.int64),
        n_nodes=static.n_nodes,
        length_m=links["length_m"].to_numpy(dtype=float),
        lanes=lanes,
        speed_ms=links["free_speed_kmh"].to_numpy(dtype=float) / 3.6,
        capacity_vph=np.where(signalised, sat, np.maximum(capacity, sat)),
        zone_nodes=static.first_thru_node,
    )
    h_in = approach_headings(links).to_numpy()
    h_out = exit_headings(links).to_numpy()
    rank = links["link_type"].map(CLASS_RANK).fillna(0.0).to_numpy()
    node_index = pd.Index(static.node_ids)
    roles = plans.approach_phase.reindex(links.index).to_numpy(dtype=float)
    for sid, greens in plans.greens.items():
        node = int(node_index.get_loc(int(signals.at[sid, "node_id"])))
        net.signals.append(
            geometry_signal(
                net, node, greens, h_in, h_out, rank, plans.offset_of(sid), capacity * lanes,
                roles,
            )
        )  # fmt: skip
    return net, static
