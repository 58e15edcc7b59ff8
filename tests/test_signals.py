"""Signal plans: phasing from junction geometry, Webster retiming, capacity and delay.

The junctions are built by hand so their correct phasing is known without the module:
the main road (highest class) gets phase 0 whatever compass direction it runs in, the
through road of a T gets the main phase and the stem the cross phase, and a skewed
junction whose arms all point north-ish still has two phases. Every expected number is
worked out by hand from Webster (1958): cycle ``C0 = (1.5 L + 5) / (1 - Y)``, effective
green split in proportion to the phases' critical flow ratios ``y``, approach capacity
``s × lanes × g/C`` and uniform delay ``C (1 - g/C)² / 2``; s = 1,800 veh/h/lane and a
lost time of 4 s per phase (2 s start-up + 3 s amber + 1 s all-red − 2 s of amber used).
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
    SignalPlans,
    apply_signal_timing,
    approach_phases,
    junction_roles,
)

CRS = "EPSG:32719"
S = 1800.0  # saturation flow per lane (HCM-style planning value)
LOST = 4.0  # per phase, from the timings above


def _junction(arms: dict[int, tuple[float, str, int]], exits: bool = True) -> gpd.GeoDataFrame:
    """Links of a junction at the origin: arm id -> (bearing of the arm's far end, class, lanes).

    Link ``10 + k`` drives from arm k's end (500 m out) into the centre; link ``20 + k``
    drives out again (no signal).
    """
    rows, geoms, ids = [], [], []
    cap = {"primary": 1000.0, "secondary": 900.0, "residential": 600.0}
    for k, (deg, cls, lanes) in arms.items():
        far = (500 * np.cos(np.radians(deg)), 500 * np.sin(np.radians(deg)))
        for out in (False, True) if exits else (False,):
            line = [(0.0, 0.0), far] if out else [far, (0.0, 0.0)]
            ids.append((20 if out else 10) + k)
            geoms.append(LineString(line))
            rows.append(
                {
                    "a_node": 0 if out else k,
                    "b_node": k if out else 0,
                    "lanes": lanes,
                    "length_m": 500.0,
                    "free_speed_kmh": 36.0,  # 10 m/s: 50 s to drive an arm
                    "capacity_vph": cap[cls] * lanes,
                    "link_type": cls,
                    "signal_id": -1 if out else 1,
                }
            )
    return gpd.GeoDataFrame(rows, geometry=geoms, index=pd.Index(ids, name="link_id"), crs=CRS)


def _plan(greens: str, cycle: float) -> pd.DataFrame:
    n = len(greens.split(","))
    return pd.DataFrame(
        {"node_id": [0], "cycle_s": [cycle], "n_phases": [n], "green_s": [greens]},
        index=pd.Index([1], name="signal_id"),
    )


# arms: 1 east, 2 west (primary, 2 lanes), 3 north, 4 south (residential, 1 lane)
CROSS_ARMS = {1: (0, "primary", 2), 2: (180, "primary", 2), 3: (90, "residential", 1),
              4: (270, "residential", 1)}  # fmt: skip


@pytest.fixture()
def crossroads() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    return _junction(CROSS_ARMS), _plan("50,32", 90.0)


def test_the_main_road_gets_the_main_phase_whatever_its_direction(crossroads) -> None:
    links, _ = crossroads
    # the primary runs east-west: its approaches 11, 12 are the main road
    assert approach_phases(links).to_dict() == {11: 0.0, 12: 0.0, 13: 1.0, 14: 1.0}
    # turned by 90°: the primary now runs north-south and still gets phase 0
    turned = _junction({k: ((d + 90) % 360, c, n) for k, (d, c, n) in CROSS_ARMS.items()})
    assert approach_phases(turned).to_dict() == {11: 0.0, 12: 0.0, 13: 1.0, 14: 1.0}


def test_a_t_junction_gives_the_through_road_the_main_phase() -> None:
    # a secondary road east-west, a secondary stem from the south: same class, the
    # through road carries two approaches
    links = _junction({1: (0, "secondary", 1), 2: (180, "secondary", 1), 3: (270, "secondary", 1)})
    assert approach_phases(links).to_dict() == {11: 0.0, 12: 0.0, 13: 1.0}


def test_a_skewed_junction_is_phased_by_angle_not_compass_sector() -> None:
    # main road along 60°/240°, cross road along 120°/300°: every arm points more north
    # or south than east or west, yet the two roads cross at 60° and need two phases
    arms = {1: (60, "primary", 2), 2: (240, "primary", 2), 3: (120, "residential", 1),
            4: (300, "residential", 1)}  # fmt: skip
    assert approach_phases(_junction(arms)).to_dict() == {11: 0.0, 12: 0.0, 13: 1.0, 14: 1.0}


def test_a_bent_main_road_still_pairs_and_volume_breaks_ties() -> None:
    # headings into the node: 180 (from the east) and 30 (from the south-west): 150° apart
    roles = junction_roles(
        np.array([180.0, 30.0, 270.0]), np.array([4, 4, 4]), np.array([900.0, 900.0, 900.0])
    )
    np.testing.assert_array_equal(roles, [0, 0, 1])
    # two roads of one class: the busier one is the main road
    roles = junction_roles(
        np.array([0.0, 180.0, 90.0, 270.0]), np.array([4, 4, 4, 4]), np.array([100, 100, 300, 50])
    )
    np.testing.assert_array_equal(roles, [1, 1, 0, 0])


def test_capacity_is_discounted_once_and_delay_is_explicit(crossroads) -> None:
    links, signals = crossroads
    out = apply_signal_timing(links, SignalPlans.from_city(signals, links))
    # primary approach: 2 lanes × 1,800 × 50/90 = 2,000 veh/h, not its 2,000 mid-block × 50/90
    assert out.loc[11, "capacity_vph"] == pytest.approx(2 * S * 50 / 90)
    assert out.loc[13, "capacity_vph"] == pytest.approx(S * 32 / 90)
    # uniform delay 90 (1 - 50/90)² / 2 = 8.889 s on top of 50 s
    assert out.loc[11, "signal_delay_s"] == pytest.approx(90 * (40 / 90) ** 2 / 2)
    assert out.loc[11, "free_speed_kmh"] == pytest.approx(500 / (50 + 8.888889) * 3.6)
    assert out.loc[13, "signal_delay_s"] == pytest.approx(90 * (58 / 90) ** 2 / 2)
    # exits have no signal: untouched, and the input is not modified
    assert out.loc[21, "capacity_vph"] == links.loc[21, "capacity_vph"]
    assert out.loc[21, "signal_delay_s"] == 0.0
    assert links.loc[11, "capacity_vph"] == 2000.0


def test_a_turn_phase_serves_one_lane_of_the_main_road() -> None:
    links = _junction(CROSS_ARMS)
    plans = SignalPlans.from_city(_plan("40,12,26", 90.0), links)  # 78 s green + 3 × 4 s lost
    out = apply_signal_timing(links, plans)
    # main approach: one lane in the main phase (40 s), its turn lane in the turn phase (12 s)
    assert out.loc[11, "capacity_vph"] == pytest.approx(S * (40 + 12) / 90)
    # the cross road gets the last phase, never the 12 s turn phase
    assert out.loc[13, "capacity_vph"] == pytest.approx(S * 26 / 90)
    # a one-lane main road has no room for a turn lane: main phase only
    narrow = _junction({**CROSS_ARMS, 1: (0, "primary", 1), 2: (180, "primary", 1)})
    out = apply_signal_timing(narrow, SignalPlans.from_city(_plan("40,12,26", 90.0), narrow))
    assert out.loc[11, "capacity_vph"] == pytest.approx(S * 40 / 90)


def test_webster_cycle_and_greens_by_hand(crossroads) -> None:
    links, signals = crossroads
    plans = SignalPlans.from_city(signals, links)
    # main phase: link 11 1800/3600 = 0.5, link 12 900/3600 = 0.25 -> y = 0.5;
    # cross phase: link 13 360/1800 = 0.2, link 14 180/1800 = 0.1 -> y = 0.2.  Y = 0.7.
    flows = pd.Series({11: 1800.0, 12: 900.0, 13: 360.0, 14: 180.0, 21: 5000.0})
    new = plans.retime_webster(links, flows)
    lost = 2 * LOST
    c0 = (1.5 * lost + 5) / (1 - 0.7)  # 56.667 s
    assert new.cycle.loc[1] == pytest.approx(c0)
    np.testing.assert_allclose(new.greens[1], [(c0 - lost) * 5 / 7, (c0 - lost) * 2 / 7])
    # the old plan is left as it was
    assert plans.cycle.loc[1] == 90.0
    np.testing.assert_array_equal(plans.greens[1], [50.0, 32.0])


def test_webster_with_a_turn_phase() -> None:
    links = _junction(CROSS_ARMS)
    plans = SignalPlans.from_city(_plan("40,12,26", 90.0), links)
    # 1,440 veh/h on a 2-lane main approach: 720 per lane, y = 0.4 in the main and the
    # turn phase; cross 360 on one lane: y = 0.2.  Y = 1.0 -> capped at 0.9: C = 150 s
    flows = pd.Series({11: 1440.0, 13: 360.0})
    new = plans.retime_webster(links, flows)
    assert new.cycle.loc[1] == pytest.approx(MAX_CYCLE)
    np.testing.assert_allclose(new.greens[1], np.array([0.4, 0.4, 0.2]) * (150 - 3 * LOST))


def test_webster_cycle_is_clipped_and_greens_have_a_minimum(crossroads) -> None:
    links, signals = crossroads
    plans = SignalPlans.from_city(signals, links)
    # almost empty: Y = 0.04 -> 17.7 s, raised to the minimum cycle; greens split evenly
    light = plans.retime_webster(links, pd.Series(dtype=float))
    assert light.cycle.loc[1] == pytest.approx(MIN_CYCLE)
    np.testing.assert_allclose(light.greens[1], [(MIN_CYCLE - 2 * LOST) / 2] * 2)
    # a phase with a tiny share still gets the minimum green
    lopsided = plans.retime_webster(links, pd.Series({11: 3000.0}))
    assert lopsided.greens[1][1] == pytest.approx(MIN_GREEN)
    assert lopsided.cycle.loc[1] == pytest.approx(lopsided.greens[1].sum() + 2 * LOST)
    assert LOST_TIME_PER_PHASE == LOST


def test_webster_only_retimes_the_signals_named(crossroads) -> None:
    links, signals = crossroads
    two = pd.concat([signals, signals.rename(index={1: 2}).assign(node_id=99, green_s="40,42")])
    plans = SignalPlans.from_city(two, links)
    new = plans.retime_webster(links, pd.Series({11: 1800.0, 13: 360.0}), signal_ids=[1])
    assert new.cycle.loc[1] == pytest.approx(56.666667)
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
