"""Regenerate the README's overview figure from the newest run of the default scenario.

.venv/bin/python docs/make_figures.py [RUN_FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Put the run's V/C map and KPI time series side by side in docs/figures/overview.png."""
    from sim.runs.folder import resolve_run

    run = Path(sys.argv[1]) if len(sys.argv) > 1 else resolve_run("default", ROOT / "runs")
    vc = mpimg.imread(run / "figures" / "traffic_vc.png")
    kpis = mpimg.imread(run / "figures" / "kpis.png")
    fig = plt.figure(figsize=(16, 7.5))
    left = fig.add_axes((0.0, 0.0, 0.32, 1.0))
    right = fig.add_axes((0.33, 0.25, 0.67, 0.5))
    for ax, img in ((left, vc), (right, kpis)):
        ax.imshow(img)
        ax.set_axis_off()
    out = ROOT / "docs" / "figures" / "overview.png"
    fig.savefig(out, dpi=90)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
