"""Zone-to-zone car skims: minutes, km and tolls along the routes drivers take.

Routes are the shortest paths on the generalised cost the assignment uses (time plus
``toll_factor × toll`` plus ``distance_factor × km``) at the current link times; time,
length and toll are summed along them (:func:`sim.kernels.choice.path_sums`). A trip
within its own zone is half a zone width on local streets at :data:`LOCAL_KMH`, or,
given ``intrazonal_min``, the mean free-flow route between the zone's access points
(:meth:`sim.mobility.intrazonal.TripAccess.expected`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import choice, paths
from sim.traffic.network import Network

#: Speed of intrazonal car trips on local streets (km/h), urban 30 km/h zones minus stops.
LOCAL_KMH = 25.0


@dataclass
class Skims:
    """Car level of service between zones (``(n_zones, n_zones)`` each).

    Attributes
    ----------
    minutes, km, toll
        Congested car minutes, road km and tolls on the drivers' routes.
    free_minutes
        Minutes on the same routes at free flow (signal delay included).
    """

    minutes: np.ndarray
    km: np.ndarray
    toll: np.ndarray
    free_minutes: np.ndarray


def car_skims(
    net: Network,
    times: np.ndarray,
    intrazonal_km: np.ndarray,
    *,
    toll_factor: float,
    distance_factor: float,
    intrazonal_min: np.ndarray | None = None,
    trees: np.ndarray | None = None,
) -> Skims:
    """Skim the network at link ``times`` (minutes).

    Parameters
    ----------
    net
        The road network of the year (tolls in force).
    times
        Link travel times (minutes), e.g. of the last assignment, or ``net.fftime``.
    intrazonal_km
        Length of a trip within each zone (km).
    toll_factor, distance_factor
        Minutes per money unit of toll and per km in the drivers' generalised cost.
    intrazonal_min
        Minutes of a car trip within each zone (NaN: ``intrazonal_km`` at
        :data:`LOCAL_KMH`); default all from ``intrazonal_km``.
    trees
        The shortest-path trees of every zone at this generalised cost when the caller
        has them (``(n_zones, n_nodes)``, e.g. :attr:`sim.traffic.assignment.AssignmentResult.trees`
        of the assignment whose link times ``times`` are); None: searched here.
    """
    pred = trees
    if pred is None:
        cost = np.ascontiguousarray(times + toll_factor * net.toll + distance_factor * net.length)
        _, pred = paths.shortest_paths(
            net.out_start, net.out_links, net.link_to, cost, net.zone_nodes, net.first_thru_node
        )
    values = np.ascontiguousarray(np.vstack([times, net.length, net.toll, net.fftime]))
    sums = choice.path_sums(pred, net.link_from, net.zone_nodes, values)
    minutes, km, toll, free = sums
    idx = np.arange(len(net.zone_nodes))
    km[idx, idx] = intrazonal_km
    minutes[idx, idx] = intrazonal_km / LOCAL_KMH * 60.0
    if intrazonal_min is not None:
        known = np.isfinite(intrazonal_min)
        minutes[idx[known], idx[known]] = intrazonal_min[known]
    free[idx, idx] = minutes[idx, idx]
    toll[idx, idx] = 0.0
    return Skims(minutes=minutes, km=km, toll=toll, free_minutes=free)
