"""Imports inside mnist_core go one way: no module imports, even inside a function, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mnist_core"


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The mnist_core modules that `path` imports anywhere (top level, functions, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "mnist_core" if node.level else (node.module or "")
            if node.level and node.module:
                base = f"mnist_core.{node.module}"
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "mnist_core" and len(parts) > 1 and parts[1] in modules:
                found.add(parts[1])
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {path.stem for path in package.glob("*.py")}
    return {name: imported_modules(package / f"{name}.py", modules) - {name} for name in sorted(modules)}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_cycles_through_function_level_imports(tmp_path):
    (tmp_path / "a.py").write_text("from mnist_core import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from mnist_core.c import x\n")
    (tmp_path / "c.py").write_text("import mnist_core.a\n")
    (tmp_path / "d.py").write_text("from mnist_core.a import thing\n")
    graph = import_graph(tmp_path)
    assert graph["d"] == {"a"} and find_cycles(graph) == [["a", "b", "c"]]


def test_mnist_core_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 20 and graph["runs"] >= {"run_files", "run_queue", "run_handle"}
    assert "heartbeat" in graph["run_handle"]
    assert find_cycles(graph) == [], "import cycles in mnist_core (break them so imports go one way)"
