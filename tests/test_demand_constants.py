"""Each constant of the demand model against a published value typed from its source.

The expectations here are the sources' numbers, not the modules' constants: each test
fails when a constant leaves the published range (the schedule-delay coefficients of Small
(1982) are pinned in tests/test_demand_choice.py, the cost elasticity in test_demand.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_demand import _city, _dist, _persons, _skims, _table

from sim.mobility import demand as dm
from sim.mobility import departure as dep
from sim.mobility import modes as md
from sim.scenario import Parameters

MONEY_PER_MIN = 100.0


def _util(car_min=10.0, km=5.0, dist_km=1.0, age=30, pupil=False, fare=0.0, cost=0.0) -> np.ndarray:
    los = md.LevelOfService(
        car_min=np.array([car_min]),
        car_km=np.array([km]),
        toll=np.zeros(1),
        dist_km=np.array([dist_km]),
        parking=np.zeros(1),
    )
    return md.utilities(
        los,
        np.array([age]),
        np.array([pupil]),
        cost_per_km=cost,
        bus_fare=fare,
        money_per_min=MONEY_PER_MIN,
        asc_car=0.0,
        asc_escort=0.0,
    )[0]


def test_in_vehicle_time_weighs_as_in_koppelman_and_bhat() -> None:
    # Koppelman & Bhat (2006), Bay Area work-trip MNL: total travel time -0.0513 per minute
    per_min = _util(car_min=11.0)[md.CAR] - _util(car_min=10.0)[md.CAR]
    assert per_min == pytest.approx(-0.0513, rel=0.05)


def test_bus_is_slower_than_cars_as_tcqsm_has_it() -> None:
    # TCQSM 3rd ed.: urban buses run at 60-70 % of traffic speed -> 1/0.7..1/0.6 the time
    car = _util(car_min=20.0)[md.CAR] - _util(car_min=10.0)[md.CAR]
    bus = _util(car_min=20.0)[md.BUS] - _util(car_min=10.0)[md.BUS]
    assert 1 / 0.7 <= bus / car <= 1 / 0.6


def test_walking_and_cycling_speeds() -> None:
    # walking: Knoblauch, Pietrucha & Nitzburg (1996) 1.34 m/s = 4.8 km/h (4.5-5 km/h);
    # cycling: Jensen et al. (2010), Copenhagen 15-16 km/h; e-bikes: GB 17761-2018 caps
    # them at 25 km/h, observed means about 20
    walk = _util(dist_km=2.0)[md.WALK] - _util(dist_km=1.0)[md.WALK]
    bike = _util(dist_km=2.0)[md.BICYCLE] - _util(dist_km=1.0)[md.BICYCLE]
    ebike = _util(dist_km=2.0)[md.EBIKE] - _util(dist_km=1.0)[md.EBIKE]
    # utility per km is -(weight per minute) x 60 / speed: the ratios are speed ratios
    assert 15.0 / 5.0 <= walk / bike <= 16.0 / 4.5
    assert 18.0 / 16.0 <= bike / ebike <= 25.0 / 15.0
    assert 4.5 <= md.WALK_KMH <= 5.0 and 15.0 <= md.BICYCLE_KMH <= 16.0
    assert 18.0 <= md.EBIKE_KMH <= 25.0


def test_out_of_vehicle_minutes_weigh_as_wardman_found() -> None:
    # Wardman (2004): walking 1.6-2.0 and waiting 1.5-2.5 times in-vehicle time. One km on
    # foot at 1.34 m/s (Knoblauch et al.) is 12.4 minutes.
    per_min = _util(car_min=11.0)[md.CAR] - _util(car_min=10.0)[md.CAR]
    walk_km = _util(dist_km=2.0)[md.WALK] - _util(dist_km=1.0)[md.WALK]
    weight = walk_km / (per_min * 1000.0 / 1.34 / 60.0)
    assert 1.6 <= weight <= 2.5


def test_bus_access_and_wait() -> None:
    # 400 m to the stop at each end (the TCQSM's usual walking catchment) at 4.8 km/h, half
    # of a 10-minute headway waited (random arrivals: Osuna & Newell 1972), both weighted
    # 2.0 (Wardman 2004): 2 x (2 x 0.4 / 4.8 x 60 + 10 / 2) = 30 generalised minutes
    los = md.LevelOfService(*(np.zeros(1) for _ in range(5)))
    assert los.bus_min()[0] == pytest.approx(2.0 * (2 * 0.4 / 4.8 * 60 + 10 / 2), rel=0.01)


def test_car_terminal_time() -> None:
    # terminal times (walk to and from the car) of 1-5 minutes by area type are usual in
    # regional models (e.g. NCHRP Report 716, 2012); a car trip of 0 minutes still costs
    # them, weighted as out-of-vehicle time (2-2.5)
    zero = _util(car_min=0.0)[md.CAR]
    per_min = _util(car_min=1.0)[md.CAR] - zero
    assert 1.0 * 2 <= zero / per_min <= 5.0 * 2.5


def test_who_may_drive_cycle_and_ride_alone() -> None:
    # car licences from 18 (Chile: Ley 18.290 de Tránsito; China: the same age); e-bikes from
    # 16 (PRC Road Traffic Safety Law Implementing Regulations, art. 72)
    assert not np.isfinite(_util(age=17)[md.CAR]) and np.isfinite(_util(age=18)[md.CAR])
    assert not np.isfinite(_util(age=15, pupil=True)[md.EBIKE])
    assert np.isfinite(_util(age=16, pupil=True)[md.EBIKE])
    # pupils under 10 neither cycle nor take the bus alone (an assumption the module states)
    assert not np.isfinite(_util(age=9, pupil=True)[md.BUS])
    assert np.isfinite(_util(age=10, pupil=True)[md.BUS])


def test_pupils_pay_a_third_of_the_fare() -> None:
    # Chile's student pass (TNE): pupils pay about a third of the adult fare
    # (Santiago: roughly CLP 250-270 against 800)
    adult = _util(fare=800.0)[md.BUS] - _util(fare=0.0)[md.BUS]
    pupil = _util(age=14, pupil=True, fare=800.0)[md.BUS] - _util(age=14, pupil=True)[md.BUS]
    assert 0.30 <= pupil / adult <= 0.36


@pytest.fixture(scope="module")
def chosen():
    demand = dm.TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand)
    return demand, table, demand.choose(table, _skims(congestion=1.2))


def test_other_trips_per_adult_out_of_work(chosen) -> None:
    # SECTRA, EOD Santiago 2012: adults outside work make ~1.9 trips a day, about a fifth
    # of them before 10:00: 0.3-0.4 AM trips each
    _, table, _ = chosen
    adults = (_persons(12_000, 1).age >= md.DRIVING_AGE).sum()
    non_working = adults - (table.purpose == dm.WORK).sum()  # one commute per worker
    assert 0.3 <= (table.purpose == dm.OTHER).sum() / non_working <= 0.4


def test_freight_share_and_pce(chosen) -> None:
    # OECD (2003) Delivering the Goods: goods vehicles are 10-15 % of urban road traffic;
    # HCM 2010 Exhibit 11-10: a truck counts 1.5 passenger cars on level terrain
    demand, table, c = chosen
    cars = ((c.mode == md.CAR) & (table.origin != c.dest)).sum()
    trucks = demand.freight.sum() / 1.5
    assert 0.0999 <= trucks / (trucks + cars) <= 0.15
    assert pytest.approx(1.5) == dm.FREIGHT_PCE


def test_busiest_hour_holds_a_peak_hour_share_of_the_am_cars(chosen) -> None:
    # the busiest hour carries 30-45 % of a 4-hour AM period's cars (the peak-hour factor
    # of 0.35 the model used before departure choice, and the work start distribution's
    # stated target of 35-40 %)
    _, _, c = chosen
    assert 0.30 <= c.kpis["car_trips_peak"] / c.kpis["car_trips"] <= 0.45


def test_delay_follows_the_bpr_power() -> None:
    # BPR (1964) curve: delay grows with (v/c)^4, so a bin 10 % busier than the busiest
    # hour's mean rate has 1.1^4 = 1.46 times its delay
    departures = np.full(dep.N_BINS, 100.0)
    departures[20:23] = 110.0
    departures[:5] = 0.0
    ratio = dep.delay_ratio(departures)[12:]  # the AM bins, after the 12 of the warm-up
    assert ratio[40] == pytest.approx((100.0 / departures[12:24].mean()) ** 4, rel=1e-6)
    assert ratio[21] == pytest.approx((110.0 / departures[12:24].mean()) ** 4, rel=1e-6)


def test_destination_logsum_coefficient_is_consistent_with_utility_maximisation() -> None:
    # McFadden (1978): a nested logit is consistent with random utility maximisation when
    # the logsum coefficient lies in (0, 1]
    assert 0.0 < dm.DEST_LOGSUM_COEF <= 1.0


def test_pupils_aim_to_arrive_a_few_minutes_before_the_bell() -> None:
    # an assumption the module states (pupils at the gate shortly before the bell, within
    # the 10 minutes schools open their gates before it): 0 < margin <= 10 minutes
    demand = dm.TravelDemand(_city(), Parameters(), _dist())
    table = _table(demand, starts=(480.0, 500.0, 520.0))
    school = table.purpose == dm.SCHOOL
    start = np.array([480.0, 500.0, 520.0])[table.school[school]]
    early = start - table.desired[school]
    assert np.all((early > 0) & (early <= 10))
