"""Security: local-only server settings, no code-running loaders, uploads and names that never become paths.

Zip slip in imports (run zips, My digits zips) and unsafe model files are tested beside their
modules (test_sharing, test_my_digits, test_predict); this file holds what cuts across them.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import pytest

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.drawing.predict import MAX_MODEL_BYTES
from mnist_core.runs import uploads
from mnist_core.runs.sharing import import_run_zip

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [ROOT / "app.py", *sorted((ROOT / "mnist_core").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
SCANNED += sorted((ROOT / "ui").glob("*.py"))  # the app's own package
PICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}


# ---------------------------------------------------------------- server settings
def test_config_toml_keeps_the_server_local_xsrf_on_and_uploads_capped() -> None:
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "localhost"
    assert server["enableXsrfProtection"] is True
    assert server["maxUploadSize"] * 2**20 == MAX_MODEL_BYTES  # the uploader and the loader agree: 50 MB


@pytest.mark.slow
def test_streamlit_itself_reads_those_settings() -> None:
    code = (
        "import json, streamlit.config as c; c.get_config_options(force_reparse=True); print(json.dumps("
        "[c.get_option(k) for k in ('server.address', 'server.enableXsrfProtection', 'server.enableCORS', "
        "'server.maxUploadSize', 'browser.gatherUsageStats')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["localhost", True, True, 50, False], out.stderr


# ---------------------------------------------------------------- code that could run other people's code
def risky(tree: ast.AST) -> list[str]:
    """Pickle-family imports, eval/exec/compile, and loaders told to trust their input."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLERS:
            found.append(f"from {node.module} import")
        elif isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in PICKLERS or name == "enable_unsafe_deserialization":
                found.append(name)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec", "compile", "__import__"):
                found.append(f"{node.func.id}(")
            for kw in node.keywords:
                value = kw.value.value if isinstance(kw.value, ast.Constant) else "?"
                if (kw.arg, value) in (("safe_mode", False), ("allow_pickle", True), ("shell", True)):
                    found.append(f"{kw.arg}={value}")
                elif kw.arg in ("safe_mode", "allow_pickle") and value == "?":
                    found.append(f"{kw.arg}=<not a constant>")
    return found


def test_the_scanner_finds_every_pattern() -> None:
    bad = (
        "import pickle\nfrom dill import loads\nimport joblib\neval('1')\nexec('x=1')\n"
        "keras.saving.load_model(p, safe_mode=False)\nnp.load(p, allow_pickle=True)\nnp.load(p, allow_pickle=flag)\n"
        "keras.config.enable_unsafe_deserialization()\nsubprocess.run(c, shell=True)\n"
    )
    assert sorted(risky(ast.parse(bad))) == sorted(
        [
            "import pickle",
            "from dill import",
            "import joblib",
            "eval(",
            "exec(",
            "safe_mode=False",
            "allow_pickle=True",
            "allow_pickle=<not a constant>",
            "enable_unsafe_deserialization",
            "shell=True",
        ]
    )
    assert risky(ast.parse("np.load(p, allow_pickle=False)\nload_model(p, safe_mode=True)\nre.compile('x')")) == []


@pytest.mark.parametrize("path", SCANNED, ids=[str(p.relative_to(ROOT)) for p in SCANNED])
def test_no_code_runs_untrusted_input(path: Path) -> None:
    assert risky(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_raw_html_only_where_it_shows_numbers() -> None:
    """unsafe_allow_html would turn a crafted run name into script; only the Draw page's digits use it."""
    users = [str(p.relative_to(ROOT)) for p in SCANNED if "unsafe_allow_html=True" in p.read_text(encoding="utf-8")]
    assert users in ([], ["pages/draw.py"])


# ---------------------------------------------------------------- uploads and names never become paths
def test_save_upload_takes_no_file_name() -> None:
    assert list(inspect.signature(uploads.save_upload).parameters) == ["data", "runs_root", "max_bytes"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["../../etc/x.keras", "..\\..\\x.keras", "/tmp/x.keras", "uploads/../../x.keras"])
def test_an_uploaded_models_name_never_becomes_a_path(tmp_path: Path, monkeypatch, name: str) -> None:
    """The Draw page's uploader with a crafted file name: one file appears, in the uploads folder, named by hash."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    root = tmp_path / "server" / "runs"
    monkeypatch.setenv(runs.RUNS_DIR_ENV, str(root))
    canvas = types.ModuleType("streamlit_drawable_canvas")
    canvas.st_canvas = lambda **kwargs: types.SimpleNamespace(image_bytes=None)
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", canvas)
    st.cache_resource.clear()
    before = {p for p in tmp_path.rglob("*")}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/draw.py").run()
    at.selectbox(key="draw_model").set_value("upload").run()
    at.file_uploader(key="draw_upload").upload(name, b"PK\x03\x04 not really a model", "application/octet-stream")
    at.run()
    assert not at.exception
    new_files = sorted(p for p in set(tmp_path.rglob("*")) - before if p.is_file())
    assert new_files == []  # saved in the uploads folder under a generated name, refused, and removed (issue 13)
    assert any(escape_markdown("is not a Keras .keras file") in e.value for e in at.error)
    assert not Path("/tmp/x.keras").exists() and not (ROOT / "x.keras").exists()


@pytest.mark.parametrize("name", ["..", "...", ". .", "#@", "x" * 60])
def test_odd_but_allowed_run_names_stay_inside_the_runs_folder(tmp_path: Path, name: str) -> None:
    assert runs.validate_name(name) == name.strip()
    handle = runs._create_run_folder(tmp_path, TrainingConfig(), name, None)
    assert handle.path.parent == tmp_path and handle.name == name.strip()
    assert runs.load_run(handle.id, tmp_path).path == handle.path


def test_an_imported_runs_name_cannot_carry_a_path_html_or_markdown(tmp_path: Path) -> None:
    crafted = "../../etc/passwd ![x](http://evil.example/p.png) <img src=x onerror=alert(1)>"
    path = tmp_path / "shared.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": TrainingConfig().to_dict(), "name": crafted}))
        archive.writestr("status.json", json.dumps({"state": "completed", "message": "ok", "created_at": 1.7e9}))
    handle = import_run_zip(path, tmp_path / "runs")
    assert handle.path.parent == tmp_path / "runs"
    assert not set(handle.name) & set("/\\<>[]!")
    assert handle.name.endswith(" (imported)")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.parent != handle.path) == ["shared.zip"]
