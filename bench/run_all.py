"""Run every benchmark in bench/ and collect their JSON into bench/results.json.

    python bench/run_all.py [--quick] [--only NAME ...]

Each bench script runs alone in its own process (``python bench/NAME.py --json``), so one
failing bench is reported and the others still run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def bench_scripts() -> list[Path]:
    """Every bench script (not this runner, not private helpers)."""
    return sorted(
        p for p in HERE.glob("*.py") if p.name != "run_all.py" and not p.name.startswith("_")
    )


def run_one(script: Path, quick: bool) -> dict:
    """Run one bench with --json and return its JSON object (or the error)."""
    cmd = [sys.executable, str(script), "--json", *(["--quick"] if quick else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    seconds = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"], "seconds": seconds}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("{")]
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": "no JSON object on stdout", "seconds": seconds}
    result.setdefault("bench_seconds", seconds)
    return result


def main() -> int:
    """Run the benches, print a one-line status each, write bench/results.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problem sizes")
    parser.add_argument("--only", nargs="*", help="bench names (file stems) to run")
    args = parser.parse_args()
    results = {}
    for script in bench_scripts():
        if args.only and script.stem not in args.only:
            continue
        print(f"== {script.stem} ...", flush=True)
        results[script.stem] = run_one(script, args.quick)
        status = (
            "FAILED: " + str(results[script.stem]["error"])
            if "error" in results[script.stem]
            else "ok"
        )
        print(f"   {status} ({results[script.stem].get('bench_seconds')} s)", flush=True)
    out = HERE / "results.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps(previous | results, indent=2, sort_keys=True) + "\n")
    print(f"results: {out}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
