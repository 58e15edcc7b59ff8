"""The peak hour (sim.traffic.peak): signal retiming, congestion charge, dynamic loading.

A hand-made city of two zones joined by two equal routes, so every effect can be
predicted: route A (north, through node 2) and route B (south, through node 3).
"""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from sim.kpis import DYNAMIC_ONLY_KPIS
from sim.model import _peak_traffic
from sim.policies import (
    CongestionCharge,
    NewLink,
    RoadClosure,
    SignalRetiming,
    TravellerInformation,
)
from sim.scenario import AssignmentParams, DynamicParams, load_scenario
from sim.traffic import due
from sim.traffic.dynamic import GridlockError, TrafficControl
from sim.traffic.peak import PeakTraffic, link_kpis

CRS = "EPSG:32719"
XY = {1: (0, 0), 2: (1000, 500), 3: (1000, -500), 4: (2000, 0)}
# link_id: (from, to); 10/11 route A out, 20/21 route B out, 30+ the way back
PAIRS = {
    10: (1, 2),
    11: (2, 4),
    20: (1, 3),
    21: (3, 4),
    30: (2, 1),
    31: (4, 2),
    40: (3, 1),
    41: (4, 3),
}
DEMAND = np.array([[0.0, 1500.0], [0.0, 0.0]])  # zone 1 -> zone 2
PARAMS = AssignmentParams(algorithm="bfw", rel_gap=1e-6, max_iter=500)


def two_route_city(
    signal_at_2: bool = False,
    lots: list[tuple[int, float]] | None = None,
    lanes: dict[int, int] | None = None,
):
    """Two 1 km zones at either end; optionally a signal at node 2, parking lots, lanes."""
    nodes = gpd.GeoDataFrame(
        {
            "is_centroid": [n in (1, 4) for n in XY],
            "signal_id": [1 if (signal_at_2 and n == 2) else -1 for n in XY],
        },
        geometry=[Point(XY[n]) for n in XY],
        index=pd.Index(list(XY), name="node_id"),
        crs=CRS,
    )
    links = gpd.GeoDataFrame(
        {
            "a_node": [a for a, _ in PAIRS.values()],
            "b_node": [b for _, b in PAIRS.values()],
            "length_m": [np.hypot(*np.subtract(XY[b], XY[a])) for a, b in PAIRS.values()],
            "lanes": [(lanes or {}).get(k, 1) for k in PAIRS],
            "free_speed_kmh": 50.0,
            "capacity_vph": 1000.0,
            # the way back into node 2 (link 31) is the main road of its signal
            "link_type": ["trunk" if k == 31 else "primary" for k in PAIRS],
            "signal_id": [1 if (signal_at_2 and b == 2) else -1 for _, b in PAIRS.values()],
        },
        geometry=[LineString([XY[a], XY[b]]) for a, b in PAIRS.values()],
        index=pd.Index(list(PAIRS), name="link_id"),
        crs=CRS,
    )
    zones = gpd.GeoDataFrame(
        {"centroid_node": [1, 4]},
        geometry=[box(-500, -500, 500, 500), box(1500, -500, 2500, 500)],
        index=pd.Index([1, 2], name="zone_id"),
        crs=CRS,
    )
    # a plan that gives most green to the empty main road (route A's approach is the cross road)
    signals = pd.DataFrame(
        {"node_id": [2], "cycle_s": [90.0], "n_phases": [2], "green_s": ["60,22"]},
        index=pd.Index([1], name="signal_id"),
    )
    lots = lots or []
    parking = gpd.GeoDataFrame(
        {
            "zone_id": [z for z, _ in lots],
            "occupancy_am": [o for _, o in lots],
            "capacity": 100,
        },
        geometry=[Point(XY[4] if z == 2 else XY[1]) for z, _ in lots],
        index=pd.Index(range(1, len(lots) + 1), name="lot_id"),
        crs=CRS,
    )
    return SimpleNamespace(
        links=links,
        nodes=nodes,
        zones=zones,
        signals=signals if signal_at_2 else signals.iloc[:0],
        parking=parking,
        schools=gpd.GeoDataFrame(geometry=[], crs=CRS),
    )


def _flows(city, policies, year: int = 2025, params: AssignmentParams = PARAMS):
    result = PeakTraffic(city, policies, params).step(year, DEMAND)
    return result.links["flow"], result.kpis


def test_equal_routes_share_the_demand() -> None:
    flow, kpis = _flows(two_route_city(), [])
    assert flow[10] == pytest.approx(750.0, rel=1e-3)
    assert flow[20] == pytest.approx(750.0, rel=1e-3)
    assert flow[[30, 31, 40, 41]].sum() == pytest.approx(0.0, abs=1e-6)
    assert kpis["car_trips_peak"] == 1500.0
    assert kpis["vkt"] == pytest.approx(1500 * 2 * np.hypot(1, 0.5), rel=1e-3)
    assert kpis["rel_gap"] <= 1e-6


def test_closure_sends_everyone_the_other_way() -> None:
    pol = [RoadClosure(type="road_closure", links=[11], year=2025)]
    flow, _ = _flows(two_route_city(), pol)
    assert 11 not in flow.index
    assert flow[20] == pytest.approx(1500.0, rel=1e-6)
    before, _ = _flows(two_route_city(), pol, year=2024)  # not in force yet
    assert before[11] == pytest.approx(750.0, rel=1e-3)


def test_congestion_charge_lowers_flow_on_the_tolled_link() -> None:
    pol = [CongestionCharge(type="congestion_charge", toll=2.0, links=[11], year=2025)]
    params = PARAMS.model_copy(update={"toll_factor": 1.0})  # 1 minute per unit of toll
    flow, _ = _flows(two_route_city(), pol, params=params)
    assert flow[11] < 700.0
    assert flow[21] > 800.0
    assert flow[11] + flow[21] == pytest.approx(1500.0)
    # at equilibrium the tolled route's time is shorter by exactly the toll's 2 minutes
    result = PeakTraffic(two_route_city(), pol, params).step(2025, DEMAND)
    t = result.links["time_min"]
    assert (t[20] + t[21]) - (t[10] + t[11]) == pytest.approx(2.0, abs=0.01)


def test_cordon_charge_lowers_flow_into_the_cordon() -> None:
    pol = [CongestionCharge(type="congestion_charge", toll=2.0, cordon_zones=[2], year=2025)]
    params = PARAMS.model_copy(update={"toll_factor": 1.0})
    flow, _ = _flows(two_route_city(), pol, params=params)
    # both routes enter zone 2 and are charged alike: the split stays even
    assert flow[11] == pytest.approx(750.0, rel=1e-3)
    mixed = [*pol, CongestionCharge(type="congestion_charge", toll=1.0, links=[21], year=2025)]
    flow, _ = _flows(two_route_city(), mixed, params=params)
    # the later charge replaced route B's toll by a lower one: route B now carries more
    assert flow[21] > flow[11] + 500


def test_congestion_charge_acts_with_the_scenario_defaults() -> None:
    # 200 currency units = 2 minutes at the default value of time (toll_factor 0.01)
    pol = [CongestionCharge(type="congestion_charge", toll=200.0, links=[11], year=2025)]
    flow, _ = _flows(two_route_city(), pol, params=AssignmentParams(rel_gap=1e-6, max_iter=500))
    assert flow[11] < 700.0


def test_webster_retiming_gives_route_a_its_green_back() -> None:
    city = two_route_city(signal_at_2=True)
    fixed, fixed_kpis = _flows(city, [])
    # 22 s of 90 on route A's approach: capacity 1,800 × 22/90 = 440 veh/h, so B takes most
    assert fixed[10] < fixed[20]
    traffic = PeakTraffic(city, [SignalRetiming(type="signal_retiming", year=2025)], PARAMS)
    result = traffic.step(2025, DEMAND)
    green_a = traffic.plans.greens[1][1] / traffic.plans.cycle.loc[1]
    assert green_a > 22 / 90  # the cross phase now gets most of the cycle
    assert traffic.plans.greens[1][0] < 60.0
    retimed = result.links["flow"]
    assert retimed[10] > fixed[10] + 50
    assert result.kpis["vht"] < fixed_kpis["vht"]
    assert result.kpis["delay_vh"] < fixed_kpis["delay_vh"]


def test_retiming_waits_for_its_year() -> None:
    city = two_route_city(signal_at_2=True)
    traffic = PeakTraffic(city, [SignalRetiming(type="signal_retiming", year=2026)], PARAMS)
    before = traffic.step(2025, DEMAND).links["flow"]
    np.testing.assert_array_equal(traffic.plans.greens[1], [60.0, 22.0])
    after = traffic.step(2026, DEMAND).links["flow"]
    assert traffic.plans.greens[1][1] > 22.0
    assert after[10] > before[10] + 50  # the new timing reaches the year's network


def test_fixed_cycle_retiming_keeps_the_split() -> None:
    city = two_route_city(signal_at_2=True)
    pol = [SignalRetiming(type="signal_retiming", method="fixed", cycle_s=60, year=2025)]
    traffic = PeakTraffic(city, pol, PARAMS)
    traffic.step(2025, DEMAND)
    assert traffic.plans.cycle.loc[1] == pytest.approx(60.0)
    np.testing.assert_allclose(traffic.plans.greens[1], [52 * 60 / 82, 52 * 22 / 82])


def test_a_new_link_into_a_signal_gets_its_green_share() -> None:
    rebuilt = [
        RoadClosure(type="road_closure", links=[10], year=2025),
        NewLink(type="new_link", from_node=1, to_node=2, lanes=1, capacity_per_lane=1000,
                both_directions=False, year=2025),
    ]  # fmt: skip
    old = PeakTraffic(two_route_city(signal_at_2=True), [], PARAMS).step(2025, DEMAND).links
    new = PeakTraffic(two_route_city(signal_at_2=True), rebuilt, PARAMS).step(2025, DEMAND).links
    # link 10 and its replacement 42 both approach node 2 from the west: cross phase, 22 s of
    # 90 at 1,800 veh/h of green
    assert old.loc[10, "capacity"] == pytest.approx(1800.0 * 22 / 90)
    assert new.loc[42, "capacity"] == pytest.approx(old.loc[10, "capacity"])
    np.testing.assert_allclose(new.loc[42, "flow"], old.loc[10, "flow"], rtol=1e-3)


def test_link_kpis_by_hand() -> None:
    frame = pd.DataFrame(
        {"flow": [100.0, 50.0], "time_min": [3.0, 2.0], "vc": [0.95, 0.5]}, index=[1, 2]
    )
    k = link_kpis(frame, length_km=np.array([2.0, 1.0]), free_min=np.array([2.0, 2.0]), trips=75)
    assert k["vkt"] == 250.0
    assert k["vht"] == pytest.approx(400 / 60)
    assert k["delay_vh"] == pytest.approx(100 / 60)
    assert k["mean_trip_min"] == pytest.approx(400 / 75)
    assert k["congested_links"] == 1.0
    assert k["travel_time_index"] == pytest.approx(400 / 300)


# ------------------------------------------------------------------ the dynamic model

# nobody informed: these tests look at route swapping, signals and parking on their own
DYNAMIC = DynamicParams(due_gap=1e-6, due_iterations=4, dt_s=1.0, informed_share=0.0)


def _period(
    city,
    policies,
    year: int = 2025,
    params: AssignmentParams = PARAMS,
    n: int = 500,
    dynamic: DynamicParams = DYNAMIC,
):
    """The dynamic model's busiest hour: ``n`` vehicles from zone 1 to zone 2 in 20 minutes.

    From 06:00, the loading's clock's :data:`~sim.traffic.due.WARMUP_S`.
    """
    traffic = PeakTraffic(city, policies, params, dynamic)
    traffic.step(year, DEMAND)  # the static warm start
    depart = due.WARMUP_S + np.linspace(0, 1200, n)
    trips = due.Trips(np.zeros(n, np.int64), np.ones(n, np.int64), depart)
    return traffic.load_period(year, trips, peak_bin=0, seed=1)


def test_warm_up_vehicles_load_before_the_period_and_stay_out_of_its_outputs() -> None:
    # 200 vehicles in 05:00-05:20 (the warm-up), 500 in 06:00-06:20 (the busiest hour's)
    traffic = PeakTraffic(two_route_city(), [], PARAMS, DYNAMIC)
    traffic.step(2025, DEMAND)
    depart = np.concatenate([np.linspace(0, 1200, 200), due.WARMUP_S + np.linspace(0, 1200, 500)])
    trips = due.Trips(np.zeros(700, np.int64), np.ones(700, np.int64), depart)
    out = traffic.load_period(2025, trips, peak_bin=0, seed=1)
    assert out.load is not None and out.outputs is not None
    assert np.isfinite(out.load.arrive).all()  # the warm-up's vehicles were loaded
    assert out.kpis["car_trips_peak"] == 500.0  # only the AM period's in the busiest hour
    flow = out.links["flow"]
    assert flow[10] + flow[20] == 500.0 and flow[11] + flow[21] == 500.0
    # links_t: 06:00 is bin_start_s 0; the warm-up's bins (every vehicle arrived in
    # under 10 minutes) are left out, so its inflow is the AM period's two links a vehicle
    t = out.outputs.links_t
    assert t["bin_start_s"].min() >= 0 and t["inflow"].sum() == 2 * 500


def test_traffic_model_picks_the_peak_model(root) -> None:
    scenario = load_scenario(root / "scenarios" / "default.yaml")
    p = scenario.parameters
    assert p.traffic_model == "static"  # the documented default (see Parameters.traffic_model)
    plain = p.assignment.model_copy(update={"access_connectors": 0})  # the hand-made city

    def model(**update):
        params = p.model_copy(update={"assignment": plain, **update})
        return _peak_traffic(two_route_city(), scenario.model_copy(update={"parameters": params}))

    assert model().dynamic is None
    assert model(traffic_model="dynamic").dynamic == p.dynamic


def test_dynamic_closure_moves_the_vehicles_to_the_other_route() -> None:
    open_ = _period(two_route_city(), [])
    assert open_.load is not None and open_.dyn is not None
    assert open_.kpis["car_trips_peak"] == 500.0
    flow = open_.links["flow"]
    assert flow[10] + flow[20] == 500.0
    assert flow[11] == flow[10]  # below capacity: any split of equal routes is an equilibrium
    closed = _period(two_route_city(), [RoadClosure(type="road_closure", links=[11], year=2025)])
    flow = closed.links["flow"]
    assert 11 not in flow.index
    assert flow[20] == 500.0 and flow[21] == 500.0 and flow[10] == 0.0
    # every vehicle arrived; VKT is the vehicles times route B's length
    assert np.isfinite(closed.load.arrive).all()
    assert closed.kpis["vkt"] == pytest.approx(500 * 2 * np.hypot(1, 0.5), rel=1e-6)


def test_dynamic_charge_moves_vehicles_off_the_tolled_link() -> None:
    pol = [CongestionCharge(type="congestion_charge", toll=2.0, links=[11], year=2025)]
    params = PARAMS.model_copy(update={"toll_factor": 1.0})  # 1 minute per unit of toll
    plain = _period(two_route_city(), [], params=params).links["flow"]
    charged = _period(two_route_city(), pol, params=params).links["flow"]
    # 2 minutes of toll on a route of 161 s free flow at this light load: paying never pays,
    # and each swap round moves a share 1 / (k + 1) of those who would gain (1/2, 1/3, 1/4)
    assert plain[11] + plain[21] == 500.0
    assert charged[11] <= 500 * (1 / 2) * (2 / 3) * (3 / 4) + 10
    assert charged[21] == 500.0 - charged[11]


def test_dynamic_retiming_gives_route_a_its_green_back() -> None:
    city = two_route_city(signal_at_2=True)
    # 3,000 veh/h: more than route B's 1,800 veh/h, so route A and its signal are used
    fixed = _period(city, [], n=1000)
    retimed = _period(city, [SignalRetiming(type="signal_retiming", year=2025)], n=1000)
    # 22 s of 90 s green on route A's approach (440 veh/h) until Webster's retiming (on the
    # static flows) gives its approach the larger share of the cycle
    assert 0 < fixed.links["flow"][10] < fixed.links["flow"][20]
    assert retimed.links["flow"][10] > fixed.links["flow"][10] + 50
    assert retimed.kpis["vht"] < fixed.kpis["vht"]
    assert 0.0 <= retimed.kpis["due_gap"] < fixed.kpis["due_gap"] + 1.0


def test_the_dynamic_model_computes_every_dynamic_only_kpi() -> None:
    # a signal and a car park, so that signal delay and parking search have something to be
    out = _period(two_route_city(signal_at_2=True, lots=[(2, 0.99)]), [], n=1000)
    missing = [k for k in DYNAMIC_ONLY_KPIS if not np.isfinite(out.kpis.get(k, np.nan))]
    assert missing == []


def test_a_gridlock_that_stays_ends_the_year_with_its_links(monkeypatch) -> None:
    def locked(self, vehicles, horizon_s=None, **kwargs):
        raise GridlockError("gridlock at t = 900 s: ...", ["10", "11"], ["10", "11"])

    monkeypatch.setattr(TrafficControl, "run", locked)
    with pytest.raises(
        GridlockError, match=r"^2025: the dynamic peak model stopped: gridlock at t = 900 s"
    ):
        _period(two_route_city(), [])
    with pytest.raises(GridlockError) as err:
        _period(two_route_city(), [])
    assert err.value.links == ["10", "11"] and "traffic_model: static" in str(err.value)


def test_trips_within_a_zone_add_their_own_km_and_hours() -> None:
    city = two_route_city()
    traffic = PeakTraffic(city, [], PARAMS)
    base = traffic.step(2025, DEMAND)
    # 30 local trips on the empty link 30 (1 km at 50 km/h): +30 veh-km, +0.6 veh-h
    length_km = float(city.links.at[30, "length_m"]) / 1000.0
    out = traffic.with_local_trips(2025, base, pd.Series({30: 30.0}))
    assert out.links.at[30, "flow"] == pytest.approx(30.0)
    assert out.kpis["vkt"] - base.kpis["vkt"] == pytest.approx(30.0 * length_km)
    assert out.kpis["vht"] - base.kpis["vht"] == pytest.approx(30.0 * length_km / 50.0)
    assert out.kpis["car_trips_peak"] == base.kpis["car_trips_peak"]  # the demand's count
    assert traffic.with_local_trips(2025, base, pd.Series(dtype=float)) is base


def test_next_years_loading_starts_from_last_years_swapped_routes(monkeypatch) -> None:
    """Year 2's vehicles of an OD pair and departure group take year 1's routes after its
    last swap (what makes one swap round a year add up over the years), not the static
    split again."""
    calls = []
    real = due.inherited_routes

    def spy(trips, before, routes, rng):
        found, veh = real(trips, before, routes, rng)
        calls.append((found, routes))
        return found, veh

    monkeypatch.setattr(due, "inherited_routes", spy)
    traffic = PeakTraffic(two_route_city(), [], PARAMS, DYNAMIC)
    depart = due.WARMUP_S + np.linspace(0, 1200, 500)
    trips = due.Trips(np.zeros(500, np.int64), np.ones(500, np.int64), depart)
    swapped = []
    for year in (2025, 2026):
        traffic.step(year, DEMAND)
        out = traffic.load_period(year, trips, peak_bin=0, seed=1)
        assert np.isfinite(out.load.arrive).all()
        swapped.append(traffic._last_routes[2])
    assert len(calls) == 1  # not in the first year: nothing to inherit
    found, routes = calls[0]
    assert found.all() and routes is swapped[0]


def test_a_year_that_starts_from_last_years_routes_loads_warm_iterations_times() -> None:
    """The first year loads ``due_iterations`` times (the gap target is out of reach),
    the next, which starts from the first year's swapped routes, ``warm_iterations``
    times, and a year after a signal retiming (a new network: nothing to inherit) cold
    again."""
    dynamic = DYNAMIC.model_copy(update={"due_iterations": 3, "warm_iterations": 2})
    retiming = [SignalRetiming(type="signal_retiming", year=2027)]
    traffic = PeakTraffic(two_route_city(signal_at_2=True), retiming, PARAMS, dynamic)
    depart = due.WARMUP_S + np.linspace(0, 1200, 3000)
    trips = due.Trips(np.zeros(3000, np.int64), np.ones(3000, np.int64), depart)
    loadings = []
    for year in (2025, 2026, 2027):
        traffic.step(year, DEMAND)
        out = traffic.load_period(year, trips, peak_bin=0, seed=1)
        loadings.append(out.kpis["due_iterations"])
    assert loadings == [3.0, 2.0, 3.0]


def test_the_road_with_more_flow_gets_the_main_phase_in_both_models() -> None:
    """Two primary roads meet at the signal: the way back (link 31, two lanes, no flow)
    has twice route A's lanes × capacity, which used to make it the main road; route A
    (link 10) carries the demand, so by volume it is the main road: it gets the 60 s main
    green instead of 22 s, carries well over the 440 veh/h the cross green's capacity
    (1,800 × 22 / 90) would let it, and the dynamic twin gives its movements the main
    phase too."""
    from sim.traffic.city_dynamic import city_network
    from sim.traffic.signals import approach_phases

    city = two_route_city(signal_at_2=True, lanes={31: 2})
    city.links.loc[31, "link_type"] = "primary"
    by_capacity = approach_phases(city.links)
    assert by_capacity[31] == 0 and by_capacity[10] == 1  # the old choice
    traffic = PeakTraffic(city, [], PARAMS)
    flow = traffic.step(2025, DEMAND).links["flow"]
    assert traffic.plans.approach_phase[10] == 0 and traffic.plans.approach_phase[31] == 1
    assert flow[10] > 1800 * 22 / 90 + 200
    dyn, _ = city_network(
        city.links, city.nodes, city.signals, traffic.plans, city.zones["centroid_node"]
    )
    index = {name: i for i, name in enumerate(dyn.link_ids)}
    full, _ = dyn.signals[0].masks[index["10"], index["11"]]
    assert full == 1  # phase 0's bit: the main green


def test_traveller_information_reaches_the_dynamic_loading(monkeypatch) -> None:
    # the policy in force sets the share of informed drivers of the year's loading; the
    # baseline (drivers informed without a policy) is its floor
    shares = []

    class Recording(TrafficControl):
        def __init__(self, *args, **kwargs) -> None:
            shares.append(kwargs.get("informed_share", 0.0))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr("sim.traffic.peak.TrafficControl", Recording)
    baseline = DYNAMIC.model_copy(update={"informed_share": 0.1})
    _period(two_route_city(), [], dynamic=baseline)
    info = [
        TravellerInformation(type="traveller_information", share=0.2, year=2024),
        TravellerInformation(type="traveller_information", share=0.6, year=2026),
    ]
    _period(two_route_city(), info, year=2025, dynamic=baseline)
    _period(two_route_city(), info, year=2026, dynamic=baseline)
    _period(
        two_route_city(),
        info,
        year=2025,
        dynamic=DYNAMIC.model_copy(update={"informed_share": 0.4}),
    )
    assert shares == [0.1, 0.2, 0.6, 0.4]
