"""A fine-tune taken home: one zip with its notebook and script, the model it started from and the drawings it
learned from. The fast tests check the zip and the refusals; the slow one fine-tunes in the app (a real worker)
and runs the notebook in a fresh kernel that cannot import Digit Lab, and compares the test accuracies."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from queue_utils import RecordingLauncher, use_launcher
from test_notebook_export import TOLERANCE, execute, kernel_env, notebook_accuracy

from mnist_core.cli import main
from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.my_digits import add_digit
from mnist_core.notebook.export import ExportError, export_notebook, export_zip, run_notebook
from mnist_core.runs import start_run
from mnist_core.runs.finetune import start_finetune

TINY = TrainingConfig(hidden_units=(16,), epochs=1, batch_size=64)


def drawings(folder: Path, per_digit: int = 3, seed: int = 0) -> Path:
    """`per_digit` made-up drawings of each digit (a bright bar whose place says the digit)."""
    rng = np.random.default_rng(seed)
    for digit in range(10):
        for _ in range(per_digit):
            image = rng.uniform(0, 0.1, (28, 28)).astype(np.float32)
            image[4 + 2 * digit : 7 + 2 * digit, 6:22] = 1.0
            add_digit(image, digit, folder)
    return folder


def finished_finetune(root: Path, monkeypatch, base: Path | None = None):
    """A fine-tune run as start_finetune leaves it, marked completed (no worker: the notebook needs no model)."""
    from mnist_core.models import build_model

    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    if base is None:
        base = root / "20250101-000000-base" / "model_best.keras"  # a run's model, inside the runs folder
        base.parent.mkdir(parents=True)
        build_model(TINY).save(base)
    handle = start_finetune(base, root, epochs=2, mnist_mix=1.0, my_digits_dir=drawings(root.parent / "mine"))
    handle.files.update_status(state="completed", message="done", data_source="Embedded sample: …")
    return handle


def test_a_fine_tune_exports_one_zip_with_its_base_model_and_drawings(tmp_path: Path, monkeypatch) -> None:
    handle = finished_finetune(tmp_path / "runs", monkeypatch)
    out = export_zip(handle, tmp_path / "take-home.zip")
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([f"{handle.id}.ipynb", f"{handle.id}.py", "base_model.keras", "my_digits.npz"])
        notebook = nbformat.reads(archive.read(f"{handle.id}.ipynb").decode(), as_version=4)
        with np.load(io.BytesIO(archive.read("my_digits.npz"))) as mine:
            assert len(mine["labels"]) == 30 and mine["holdout"].sum() > 0
    nbformat.validate(notebook)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "mnist_core" not in text and "digit_drawings" not in text
    assert 'load_model("base_model.keras"' in text and 'np.load("my_digits.npz")' in text
    assert "MNIST_MIX = 1.0" in text and "EPOCHS = 64, 2" in text and "LEARNING_RATE = 0.0003" in text
    assert "30 labelled drawings" in notebook.cells[0].source
    assert notebook.metadata.digit_lab["finetune"] is True


def test_a_fine_tunes_notebook_alone_points_to_the_zip(tmp_path: Path, monkeypatch, capsys) -> None:
    handle = finished_finetune(tmp_path / "runs", monkeypatch)
    with pytest.raises(ExportError, match="export it as one zip"):
        export_notebook(handle, tmp_path / "alone.ipynb")
    assert (
        main(["export-notebook", handle.id, "--runs-dir", str(tmp_path / "runs"), "--zip", str(tmp_path / "t.zip")])
        == 0
    )
    assert "wrote" in capsys.readouterr().out and zipfile.is_zipfile(tmp_path / "t.zip")


def test_a_fine_tune_whose_base_model_is_gone_or_foreign_is_refused(tmp_path: Path, monkeypatch) -> None:
    handle = finished_finetune(tmp_path / "runs", monkeypatch)
    base = Path(handle.meta()["finetune"]["base_model"])
    base.unlink()
    with pytest.raises(ExportError, match="which is no longer here"):
        run_notebook(handle)
    handle.files.update_meta(finetune={**handle.meta()["finetune"], "base_model": "/etc/passwd"})  # a crafted run
    with pytest.raises(ExportError, match="names a base model outside Digit Lab's folders"):
        export_zip(handle, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.slow
def test_a_fine_tunes_notebook_reaches_the_apps_accuracy(tmp_path: Path, monkeypatch) -> None:
    """On the embedded sample: a base model trained in the app, fine-tuned in the app on 30 drawings, then the
    exported notebook run in a fresh kernel from the unzipped files."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    runs = tmp_path / "runs"
    base_run = start_run(TINY.replace(epochs=2), name="base", runs_dir_path=runs)
    assert base_run.wait(timeout=900).state == "completed"
    test = load_mnist()
    mine = tmp_path / "mine"
    for digit in range(10):  # three test digits of each kind, drawn "by someone"
        for index in np.flatnonzero(test.y_test == digit)[:3]:
            add_digit(test.x_test[index] / np.float32(255), digit, mine)
    handle = start_finetune(base_run.model_path("best"), runs, epochs=2, mnist_mix=1.0, my_digits_dir=mine)
    status = handle.wait(timeout=900)
    assert status.state == "completed", status.message
    home = tmp_path / "home"
    with zipfile.ZipFile(export_zip(handle, tmp_path / "take-home.zip")) as archive:
        archive.extractall(home)
    printed = execute(nbformat.read(home / f"{handle.id}.ipynb", as_version=4), home, kernel_env(None, home / "keras"))
    app, notebook = handle.evaluation().accuracy, notebook_accuracy(printed)
    print(f"fine-tune: app {app:.2%}, notebook {notebook:.2%}")
    assert "your held-out drawings:" in printed and (home / "model.keras").is_file()
    assert abs(app - notebook) <= TOLERANCE, f"app {app:.2%}, notebook {notebook:.2%}"
