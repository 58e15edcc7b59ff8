"""The seed story: how every random stream of a run or a batch derives from one seed.

::

    sweep seed ──task_seeds──► scenario seed of replication task k     (batch only)
    scenario seed ──replication_seeds──► replication seed r            (one per replication)
    replication seed ──► the replication's Mesa ``Model.rng``
        ──process_streams──► synthesis, demography, enrollment, mobility, uncertainty

Each arrow is a :class:`numpy.random.SeedSequence` spawn, so the children are independent
and reproducible. One generator per process (common random numbers): a policy that
changes how many draws enrollment makes does not shift the draws of demography or
mobility. Replication ``k`` of every sweep variant gets the same scenario seed, so
variants differ only through their parameters and policies. Same scenario + seed gives
byte-identical outputs.
"""

from __future__ import annotations

import numpy as np

#: The processes with their own random stream, in the order they are spawned.
PROCESS_STREAMS: tuple[str, ...] = (
    "synthesis",
    "demography",
    "enrollment",
    "mobility",
    "uncertainty",  # the replication's parameter draws (sim.population.uncertainty)
)


def _spawn_words(seed: int, n: int) -> list[int]:
    """One 64-bit word from each of ``n`` spawned children of ``seed``."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


def replication_seeds(seed: int, n: int) -> list[int]:
    """The seeds of a run's ``n`` Monte Carlo replications (64-bit) from the scenario seed."""
    return _spawn_words(seed, n)


def task_seeds(seed: int, n: int) -> list[int]:
    """The scenario seeds of a sweep's ``n`` replication tasks (63-bit, a valid ``seed``)."""
    return [word >> 1 for word in _spawn_words(seed, n)]


def process_streams(model_rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """The per-process generators of one replication, drawn from its model generator.

    Parameters
    ----------
    model_rng
        The replication's ``Model.rng`` (seeded with the replication seed); one integer
        is drawn from it.

    Returns
    -------
    dict
        A generator per name in :data:`PROCESS_STREAMS`.
    """
    root = np.random.SeedSequence(int(model_rng.integers(2**63)))
    children = root.spawn(len(PROCESS_STREAMS))
    return {
        name: np.random.default_rng(child)
        for name, child in zip(PROCESS_STREAMS, children, strict=True)
    }


def synthetic_rng(seed: int) -> np.random.Generator:
    """The generator of the batch stand-in runner (``SyntheticRunner``), from the task seed."""
    return np.random.default_rng(seed)
