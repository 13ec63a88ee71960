"""docs/DESIGN.md's run-folder contract and mnist_core.runs.files name the same files; only runs.names spells them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mnist_core.runs import files as run_files

ROOT = Path(__file__).resolve().parent.parent
FILE_NAME = re.compile(r"^[a-z_]+\.(json|jsonl|keras|npz|request|log|claim)$")
FOLDER = re.compile(r"^[a-z_]+/([a-z_]+/)?$")
# "config.json" is also the member of a .keras zip that holds the model's layers, not a run file.
ELSEWHERE = {("model_files.py", "config.json"), ("numpy_model.py", "config.json")}  # a .keras zip's own member


def design_run_files() -> set[str]:
    """The files named at the start of each bullet of DESIGN.md's "A run folder is the contract"."""
    text = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    section = text.split("## A run folder is the contract", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("- "):
            head = line[2:].split(":", 1)[0]
            for name in re.findall(r"`([^`]+)`", head):
                if FILE_NAME.match(name):
                    names.add(name)
                elif FOLDER.match(name):  # `tensorboard/train/`: the run folder holds `tensorboard`
                    names.add(name.split("/")[0])
    return names


def test_design_lists_exactly_the_files_run_files_names():
    assert design_run_files() == {*run_files.NAMES, run_files.TENSORBOARD}
    assert len(run_files.NAMES) == len(set(run_files.NAMES)) and set(run_files.EXPORTED) < set(run_files.NAMES)


def test_no_other_engine_module_spells_a_run_file_name():
    """Every other module uses run_files' constants, so renaming a file is a one-line change."""
    spelled = set()
    for path in (ROOT / "mnist_core").rglob("*.py"):
        if path.relative_to(ROOT).as_posix() == "mnist_core/runs/names.py":  # the names are written once, there
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in run_files.NAMES:
                spelled.add((path.name, node.value))
    assert spelled - ELSEWHERE == set()
