"""The package's shape: no import cycles, arrows one way, a headless install without Qt or Dask.

The import graph is read from the source (every ``import``, also inside functions and
under ``TYPE_CHECKING``), so a cycle hidden in a lazy import counts as one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "gui", "citysandbox")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for pkg in PACKAGES
        for p in sorted((REPO / pkg).rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the module defining an attribute)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                found = [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in found:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != name:
                    targets.add(resolved)
        graph[name] = targets
    return graph


def external_imports(prefix: str) -> dict[str, set[str]]:
    """Top-level names of everything the modules under ``prefix`` import."""
    out: dict[str, set[str]] = {}
    for name, path in _modules().items():
        if name != prefix and not name.startswith(f"{prefix}."):
            continue
        names = out.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_sim_gui_and_the_entry() -> None:
    assert cycles(import_graph()) == []


def test_sim_never_imports_the_gui_or_qt() -> None:
    bad = {
        mod: sorted(n for n in names if n.split(".")[0] in ("gui", "PySide6", "shiboken6"))
        for mod, names in external_imports("sim").items()
    }
    assert {m: n for m, n in bad.items() if n} == {}


def test_kernels_import_no_other_sim_module() -> None:
    bad = {
        mod: sorted(n for n in names if n.startswith("sim") and not n.startswith("sim.kernels"))
        for mod, names in external_imports("sim.kernels").items()
    }
    assert {m: n for m, n in bad.items() if n} == {}


_HEADLESS = """
import importlib, pkgutil, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Blocked())
import sim
for info in pkgutil.walk_packages(sim.__path__, "sim."):
    importlib.import_module(info.name)
assert not any(m.split(".")[0] in ("PySide6", "dask", "distributed", "gui") for m in sys.modules)
from citysandbox import main
sys.exit(main(sys.argv[1:]))
"""


def _headless(*args: str) -> subprocess.CompletedProcess:
    """``citysandbox ARGS`` where PySide6 and Dask cannot be imported (a headless install)."""
    return subprocess.run(
        [sys.executable, "-c", _HEADLESS, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_sim_module_imports_without_qt_or_dask_and_the_cli_runs() -> None:
    proc = _headless("--help")
    assert proc.returncode == 0, proc.stderr
    assert "enroll-query" in proc.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["gui"], "'gui' extra"),
        ([], "'gui' extra"),
        (["batch", "scenarios/sweep-example.yaml", "--scheduler", "tcp://127.0.0.1:1"], "dask"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(args: list[str], extra: str) -> None:
    proc = _headless(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and extra in lines[0] and "pip install" in lines[0], proc.stderr
