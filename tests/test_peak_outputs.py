"""Dynamic peak KPIs and tables against queueing theory and hand-counted cases.

Expected values come from outside the module: Webster's (1958) uniform delay at an
isolated fixed-time approach with evenly spaced arrivals (the deterministic part of his
formula), the deterministic bottleneck queue (vehicle i waits i (1/μ − 1/λ)), and the
times at which a hand-built chain's queue reaches and leaves each link.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _support import tiny_network as _net
from shapely.geometry import LineString, Point

from sim.traffic.dynamic import (
    DynamicNetwork,
    TrafficControl,
    Vehicles,
    geometry_signal,
    node_headings,
)
from sim.traffic.peak_outputs import (
    LINKS_T_COLUMNS,
    SIGNAL_COLUMNS,
    PeakRecorder,
    approaches,
    peak_kpis,
    peak_outputs,
    school_links,
    spillback_seconds,
)


def _even(n: int, rate_vph: float, route: list[int]) -> Vehicles:
    depart = np.arange(n) * 3600.0 / rate_vph
    return Vehicles.from_routes([str(i) for i in range(n)], depart, [route] * n)


def _crossroads(greens: list[float]) -> DynamicNetwork:
    # main road 0 -> 1 -> 2 (east), cross road 3 -> 1 -> 4 (north); signal at node 1
    xy = np.array([[-500, 0], [0, 0], [500, 0], [0, -500], [0, 500]], dtype=float)
    net = _net(
        [(0, 1, 500, 1, 10, 1800), (1, 2, 500, 1, 10, 3600),
         (3, 1, 500, 1, 10, 1800), (1, 4, 500, 1, 10, 3600)], 5
    )  # fmt: skip
    h_in, h_out = node_headings(net, xy)
    net.signals = [geometry_signal(net, 1, np.array(greens), h_in, h_out, np.array([5, 5, 1, 1]))]
    return net


def test_an_undersaturated_signal_approach_has_webster_uniform_delay_and_no_congestion() -> None:
    net = _crossroads([40.0, 32.0])  # cycle 40 + 32 + 2 x 4 s lost = 80 s
    c, g, s = 80.0, 40.0, 1800.0
    q = 0.5 * s * g / c  # x = 0.5 on the main road
    n = int(q * 2)  # two hours, evenly spaced
    res = TrafficControl(net, dt=1.0).run(_even(n, q, [0, 1]))
    k = peak_kpis(res, net, approaches(net, res))
    lam, x = g / c, 0.5
    webster_uniform = c * (1 - lam) ** 2 / (2 * (1 - lam * x))  # 13.3 s per vehicle
    assert k["delay_vh"] == pytest.approx(n * webster_uniform / 3600, rel=0.1)
    assert k["signal_delay_vh"] == pytest.approx(n * webster_uniform / 3600, rel=0.1)
    assert k["congestion_delay_vh"] < 0.1 * k["delay_vh"]  # the 1-s steps add ~5 %
    assert k["signal_delay_vh"] + k["congestion_delay_vh"] == pytest.approx(k["delay_vh"])
    # true free flow: 2 x 500 m at 10 m/s = 100 s per vehicle
    free_vh = n * 100.0 / 3600
    assert k["vht"] == pytest.approx(free_vh + k["delay_vh"])
    assert k["travel_time_index"] == pytest.approx(k["vht"] / free_vh)
    assert k["vkt"] == pytest.approx(n * 1.0)
    assert k["spillback_link_min"] == 0.0
    # the queue is longest at the end of the 40 s red: q x red = 450 / 3600 x 40 vehicles
    assert k["max_queue_veh"] == pytest.approx(q / 3600 * 40, abs=1)
    # the first hour only: its 450 vehicles, the same delay each
    h = peak_kpis(res, net, approaches(net, res), hour=slice(0, 12))
    assert h["vkt"] == pytest.approx(q * 1.0, rel=0.02)
    assert h["delay_vh"] == pytest.approx(q * webster_uniform / 3600, rel=0.1)
    assert h["signal_delay_vh"] + h["congestion_delay_vh"] == pytest.approx(h["delay_vh"])
    assert h["congestion_delay_vh"] < 0.1 * h["delay_vh"]


def test_a_bottleneck_without_signal_is_all_congestion_delay() -> None:
    # 2,700 veh/h for 30 minutes into a 1,800 veh/h link; the queue outgrows link 0's
    # storage (266 vehicles) and waits at the origin: that wait is delay too
    net = _net([(0, 1, 1000, 2, 10, 3600), (1, 2, 500, 1, 10, 1800), (2, 3, 500, 1, 10, 3600)], 4)
    lam, mu, n = 2700.0, 1800.0, 1350
    res = TrafficControl(net, dt=1.0).run(_even(n, lam, [0, 1, 2]))
    k = peak_kpis(res, net, approaches(net, res))
    queue_vh = n * (n - 1) / 2 * (3600 / mu - 3600 / lam) / 3600  # deterministic queue
    assert k["signal_delay_vh"] == 0.0
    assert k["congestion_delay_vh"] == pytest.approx(queue_vh, rel=0.02)
    assert k["delay_vh"] == pytest.approx(queue_vh, rel=0.02)


def test_spill_back_minutes_of_a_chain_behind_a_bottleneck() -> None:
    # 0: 300 m (storage 40) -> 1: 150 m (storage 20) -> 2: 15 m exit at 360 veh/h
    net = _net([(0, 1, 300, 1, 10, 1800), (1, 2, 150, 1, 10, 1800), (2, 3, 15, 1, 10, 360)], 4)
    lam, mu, n = 0.5, 0.1, 300  # veh/s
    res = TrafficControl(net, dt=1.0).run(_even(n, lam * 3600, [0, 1, 2]))
    full_min = spillback_seconds(res, net).sum(axis=1) / 60.0
    # link 1 fills when the queue (growing at lam - mu from t = 30 s) holds its 20
    # vehicles and stays full until the last vehicle enters it, when all but the 20
    # behind the exit have left at mu (exits from t = 30 + 15 s)
    t_full_1 = 30 + 20 / (lam - mu)
    t_last_1 = 45 + (n - 20) / mu
    bins_min = res.bin_s / 60  # the estimate is a lower bound: partial bins count little
    assert (
        (t_last_1 - t_full_1) / 60 - 2 * bins_min <= full_min[1] <= (t_last_1 - t_full_1) / 60 + 1
    )
    # link 0: full once the queue holds its 40 more, until all but 60 have left
    t_full_0 = 30 + 60 / (lam - mu)
    t_last_0 = 45 + (n - 60) / mu
    assert (
        (t_last_0 - t_full_0) / 60 - 2 * bins_min <= full_min[0] <= (t_last_0 - t_full_0) / 60 + 1
    )
    k = peak_kpis(res, net, approaches(net, res))
    assert k["spillback_link_min"] == pytest.approx(full_min.sum())


def test_a_free_flowing_link_is_never_full() -> None:
    net = _net([(0, 1, 300, 1, 10, 1800), (1, 2, 300, 1, 10, 1800)], 3)
    res = TrafficControl(net, dt=1.0).run(_even(600, 900.0, [0, 1]))
    assert spillback_seconds(res, net).sum() == 0.0


def test_school_zone_links_are_those_within_300_m() -> None:
    links = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 250), (100, 250)]),
                  LineString([(0, 350), (100, 350)])],
        index=pd.Index([7, 8, 9], name="link_id"),
    )  # fmt: skip
    schools = gpd.GeoDataFrame(geometry=[Point(50, 0)])
    np.testing.assert_array_equal(school_links(links, schools), [True, True, False])
    assert not school_links(links, schools.iloc[:0]).any()


def test_peak_outputs_tables_and_school_delay() -> None:
    net = _crossroads([40.0, 32.0])
    n = 900
    veh = Vehicles.from_routes(
        [str(i) for i in range(n)],
        np.arange(n) * 4.0,
        [[0, 1] if i % 3 else [2, 3] for i in range(n)],
    )
    res = TrafficControl(net, dt=1.0).run(veh)
    # link geometries: the main road approach (link id 100) passes the school
    links = gpd.GeoDataFrame(
        geometry=[LineString([(-500, 0), (0, 0)]), LineString([(0, 0), (500, 0)]),
                  LineString([(0, -500), (0, 0)]), LineString([(0, 0), (0, 500)])],
        index=pd.Index([100, 101, 102, 103], name="link_id"),
    )  # fmt: skip
    schools = gpd.GeoDataFrame(geometry=[Point(-400, 100)])
    out = peak_outputs(res, net, links, schools, [42], control="fixed", year=2030)
    # only link 0 is within 300 m of the school: its delay is the school-zone delay
    fft = net.length_m / net.speed_ms
    link0_delay_vh = (res.link_time_s[0] - res.link_outflow[0] * fft[0]) / 3600
    assert out.kpis["school_zone_delay_vh"] == pytest.approx(link0_delay_vh)
    bare = peak_outputs(res, net, links, schools, [42], control="fixed", year=2030, tables=False)
    assert bare.kpis == out.kpis and bare.links_t.empty and bare.signals.empty
    t = out.links_t
    assert tuple(t.columns) == LINKS_T_COLUMNS
    assert set(t["link"]) == {100, 101, 102, 103} and (t["year"] == 2030).all()
    assert t["inflow"].sum() == res.link_inflow.sum()
    assert t["mean_speed_kmh"].dtype == np.float32
    sig = out.signals
    assert tuple(sig.columns) == SIGNAL_COLUMNS
    assert list(sig["phase"]) == [0, 1] and (sig["signal"] == 42).all()
    assert sig["cycle_s"].iloc[0] == pytest.approx(80.0)
    np.testing.assert_allclose(sig["green_s"], [40.0, 32.0], atol=0.5)
    # 600 of 900 vehicles per hour on the main road, capacity 1800 x 40/80
    assert sig["degree_of_saturation"].iloc[0] == pytest.approx(600 / 900, rel=0.05)
    assert sig["degree_of_saturation"].iloc[1] == pytest.approx(300 / (1800 * 32 / 80), rel=0.05)


def test_the_recorder_keeps_every_year_and_is_empty_with_columns() -> None:
    net = _crossroads([40.0, 32.0])
    res = TrafficControl(net, dt=1.0).run(_even(300, 900.0, [0, 1]))
    links = gpd.GeoDataFrame(
        geometry=[LineString([(-500, 0), (0, 0)]), LineString([(0, 0), (500, 0)]),
                  LineString([(0, -500), (0, 0)]), LineString([(0, 0), (0, 500)])],
        index=pd.Index([100, 101, 102, 103], name="link_id"),
    )  # fmt: skip
    schools = gpd.GeoDataFrame(geometry=[Point(-400, 100)])
    empty = PeakRecorder()
    assert list(empty.links_t_frame().columns) == list(LINKS_T_COLUMNS)
    assert list(empty.signals_frame().columns) == list(SIGNAL_COLUMNS)
    rec = PeakRecorder()
    for year in (2025, 2026):
        rec.add(peak_outputs(res, net, links, schools, [42], control="fixed", year=year))
    t = rec.links_t_frame()
    assert sorted(t["year"].unique()) == [2025, 2026]
    assert (t.groupby("year")["inflow"].sum() == 600).all()  # 300 vehicles x 2 links a year
    assert len(rec.signals_frame()) == 4  # 2 years x 2 phases
