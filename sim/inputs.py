"""Reading user input files within bounds.

Every reader of a user's file (scenario and sweep YAML, history and flows CSVs, TNTP
files, zone files) first calls :func:`check_input_file`: the path must be a regular file
(not a folder, device or pipe such as ``/dev/zero``) no larger than a limit, so a wrong
path fails at once with one line instead of hanging. :func:`read_yaml` reads YAML that
refuses duplicate keys (naming the key and both lines) and aliases that expand beyond a
limit (a "billion laughs" file). :func:`preview` cuts any value a message echoes to a
short, one-line preview.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import CitySandboxError, InputDataError

#: Default size limit of a tabular input file (CSV, TNTP, zones), bytes.
MAX_INPUT_BYTES = 1 << 30
#: Size limit of a scenario or sweep YAML file, bytes.
MAX_YAML_BYTES = 1 << 20
#: Most nodes a YAML document may hold once its aliases are expanded.
MAX_YAML_NODES = 100_000
#: Longest echoed value in a message, characters.
PREVIEW_CHARS = 60


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters with a note of the length.

    Examples
    --------
    >>> preview("x" * 100, 10)
    "'xxxxxxxx… (102 characters)"
    """
    if isinstance(value, np.generic):
        value = value.item()  # 3, not np.int64(3)
    text = repr(value).replace("\n", "\\n")
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 2, 1)]}… ({len(text)} characters)"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def check_input_file(
    path: str | Path,
    what: str,
    error: type[CitySandboxError] = InputDataError,
    max_bytes: int = MAX_INPUT_BYTES,
) -> Path:
    """Return ``path`` if it is a readable regular file of at most ``max_bytes``.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (e.g. ``"history CSV"``).
    error
        The exception class raised.
    max_bytes
        The size limit.

    Raises
    ------
    CitySandboxError
        Of class ``error``: the file does not exist, is a folder, is not a regular file
        (a device, pipe or socket) or is larger than the limit.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        msg = f"{path}: {what} file not found"
        raise error(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read the {what} file ({exc.strerror})"
        raise error(msg) from None
    if stat.S_ISDIR(info.st_mode):
        msg = f"{path}: {what} file not found (it is a folder)"
        raise error(msg)
    if not stat.S_ISREG(info.st_mode):
        msg = f"{path}: not a regular file (a device, pipe or socket); give the {what} file"
        raise error(msg)
    if info.st_size > max_bytes:
        msg = f"{path}: the {what} file is {_size(info.st_size)}; the limit is {_size(max_bytes)}"
        raise error(msg)
    return path


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<' merges may override keys, as YAML allows
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first.setdefault(key, key_node)
            except TypeError:
                continue  # unhashable key: the base class reports it
            if earlier is not key_node:
                line, again = earlier.start_mark.line + 1, key_node.start_mark.line + 1
                msg = f"duplicate key {preview(key)} at lines {line} and {again}"
                raise yaml.MarkedYAMLError(problem=msg, problem_mark=key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: yaml.Node, limit: int) -> None:
    """Raise ValueError when the document has more than ``limit`` nodes once expanded."""
    size: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > limit:
                msg = f"aliases expand it beyond {limit:,} values (refused)"
                raise ValueError(msg)
            continue
        if key in size:
            continue
        visiting.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in visiting:
                msg = "an alias refers to a value that contains it (recursive alias)"
                raise ValueError(msg)
            if id(child) not in size:
                stack.append((child, False))


def read_yaml(
    path: str | Path, what: str, error: type[CitySandboxError], max_nodes: int = MAX_YAML_NODES
) -> Any:
    """Read one YAML document safely.

    Parameters
    ----------
    path
        The YAML file (at most :data:`MAX_YAML_BYTES`).
    what
        What the file is, for messages (``"scenario"``, ``"sweep"``).
    error
        The exception class raised.
    max_nodes
        Most values the document may hold with its aliases expanded.

    Returns
    -------
    Any
        The document (None for an empty file).

    Raises
    ------
    CitySandboxError
        Of class ``error``, one line: the file is missing or too large, malformed YAML
        (with line and column), a duplicate key (with both lines), or aliases that expand
        beyond ``max_nodes`` values.
    """
    path = check_input_file(path, what, error, MAX_YAML_BYTES)
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        msg = f"{path}: not a readable YAML file ({exc})"
        raise error(msg) from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expansion(root, max_nodes)
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        msg = f"{path}: malformed YAML at {where}: {exc.problem}"
        raise error(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{path}: not a readable YAML file ({preview(str(exc), 200)})"
        raise error(msg) from None
    except ValueError as exc:
        msg = f"{path}: {what} YAML refused: {exc}"
        raise error(msg) from None
    except RecursionError:
        msg = f"{path}: {what} YAML is nested too deeply"
        raise error(msg) from None
    finally:
        loader.dispose()
