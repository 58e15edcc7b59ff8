"""When goods vehicles leave in the AM period: evenly, unless a toll makes a bin dearer.

Deliveries share no arrival time, so each OD's freight (PCU, :data:`sim.mobility.demand.
FREIGHT_SHARE` of road vehicles) spreads evenly over the 5-minute bins; a toll charged in
some bins (a congestion charge's window) moves part of it to the others by a logit on the
toll alone: Small's (1982) travel-time coefficient (−0.106 per minute,
:data:`sim.mobility.departure.SCHEDULE_COEF`) on the toll in minutes of a truck's value of
time, :data:`FREIGHT_VOT_FACTOR` times a car driver's. Routes respond in the assignment,
which loads freight with the cars (tolls and closures included).

:data:`FREIGHT_VOT_FACTOR` is an assumption: published values of time of a goods vehicle
(driver, vehicle and cargo) are several times a car commuter's (de Jong 2000, *Value of
freight travel-time savings*, Handbook of Transport Modelling). It makes freight respond
far less than cars, as in London's first charging year, where goods vehicles entering in
charging hours fell by about a tenth and cars by about a third (Transport for London 2004,
*Congestion charging: impacts monitoring, second annual report*).
"""

from __future__ import annotations

import numpy as np

from sim.mobility.departure import SCHEDULE_COEF

#: A goods vehicle's value of time over a car driver's.
FREIGHT_VOT_FACTOR = 3.0


def freight_bins(
    freight: np.ndarray, toll: np.ndarray, charged: np.ndarray, money_per_min: float
) -> np.ndarray:
    """``(n, n, N_BINS)`` freight PCU per OD and departure bin.

    Parameters
    ----------
    freight
        ``(n, n)`` freight PCU of the AM period.
    toll
        ``(n, n)`` toll on each OD's route (money).
    charged
        ``N_BINS`` 1/0: whether a vehicle leaving in the bin pays it.
    money_per_min
        A car driver's value of time (money per minute).
    """
    minutes = toll / (FREIGHT_VOT_FACTOR * money_per_min)
    weight = np.exp(SCHEDULE_COEF[0] * minutes[:, :, None] * np.asarray(charged)[None, None, :])
    weight /= weight.sum(axis=2, keepdims=True)
    return freight[:, :, None] * weight
