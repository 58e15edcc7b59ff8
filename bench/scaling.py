"""Scaling: synthesis + years of demography and enrollment, 10k to 10M persons.

Each size runs in its own subprocess (the default city replicated with
``synthesize(scale=...)``, dwellings and school classes scaled alike) so that its peak
resident memory (``resource.getrusage``) is its own. Per size: synthesis time, the time
of ``years`` simulated years of :func:`sim.population.demography.step_demography` followed by
catchment enrollment (:func:`sim.education.enrollment.assign_enrollment`), and peak RSS.
Targets (issue 4): 1M persons × 10 years under 20 s on 2 cores; 10M persons under 3 GiB.

Usage: ``python bench/scaling.py [--quick] [--json] [--sizes 10000,100000] [--years 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
QUICK_SIZES = (10_000, 100_000)


def worker(n: int, years: int, seed: int = 1) -> dict:
    """Run one size in this process; returns timings and peak RSS."""
    import numpy as np

    from sim import settings
    from sim.city import load_city
    from sim.education.enrollment import assign_enrollment
    from sim.education.schools import SchoolSystem
    from sim.population.demography import DemographyRates, step_demography
    from sim.population.persons import synthesize

    city = load_city(settings.default_city)
    rates = DemographyRates.from_city(city)
    scale = n / float(city.zones["population"].sum())
    system = SchoolSystem.from_city(city)
    system.classes = np.ceil(system.classes * scale).astype(np.int32)
    dwellings = city.zones["dwellings"].to_numpy(float) * scale
    weight = city.zones["attractiveness"].to_numpy(float)
    rng = np.random.default_rng(seed)
    # load the numba kernels from their cache before timing (a one-off ~0.5 s per process)
    warm = synthesize(city, np.random.default_rng(0), scale=0.005)
    step_demography(warm, rates, 2024, dwellings=dwellings, attractiveness=weight, rng=rng)
    assign_enrollment(warm, system, "catchment", None, rng)
    del warm

    start = time.perf_counter()
    persons = synthesize(city, rng, scale=scale)
    synth_s = time.perf_counter() - start
    n_start = len(persons)
    start = time.perf_counter()
    demo_s = 0.0
    for year in range(2024, 2024 + years):
        t = time.perf_counter()
        persons, _ = step_demography(
            persons, rates, year, dwellings=dwellings, attractiveness=weight, rng=rng
        )
        demo_s += time.perf_counter() - t
        result = assign_enrollment(persons, system, "catchment", None, rng)
    years_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {
        "n": n_start,
        "n_end": len(persons),
        "years": years,
        "synth_s": round(synth_s, 3),
        "years_s": round(years_s, 3),
        "demography_s": round(demo_s, 3),
        "enrollment_s": round(years_s - demo_s, 3),
        "peak_rss_mib": round(peak / 2**20, 1),
        "persons_mib": round(persons.nbytes() / 2**20, 1),
        "pupils_last_year": int(result.demand.sum()),
    }


def _warm_caches() -> None:
    """Compile the numba kernels into their cache once, before any size is timed."""
    run_size(2_000, 1)


def run_size(n: int, years: int) -> dict:
    """Run one size in a fresh subprocess."""
    cmd = [sys.executable, __file__, "--worker", str(n), "--years", str(years)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        return {"n": n, "error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k persons only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", help="comma-separated person counts")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.years)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    sizes = sizes or (QUICK_SIZES if args.quick else SIZES)
    _warm_caches()
    rows = [run_size(n, args.years) for n in sizes]
    result = {"years": args.years, "cpus": os.cpu_count(), "rows": rows}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"demography + catchment enrollment, {args.years} years, {os.cpu_count()} cpus")
    head = f"{'persons':>12}{'synth s':>10}{'years s':>10}{'demog s':>10}{'enrol s':>10}"
    print(head + f"{'peak RSS MiB':>14}{'arrays MiB':>12}")
    for r in rows:
        if "error" in r:
            print(f"{r['n']:>12,}  failed: {r['error']}")
            continue
        print(
            f"{r['n']:>12,}{r['synth_s']:>10.2f}{r['years_s']:>10.2f}{r['demography_s']:>10.2f}"
            f"{r['enrollment_s']:>10.2f}{r['peak_rss_mib']:>14,.0f}{r['persons_mib']:>12,.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
