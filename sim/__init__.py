"""CitySandbox simulation engine: population, enrollment, mobility and traffic.

Headless by design: nothing under ``sim`` imports Qt. The GUI in ``gui/`` builds on it.
"""

from __future__ import annotations

import os

# One BLAS thread: our matrices are small, and a threaded BLAS sums in an order that
# depends on the thread count, which would make identical runs differ in the last digits.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
