"""Mode choice: a multinomial logit over car driver, car passenger, bus, walk, bicycle, e-bike.

The level of service of each mode comes from the network skims (:mod:`sim.mobility.skims`)
and from a simple bus service along the roads; money is turned into minutes with the
value of time the route choice uses (``1 / assignment.toll_factor`` money per minute), so
a toll weighs the same in the choice of route and of mode.

Sources of the constants:

- Time coefficient −0.05 per minute of in-vehicle time: Koppelman & Bhat (2006), *A
  Self Instructing Course in Mode Choice Modeling*, San Francisco Bay Area work-trip MNL
  (total travel time −0.0513 per minute).
- Out-of-vehicle time (walk to a stop, waiting, walking and cycling as the mode) weighs
  twice in-vehicle time: Wardman (2004), *Public transport values of time*, Transport
  Policy 11(4) (walk 1.6–2.0, wait 1.5–2.5 times in-vehicle time).
- Walking 4.8 km/h: Knoblauch, Pietrucha & Nitzburg (1996), TRR 1538 (1.34 m/s).
  Cycling 15 km/h: mean urban cycling speed (Jensen et al. 2010, Copenhagen 15–16 km/h).
  E-bike 20 km/h: GB 17761-2018 caps Chinese e-bikes at 25 km/h; observed means ~20 km/h.
- Bus: in-vehicle time 1.5 × the car's (stops and dwell; TCQSM 3rd ed. puts urban bus
  speeds at 60–70 % of traffic speed), 400 m walk at each end, a 10-minute headway
  waited half on average; or, with ``parameters.gtfs``, the timetable's journeys
  (:mod:`sim.mobility.gtfs`, :attr:`LevelOfService.bus`).
- Driving licence from 18 (Chile: Ley 18.290; China: 18); pupils under 10 neither cycle nor
  ride the bus alone.

The alternative-specific constants of bus, cycling, e-bike and adult car passenger are
assumptions (set so the default city's shares are plausible, bus 20–30 %, cycling a few %);
the car-driver and escort constants are calibrated to ``parameters.car_share`` and
``parameters.escort_share`` once per run (:func:`calibrate_constant`), and
``parameters.mode_constants`` then shifts each mode family's utilities (:data:`FAMILIES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The modes, in the column order of every utility matrix.
MODES: tuple[str, ...] = ("car_driver", "car_passenger", "bus", "walk", "bicycle", "ebike")
CAR, PASSENGER, BUS, WALK, BICYCLE, EBIKE = range(6)
#: Utility per minute of in-vehicle time (Koppelman & Bhat 2006).
TIME_COEF = -0.05
#: Weight of out-of-vehicle minutes (walk, wait, walking and cycling) over in-vehicle ones.
OVT_WEIGHT = 2.0
WALK_KMH, BICYCLE_KMH, EBIKE_KMH = 4.8, 15.0, 20.0
#: Bus in-vehicle time over the car's on the same roads.
BUS_TIME_FACTOR = 1.5
#: Minutes walked to and from the stops (400 m each end at 4.8 km/h).
BUS_ACCESS_MIN = 10.0
BUS_HEADWAY_MIN = 10.0
#: Minutes to walk to the car and from the parking place.
CAR_ACCESS_MIN = 3.0
DRIVING_AGE = 18
#: Youngest pupils who cycle or take the bus without an adult; e-bikes from 16.
INDEPENDENT_AGE, EBIKE_AGE = 10, 16
#: Share of the bus fare pupils pay.
PUPIL_FARE_SHARE = 1.0 / 3.0
#: Constants of the non-calibrated modes (walk = 0), adults and pupils.
ASC_ADULT = {PASSENGER: -2.2, BUS: -0.6, BICYCLE: -2.6, EBIKE: -3.0}
ASC_PUPIL = {BUS: -1.2, BICYCLE: -2.0, EBIKE: -2.5}
#: The modes of each mode family (``parameters.mode_constants``, ``mode_share_*`` KPIs).
FAMILIES: dict[str, tuple[int, ...]] = {
    "car": (CAR, PASSENGER),
    "pt": (BUS,),
    "walk": (WALK,),
    "bike": (BICYCLE, EBIKE),
}
#: Calibration bounds of a constant and the bisection steps.
ASC_BOUNDS, ASC_STEPS = (-15.0, 15.0), 50


@dataclass
class LevelOfService:
    """Per-trip level of service of every mode (minutes and money), for ``n`` trips.

    Attributes
    ----------
    car_min, car_km, toll
        Car door-to-door minutes (congested), road km and tolls on the chosen route.
    dist_km
        Walking/cycling distance (zone distance, network-equivalent).
    parking
        Parking charge at the destination.
    bus
        Generalised bus minutes from a GTFS timetable (:mod:`sim.mobility.gtfs`,
        ``inf`` = no bus); None = the simple bus along the roads.
    """

    car_min: np.ndarray
    car_km: np.ndarray
    toll: np.ndarray
    dist_km: np.ndarray
    parking: np.ndarray
    bus: np.ndarray | None = None

    def bus_min(self) -> np.ndarray:
        """Generalised bus minutes: in-vehicle plus weighted walk and wait."""
        if self.bus is not None:
            return self.bus
        ovt = BUS_ACCESS_MIN + BUS_HEADWAY_MIN / 2.0
        return self.car_min * BUS_TIME_FACTOR + OVT_WEIGHT * ovt


def utilities(
    los: LevelOfService,
    age: np.ndarray,
    pupil: np.ndarray,
    *,
    cost_per_km: float,
    bus_fare: float,
    money_per_min: float,
    asc_car: float,
    asc_escort: float,
    shift: dict[str, float] | None = None,
) -> np.ndarray:
    """The ``(n, 6)`` mode utilities of ``n`` trips (``-inf`` = not available).

    Parameters
    ----------
    los
        Level of service of the trips.
    age, pupil
        Traveller age and whether the trip is to school.
    cost_per_km, bus_fare
        Car operating cost per km and the adult bus fare.
    money_per_min
        Value of time (money per minute) turning costs into minutes.
    asc_car, asc_escort
        Constants of car driver (adults) and of being driven (pupils).
    shift
        Utility added to every mode of a family (:data:`FAMILIES`), e.g. ``{"pt": 0.3}``.
    """
    n = len(age)
    util = np.full((n, len(MODES)), -np.inf)
    car_cost = cost_per_km * los.car_km + los.toll + los.parking
    car_time = los.car_min + OVT_WEIGHT * CAR_ACCESS_MIN
    money = TIME_COEF / money_per_min
    adult = ~pupil
    drive = adult & (age >= DRIVING_AGE)
    util[drive, CAR] = asc_car + TIME_COEF * car_time[drive] + money * car_cost[drive]
    passenger = np.where(pupil, asc_escort, ASC_ADULT[PASSENGER])
    # a passenger shares the running cost and the toll (a driven pupil's parent pays the
    # other half); nobody parks
    shared = 0.5 * (cost_per_km * los.car_km + los.toll)
    util[:, PASSENGER] = passenger + TIME_COEF * car_time + money * shared
    fare = np.where(pupil, bus_fare * PUPIL_FARE_SHARE, bus_fare)
    alone = adult | (age >= INDEPENDENT_AGE)
    asc_bus = np.where(pupil, ASC_PUPIL[BUS], ASC_ADULT[BUS])
    util[alone, BUS] = (asc_bus + TIME_COEF * los.bus_min() + money * fare)[alone]
    walk_min = los.dist_km / WALK_KMH * 60.0
    util[:, WALK] = TIME_COEF * OVT_WEIGHT * walk_min
    for mode, kmh, youngest in (
        (BICYCLE, BICYCLE_KMH, INDEPENDENT_AGE),
        (EBIKE, EBIKE_KMH, EBIKE_AGE),
    ):
        ok = age >= youngest
        asc = np.where(pupil, ASC_PUPIL[mode], ASC_ADULT[mode])
        minutes = los.dist_km / kmh * 60.0
        util[ok, mode] = (asc + TIME_COEF * OVT_WEIGHT * minutes)[ok]
    for family, value in (shift or {}).items():
        if value:  # -inf (unavailable) stays -inf
            util[:, list(FAMILIES[family])] += value
    return util


def probabilities(util: np.ndarray) -> np.ndarray:
    """Logit choice probabilities of each row (unavailable alternatives get 0)."""
    top = util.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(util - top)
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)


def calibrate_constant(util: np.ndarray, mode: int, target: float, weight: np.ndarray) -> float:
    """The constant to add to ``mode`` so that its weighted mean probability is ``target``.

    ``util`` holds the utilities without that constant (``-inf`` where unavailable). The
    share is ``mean(w * sigmoid(u_mode + c - logsumexp(others)))``, monotone in ``c``:
    bisection within :data:`ASC_BOUNDS`; a target the bounds cannot reach is clipped.
    """
    rows = weight > 0
    u = util[rows]
    w = weight[rows]
    others = np.delete(u, mode, axis=1)
    top = others.max(axis=1)
    with np.errstate(invalid="ignore"):
        rest = top + np.log(np.exp(others - top[:, None]).sum(axis=1))
    margin = u[:, mode] - rest  # -inf: mode unavailable; +inf: the only alternative
    target = float(np.clip(target, 1e-4, 1.0 - 1e-4))
    total = max(float(w.sum()), 1e-12)
    lo, hi = ASC_BOUNDS
    for _ in range(ASC_STEPS):
        mid = 0.5 * (lo + hi)
        with np.errstate(over="ignore"):
            share = float((w / (1.0 + np.exp(-(margin + mid)))).sum()) / total
        if share < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
