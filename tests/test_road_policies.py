"""Road policies on the links table: closure, new link, lanes, speed, congestion charge."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from sim.errors import ScenarioError
from sim.policies import (
    CongestionCharge,
    LaneChange,
    NewLink,
    RoadClosure,
    SignalRetiming,
    SpeedChange,
)
from sim.traffic.network import network_from_links
from sim.traffic.policies import apply_road_policies, check_road_policies, cordon_entry_links

CRS = "EPSG:32719"
DEFAULT_CITY = Path(__file__).resolve().parents[1] / "geodata" / "default_city.gpkg"

# A 1 km square: 1 (0,0) - 2 (1000,0) - 3 (1000,1000) - 4 (0,1000); a signal at node 3.
XY = {1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)}
PAIRS = {
    10: (1, 2),
    11: (2, 1),
    12: (2, 3),
    13: (3, 2),
    14: (3, 4),
    15: (4, 3),
    16: (4, 1),
    17: (1, 4),
}


@pytest.fixture()
def net() -> SimpleNamespace:
    nodes = gpd.GeoDataFrame(
        {"is_centroid": [True, False, True, False], "zone_id": [2, -1, 1, -1],
         "signal_id": [-1, -1, 7, -1]},
        geometry=[Point(XY[n]) for n in XY],
        index=pd.Index(list(XY), name="node_id"),
        crs=CRS,
    )  # fmt: skip
    links = gpd.GeoDataFrame(
        {
            "a_node": [a for a, _ in PAIRS.values()],
            "b_node": [b for _, b in PAIRS.values()],
            "length_m": 1000.0,
            "lanes": 2,
            "free_speed_kmh": 50.0,
            "capacity_vph": 1800.0,
            "link_type": "primary",
            "name": "ring",
            "signal_id": [7 if b == 3 else -1 for _, b in PAIRS.values()],
        },
        geometry=[LineString([XY[a], XY[b]]) for a, b in PAIRS.values()],
        index=pd.Index(list(PAIRS), name="link_id"),
        crs=CRS,
    )
    zones = gpd.GeoDataFrame(
        {"centroid_node": [3, 1]},
        geometry=[box(500, 500, 1500, 1500), box(-500, -500, 500, 500)],
        index=pd.Index([1, 2], name="zone_id"),
        crs=CRS,
    )
    return SimpleNamespace(links=links, nodes=nodes, zones=zones)


def _apply(net: SimpleNamespace, policies: list, year: int = 2030) -> gpd.GeoDataFrame:
    return apply_road_policies(net.links, net.nodes, net.zones, policies, year)


def test_no_policies_adds_a_zero_toll_and_copies(net: SimpleNamespace) -> None:
    out = _apply(net, [SignalRetiming(type="signal_retiming", year=2025)])
    assert out is not net.links
    assert (out["toll"] == 0).all()
    pd.testing.assert_frame_equal(out.drop(columns="toll"), net.links)


def test_closure_drops_links_from_its_year(net: SimpleNamespace) -> None:
    pol = [RoadClosure(type="road_closure", links=[10, 11], year=2027)]
    assert len(_apply(net, pol, 2026)) == 8
    out = _apply(net, pol, 2027)
    assert sorted(out.index) == [12, 13, 14, 15, 16, 17]
    assert len(net.links) == 8  # the input is untouched


def test_new_link_both_directions(net: SimpleNamespace) -> None:
    pol = [
        NewLink(type="new_link", from_node=1, to_node=3, lanes=3, capacity_per_lane=800, year=2026)
    ]
    out = _apply(net, pol, 2026)
    new = out.loc[[18, 19]]
    assert list(new["a_node"]) == [1, 3] and list(new["b_node"]) == [3, 1]
    np.testing.assert_allclose(new["length_m"], 1000 * math.sqrt(2))
    np.testing.assert_allclose(new.geometry.length, 1000 * math.sqrt(2))
    assert list(new["capacity_vph"]) == [2400.0, 2400.0]
    assert list(new["lanes"]) == [3, 3]
    assert list(new["signal_id"]) == [7, -1]  # the signal at the head node
    assert out["a_node"].dtype == net.links["a_node"].dtype
    assert (new["toll"] == 0).all() and (new["free_speed_kmh"] == 50).all()


def test_new_link_ids_do_not_depend_on_the_year(net: SimpleNamespace) -> None:
    pol = [
        NewLink(type="new_link", from_node=1, to_node=3, year=2029),
        NewLink(type="new_link", from_node=2, to_node=4, both_directions=False, year=2026),
    ]
    assert list(_apply(net, pol, 2026).index[-1:]) == [20]
    out = _apply(net, pol, 2029)
    assert list(out.index[-3:]) == [20, 18, 19]
    assert tuple(out.loc[20, ["a_node", "b_node"]]) == (2, 4)


def test_lane_and_speed_change(net: SimpleNamespace) -> None:
    pol = [
        LaneChange(type="lane_change", links=[10, 12], lanes=3, year=2025),
        SpeedChange(type="speed_change", links=[12], speed_kmh=30, year=2025),
        LaneChange(type="lane_change", links=[12], lanes=1, year=2026),
    ]
    out = _apply(net, pol, 2026)
    assert out.loc[10, "lanes"] == 3 and out.loc[10, "capacity_vph"] == 2700.0
    assert out.loc[12, "lanes"] == 1 and out.loc[12, "capacity_vph"] == 900.0
    assert out.loc[12, "free_speed_kmh"] == 30.0 and out.loc[13, "free_speed_kmh"] == 50.0
    assert out.loc[11, "capacity_vph"] == 1800.0


def test_congestion_charge_on_links_and_cordon(net: SimpleNamespace) -> None:
    pol = [
        CongestionCharge(
            type="congestion_charge", toll=2.5, links=[10], cordon_zones=[1], year=2025
        )
    ]
    out = _apply(net, pol)
    # zone 1 holds node 3 only: links 2->3 (12) and 4->3 (15) enter it
    assert sorted(out.index[out["toll"] > 0]) == [10, 12, 15]
    assert (out.loc[[10, 12, 15], "toll"] == 2.5).all()
    later = [*pol, CongestionCharge(type="congestion_charge", toll=4, cordon_zones=[1], year=2028)]
    assert _apply(net, later, 2027).loc[12, "toll"] == 2.5
    out = _apply(net, later, 2028)
    assert out.loc[12, "toll"] == 4.0 and out.loc[10, "toll"] == 2.5


def test_cordon_of_two_zones_charges_only_links_from_outside(net: SimpleNamespace) -> None:
    links = cordon_entry_links(net.links, net.nodes, net.zones, [1, 2])
    assert sorted(links) == [11, 12, 15, 16]  # into nodes 1 or 3 from nodes 2 or 4


def test_policies_on_missing_links_fail_clearly(net: SimpleNamespace) -> None:
    pol = [
        RoadClosure(type="road_closure", links=[10], year=2025),
        LaneChange(type="lane_change", links=[10], lanes=3, year=2026),
    ]
    with pytest.raises(ScenarioError, match=r"policies\.1\.links: link 10 does not exist in 2026"):
        _apply(net, pol, 2026)


def test_result_builds_a_network_with_tolls(net: SimpleNamespace) -> None:
    pol = [
        NewLink(type="new_link", from_node=2, to_node=4, year=2025),
        CongestionCharge(type="congestion_charge", toll=3, cordon_zones=[1], year=2025),
    ]
    out = _apply(net, pol)
    network = network_from_links(out, net.nodes, [3, 1])
    assert network.n_links == 10
    np.testing.assert_allclose(network.toll, out["toll"].to_numpy())
    np.testing.assert_allclose(network.length[-2:], math.sqrt(2))  # km


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (RoadClosure(type="road_closure", links=[10, 99], year=2025), "policies.1.links: link 99"),
        (NewLink(type="new_link", from_node=1, to_node=42, year=2025), "1.to_node: node 42"),
        (NewLink(type="new_link", from_node=2, to_node=2, year=2025), "1.to_node: 2 is the same"),
        (SpeedChange(type="speed_change", links=[-3], speed_kmh=20, year=2025), "link -3"),
        (
            CongestionCharge(type="congestion_charge", toll=1, cordon_zones=[1, 5], year=2025),
            "policies.1.cordon_zones: zone 5",
        ),
    ],
)
def test_check_names_the_policy_field_and_value(
    net: SimpleNamespace, policy: object, message: str
) -> None:
    ok = LaneChange(type="lane_change", links=[11], lanes=1, year=2025)
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        check_road_policies(net, [ok, policy])
    check_road_policies(net, [ok])


def test_check_finds_a_link_used_after_its_closure(net: SimpleNamespace) -> None:
    closed = RoadClosure(type="road_closure", links=[12], year=2025)
    later = LaneChange(type="lane_change", links=[12], lanes=1, year=2027)
    speed = SpeedChange(type="speed_change", links=[10], speed_kmh=30, year=2029)
    check_road_policies(net, [later.model_copy(update={"year": 2024}), closed, speed])
    # listed first but dated after the closure: caught before the run, not in its 2027
    with pytest.raises(ScenarioError, match=r"policies\.0\.links: link 12 does not exist in 2027"):
        check_road_policies(net, [later, closed, speed])


def test_default_city_policies() -> None:
    if not DEFAULT_CITY.exists():
        pytest.skip(f"{DEFAULT_CITY} not built yet")
    from sim.city import load_city

    city = load_city(DEFAULT_CITY)
    road = city.links[~city.links["link_type"].str.contains("connector")]
    first = int(road.index[0])
    plain = city.nodes.index[~city.nodes["is_centroid"].to_numpy()]
    zone = int(city.zones.index[0])
    pol = [
        RoadClosure(type="road_closure", links=[first], year=2025),
        NewLink(type="new_link", from_node=int(plain[0]), to_node=int(plain[-1]), year=2025),
        CongestionCharge(type="congestion_charge", toll=2, cordon_zones=[zone], year=2025),
    ]
    check_road_policies(city, pol)
    out = apply_road_policies(city.links, city.nodes, city.zones, pol, 2025)
    assert len(out) == len(city.links) + 1
    assert (out.dtypes.drop("toll") == city.links.dtypes).all()
    assert first not in out.index
    charged = out.index[out["toll"] > 0]
    assert len(charged) > 0
    inside = city.nodes.loc[out.loc[charged, "b_node"]].geometry.within(
        city.zones.geometry.loc[zone].buffer(1e-6)
    )
    assert inside.all()
    network = network_from_links(out, city.nodes, city.zones["centroid_node"].to_numpy())
    assert network.n_links == len(out)
