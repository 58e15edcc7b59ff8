"""Local routes within a zone (sim.mobility.intrazonal): the street graph of one zone."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mobility import intrazonal as iz


def test_a_zone_route_takes_the_fastest_of_parallel_links() -> None:
    # nodes 10 -> 20 -> 30, with two links 10 -> 20: id 5 (3 min) and id 7 (2 min);
    # 20 -> 30 twice at 4 min (ids 9 and 8: the lower id is kept on the tie)
    a = np.array([10, 10, 20, 20])
    b = np.array([20, 20, 30, 30])
    minutes = np.array([3.0, 2.0, 4.0, 4.0])
    km = np.array([1.0, 1.5, 2.0, 2.5])
    ids = np.array([5, 7, 9, 8])
    out_min, out_km, routes = iz._zone_routes(a, b, minutes, km, ids, np.array([10, 30]))
    # pair (0, 1): 10 -> 30 by link 7 then link 8; no way back (pair (1, 0))
    assert routes[1].tolist() == [7, 8]
    assert out_min[1] == pytest.approx(6.0)
    assert out_km[1] == pytest.approx(1.5 + 2.5)
    assert out_min[2] == np.inf and routes[2].size == 0
    assert out_min[0] == 0.0 and out_min[3] == 0.0  # a point to itself
