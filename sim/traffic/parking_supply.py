"""Parking supply for the peak: car parks and kerb space per zone, on the street graph.

:class:`ParkingSupply` holds the spaces as state at the start of the peak: the city's car
parks (``city.parking``: capacity, AM occupancy) and kerb space per zone, derived at load
time (no city column) from the kerbside length of the zone's local streets:

- a directed link of type :data:`KERB_LINK_TYPES` has one kerb side of its length (a
  two-way street is two links: both sides); it belongs to the zone of its start node;
- :data:`KERB_SPACES_PER_M` spaces per metre of kerb: one parallel bay of
  :data:`BAY_LENGTH_M` on :data:`KERB_USABLE_SHARE` of the kerb (the rest is junction
  clearance, driveways, bus stops and no-parking stretches);
- :data:`KERB_OCCUPANCY_AM` of them are taken when the peak starts (residents' cars).

:class:`StreetGraph` is what a parking search needs of the network: link ends, lengths,
free-flow times, which links are centroid connectors and which have kerb, node
coordinates and each zone's centroid node, all in the link and node order of the static
:class:`~sim.traffic.network.Network` (the dynamic network's order too).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.city import City
from sim.traffic.network import Network

#: Link types with kerbside parking (local and residential streets).
KERB_LINK_TYPES = ("residential", "living_street", "unclassified")
#: Length of one parallel parking bay (m).
BAY_LENGTH_M = 6.0
#: Share of a local street's kerb where parking is allowed.
KERB_USABLE_SHARE = 0.5
#: Kerb spaces per metre of kerb (one bay on the usable share): 1 per 12 m.
KERB_SPACES_PER_M = KERB_USABLE_SHARE / BAY_LENGTH_M
#: Share of kerb spaces taken when the morning peak starts.
KERB_OCCUPANCY_AM = 0.9
#: Link types of connectors from zone centroids (never cruised on, never parked on).
CONNECTOR_TYPES = ("centroid_connector", "access_connector")


@dataclass
class StreetGraph:
    """The network as the parking search sees it (static network order).

    Attributes
    ----------
    link_from, link_to
        Node index of each link's ends.
    length_m, fft_s
        Length and free-flow time of each link.
    lanes
        Lanes of each link.
    connector
        Whether a link is a centroid connector.
    kerb
        Whether a link has kerbside parking.
    node_xy
        ``(n_nodes, 2)`` coordinates (m).
    node_zone
        Zone index of each node (a centroid's zone, the zone a street node lies in;
        -1 outside every zone).
    """

    link_from: np.ndarray
    link_to: np.ndarray
    length_m: np.ndarray
    fft_s: np.ndarray
    lanes: np.ndarray
    connector: np.ndarray
    kerb: np.ndarray
    node_xy: np.ndarray
    node_zone: np.ndarray

    @property
    def n_links(self) -> int:
        """Number of links."""
        return len(self.link_from)

    @cached_property
    def street_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Outgoing street links (not connectors) of each node, as CSR (start, links)."""
        street = np.flatnonzero(~self.connector)
        order = street[np.argsort(self.link_from[street], kind="stable")]
        start = np.searchsorted(self.link_from[order], np.arange(len(self.node_xy) + 1))
        return start.astype(np.int64), order.astype(np.int64)


@dataclass
class ParkingSupply:
    """Kerb space per zone and car parks, with what is taken when the peak starts.

    Attributes
    ----------
    zone_ids
        Zone ids, in zone order.
    kerb_spaces, kerb_taken
        Kerb spaces of each zone and those taken at the start.
    lot_ids, lot_zone, lot_node
        Car park ids, zone index and the street node a car park is reached at.
    lot_capacity, lot_taken
        Spaces of each car park and those taken at the start.
    """

    zone_ids: np.ndarray
    kerb_spaces: np.ndarray
    kerb_taken: np.ndarray
    lot_ids: np.ndarray
    lot_zone: np.ndarray
    lot_node: np.ndarray
    lot_capacity: np.ndarray
    lot_taken: np.ndarray


def street_graph(
    links: pd.DataFrame, nodes: pd.DataFrame, net: Network, zones: gpd.GeoDataFrame | None = None
) -> StreetGraph:
    """The street graph of the links in force (``links`` in the order of ``net``).

    Without ``zones`` only the centroids have a zone.
    """
    xy = nodes.geometry.loc[np.asarray(net.node_ids)]
    node_zone = np.full(len(xy), -1, np.int64)
    if zones is not None:
        inside, zone = zones.sindex.query(gpd.GeoSeries(xy.to_numpy()), predicate="within")
        node_zone[inside] = zone
    node_zone[np.asarray(net.zone_nodes)] = np.arange(len(net.zone_nodes))
    kind = links["link_type"].to_numpy()
    length = links["length_m"].to_numpy(dtype=float)
    return StreetGraph(
        link_from=np.asarray(net.link_from, dtype=np.int64),
        link_to=np.asarray(net.link_to, dtype=np.int64),
        length_m=length,
        fft_s=length / (links["free_speed_kmh"].to_numpy(dtype=float) / 3.6),
        lanes=links["lanes"].to_numpy(dtype=np.int64).clip(min=1),
        connector=np.isin(kind, CONNECTOR_TYPES),
        kerb=np.isin(kind, KERB_LINK_TYPES),
        node_xy=np.column_stack([xy.x.to_numpy(), xy.y.to_numpy()]),
        node_zone=node_zone,
    )


def kerb_spaces(links: pd.DataFrame, nodes: pd.DataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Kerb spaces of each zone: :data:`KERB_SPACES_PER_M` × its local streets' length.

    A link is in the zone its start node lies in (links starting outside every zone
    have no kerb spaces).
    """
    local = links[links["link_type"].isin(KERB_LINK_TYPES)]
    starts = gpd.GeoSeries(nodes.geometry.loc[local["a_node"].to_numpy()].to_numpy())
    inside, zone = zones.sindex.query(starts, predicate="within")
    metres = np.bincount(
        zone, weights=local["length_m"].to_numpy(dtype=float)[inside], minlength=len(zones)
    )
    return np.floor(metres * KERB_SPACES_PER_M + 1e-9).astype(np.int64)


def parking_supply(city: City, links: pd.DataFrame, net: Network) -> ParkingSupply:
    """The city's car parks and the kerb space of the links in force, per zone.

    A car park is reached at the street node nearest to it (never a centroid).
    """
    zone_ids = city.zones.index
    spaces = kerb_spaces(links, city.nodes, city.zones)
    lots = city.parking
    street = city.nodes[~city.nodes["is_centroid"].astype(bool)]
    node_pos = pd.Index(np.asarray(net.node_ids))
    lot_node = np.zeros(len(lots), dtype=np.int64)
    if len(lots):
        sx, sy = street.geometry.x.to_numpy(), street.geometry.y.to_numpy()
        for i, point in enumerate(lots.geometry):
            nearest = int(np.argmin((sx - point.x) ** 2 + (sy - point.y) ** 2))
            lot_node[i] = node_pos.get_loc(street.index[nearest])
    capacity = lots["capacity"].to_numpy(dtype=np.int64)
    return ParkingSupply(
        zone_ids=zone_ids.to_numpy(),
        kerb_spaces=spaces,
        kerb_taken=np.round(spaces * KERB_OCCUPANCY_AM).astype(np.int64),
        lot_ids=lots.index.to_numpy(),
        lot_zone=zone_ids.get_indexer(lots["zone_id"].to_numpy()),
        lot_node=lot_node,
        lot_capacity=capacity,
        lot_taken=np.round(capacity * lots["occupancy_am"].to_numpy(dtype=float)).astype(np.int64),
    )
