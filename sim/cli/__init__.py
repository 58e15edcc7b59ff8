"""The headless command line: one module per subcommand.

Each module in this package defines ``NAME`` (the subcommand, e.g. ``"enroll-query"``),
``HELP`` (one line), ``add_arguments(parser)`` and ``main(args) -> int``. Modules are found
by discovery, so adding a command means adding a module. A :class:`CitySandboxError`
raised anywhere becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sim.errors import CitySandboxError

EXIT_USAGE = 2


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
    if not argv or argv[0].startswith("-"):
        return None
    name = argv[0].replace("-", "_")
    if name.startswith("_") or not (Path(__file__).parent / f"{name}.py").exists():
        return None
    mod = importlib.import_module(f"{__name__}.{name}")
    return [mod] if getattr(mod, "NAME", None) == argv[0] else None


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in modules if modules is not None else _command_modules():
        p = sub.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    argv = list(argv) if argv is not None else sys.argv[1:]
    parser = build_parser(_single_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args._main(args) or 0)
    except CitySandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
