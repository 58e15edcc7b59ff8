"""No cached numba kernel calls a parallel one: numba can crash loading such a caller.

A caller compiled while its parallel callee came from the cache is written to the cache
with names the next process does not find: it segfaults when it loads the caller
(numba issues #8578 and #10128; reproduced here with ``simulate`` calling
``quickest_times`` after an edit of sim/kernels/dnl.py alone). Parallel kernels are
called from Python (``shortest_paths``, ``swap_routes``) or through an ``objmode``
block (``refresh_quickest``).
"""

from __future__ import annotations

import ast
from pathlib import Path

KERNELS = Path(__file__).resolve().parents[1] / "sim" / "kernels"


def _jit_functions(tree: ast.Module) -> dict[str, bool]:
    """Name → parallel of every ``@njit``-decorated function of a module."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = call.func if call else dec
            if not (isinstance(target, ast.Name) and target.id == "njit"):
                continue
            parallel = call is not None and any(
                k.arg == "parallel" and isinstance(k.value, ast.Constant) and k.value.value
                for k in call.keywords
            )
            found[node.name] = parallel
    return found


def _calls_outside_objmode(func: ast.FunctionDef) -> set[str]:
    """Names called in ``func``'s body, except inside ``with objmode():`` blocks."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.With) and any(
            isinstance(i.context_expr, ast.Call)
            and isinstance(i.context_expr.func, ast.Name)
            and i.context_expr.func.id == "objmode"
            for i in node.items
        ):
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in func.body:
        visit(stmt)
    return names


def test_no_compiled_kernel_calls_a_parallel_kernel() -> None:
    trees = {p: ast.parse(p.read_text()) for p in sorted(KERNELS.glob("*.py"))}
    jitted: dict[str, bool] = {}
    for tree in trees.values():
        jitted |= _jit_functions(tree)
    parallel = {name for name, par in jitted.items() if par}
    assert {"quickest_times", "group_trees", "_shortest_paths"} <= parallel
    nested = []
    for path, tree in trees.items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in jitted:
                for callee in sorted(_calls_outside_objmode(node) & parallel):
                    nested.append(f"{path.name}: {node.name} calls {callee}")
    assert nested == []
