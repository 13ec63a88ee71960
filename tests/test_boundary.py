"""The engine boundary: mnist_core never imports streamlit, and its light modules never load TensorFlow."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mnist_core"
LIGHT_MODULES = [
    "mnist_core",
    "mnist_core.config",
    "mnist_core.presets",
    "mnist_core.data",
    "mnist_core.storage",
    "mnist_core.run_files",
    "mnist_core.runs",
    "mnist_core.cli",  # `python -m mnist_core --help` must answer at once
]
HEAVY = ("tensorflow", "keras", "streamlit")


def test_light_modules_import_no_tensorflow_keras_or_streamlit() -> None:
    code = (
        f"import sys, json\nimport {', '.join(LIGHT_MODULES)}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def _imported_names(tree: ast.AST) -> list[tuple[str, int]]:
    """Every module name an import statement or a constant __import__/import_module call names."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append((node.module, node.lineno))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names.append((node.args[0].value, node.lineno))
    return names


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda path: path.name)
def test_no_engine_module_imports_streamlit(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    offenders = [f"line {line}: {name}" for name, line in _imported_names(tree) if name.split(".")[0] == "streamlit"]
    assert offenders == [], f"{module.name} imports streamlit ({'; '.join(offenders)}); keep UI code in pages/"


def test_the_scan_sees_every_kind_of_import() -> None:
    source = "import streamlit as st\nfrom streamlit import x\nimportlib.import_module('streamlit')\n"
    assert [name for name, _ in _imported_names(ast.parse(source))] == ["streamlit"] * 3
