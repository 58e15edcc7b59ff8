"""The headless command line: one module per subcommand.

Each module in this package defines ``NAME`` (the subcommand, e.g. ``"enroll-query"``),
``HELP`` (one line), ``add_arguments(parser)`` and ``main(args) -> int``. Modules are found
by discovery, so adding a command means adding a module. A :class:`CitySandboxError`
raised anywhere becomes one line on stderr and exit status 2; the field it names is
written as the command's flag (``birth_year`` -> ``--birth-year``). ``-v``/``--verbose``
(twice for debug) and ``-q``/``--quiet`` set the level of the ``sim`` logger, before or
after the subcommand; without them it is :data:`sim.settings.log_level`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from sim import settings
from sim.errors import CitySandboxError

EXIT_USAGE = 2
_GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet", "-vv")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Send the ``sim`` logger to stderr at the level the flags ask for.

    Parameters
    ----------
    verbose
        0: :data:`sim.settings.log_level`; 1: INFO; 2 or more: DEBUG.
    quiet
        Only errors, and no progress bars.
    """
    logger = logging.getLogger("sim")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    settings.quiet = quiet
    if quiet:
        level = logging.ERROR
        settings.progress = False
    else:
        level = (settings.log_level, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logger.setLevel(level)


def _add_global_flags(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=default, help="log more (-vv: debug)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="only errors, no progress"
    )


def flag_namer(parser: argparse.ArgumentParser) -> Callable[[str], str]:
    """How a library error's field is named on this command line.

    An option is named by its long flag (``birth_year`` -> ``--birth-year``), a
    positional argument not at all (the value says it); other fields keep their name.
    """
    names: dict[str, str] = {}
    for action in parser._actions:
        if action.option_strings:
            names[action.dest] = max(action.option_strings, key=len)
        else:
            names[action.dest] = ""
    return lambda field: names.get(field, field)


def _command_modules() -> list[ModuleType]:
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "main"):
            mods.append(mod)
    return sorted(mods, key=lambda m: m.NAME)


def _single_command(argv: Sequence[str]) -> list[ModuleType] | None:
    """The module of the subcommand named first, imported alone (fast start-up), if any."""
    rest = [a for a in argv if a not in _GLOBAL_FLAGS]
    if not rest or rest[0].startswith("-"):
        return None
    name = rest[0].replace("-", "_")
    if not name.isidentifier() or name.startswith("_"):
        return None
    if not (Path(__file__).parent / f"{name}.py").exists():
        return None
    mod = importlib.import_module(f"{__name__}.{name}")
    return [mod] if getattr(mod, "NAME", None) == rest[0] else None


def build_parser(modules: list[ModuleType] | None = None) -> argparse.ArgumentParser:
    """Build the ``main.py`` argument parser (every discovered subcommand by default)."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=(
            "CitySandbox: simulate a city's population, school enrollment and traffic, "
            "edit policy scenarios and compare outcomes. With no subcommand the desktop "
            "app opens."
        ),
        epilog="main.py gui [--screenshot FILE.png] [--scenario S] [--view V]: the desktop app.",
    )
    _add_global_flags(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in modules if modules is not None else _command_modules():
        p = sub.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        _add_global_flags(p, argparse.SUPPRESS)  # after the command too, not overriding
        p.set_defaults(_main=mod.main, _parser=p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    argv = list(argv) if argv is not None else sys.argv[1:]
    parser = build_parser(_single_command(argv))
    args = parser.parse_args(argv)
    configure_logging(args.verbose or 0, bool(args.quiet))
    if not getattr(args, "_main", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args._main(args) or 0)
    except CitySandboxError as exc:
        print(f"error: {exc.describe(flag_namer(args._parser))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
