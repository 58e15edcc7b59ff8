"""Readers for the TNTP text format (Transportation Networks for Research).

A TNTP file starts with metadata lines ``<NAME> value`` closed by
``<END OF METADATA>``; ``~`` starts a comment. Network files hold one directed link
a line (init node, term node, capacity, length, free-flow time, B, power, speed,
toll, link type, then ``;``); trip files hold ``Origin N`` blocks of
``destination : flow;`` entries; node files hold ``node x y ;`` lines; flow files
(best-known solutions) hold ``from to volume cost`` lines.

Malformed files raise :class:`~sim.errors.GeodataError` (network, node files) or
:class:`~sim.errors.InputDataError` (trip, flow files) naming the file, the line and
the problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import CitySandboxError, GeodataError, InputDataError
from sim.inputs import check_input_file, preview

NET_COLUMNS = (
    "init_node",
    "term_node",
    "capacity",
    "length",
    "free_flow_time",
    "b",
    "power",
    "speed",
    "toll",
    "link_type",
)
_META = re.compile(r"<([^>]+)>\s*(.*)")
_TRIP_ENTRY = re.compile(r"\s*(\d+)\s*:\s*([-+0-9.eE]+)\s*")


def _lines(path: Path, error: type[CitySandboxError]) -> list[str]:
    check_input_file(path, "TNTP", error)
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror})") from exc


def _split_metadata(
    path: Path, error: type[CitySandboxError], required: tuple[str, ...]
) -> tuple[dict[str, str], Iterator[tuple[int, str]]]:
    """Split a TNTP file into its metadata and its (line number, text) data lines."""
    lines = _lines(path, error)
    meta: dict[str, str] = {}
    start = None
    for i, line in enumerate(lines):
        m = _META.match(line.strip())
        if not m:
            continue
        key = m.group(1).strip().upper()
        if key == "END OF METADATA":
            start = i + 1
            break
        meta[key] = m.group(2).strip()
    if start is None:
        raise error(f"{path}: no <END OF METADATA> line; is this a TNTP file?")
    for key in required:
        if key not in meta:
            raise error(f"{path}: metadata <{key}> is missing")
    body = (
        (i + 1, line.strip())
        for i, line in enumerate(lines[start:], start=start)
        if line.strip() and not line.strip().startswith("~")
    )
    return meta, body


def meta_int(
    path: str | Path,
    meta: dict[str, str],
    key: str,
    error: type[CitySandboxError] = GeodataError,
) -> int:
    """The whole-number value of metadata ``key`` (text after ``~`` ignored); raise ``error``."""
    text = meta[key].split("~")[0].strip()
    try:
        value = int(text)
    except ValueError:
        raise error(f"{path}: metadata <{key}> is {preview(text)}, not a whole number") from None
    if value < 0:
        raise error(f"{path}: metadata <{key}> is {value}; it must be >= 0")
    return value


def read_net(path: str | Path) -> tuple[dict[str, str], pd.DataFrame]:
    """Read a ``*_net.tntp`` network file.

    Parameters
    ----------
    path
        The network file.

    Returns
    -------
    meta : dict of str to str
        Metadata keys upper-cased without brackets (``"NUMBER OF NODES"``,
        ``"FIRST THRU NODE"``, ...), values as text.
    links : pandas.DataFrame
        One row per directed link in file order, columns :data:`NET_COLUMNS`
        (``init_node``, ``term_node``, ``link_type`` as int64, the rest float64).

    Raises
    ------
    GeodataError
        The file is missing, lacks ``<NUMBER OF NODES>``, ``<NUMBER OF LINKS>``,
        ``<NUMBER OF ZONES>`` or ``<FIRST THRU NODE>``, has a line with too few or
        non-numeric fields, a link count that disagrees with the metadata, or a
        node number outside 1..NUMBER OF NODES.
    """
    path = Path(path)
    required = ("NUMBER OF ZONES", "NUMBER OF NODES", "FIRST THRU NODE", "NUMBER OF LINKS")
    meta, body = _split_metadata(path, GeodataError, required)
    rows = []
    for lineno, line in body:
        fields = line.replace(";", " ").split()
        if len(fields) < len(NET_COLUMNS):
            raise GeodataError(
                f"{path}, line {lineno}: {len(fields)} fields, expected {len(NET_COLUMNS)} "
                f"({', '.join(NET_COLUMNS)})"
            )
        try:
            rows.append([float(f) for f in fields[: len(NET_COLUMNS)]])
        except ValueError:
            msg = f"{path}, line {lineno}: non-numeric field in {preview(line)}"
            raise GeodataError(msg) from None
    table = np.array(rows, dtype=np.float64).reshape(-1, len(NET_COLUMNS))
    links = pd.DataFrame(table, columns=list(NET_COLUMNS))
    for col in ("init_node", "term_node", "link_type"):
        links[col] = links[col].astype(np.int64)
    n_links = meta_int(path, meta, "NUMBER OF LINKS", GeodataError)
    if len(links) != n_links:
        raise GeodataError(f"{path}: {len(links)} link lines but <NUMBER OF LINKS> is {n_links}")
    n_nodes = meta_int(path, meta, "NUMBER OF NODES", GeodataError)
    ends = links[["init_node", "term_node"]].to_numpy()
    bad = (ends < 1) | (ends > n_nodes)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise GeodataError(
            f"{path}: link {row + 1} ({ends[row, 0]} -> {ends[row, 1]}) names a node outside "
            f"1..{n_nodes} (<NUMBER OF NODES>)"
        )
    return meta, links


def read_trips(path: str | Path) -> np.ndarray:
    """Read a ``*_trips.tntp`` trip table.

    Parameters
    ----------
    path
        The trip file.

    Returns
    -------
    numpy.ndarray
        ``(n_zones, n_zones)`` float64 OD flows; row ``o - 1``, column ``d - 1`` holds
        the flow from zone ``o`` to zone ``d``.

    Raises
    ------
    InputDataError
        The file is missing, lacks ``<NUMBER OF ZONES>``, has an entry before the first
        ``Origin`` line, a zone outside 1..NUMBER OF ZONES, a negative or non-numeric
        flow, or text that is not a ``destination : flow;`` entry.
    """
    path = Path(path)
    meta, body = _split_metadata(path, InputDataError, ("NUMBER OF ZONES",))
    n_zones = meta_int(path, meta, "NUMBER OF ZONES", InputDataError)
    trips = np.zeros((n_zones, n_zones), dtype=np.float64)
    origin = None
    for lineno, line in body:
        if line.lower().startswith("origin"):
            parts = line.split()
            if len(parts) != 2 or not parts[1].isdigit():
                msg = f"{path}, line {lineno}: expected 'Origin N', got {preview(line)}"
                raise InputDataError(msg)
            origin = _zone(path, lineno, int(parts[1]), n_zones)
            continue
        if origin is None:
            raise InputDataError(f"{path}, line {lineno}: trip entries before any 'Origin' line")
        for entry in line.split(";"):
            if not entry.strip():
                continue
            m = _TRIP_ENTRY.fullmatch(entry)
            if not m:
                raise InputDataError(
                    f"{path}, line {lineno}: {preview(entry.strip())} is not 'destination : flow'"
                )
            dest = _zone(path, lineno, int(m.group(1)), n_zones)
            try:
                flow = float(m.group(2))
            except ValueError:
                raise InputDataError(
                    f"{path}, line {lineno}: flow {preview(m.group(2))} is not a number"
                ) from None
            if not np.isfinite(flow) or flow < 0:
                raise InputDataError(f"{path}, line {lineno}: flow {flow} must be finite and >= 0")
            trips[origin - 1, dest - 1] = flow
    return trips


def _zone(path: Path, lineno: int, zone: int, n_zones: int) -> int:
    if not 1 <= zone <= n_zones:
        raise InputDataError(
            f"{path}, line {lineno}: zone {zone} outside 1..{n_zones} (<NUMBER OF ZONES>)"
        )
    return zone


def _read_table(
    path: Path, names: tuple[str, ...], error: type[CitySandboxError]
) -> list[list[float]]:
    """Numeric rows of a headed TNTP table (node and flow files); the header is skipped."""
    rows: list[list[float]] = []
    for lineno, line in enumerate(_lines(path, error), start=1):
        fields = line.replace(";", " ").split()
        if not fields or fields[0].startswith("~"):
            continue
        try:
            values = [float(f) for f in fields[: len(names)]]
        except ValueError:
            if rows:
                raise error(
                    f"{path}, line {lineno}: non-numeric field in {preview(line.strip())}"
                ) from None
            continue  # the header line
        if len(values) < len(names):
            raise error(f"{path}, line {lineno}: expected columns {', '.join(names)}")
        rows.append(values)
    if not rows:
        raise error(f"{path}: no data rows (expected columns {', '.join(names)})")
    return rows


def read_nodes(path: str | Path) -> pd.DataFrame:
    """Read a ``*_node.tntp`` coordinate file.

    Returns
    -------
    pandas.DataFrame
        Index ``node`` (int64), columns ``x``, ``y`` (float64, the file's units).

    Raises
    ------
    GeodataError
        The file is missing or has a short or non-numeric line.
    """
    path = Path(path)
    rows = np.array(_read_table(path, ("node", "x", "y"), GeodataError))
    return pd.DataFrame(
        {"x": rows[:, 1], "y": rows[:, 2]},
        index=pd.Index(rows[:, 0].astype(np.int64), name="node"),
    )


def read_flow(path: str | Path) -> pd.DataFrame:
    """Read a ``*_flow.tntp`` link-flow solution (best-known flows).

    Returns
    -------
    pandas.DataFrame
        Columns ``init_node``, ``term_node`` (int64), ``volume``, ``cost`` (float64), in
        file order.

    Raises
    ------
    InputDataError
        The file is missing or has a short or non-numeric line.
    """
    path = Path(path)
    rows = np.array(_read_table(path, ("from", "to", "volume", "cost"), InputDataError))
    return pd.DataFrame(
        {
            "init_node": rows[:, 0].astype(np.int64),
            "term_node": rows[:, 1].astype(np.int64),
            "volume": rows[:, 2],
            "cost": rows[:, 3],
        }
    )
