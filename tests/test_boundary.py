"""The engine boundary: mnist_core never imports streamlit, plotly or the app's ui package, and its light
modules never load TensorFlow."""

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
    "mnist_core.runs.files",
    "mnist_core.runs",
    "mnist_core.cli",  # `python -m mnist_core --help` must answer at once
]
HEAVY = ("tensorflow", "keras", "streamlit")
APP_SIDE = ("streamlit", "plotly", "ui")  # what the engine never imports: the app imports the engine


def _loaded_after_import(modules: list[str], watched: tuple[str, ...]) -> list[str]:
    """Which of the `watched` top-level packages are loaded after importing `modules` in a fresh Python."""
    code = (
        f"import sys, json\nimport {', '.join(modules)}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(watched)!r}))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_light_modules_import_no_tensorflow_keras_or_streamlit() -> None:
    assert _loaded_after_import(LIGHT_MODULES, HEAVY) == []


@pytest.mark.slow
def test_the_whole_engine_imports_neither_streamlit_nor_plotly_nor_ui() -> None:
    every = [
        "mnist_core." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.stem != "__main__" and path != PACKAGE / "__init__.py"
    ]
    assert _loaded_after_import(every, APP_SIDE) == []


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
def test_no_engine_module_imports_streamlit_plotly_or_ui(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    offenders = [f"line {line}: {name}" for name, line in _imported_names(tree) if name.split(".")[0] in APP_SIDE]
    assert offenders == [], f"{module.name} imports the app side ({'; '.join(offenders)}); keep UI code in ui/"


def test_the_scan_sees_every_kind_of_import() -> None:
    source = "import streamlit as st\nfrom streamlit import x\nimportlib.import_module('streamlit')\n"
    assert [name for name, _ in _imported_names(ast.parse(source))] == ["streamlit"] * 3
    source = "import plotly.graph_objects as go\nfrom ui.charts import x\n__import__('ui')\n"
    assert [name.split(".")[0] for name, _ in _imported_names(ast.parse(source))] == ["plotly", "ui", "ui"]
