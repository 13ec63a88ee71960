"""docs/DESIGN.md is the contract between the engine and its callers: its module table and its list of
the modules that import TensorFlow must match the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DESIGN = (REPO / "docs" / "DESIGN.md").read_text(encoding="utf-8")
ENGINE = REPO / "mnist_core"


def imports_tensorflow(path: Path) -> bool:
    """Whether the module has an import statement of keras or tensorflow anywhere (code in strings, such
    as an exported notebook's cells, is not an import)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        if any(name.split(".")[0] in ("keras", "tensorflow") for name in names):
            return True
    return False


def module_path(name: str) -> Path:
    """The file of an engine module: runs.files -> runs/files.py, runs -> runs/__init__.py."""
    path = ENGINE / (name.replace(".", "/") + ".py")
    return path if path.is_file() else ENGINE / name.replace(".", "/") / "__init__.py"


def engine_modules() -> set[str]:
    """Every module of mnist_core, dotted below it (e.g. 'runs.files'), with each package whose __init__ holds
    code (e.g. 'runs', the runs API); __main__ and the packages whose __init__ is only a docstring left out."""
    names = set()
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1 and len(ast.parse(path.read_text()).body) > 1:
            names.add(".".join(parts[:-1]))
        elif parts[-1] not in ("__init__", "__main__"):
            names.add(".".join(parts))
    return names


def table_modules() -> set[str]:
    """The names in the first cell of each row of DESIGN.md's '## Modules' table."""
    section = DESIGN.split("## Modules", 1)[1].split("\n\n", 1)[0]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([\w.]+)`", row.split("|")[1]))
    return names


def tensorflow_list() -> set[str]:
    """The modules DESIGN.md says import TensorFlow/Keras."""
    sentence = DESIGN.split("TensorFlow/Keras is imported lazily, only inside the", 1)[1].split("never by", 1)[0]
    return set(re.findall(r"`([\w.]+)`", sentence))


def test_every_engine_module_is_in_the_module_table_and_nothing_else() -> None:
    documented, found = table_modules(), engine_modules()
    assert not found - documented, f"modules missing from docs/DESIGN.md's table: {sorted(found - documented)}"
    assert not documented - found, f"docs/DESIGN.md names modules that do not exist: {sorted(documented - found)}"


def test_the_modules_said_to_import_tensorflow_are_the_ones_that_do() -> None:
    importing = {name for name in engine_modules() if imports_tensorflow(module_path(name))}
    assert tensorflow_list() == importing, (
        f"import TensorFlow but are not listed: {sorted(importing - tensorflow_list())}; "
        f"listed but do not: {sorted(tensorflow_list() - importing)}"
    )
