"""Output paths: checked before the work starts, and written atomically.

Every command that writes (``run``, ``batch``, ``compare``, ``forecast``, ``import-osm``)
checks its output path up front with :func:`check_output_folder` or
:func:`check_output_file`, so a run that cannot be saved fails in a second, not after the
whole simulation. Files are written through a temporary file with a name unique to the
writer (:func:`write_atomically`), so concurrent writers to one path never share a
temporary file and a reader never sees half a file.

Errors are :class:`~sim.errors.OutputError` with ``field`` (the caller's argument, e.g.
``out``), ``value`` (the path) and what is wrong.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from sim.errors import OutputError

log = logging.getLogger(__name__)

#: Refuse to start when the output file system has less free space than this.
MIN_FREE_BYTES = 64 * 2**20
#: Prefix of the temporary folder a run folder is written into before it is renamed.
TMP_PREFIX = ".tmp-"
#: A temporary folder of a dead process older than this is removed by the next writer.
STALE_AFTER_S = 120.0
_TMP_NAME = re.compile(r"^\.tmp-(?P<name>.+)-(?P<pid>\d+)-(?P<tag>[0-9a-f]{8})$")
_NAME_MAX_FALLBACK = 255


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_place(path: Path, field: str, shown: Path) -> Path:
    """The nearest existing folder at or above ``path``; errors when it cannot hold output."""
    base = _nearest_existing(path)
    if not base.is_dir():
        raise OutputError(f"{base} is a file, not a folder", field=field, value=shown)
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{base} is not writable", field=field, value=shown)
    try:  # a read-only file system refuses even root: try a real write
        fd, probe = tempfile.mkstemp(dir=base, prefix=".write-probe-")
    except OSError as exc:
        raise OutputError(
            f"{base} is not writable ({exc.strerror or exc})", field=field, value=shown
        ) from None
    os.close(fd)
    os.unlink(probe)
    free = shutil.disk_usage(base).free
    if free < MIN_FREE_BYTES:
        raise OutputError(
            f"only {free // 2**20} MiB free on its file system (need {MIN_FREE_BYTES // 2**20})",
            field=field,
            value=shown,
        )
    return base


def name_max(folder: Path) -> int:
    """The longest file name (bytes) the file system of ``folder`` allows."""
    try:
        return int(os.pathconf(_nearest_existing(folder), "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return _NAME_MAX_FALLBACK


def check_name(folder: Path, name: str, field: str, *, reserve: int = 0) -> None:
    """Refuse a file or folder name that is not one plain name or too long for ``folder``.

    Parameters
    ----------
    folder
        Where the name will be created.
    name
        The name.
    field
        The argument the name comes from (named in the error).
    reserve
        Bytes a temporary name adds around it (``.tmp-NAME-PID-TAG``).
    """
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise OutputError("not a plain file or folder name", field=field, value=repr(name))
    limit = name_max(folder)
    size = len(name.encode("utf-8")) + reserve
    if size > limit:
        shown = f"{name[:40]}…" if len(name) > 40 else name
        raise OutputError(
            f"the name is {size - reserve} bytes; at most {limit - reserve} fit in a name here",
            field=field,
            value=repr(shown),
        )


def tmp_reserve() -> int:
    """Bytes a temporary name (:func:`tmp_name`) adds around a name."""
    return len(tmp_name("", pid=2**22))


def tmp_name(name: str, *, pid: int | None = None) -> str:
    """A temporary name for ``name`` unique to this process and call."""
    return f"{TMP_PREFIX}{name}-{os.getpid() if pid is None else pid}-{uuid.uuid4().hex[:8]}"


def check_output_folder(path: Path, field: str = "out") -> Path:
    """Check that ``path`` is, or can become, a writable folder with room; return it.

    Nothing is created. Raises :class:`~sim.errors.OutputError` when ``path`` is a file,
    lies under a file, is not writable or its file system is (nearly) full.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError("is a file, not a folder", field=field, value=path)
    _check_place(path, field, path)
    return path


def check_output_file(path: Path, field: str = "out") -> Path:
    """Check that ``path`` can be written as a file (its folder may not exist yet)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("is a folder; give a file name", field=field, value=path)
    check_name(path.parent, path.name, field, reserve=tmp_reserve())
    _check_place(path.parent, field, path)
    return path


def write_atomically(path: Path, data: str | bytes, field: str = "out") -> Path:
    """Write ``data`` to ``path`` via a temporary file unique to this writer, then rename.

    Raises :class:`~sim.errors.OutputError` (and leaves nothing behind) when it fails.
    """
    path = Path(path)
    tmp = path.with_name(tmp_name(path.name))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(
            f"cannot be written ({exc.strerror or exc})", field=field, value=path
        ) from None
    return path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary folders that killed writers left in ``folder``.

    A ``.tmp-NAME-PID-TAG`` folder is removed when process ``PID`` no longer runs on this
    host and the folder is older than :data:`STALE_AFTER_S` (a writer on another host of a
    shared file system may reuse a pid, but not for that long without touching it). Others
    are reported in the log and left alone.

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed: list[Path] = []
    if not Path(folder).is_dir():
        return removed
    now = time.time()
    for entry in Path(folder).glob(f"{TMP_PREFIX}*"):
        match = _TMP_NAME.match(entry.name)
        if match is None or not entry.is_dir():
            continue
        try:
            age = now - entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > STALE_AFTER_S and not pid_alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            log.warning("removed %s, left by a killed run (process %s)", entry, match["pid"])
            removed.append(entry)
        else:
            log.info("left %s alone: it may belong to a running process", entry)
    return removed
