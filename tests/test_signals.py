"""Signal plans: phases by direction, Webster retiming and the capacity/delay they imply.

Every expected number below is worked out by hand from Webster (1958): cycle
``C0 = (1.5 L + 5) / (1 - Y)``, effective green split in proportion to the phases' critical
flow ratios ``y``, approach capacity ``s × g/C`` and uniform delay ``C (1 - g/C)² / 2``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from sim.traffic.signals import (
    LOST_TIME_PER_PHASE,
    MAX_CYCLE,
    MIN_CYCLE,
    MIN_GREEN,
    SATURATION_PER_LANE,
    SignalPlans,
    apply_signal_timing,
    approach_phases,
)

CRS = "EPSG:32719"
# A crossroads: signal 1 at the centre node 0; arms 500 m long to the four compass points.
XY = {0: (0, 0), 1: (0, 500), 2: (0, -500), 3: (500, 0), 4: (-500, 0)}
# link_id: (from, to, lanes); links 10-13 approach the centre, 20 leaves it (no signal).
LINKS = {10: (1, 0, 2), 11: (2, 0, 1), 12: (3, 0, 1), 13: (4, 0, 1), 20: (0, 1, 2)}


@pytest.fixture()
def crossroads() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    links = gpd.GeoDataFrame(
        {
            "a_node": [a for a, _, _ in LINKS.values()],
            "b_node": [b for _, b, _ in LINKS.values()],
            "lanes": [n for _, _, n in LINKS.values()],
            "length_m": 500.0,
            "free_speed_kmh": 36.0,  # 10 m/s: 50 s to drive an arm
            "capacity_vph": [SATURATION_PER_LANE * n for _, _, n in LINKS.values()],
            "signal_id": [1 if b == 0 else -1 for _, b, _ in LINKS.values()],
        },
        geometry=[LineString([XY[a], XY[b]]) for a, b, _ in LINKS.values()],
        index=pd.Index(list(LINKS), name="link_id"),
        crs=CRS,
    )
    signals = pd.DataFrame(
        {"node_id": [0], "cycle_s": [90.0], "n_phases": [2], "green_s": ["50,32"]},
        index=pd.Index([1], name="signal_id"),
    )
    return links, signals


def test_approaches_are_phased_by_direction(crossroads) -> None:
    links, _ = crossroads
    phases = approach_phases(links)
    assert phases.to_dict() == {10: 0.0, 11: 0.0, 12: 1.0, 13: 1.0}  # N-S 0, E-W 1; 20 not


def test_plans_read_from_the_city_tables(crossroads) -> None:
    links, signals = crossroads
    plans = SignalPlans.from_city(signals, links)
    assert plans.cycle.loc[1] == 90.0
    np.testing.assert_array_equal(plans.greens[1], [50.0, 32.0])
    ratio = plans.green_ratio(links)
    np.testing.assert_allclose(ratio.to_numpy(), [50 / 90, 50 / 90, 32 / 90, 32 / 90, 1.0])


def test_timing_scales_capacity_and_adds_uniform_delay(crossroads) -> None:
    links, signals = crossroads
    out = apply_signal_timing(links, SignalPlans.from_city(signals, links))
    # link 10: 2 lanes (3,600 veh/h) × 50/90 = 2,000 veh/h
    assert out.loc[10, "capacity_vph"] == pytest.approx(2000.0)
    assert out.loc[12, "capacity_vph"] == pytest.approx(1800.0 * 32 / 90)
    # uniform delay 90 (1 - 50/90)² / 2 = 8.889 s on top of 50 s -> 500 m in 58.889 s
    assert out.loc[10, "free_speed_kmh"] == pytest.approx(
        500 / (50 + 90 * (40 / 90) ** 2 / 2) * 3.6
    )
    # link 12: 90 (1 - 32/90)² / 2 = 18.689 s
    assert out.loc[12, "free_speed_kmh"] == pytest.approx(500 / 68.6888889 * 3.6)
    # the exit link has no signal: untouched
    assert out.loc[20, "capacity_vph"] == links.loc[20, "capacity_vph"]
    assert out.loc[20, "free_speed_kmh"] == 36.0
    # the input is not modified
    assert links.loc[10, "capacity_vph"] == 3600.0


def test_webster_cycle_and_greens_by_hand(crossroads) -> None:
    links, signals = crossroads
    plans = SignalPlans.from_city(signals, links)
    # y: link 10 900/3600 = 0.25, link 11 1080/1800 = 0.6 -> phase 0 critical y = 0.6;
    # link 12 360/1800 = 0.2, link 13 180/1800 = 0.1 -> phase 1 y = 0.2.  Y = 0.8.
    flows = pd.Series({10: 900.0, 11: 1080.0, 12: 360.0, 13: 180.0, 20: 5000.0})
    new = plans.retime_webster(links, flows)
    lost = 2 * LOST_TIME_PER_PHASE  # 8 s
    c0 = (1.5 * lost + 5) / (1 - 0.8)  # 85 s
    assert c0 == pytest.approx(85.0)
    assert new.cycle.loc[1] == pytest.approx(c0)
    np.testing.assert_allclose(new.greens[1], [(c0 - lost) * 0.75, (c0 - lost) * 0.25])
    # the old plan is left as it was
    assert plans.cycle.loc[1] == 90.0
    np.testing.assert_array_equal(plans.greens[1], [50.0, 32.0])
    # and the new plan changes the approaches' capacity: phase 0 gets 57.75/85 of the cycle
    out = apply_signal_timing(links, new)
    assert out.loc[11, "capacity_vph"] == pytest.approx(1800 * 57.75 / 85)


def test_webster_cycle_is_clipped_and_greens_have_a_minimum(crossroads) -> None:
    links, signals = crossroads
    plans = SignalPlans.from_city(signals, links)
    # saturated: Y = 1.2 > 0.9 -> (1.5·8 + 5) / 0.1 = 170 s, capped at the maximum
    heavy = plans.retime_webster(links, pd.Series({11: 1800.0, 12: 360.0}))
    assert heavy.cycle.loc[1] == pytest.approx(MAX_CYCLE)
    # almost empty: Y = 0.04 -> 17.7 s, raised to the minimum cycle; greens split evenly
    light = plans.retime_webster(links, pd.Series(dtype=float))
    assert light.cycle.loc[1] == pytest.approx(MIN_CYCLE)
    np.testing.assert_allclose(light.greens[1], [(MIN_CYCLE - 8) / 2] * 2)
    # a phase with a tiny share still gets the minimum green
    lopsided = plans.retime_webster(links, pd.Series({11: 1500.0}))
    assert lopsided.greens[1][1] == pytest.approx(MIN_GREEN)
    assert lopsided.cycle.loc[1] == pytest.approx(lopsided.greens[1].sum() + 8)


def test_webster_only_retimes_the_signals_named(crossroads) -> None:
    links, signals = crossroads
    two = pd.concat([signals, signals.rename(index={1: 2}).assign(node_id=99, green_s="40,42")])
    plans = SignalPlans.from_city(two, links)
    new = plans.retime_webster(links, pd.Series({11: 1080.0, 12: 360.0}), signal_ids=[1])
    assert new.cycle.loc[1] == pytest.approx(85.0)
    assert new.cycle.loc[2] == 90.0
    np.testing.assert_array_equal(new.greens[2], [40.0, 42.0])


def test_fixed_retiming_keeps_the_split(crossroads) -> None:
    links, signals = crossroads
    new = SignalPlans.from_city(signals, links).with_cycle(60.0)
    # 52 s of green in the same 50:32 proportion
    np.testing.assert_allclose(new.greens[1], [52 * 50 / 82, 52 * 32 / 82])
    assert new.cycle.loc[1] == pytest.approx(60.0)


def test_no_signalised_links_means_no_phases() -> None:
    links = gpd.GeoDataFrame({"signal_id": [-1]}, geometry=[LineString([(0, 0), (1, 1)])], crs=CRS)
    assert approach_phases(links).empty
