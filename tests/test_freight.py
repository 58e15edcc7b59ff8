"""Freight leaves evenly over the AM period and shifts away from a charged window."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_demand import CENTRE, GRID, _city, _dist, _skims, _table

from sim.mobility import departure as dep
from sim.mobility.demand import FREIGHT_PCE, TravelDemand
from sim.mobility.freight import freight_bins
from sim.scenario import Parameters

# Small (1982) model 1 travel-time coefficient, typed from the paper
SMALL_TIME = -0.106


def test_untolled_freight_spreads_evenly_and_is_conserved() -> None:
    freight = np.array([[0.0, 48.0], [96.0, 0.0]])
    bins = freight_bins(freight, np.zeros((2, 2)), np.ones(dep.N_BINS), 100.0)
    np.testing.assert_allclose(bins[0, 1], 1.0)
    np.testing.assert_allclose(bins[1, 0], 2.0)


def test_a_toll_moves_freight_out_of_its_window_by_a_logit_on_the_toll() -> None:
    freight = np.array([[0.0, 480.0], [480.0, 0.0]])
    toll = np.array([[0.0, 3000.0], [0.0, 0.0]])  # only 0 -> 1 is tolled
    charged = dep.charged_bins([("07:00", "09:00")])[dep.WARMUP_BINS :]  # 24 of the 48 AM bins
    bins = freight_bins(freight, toll, charged, money_per_min=100.0)
    assert bins.sum() == pytest.approx(960.0)  # moved in time, none lost
    np.testing.assert_allclose(bins[1, 0], 10.0)  # untolled: even
    inside = bins[0, 1][charged == 1].sum() / 480.0
    # the toll is 30 car-minutes; a truck's time is worth several times a car's, so it
    # weighs 30 / k minutes: between k = 2 and k = 5 the window keeps e^(-0.106*30/k)
    # relative weight
    lo, hi = (math.exp(SMALL_TIME * 30.0 / k) for k in (2.0, 5.0))
    assert lo / (1 + lo) <= inside <= hi / (1 + hi)
    assert inside < 0.5


def test_freight_shifts_and_pays_only_inside_the_charged_window() -> None:
    demand = TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    free = demand.choose(table, _skims())  # fixes freight on the untolled base
    assert demand.freight is not None
    demand.charged = dep.charged_bins([("07:00", "09:00")])
    skims = _skims(toll=2000.0)
    c = demand.choose(table, skims, free.dest)
    into = np.zeros((GRID * GRID, GRID * GRID), bool)
    into[:, CENTRE] = True
    into[CENTRE, CENTRE] = False
    window = demand.am_charged == 1  # extra_bins: the AM period's bins
    before = free.extra_bins[into][:, window].sum()
    after = c.extra_bins[into][:, window].sum()
    assert after < 0.9 * before  # trucks into the cordon leave outside the window
    np.testing.assert_allclose(c.extra_bins.sum(axis=2), free.extra_bins.sum(axis=2))
    # revenue: residents' cars leaving in the window plus the trucks (vehicles, not PCU)
    # crossing into the centre in it
    demand.freight = np.zeros_like(demand.freight)
    residents = demand.choose(table, skims, free.dest).kpis["toll_revenue"]
    trucks = c.extra_bins[into][:, window].sum() / FREIGHT_PCE
    assert c.kpis["toll_revenue"] == pytest.approx(residents + 2000.0 * trucks, rel=1e-9)
