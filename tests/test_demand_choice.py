"""Choice kernels (sim.kernels.choice) against pure-Python twins and published coefficients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.kernels import choice
from sim.mobility import departure as dep
from sim.mobility import modes as md

# Small (1982), AER 72(3), model 1, typed from the paper (not the module's constants).
SMALL_TIME, SMALL_EARLY, SMALL_LATE, SMALL_LATE_AT_ALL = -0.106, -0.065, -0.254, -0.58


def logit_twin(util: np.ndarray, uniform: np.ndarray) -> tuple[list[int], list[float]]:
    picks, sums = [], []
    for row, u in zip(util.tolist(), uniform.tolist(), strict=True):
        avail = [(j, v) for j, v in enumerate(row) if v != -math.inf]
        if not avail:
            picks.append(-1)
            sums.append(-math.inf)
            continue
        total = sum(math.exp(v) for _, v in avail)
        sums.append(math.log(total))
        acc, pick = 0.0, avail[-1][0]
        for j, v in avail:
            acc += math.exp(v) / total
            if u < acc:
                pick = j
                break
        picks.append(pick)
    return picks, sums


def departure_twin(desired, free, delay, ratio, toll, charged, start, width, coef):
    out = []
    for i in range(len(desired)):
        utils = []
        for h in range(len(ratio)):
            travel = free[i] + delay[i] * ratio[h]
            arrive = start + (h + 0.5) * width + travel
            early, late = max(0.0, desired[i] - arrive), max(0.0, arrive - desired[i])
            cost = coef[0] * (travel + toll[i] * charged[h])
            utils.append(cost + coef[1] * early + coef[2] * late + (coef[3] if late else 0))
        w = [math.exp(v - max(utils)) for v in utils]
        out.append([x / sum(w) for x in w])
    return out


def draw_twin(prob, uniform):
    picks = []
    for row, u in zip(prob, uniform, strict=True):
        acc, pick = 0.0, len(row) - 1
        for h, x in enumerate(row):
            acc += x
            if u < acc:
                pick = h
                break
        picks.append(pick)
    return picks


def test_logit_kernel_matches_its_twin() -> None:
    rng = np.random.default_rng(0)
    util = rng.normal(0, 2, (300, 6))
    util[rng.random((300, 6)) < 0.3] = -np.inf
    util[5] = -np.inf  # a row with no alternative
    u = rng.random(300)
    pick, logsum = choice.logit_choice(util, u)
    twin_pick, twin_sum = logit_twin(util, u)
    assert pick.tolist() == twin_pick
    np.testing.assert_allclose(logsum, twin_sum)
    assert pick[5] == -1


def test_logit_frequencies_are_the_closed_form_probabilities() -> None:
    # V = (0, ln 2, ln 3): probabilities 1/6, 2/6, 3/6 by hand
    n = 60_000
    util = np.tile([0.0, math.log(2), math.log(3)], (n, 1))
    pick, logsum = choice.logit_choice(util, (np.arange(n) + 0.5) / n)
    np.testing.assert_allclose(np.bincount(pick) / n, [1 / 6, 2 / 6, 3 / 6], atol=1e-4)
    np.testing.assert_allclose(logsum, math.log(6))


def departure_case(n: int = 40) -> tuple[tuple, np.ndarray]:
    """Random departure-choice arguments from 05:00 (Small's coefficients) and draws."""
    rng = np.random.default_rng(1)
    desired = rng.uniform(420, 570, n)
    free, delay = rng.uniform(5, 40, n), rng.uniform(0, 20, n)
    ratio = rng.uniform(0, 2, dep.CHOICE_BINS)
    u = rng.random(n)
    coef = np.array([SMALL_TIME, SMALL_EARLY, SMALL_LATE, SMALL_LATE_AT_ALL])
    toll = rng.uniform(0, 10, n)
    charged = (rng.random(dep.CHOICE_BINS) < 0.5).astype(float)
    return (desired, free, delay, ratio, toll, charged, 300.0, 5.0, coef), u


def test_departure_kernel_matches_its_twin() -> None:
    args, u = departure_case()
    desired, free, delay, ratio, toll, charged = args[:6]
    prob = choice.departure_probabilities(args)
    twin = departure_twin(*args)
    np.testing.assert_allclose(prob, twin, rtol=1e-12)
    bins = dep.choose_bins(desired, free, delay, ratio, u, toll, charged)
    # columns from 05:00; the bins the choice returns count from 06:00 (12 warm-up bins)
    assert (bins + 12).tolist() == draw_twin(twin, u.tolist())


def test_departure_draws_are_the_inverse_cdf_of_the_probabilities() -> None:
    args, u = departure_case(400)
    twin = departure_twin(*args)
    drawn = choice.departure_draws(args, u)
    assert drawn.dtype == np.int16
    assert drawn.tolist() == draw_twin(twin, u.tolist())
    # at a row's cumulative probability (the kernel's own, summed in bin order) the draw
    # moves to the next bin
    first = tuple(a[:1] if isinstance(a, np.ndarray) and len(a) == 400 else a for a in args)
    cdf = np.cumsum(choice.departure_probabilities(first)[0])
    near = cdf[30] / cdf[-1]
    edge = next(
        x for x in (near, np.nextafter(near, 0), np.nextafter(near, 1)) if x * cdf[-1] == cdf[30]
    )
    below = np.nextafter(edge, 0)
    assert below * cdf[-1] < cdf[30]
    assert choice.departure_draws(first, np.array([edge]))[0] == 31
    assert choice.departure_draws(first, np.array([below]))[0] == 30


def test_expected_departures_sum_weighted_probabilities_per_group() -> None:
    args, _ = departure_case(300)
    # trips alike: rows 200.. repeat rows 0..99; three desired arrivals, so rows in the
    # order below often share a desired arrival but not their times
    rows = np.concatenate([np.arange(200), np.arange(100)])
    args = tuple(a[rows] if isinstance(a, np.ndarray) and len(a) == 300 else a for a in args)
    args[0][:] = np.array([450.0, 480.0, 510.0])[rows % 3]
    twin = np.array(departure_twin(*args))
    rng = np.random.default_rng(2)
    weight = rng.uniform(0, 1, 300) * (rng.random(300) < 0.8)  # a fifth weigh nothing
    group = rng.integers(0, 7, 300)
    group[group == 5] = 4  # group 5 has no trip
    for order in (np.arange(300), np.lexsort((args[0], rows)), np.argsort(args[0])):
        out = choice.expected_departures(args, weight, group, 7, 12, order)
        assert out.shape == (7, dep.CHOICE_BINS - 12)
        for g in range(7):
            at = group == g
            np.testing.assert_allclose(out[g], weight[at] @ twin[at, 12:], rtol=1e-12, atol=0)
        assert not out[5].any()
    # each trip's AM-period share, summed: trips leaving in the warm-up are not counted
    assert out.sum() == pytest.approx((weight * twin[:, 12:].sum(axis=1)).sum(), rel=1e-12)
    assert out.sum() < weight.sum()


def test_a_timed_toll_moves_drivers_out_of_its_window() -> None:
    # a toll worth 10 minutes from 07:30 to 08:00 (bins 18-23): drivers wanting to arrive
    # at 08:00 after 17.5 minutes leave earlier than 07:30 or later, i.e. arrive early or late
    n = 50_000
    u = (np.arange(n) + 0.5) / n
    args = (np.full(n, 480.0), np.full(n, 17.5), np.zeros(n), np.ones(dep.CHOICE_BINS), u)
    charged = dep.charged_bins([("07:30", "08:00")])
    assert charged.nonzero()[0].tolist() == list(range(12 + 18, 12 + 24))  # from 05:00
    free = dep.choose_bins(*args)
    tolled = dep.choose_bins(*args, toll_min=np.full(n, 10.0), charged=charged)
    inside = lambda b: ((b >= 18) & (b < 24)).mean()  # noqa: E731
    # expected by hand from Small's coefficients: bin h arrives 5 (h - 20) minutes off
    h = np.arange(-12, dep.N_BINS)  # the warm-up from 05:00, then the AM period
    w = np.where(
        h <= 20,
        np.exp(SMALL_EARLY * 5 * (20 - h)),
        np.exp(SMALL_LATE * 5 * (h - 20) + SMALL_LATE_AT_ALL),
    )
    window = (h >= 18) & (h < 24)
    w_toll = np.where(window, w * math.exp(SMALL_TIME * 10.0), w)
    assert inside(free) == pytest.approx(w[window].sum() / w.sum(), abs=0.005)
    assert inside(tolled) == pytest.approx(w_toll[window].sum() / w_toll.sum(), abs=0.005)
    assert inside(tolled) < inside(free)
    assert (tolled == 17).mean() > (free == 17).mean()


def test_schedule_delay_follows_small_1982() -> None:
    # free-flow 17.5 min, desired 08:00: leaving in bin 20 (07:42:30) arrives on time,
    # bin 21 five minutes late, bin 19 five minutes early
    n = 200_000
    bins = dep.choose_bins(
        np.full(n, 480.0),
        np.full(n, 17.5),
        np.zeros(n),
        np.ones(dep.CHOICE_BINS),
        (np.arange(n) + 0.5) / n,
    )
    freq = np.bincount(bins + 12, minlength=dep.CHOICE_BINS)[12:] / n  # AM bins
    assert freq.argmax() == 20
    late = math.exp(SMALL_LATE * 5 + SMALL_LATE_AT_ALL)
    early = math.exp(SMALL_EARLY * 5)
    assert freq[21] / freq[20] == pytest.approx(late, rel=0.01)
    assert freq[19] / freq[20] == pytest.approx(early, rel=0.01)
    # an hour early (bin 8) is exp(-0.065 * 60) as likely as on time
    assert freq[8] / freq[20] == pytest.approx(math.exp(SMALL_EARLY * 60), rel=0.02)


def test_congestion_spreads_departures_earlier() -> None:
    # a congested bin (delay ratio 2 at bins 18-21) pushes people to leave earlier
    n = 50_000
    u = (np.arange(n) + 0.5) / n
    flat = np.ones(dep.CHOICE_BINS)
    peaky = flat.copy()
    peaky[12 + 18 : 12 + 22] = 2.0  # choice columns: 12 warm-up bins first
    args = (np.full(n, 480.0), np.full(n, 15.0), np.full(n, 15.0))
    calm = dep.choose_bins(*args, np.zeros(dep.CHOICE_BINS), u)
    busy = dep.choose_bins(*args, peaky, u)
    assert busy.mean() < calm.mean()
    assert ((busy >= 18) & (busy < 22)).sum() < ((calm >= 18) & (calm < 22)).sum()


def test_path_sums_walk_the_trees() -> None:
    # 0 -> 1 -> 2 and 0 -> 2 direct; node 2 reached through 1 from origin 0 (pred link 1)
    link_from = np.array([0, 1, 0])
    pred = np.array([[-1, 0, 1], [-1, -1, -1]], dtype=np.int32)  # origin 1: nothing reached
    values = np.array([[2.0, 3.0, 10.0], [1.0, 1.0, 1.0]])
    out = choice.path_sums(pred, link_from, np.array([1, 2]), values)
    np.testing.assert_allclose(out[0, 0], [2.0, 5.0])  # times to nodes 1 and 2
    np.testing.assert_allclose(out[1, 0], [1.0, 2.0])  # links counted
    np.testing.assert_allclose(out[:, 1], 0.0)


def test_peak_hour_is_the_busiest_sixty_minutes() -> None:
    d = np.zeros(dep.N_BINS)
    d[10:14] = 5.0  # 06:50-07:10
    d[20:32] = 3.0  # 07:40-08:40: 36 in an hour beats 20
    assert dep.peak_hour(d) == 20
    assert dep.bin_label(20) == "07:40"


def test_calibrated_constant_reaches_the_target_share() -> None:
    rng = np.random.default_rng(2)
    util = rng.normal(0, 1, (5_000, 3))
    util[:100, 0] = -np.inf  # unavailable to some
    w = np.ones(5_000)
    c = md.calibrate_constant(util, 0, 0.3, w)
    shifted = util.copy()
    shifted[:, 0] += c
    e = np.exp(shifted)
    assert (e[:, 0] / e.sum(axis=1)).mean() == pytest.approx(0.3, abs=1e-6)


def test_mode_availability_by_age() -> None:
    n = 4
    los = md.LevelOfService(
        car_min=np.full(n, 10.0),
        car_km=np.full(n, 5.0),
        toll=np.zeros(n),
        dist_km=np.full(n, 4.0),
        parking=np.zeros(n),
    )
    age = np.array([7, 12, 17, 40])
    pupil = np.array([True, True, True, False])
    util = md.utilities(
        los, age, pupil, cost_per_km=100, bus_fare=700, money_per_min=100, asc_car=0, asc_escort=0
    )
    ok = np.isfinite(util)
    assert not ok[:3, md.CAR].any() and ok[3, md.CAR]  # no licence under 18
    assert not ok[0, md.BUS] and not ok[0, md.BICYCLE]  # a 7-year-old neither rides nor cycles
    assert ok[1, md.BUS] and ok[1, md.BICYCLE] and not ok[1, md.EBIKE]
    assert ok[2, md.EBIKE]
    assert ok[:, md.WALK].all() and ok[:, md.PASSENGER].all()
    # walking 4 km at 1.34 m/s (Knoblauch et al. 1996) takes ~50 min
    walk_min = util[3, md.WALK] / (md.TIME_COEF * md.OVT_WEIGHT)
    assert walk_min == pytest.approx(4000 / 1.34 / 60, rel=0.01)
