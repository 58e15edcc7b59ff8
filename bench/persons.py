"""Person step: numba arrays (sim.population.demography) vs the plain-Mesa twin (mesa_twin).

Both run the same yearly person logic (deaths, births, out-migration, ageing, residential
mobility, in-migration) on the same synthesised population of the default city, scaled to
``n`` persons, on this machine in one run. Throughput is person-steps per second (persons
at the start of a step × steps / seconds), in CPU seconds of this process
(``time.process_time``, both paths single-threaded) so that other load on a shared machine
does not skew the ratio; wall-clock seconds are reported too. The numba path is timed
over runs of ``years`` steps from the same start and seed, a few before, between and after
the Mesa twin's steps, so that a burst of load on a shared machine hits both alike; each
path reports its median seconds per step. The Mesa model's construction is timed apart.

Usage: ``python bench/persons.py [--quick] [--json] [--n N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mesa
import numba

from sim import settings
from sim.city import load_city
from sim.population.demography import DemographyRates, step_demography
from sim.population.mesa_twin import PersonsModel
from sim.population.persons import synthesize


def _numba_runs(persons, rates, setting, years: int, repeats: int, seed: int, runs: list) -> int:
    """Append (CPU s, wall s) per step of ``repeats`` runs of ``years`` steps to ``runs``;
    every run starts from ``persons`` with the same seed. Returns a run's person-steps."""
    for _ in range(repeats):
        rng = np.random.default_rng(seed)
        pop, done = persons, 0
        cpu, wall = time.process_time(), time.perf_counter()
        for year in range(2024, 2024 + years):
            done += len(pop)
            pop, _ = step_demography(pop, rates, year, rng=rng, **setting)
        runs.append(((time.process_time() - cpu) / years, (time.perf_counter() - wall) / years))
    return done


def _time_mesa(persons, rates, setting, years: int, seed: int, between) -> tuple:
    """(CPU s, wall s) of each of ``years`` Mesa steps, build CPU s and person-steps;
    ``between()`` runs after the build and after every step (untimed)."""
    cpu = time.process_time()
    model = PersonsModel(persons, rates, rng=seed, start_year=2024, **setting)
    build = time.process_time() - cpu
    done, steps = 0, []
    between()
    for _ in range(years):
        done += len(model.agents)
        cpu, wall = time.process_time(), time.perf_counter()
        model.step()
        steps.append((time.process_time() - cpu, time.perf_counter() - wall))
        between()
    return steps, build, done


def run(n: int, mesa_n: int, years: int, mesa_years: int, repeats: int, seed: int = 1) -> dict:
    """Time both paths (``repeats`` numba runs before, between and after the Mesa steps);
    returns the figures as a dict."""
    city = load_city(settings.default_city)
    rates = DemographyRates.from_city(city)
    setting = {
        "dwellings": city.zones["dwellings"].to_numpy(float),
        "attractiveness": city.zones["attractiveness"].to_numpy(float),
    }
    base = int(city.zones["population"].sum())
    persons = synthesize(city, np.random.default_rng(seed), scale=n / base)
    small = persons if mesa_n == n else synthesize(city, np.random.default_rng(seed), mesa_n / base)
    # scale dwellings with the population so vacancy (and so mobility) stays comparable
    big_setting = {**setting, "dwellings": setting["dwellings"] * len(persons) / base}
    small_setting = {**setting, "dwellings": setting["dwellings"] * len(small) / base}
    # numba runs go before, between and after the Mesa steps, so that a burst of load on
    # a shared machine hits both paths alike (the garbage collector may then scan the Mesa
    # agents during a numba run instead of a Mesa step: the median drops that run, and
    # the Mesa figure errs low, so the ratio errs low too)
    step_demography(persons, rates, 2024, rng=np.random.default_rng(seed), **big_setting)
    numba_runs: list[tuple[float, float]] = []
    numba_done = 0

    def between() -> None:
        nonlocal numba_done
        numba_done = _numba_runs(persons, rates, big_setting, years, repeats, seed, numba_runs)

    mesa_steps, mesa_build, mesa_done = _time_mesa(
        small, rates, small_setting, mesa_years, seed, between
    )
    numba_s, numba_wall = np.median(numba_runs, axis=0)
    mesa_s, mesa_wall = np.median(mesa_steps, axis=0)
    fast = numba_done / years / numba_s
    slow = mesa_done / mesa_years / mesa_s
    return {
        "n": len(persons),
        "years": years,
        "numba_runs": len(numba_runs),
        "numba_person_steps_per_s": round(fast),
        "numba_s_per_step": round(float(numba_s), 5),
        "numba_s_per_step_runs": [round(cpu, 5) for cpu, _ in numba_runs],
        "numba_wall_s_per_step": round(numba_wall, 5),
        "mesa_n": len(small),
        "mesa_years": mesa_years,
        "mesa_person_steps_per_s": round(slow),
        "mesa_s_per_step": round(mesa_s, 3),
        "mesa_s_per_step_steps": [round(cpu, 3) for cpu, _ in mesa_steps],
        "mesa_wall_s_per_step": round(mesa_wall, 3),
        "ratio_wall": round(
            (numba_done / years / numba_wall) / (mesa_done / mesa_years / mesa_wall), 1
        ),
        "clock": "process_time (CPU s); medians over runs (numba) and steps (Mesa)",
        "mesa_build_s": round(mesa_build, 3),
        "ratio": round(fast / slow, 1),
        "peer": (
            f"sim.population.mesa_twin.PersonsModel (mesa {mesa.__version__}, one Agent per person)"
        ),
        "numba": numba.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k persons, fewer steps")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--n", type=int, default=None, help="persons (default 100000)")
    parser.add_argument(
        "--mesa-n", type=int, default=None, help="persons for the Mesa twin (default: n)"
    )
    args = parser.parse_args(argv)
    n = args.n or (20_000 if args.quick else 100_000)
    years, mesa_years, repeats = (5, 1, 3) if args.quick else (10, 2, 3)
    result = run(n, args.mesa_n or n, years, mesa_years, repeats)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"person step, {result['n']:,} persons, same logic, same machine ({result['cpus']} cpus)")
    print(f"{'path':<34}{'persons':>10}{'steps':>7}{'CPU s/step':>12}{'person-steps/s':>17}")
    runs = f"{result['numba_runs']}x{years}"
    print(
        f"{'numba arrays (sim.population.demography)':<34}{result['n']:>10,}{runs:>7}"
        f"{result['numba_s_per_step']:>12.4f}{result['numba_person_steps_per_s']:>17,}"
    )
    print(
        f"{'plain Mesa (sim.population.mesa_twin)':<34}{result['mesa_n']:>10,}{mesa_years:>7}"
        f"{result['mesa_s_per_step']:>12.3f}{result['mesa_person_steps_per_s']:>17,}"
    )
    print(
        f"ratio (numba / Mesa): {result['ratio']:.0f}x CPU time, {result['ratio_wall']:.0f}x wall"
        f" (Mesa build {result['mesa_build_s']} CPU s, not in the ratio)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
