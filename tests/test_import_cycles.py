"""Imports inside mnist_core go one way: no module imports, even inside a function, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mnist_core"


def module_name(path: Path, package: Path) -> str:
    """'runs' for runs/__init__.py, 'runs.files' for runs/files.py, 'config' for config.py."""
    parts = path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The mnist_core modules that `path` imports anywhere (top level, functions, TYPE_CHECKING): for
    `from mnist_core.runs import files`, the module runs.files if there is one, else the package runs."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "mnist_core" if node.level else (node.module or "")
            if node.level and node.module:
                base = f"mnist_core.{node.module}"
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            plain = [name for name in submodules if name.removeprefix("mnist_core.") not in modules]
            names = ([base] if plain else []) + submodules  # `from pkg import module` imports only the module
        else:
            continue
        for name in names:
            dotted = name.removeprefix("mnist_core.") if name.startswith("mnist_core.") else ""
            while dotted and dotted not in modules:
                dotted = dotted.rpartition(".")[0]
            if dotted:
                found.add(dotted)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Every module of the package (subpackages' modules dotted) -> the package's modules it imports."""
    paths = {module_name(path, package): path for path in package.rglob("*.py")}
    return {name: imported_modules(path, set(paths)) - {name} for name, path in sorted(paths.items())}


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
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "__init__.py").write_text("from mnist_core.e import f\n")
    (tmp_path / "e" / "f.py").write_text("from mnist_core import e\n")  # a module importing its package back
    graph = import_graph(tmp_path)
    assert graph["d"] == {"a"} and graph["e"] == {"e.f"}
    assert find_cycles(graph) == [["a", "b", "c"], ["e", "e.f"]]


def test_mnist_core_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 60 and graph["runs"] >= {"runs.files", "runs.queue", "runs.handle"}
    assert "runs.heartbeat" in graph["runs.handle"]
    assert find_cycles(graph) == [], "import cycles in mnist_core (break them so imports go one way)"
