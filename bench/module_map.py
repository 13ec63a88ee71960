"""The engine's shape: modules and lines per folder of mnist_core, the largest modules, and the import depth
(the longest chain of modules each importing the next, anywhere in the file).

    python bench/module_map.py
"""

from __future__ import annotations

import ast
import functools
from collections import Counter
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "mnist_core"


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "mnist_core"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ENGINE.rglob("*.py")) if p.name != "__main__.py"}


def imports(path: Path, known: set[str]) -> set[str]:
    """The engine modules `path` imports (`from mnist_core.a import b` counts a.b when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            plain = [n for n in submodules if n.removeprefix("mnist_core.") not in known]
            names = ([node.module] if plain else []) + submodules  # `from pkg import module`: the module only
        else:
            continue
        for name in names:
            if name.startswith("mnist_core."):
                dotted = name.removeprefix("mnist_core.")
                while dotted and dotted not in known:
                    dotted = dotted.rpartition(".")[0]
                if dotted:
                    found.add(dotted)
    return found


def main() -> None:
    found = modules()
    graph = {name: imports(path, set(found)) - {name} for name, path in found.items()}

    @functools.cache
    def depth(name: str) -> int:
        return 1 + max((depth(other) for other in graph[name]), default=0)

    folders = Counter(str(p.parent.relative_to(ENGINE.parent)) for p in found.values())
    lines = Counter()
    for path in found.values():
        lines[str(path.parent.relative_to(ENGINE.parent))] += len(path.read_text(encoding="utf-8").splitlines())
    print(f"{'folder':<24} {'modules':>7} {'lines':>7}")
    for folder in sorted(folders):
        print(f"{folder:<24} {folders[folder]:>7} {lines[folder]:>7}")
    print(f"{'all':<24} {sum(folders.values()):>7} {sum(lines.values()):>7}")
    deepest = max(graph, key=depth)
    chain = [deepest]
    while graph[chain[-1]]:
        chain.append(max(graph[chain[-1]], key=depth))
    print(f"import depth: {depth(deepest)} ({' -> '.join(chain)})")
    sizes = sorted(((len(p.read_text().splitlines()), n) for n, p in found.items()), reverse=True)[:5]
    print("largest: " + ", ".join(f"{name} {count}" for count, name in sizes))


if __name__ == "__main__":
    main()
