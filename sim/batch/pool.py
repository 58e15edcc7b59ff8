"""The start method of local worker processes, shared by batch pools and a run's replications."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence

WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""The environment of local pool workers: that of Dask workers (``pre-spawn-environ``)."""


def pool_context(preload: Sequence[str]) -> multiprocessing.context.BaseContext:
    """Fork-server workers where available: fork-safe, and they start with ``preload`` imported.

    Workers get one BLAS/OpenMP thread each, as Dask's nanny gives its workers, so both
    executors sum in the same order and give bit-identical results (and N single-threaded
    processes do not oversubscribe N cores).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        os.environ.update(WORKER_ENV)  # spawned children inherit it; the parent's BLAS is set
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        forkserver.ensure_running()  # started once per process, with this environment
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    return context
