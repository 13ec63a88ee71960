"""TensorBoard event files of a run (mnist_core.training.tensorboard_log), written and read back by TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
ROOT = Path(__file__).resolve().parent.parent

from mnist_core.config import TrainingConfig  # noqa: E402
from mnist_core.runs import RunHandle  # noqa: E402
from mnist_core.runs.files import RunFiles  # noqa: E402
from mnist_core.storage import append_jsonl  # noqa: E402
from mnist_core.training.tensorboard_log import TENSORBOARD_DIR, TensorBoardLog, read_scalars, write_from_metrics  # noqa: E402


def values(points: list[tuple[int, float]]) -> list[float]:
    return [value for _, value in points]


def test_epoch_scalars_are_the_fit_history_under_keras_tag_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.random((96, 28, 28), dtype=np.float32), rng.integers(0, 10, 96)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x, y, batch_size=32, epochs=2, validation_data=(x[:32], y[:32]), verbose=0,
        callbacks=[TensorBoardLog(tmp_path / "tb", batch_interval=0.0)],
    ).history  # fmt: skip
    scalars = read_scalars(tmp_path / "tb")
    assert set(scalars) == {"train", "validation"}
    train, validation = scalars["train"], scalars["validation"]
    assert [step for step, _ in train["epoch_loss"]] == [1, 2]  # epochs count from 1, as in metrics.jsonl
    np.testing.assert_allclose(values(train["epoch_loss"]), history["loss"], rtol=1e-6)
    np.testing.assert_allclose(values(train["epoch_accuracy"]), history["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(values(validation["epoch_loss"]), history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(values(validation["epoch_accuracy"]), history["val_accuracy"], rtol=1e-6)
    np.testing.assert_allclose(values(train["epoch_learning_rate"]), [1e-3, 1e-3], rtol=1e-6)
    assert [step for step, _ in train["batch_loss"]] == [1, 2, 3, 4, 5, 6]  # every batch when not throttled


def test_batch_scalars_are_throttled(tmp_path: Path) -> None:
    x, y = np.zeros((64, 28, 28), np.float32), np.zeros(64, int)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[TensorBoardLog(tmp_path / "tb", batch_interval=60)])
    train = read_scalars(tmp_path / "tb")["train"]
    assert [step for step, _ in train["batch_loss"]] == [1]  # the first batch, then none within a minute
    assert len(train["epoch_loss"]) == 1


@pytest.mark.slow
def test_a_run_writes_tensorboard_beside_its_metrics_and_exports_without_it(tmp_path: Path, mnist_dir: Path) -> None:
    from mnist_core.runs.sharing import export_run_zip, import_run_zip
    from mnist_core.training import train

    config = TrainingConfig(hidden_units=(16,), train_limit=500, epochs=2, batch_size=100)
    files = RunFiles(tmp_path / "runs" / "20200101-000000-tb")
    files.path.mkdir(parents=True)
    files.write_meta(config, "tb", str(mnist_dir))
    files.update_status(state="queued", created_at=time.time(), epochs=config.epochs)
    assert train(files.path) == "completed"
    rows = RunHandle(files.path).metrics().epochs
    scalars = read_scalars(files.path / TENSORBOARD_DIR)
    np.testing.assert_allclose(values(scalars["train"]["epoch_loss"]), [r["loss"] for r in rows], rtol=1e-6)
    np.testing.assert_allclose(values(scalars["validation"]["epoch_accuracy"]), [r["val_accuracy"] for r in rows])
    np.testing.assert_allclose(values(scalars["train"]["epoch_learning_rate"]), [r["lr"] for r in rows], rtol=1e-6)

    exported = export_run_zip(files.path, tmp_path / "run.zip")  # event files are derived: not shared
    assert not [name for name in zipfile.ZipFile(exported).namelist() if TENSORBOARD_DIR in name]
    imported = import_run_zip(exported, tmp_path / "other-runs")
    assert imported.metrics().epochs == rows and not (imported.path / TENSORBOARD_DIR).exists()
    assert write_from_metrics(imported.path)  # python -m mnist_core tensorboard gives it the same epoch curves
    again = read_scalars(imported.path / TENSORBOARD_DIR)
    for part, tag in [("train", "epoch_loss"), ("validation", "epoch_accuracy"), ("train", "epoch_learning_rate")]:
        assert [step for step, _ in again[part][tag]] == [step for step, _ in scalars[part][tag]]
        np.testing.assert_allclose(values(again[part][tag]), values(scalars[part][tag]), rtol=1e-6)


def old_run(root: Path) -> RunFiles:
    """A finished run from before event files: metrics.jsonl only (with a stranger's junk row)."""
    files = RunFiles(root / "20200101-000000-old")
    files.path.mkdir(parents=True)
    files.write_meta(TrainingConfig(), "old", None)
    files.update_status(state="completed", created_at=time.time(), epochs=2)
    append_jsonl(files.metrics, [
        {"kind": "batch", "epoch": 1, "batch": 5, "step": 5, "loss": 2.0, "accuracy": 0.3},
        {"kind": "epoch", "epoch": 1, "loss": 1.5, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.6, "lr": 0.01},
        {"kind": "epoch", "epoch": "two", "loss": "<img>"},
        {"kind": "epoch", "epoch": 2, "loss": 1.0, "accuracy": 0.7, "val_loss": 0.9, "val_accuracy": 0.75, "lr": 0.005},
    ])  # fmt: skip
    return files


def test_event_files_from_metrics_skip_junk_and_leave_nothing_half_written(tmp_path: Path) -> None:
    files = old_run(tmp_path)
    assert write_from_metrics(files.path)
    scalars = read_scalars(files.path / TENSORBOARD_DIR)
    assert scalars["train"]["epoch_loss"] == [(1, 1.5), (2, 1.0)]
    assert scalars["train"]["batch_loss"] == [(5, 2.0)]
    np.testing.assert_allclose(values(scalars["validation"]["epoch_accuracy"]), [0.6, 0.75], rtol=1e-6)
    assert sorted(p.name for p in files.path.iterdir()) == [
        "config.json",
        "metrics.jsonl",
        "status.json",
        "tensorboard",
    ]
    assert not write_from_metrics(files.path)  # already there: left alone


def test_cli_tensorboard_fills_in_runs_without_event_files(tmp_path: Path) -> None:
    files = old_run(tmp_path / "runs")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "mnist_core", "tensorboard", "--runs-dir", str(tmp_path / "runs")]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {files.path}/tensorboard from its metrics.jsonl",
        "1 run(s) given event files; 0 already had them or have no epochs.",
        f"View every run: tensorboard --logdir {tmp_path / 'runs'}  (pip install tensorboard)",
    ]
    assert read_scalars(files.path / TENSORBOARD_DIR)["train"]["epoch_loss"] == [(1, 1.5), (2, 1.0)]
