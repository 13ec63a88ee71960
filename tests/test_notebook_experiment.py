"""An experiment taken home as one notebook: the knob grid as a loop over `train_one(config)`. The fast tests
check the notebook and the refusals; the slow one runs an experiment in the app (real workers) and its notebook
in a fresh kernel that cannot import Digit Lab, and compares each combination's test accuracy."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from queue_utils import RecordingLauncher, use_launcher
from test_notebook_export import EMBEDDED, TOLERANCE, execute, kernel_env

from mnist_core.cli import main
from mnist_core.config import TrainingConfig
from mnist_core.notebook.export import ExportError, experiment_notebook
from mnist_core.presets import PRESETS
from mnist_core.runs.experiments import load_experiment, start_experiment

BASE = PRESETS["seed001"].config.replace(epochs=1)


def queued_experiment(root: Path, monkeypatch, knobs=None, base: TrainingConfig = BASE):
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    experiment = start_experiment(base, knobs or {"batch_size": ["32", "128"], "scaling": ["unit", "raw"]},
                                  name="batch x scaling", runs_dir=root)  # fmt: skip
    for handle in experiment.runs:
        handle.files.update_status(state="completed", message="done", data_source=EMBEDDED)
    return load_experiment(experiment.id, root)


def test_an_experiment_is_one_notebook_with_its_grid_as_a_loop(tmp_path: Path, monkeypatch) -> None:
    experiment = queued_experiment(tmp_path, monkeypatch)
    notebook = experiment_notebook(experiment)
    nbformat.validate(notebook)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "mnist_core" not in text and "digit_drawings" not in text
    assert "for values in GRID:" in text and "def train_one(config):" in text
    grid = re.search(r"^GRID = (.+?)  #", text, re.MULTILINE)[1]
    combinations = {(row["batch_size"], row["scaling"]) for row in eval(grid)}  # noqa: S307 - our own literal
    assert combinations == {(b, s) for b in (32, 128) for s in ("unit", "raw")}
    assert notebook.metadata.digit_lab["runs"] == [handle.id for handle in experiment.runs]
    assert "varying **batch size** and **scaling**" in notebook.cells[0].source


def test_an_experiment_still_training_or_damaged_says_why(tmp_path: Path, monkeypatch, capsys) -> None:
    experiment = queued_experiment(tmp_path, monkeypatch)
    experiment.runs[0].files.update_status(state="running")
    with pytest.raises(ExportError, match="is still running; export it once it has finished"):
        experiment_notebook(load_experiment(experiment.id, tmp_path))
    assert (
        main(["export-notebook", experiment.id, "--runs-dir", str(tmp_path), "--out", str(tmp_path / "e.ipynb")]) != 0
    )
    assert "still running" in capsys.readouterr().err
    experiment.runs[0].files.update_status(state="completed")
    assert (
        main(["export-notebook", experiment.id, "--runs-dir", str(tmp_path), "--out", str(tmp_path / "e.ipynb")]) == 0
    )
    assert nbformat.read(tmp_path / "e.ipynb", as_version=4).metadata.digit_lab["experiment"] == experiment.id


@pytest.mark.slow
def test_an_experiments_notebook_reaches_each_runs_accuracy(tmp_path: Path, monkeypatch) -> None:
    """Batch size 32 vs 128 on the embedded sample, one epoch each: the app's runs, then the notebook's loop."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    experiment = start_experiment(BASE, {"batch_size": ["32", "128"]}, name="batch size", runs_dir=tmp_path / "runs")
    app = {}
    for handle in experiment.runs:
        status = handle.wait(timeout=900)
        assert status.state == "completed", status.message
        app[handle.config.batch_size] = handle.evaluation().accuracy
    notebook = experiment_notebook(load_experiment(experiment.id, tmp_path / "runs"))
    printed = execute(notebook, tmp_path / "home", kernel_env(None, tmp_path / "home" / "keras"))
    found = {
        int(b): float(a) / 100 for b, a in re.findall(r"^batch_size=(\d+): test accuracy (\d+\.\d\d)%", printed, re.M)
    }
    print(f"experiment: app {app}, notebook {found}")
    assert set(found) == set(app) == {32, 128}
    for batch_size, accuracy in app.items():
        assert abs(accuracy - found[batch_size]) <= TOLERANCE, (
            f"batch {batch_size}: app {accuracy:.2%}, notebook {found[batch_size]:.2%}"
        )
