"""The city's tables as a dynamic network, and OD matrices as vehicles.

A hand-built crossroads (a two-lane primary east–west, a one-lane residential
north–south, a signal in the middle) whose phasing, capacities and routes are known
without the module.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from sim.traffic.city_dynamic import city_network
from sim.traffic.dynamic import TrafficControl
from sim.traffic.od_vehicles import od_vehicles, whole_counts
from sim.traffic.signals import SignalPlans

CRS = "EPSG:32719"
# node 0 the junction; 1 east, 2 west, 3 north, 4 south (the zone centroids 1..4)
XY = {0: (0, 0), 1: (500, 0), 2: (-500, 0), 3: (0, 500), 4: (0, -500)}
ARMS = {1: ("primary", 2), 2: ("primary", 2), 3: ("residential", 1), 4: ("residential", 1)}


def _city():
    rows, geoms, ids = [], [], []
    for k, (cls, lanes) in ARMS.items():
        for out in (False, True):
            a, b = (0, k) if out else (k, 0)
            ids.append((20 if out else 10) + k)
            geoms.append(LineString([XY[a], XY[b]]))
            rows.append({"a_node": a, "b_node": b, "lanes": lanes, "length_m": 500.0,
                         "free_speed_kmh": 36.0, "capacity_vph": 1000.0 * lanes,
                         "link_type": cls, "signal_id": -1 if out else 1})  # fmt: skip
    links = gpd.GeoDataFrame(rows, geometry=geoms, index=pd.Index(ids, name="link_id"), crs=CRS)
    nodes = gpd.GeoDataFrame(
        geometry=[Point(XY[n]) for n in XY], index=pd.Index(list(XY), name="node_id"), crs=CRS
    )
    signals = pd.DataFrame(
        {"node_id": [0], "cycle_s": [90.0], "n_phases": [2], "green_s": ["50,32"],
         "offset_s": [0.0]},
        index=pd.Index([1], name="signal_id"),
    )  # fmt: skip
    return links, nodes, signals


def test_the_city_network_discounts_capacity_once_and_phases_by_geometry() -> None:
    links, nodes, signals = _city()
    plans = SignalPlans.from_city(signals, links)
    net, static = city_network(links, nodes, signals, plans, [1, 2, 3, 4])
    cap = dict(zip(net.link_ids, net.capacity_vph, strict=True))
    assert cap["11"] == 2 * 1800.0  # a signalised approach: saturation flow, in its green
    assert cap["13"] == 1800.0
    assert cap["21"] == 2 * 1800.0  # mid-block 2,000 raised to the saturation flow
    spec = net.signals[0]
    assert spec.node == int(np.flatnonzero(static.node_ids == 0)[0])
    idx = {k: i for i, k in enumerate(net.link_ids)}
    # east-west primary straight on in phase 0, the residential cross road in phase 1
    assert spec.masks[idx["11"], idx["22"]] == (1, 0)
    assert spec.masks[idx["13"], idx["24"]] == (2, 0)
    np.testing.assert_array_equal(spec.greens, [50.0, 32.0])


def test_whole_counts_keep_the_total_by_largest_remainders() -> None:
    np.testing.assert_array_equal(whole_counts(np.array([[0, 1.6], [2.4, 0]])), [[0, 2], [2, 0]])
    np.testing.assert_array_equal(whole_counts(np.array([[0.5, 0.5], [0.5, 0.5]])).sum(), 2)


def test_od_vehicles_take_the_free_flow_route_and_reach_their_zone() -> None:
    links, nodes, signals = _city()
    plans = SignalPlans.from_city(signals, links)
    net, static = city_network(links, nodes, signals, plans, [1, 2, 3, 4])
    trips = np.zeros((4, 4))
    trips[0, 1] = 300.0  # east to west through the junction
    trips[2, 3] = 100.0  # north to south
    veh = od_vehicles(static, trips, 0.0, 600.0, seed=3)
    assert len(veh.depart) == 400
    routes = {tuple(net.link_ids[k] for k in veh.route_links[a:b])
              for a, b in zip(veh.route_start[:-1], veh.route_start[1:], strict=True)}  # fmt: skip
    assert routes == {("11", "22"), ("13", "24")}
    res = TrafficControl(net).run(veh)
    assert res.summary()["completed"] == 400
    # the primary waits for its green less than the residential road: 50 vs 32 s of 90
    tt = res.travel_time
    east = np.array([i.startswith("1-2") for i in veh.ids])
    assert tt[east].mean() < tt[~east].mean()
    assert tt.min() >= 100.0 - 1e-9  # two 500 m links at 10 m/s
    # the same seed gives the same vehicles
    again = od_vehicles(static, trips, 0.0, 600.0, seed=3)
    assert again.ids == veh.ids


def test_an_unreachable_zone_is_an_error() -> None:
    links, nodes, signals = _city()
    links = links.drop(index=[23])  # nobody can drive to the north
    plans = SignalPlans.from_city(signals, links)
    _, static = city_network(links, nodes, signals, plans, [1, 2, 3, 4])
    trips = np.zeros((4, 4))
    trips[0, 2] = 1.0
    with pytest.raises(ValueError, match="zone 3 cannot be reached from 1"):
        od_vehicles(static, trips, 0.0, 60.0, seed=0)
