"""Progress reporting for the command line (tqdm), shared by run and batch."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

from sim import settings


@contextmanager
def cli_progress(label: str) -> Iterator[Callable[[Any], None]]:
    """A progress callback drawing a bar on stderr (a plain line per stage when not a TTY)."""
    bar = tqdm(total=1000, desc=label, unit="‰", disable=not settings.progress, file=sys.stderr)
    last = [""]

    def update(p: Any) -> None:
        bar.n = int(p.fraction * 1000)
        bar.set_postfix_str(p.message, refresh=True)
        if not settings.progress and p.message.split(" · ")[0] != last[0]:
            last[0] = p.message.split(" · ")[0]
            print(f"  {label}: {p.message}", file=sys.stderr, flush=True)

    try:
        yield update
    finally:
        bar.close()
