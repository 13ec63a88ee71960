"""A warm worker's kept model: a run on it trains exactly as on the model `build_model` makes, on steps traced once."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.runs import RunHandle
from mnist_core.runs.files import RunFiles
from mnist_core.training import kept_model

# Dropout (a seed state in the model), Adam's moments and a warm-up schedule: every kind of state a run starts from
SMALL = TrainingConfig(
    architecture="cnn", conv_filters=(4,), dense_units=16, dropout=0.3, lr_schedule="warmup_cosine",
    learning_rate=3e-3, train_limit=600, batch_size=64, epochs=2,
)  # fmt: skip


def run_here(root: Path, name: str, config: TrainingConfig) -> RunHandle:
    """Train a run on the embedded sample in this process, as a warm worker does, and clean up after it."""
    pytest.importorskip("keras")
    from mnist_core.training import train
    from mnist_core.workers.worker import between_runs

    path = root / f"20200101-000000-{name}"
    path.mkdir()
    files = RunFiles(path)
    files.write_meta(config, name, None)
    files.update_status(state="queued", created_at=time.time(), epochs=config.epochs)
    assert train(path) == "completed"
    between_runs()
    return RunHandle(path)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """As a process starts: keeping nothing, nothing kept (and so again after each test)."""
    monkeypatch.setattr(kept_model, "_KEEP", False)
    monkeypatch.setattr(kept_model, "_kept", None)


def test_a_run_on_the_kept_model_trains_exactly_as_on_a_fresh_one(tmp_path: Path) -> None:
    alone = run_here(tmp_path, "alone", SMALL)
    kept_model.keep_models()
    run_here(tmp_path, "before", SMALL.replace(seed=9))  # the model kept, then trained from another start
    model = kept_model._kept[1]
    traced = model.train_function
    again = run_here(tmp_path, "again", SMALL)
    assert kept_model._kept[1] is model and model.train_function is traced  # the same model, not traced again
    np.testing.assert_array_equal(again.evaluation().probabilities, alone.evaluation().probabilities)
    assert [r["loss"] for r in again.metrics().batches] == [r["loss"] for r in alone.metrics().batches]


def test_a_run_of_another_shape_gets_a_model_of_its_own(tmp_path: Path) -> None:
    kept_model.keep_models()
    run_here(tmp_path, "first", SMALL)
    first = kept_model._kept[1]
    run_here(tmp_path, "wider", SMALL.replace(dense_units=32))
    assert kept_model._kept[1] is not first
    assert kept_model._kept[1].get_layer("probabilities").input.shape[-1] == 32


def test_a_single_run_process_keeps_nothing(tmp_path: Path) -> None:
    run_here(tmp_path, "once", SMALL)
    assert kept_model._kept is None
