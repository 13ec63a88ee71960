"""Fine-tune on My digits: the held-out split, the run it starts, and (slow) that it actually helps."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from queue_utils import RecordingLauncher, use_launcher

from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.my_digits import add_digit
from mnist_core.my_digits.archive import import_file
from mnist_core.runs import finetune as ft
from mnist_core.runs.finetune import FinetuneError, finetune_report, holdout_mask, start_finetune
from mnist_core.training.watch import load_watch
from mnist_core.workers import worker

TINY = TrainingConfig(hidden_units=(16,), epochs=1, batch_size=64)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir)


def test_holdout_is_stratified_seeded_and_keeps_one_of_each_to_train():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 1 + [3] * 6)
    mask = holdout_mask(labels, 0.3, seed=0)
    assert [int(mask[labels == d].sum()) for d in range(4)] == [3, 1, 0, 2]
    assert np.array_equal(mask, holdout_mask(labels, 0.3, seed=0))
    assert not np.array_equal(mask, holdout_mask(labels, 0.3, seed=1))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.arange(9), "needs at least 10 of My digits; there are 9"),
        (np.arange(10), "Too few drawings per digit to hold any out"),
    ],
)
def test_holdout_needs_enough_digits(labels, message):
    with pytest.raises(FinetuneError, match=message):
        holdout_mask(labels)


@pytest.fixture
def tiny_base(tmp_path):
    from mnist_core.models import build_model

    path = tmp_path / "base" / "model.keras"
    path.parent.mkdir()
    build_model(TINY).save(path)
    return path


@pytest.fixture
def my_folder(tmp_path, mnist):
    """30 My digits: three MNIST test digits of each kind."""
    folder = tmp_path / "mine"
    for digit in range(10):
        for index in np.flatnonzero(mnist.y_test == digit)[:3]:
            add_digit(mnist.x_test[index] / np.float32(255), digit, folder)
    return folder


BAD_SETTINGS = [
    ({"epochs": 0}, "epochs is 0; fine-tune for 1 to 50 epochs"),
    ({"epochs": 2.0}, "epochs is 2.0"),
    ({"mnist_mix": -1}, "mnist_mix is -1; use 0 to 20"),
    ({"mnist_mix": "1"}, "mnist_mix is '1'"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS, ids=[m for _, m in BAD_SETTINGS])
def test_start_refuses_bad_settings(tmp_path, tiny_base, my_folder, settings, message):
    with pytest.raises(FinetuneError) as error:
        start_finetune(tiny_base, tmp_path / "runs", my_digits_dir=my_folder, **settings)
    assert message in str(error.value)
    assert not (tmp_path / "runs").exists()


def test_start_refuses_missing_and_foreign_models_and_too_few_digits(tmp_path, tiny_base, my_folder):
    import keras

    from mnist_core.drawing.predict import ModelLoadError

    with pytest.raises(ModelLoadError, match="model file not found"):
        start_finetune(tmp_path / "nope.keras", tmp_path / "runs", my_digits_dir=my_folder)
    foreign = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    foreign.save(tmp_path / "foreign.keras")
    with pytest.raises(FinetuneError, match="foreign.keras is not a Digit Lab model"):
        start_finetune(tmp_path / "foreign.keras", tmp_path / "runs", my_digits_dir=my_folder)
    with pytest.raises(FinetuneError, match="there are 0"):
        start_finetune(tiny_base, tmp_path / "runs", my_digits_dir=tmp_path / "empty")


def test_a_fine_tune_run_end_to_end_in_process(tmp_path, tiny_base, my_folder, mnist_dir, monkeypatch):
    """start_finetune writes what the worker needs; worker.run (run here) measures and reports."""
    use_launcher(monkeypatch, RecordingLauncher(slots=1))  # handed out, trained below in this process
    handle = start_finetune(
        tiny_base, tmp_path / "runs", epochs=2, mnist_mix=0.5, my_digits_dir=my_folder, data_dir=mnist_dir
    )
    spec = json.loads((handle.path / "config.json").read_text())["finetune"]
    assert spec == {
        "base_model": str(tiny_base.resolve()),
        "my_digits": "my_digits.npz",
        "mnist_mix": 0.5,
        "repeat": 50,
    }  # ceil(1000 / 20 training digits)
    assert handle.config.epochs == 2 and handle.config.learning_rate == ft.LEARNING_RATE
    assert handle.name == "fine-tune model"
    second = start_finetune(tiny_base, tmp_path / "runs", my_digits_dir=my_folder)
    assert second.status().is_waiting  # the first holds the only slot: the second waits in the queue
    second.stop()
    assert finetune_report(handle) is None
    assert worker.run(handle.path) == "completed"
    report = finetune_report(handle)
    assert report.train == {"my_digits": 20, "repeat": 50, "mnist": 500}
    assert report.holdout.n == 10 and sorted(row.label for row in report.held_out) == list(range(10))
    assert report.test.n == 10_000 and report.test.after == handle.evaluation().accuracy
    assert report.test.after > report.test.before  # an untrained base learns from the mix
    status = handle.status()
    assert status.state == "completed" and "kept the last weights" in status.message
    assert [row["epoch"] for row in handle.metrics().epochs] == [1, 2]
    watch = load_watch(handle.path)
    assert watch.source == "held-out My digits" and watch.epochs == [0, 1, 2] and len(watch.labels) == 10


STYLE = {1: "1 flag", 7: "7 bar"}  # a European 1 with a long flag, a 7 with a bar


def drawings(per_digit: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pen drawings through the Draw page's path: template strokes -> canvas -> canvas_to_mnist."""
    import digit_drawings as strokes
    from mnist_core.drawing.preprocess import canvas_to_mnist

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in range(10):
        for _ in range(per_digit):
            centre = (140 + rng.uniform(-15, 15), 140 + rng.uniform(-15, 15))
            paths = strokes.template_strokes(
                STYLE.get(digit, str(digit)),
                rng.uniform(150, 210),
                centre,
                rng.uniform(-0.1, 0.15),
                rng.uniform(0.85, 1.1),
                0.04,
                int(rng.integers(2**31)),
            )
            images.append(canvas_to_mnist(strokes.render_strokes(paths, 280, rng.uniform(14, 24))))
            labels.append(digit)
    return np.stack(images).astype(np.float32), np.array(labels)


def base_model_and_data(tmp_path, mnist, mnist_dir):
    """A base model and the MNIST it was trained on, so the fine-tune mixes in only digits the base has
    seen (fresh digits would flatter the forgetting figure): the starter model with full MNIST if it is
    there, else a small CNN trained here on 4,000 digits (96.7% on the test set) with those 4,000 and
    the full test set."""
    from mnist_core.drawing.predict import STARTER_MODEL_PATH
    from mnist_core.models import build_model

    if STARTER_MODEL_PATH.is_file():
        return STARTER_MODEL_PATH, mnist_dir
    data = tmp_path / "mnist4k"
    data.mkdir()
    np.savez(
        data / "mnist.npz",
        x_train=mnist.x_train[:4000],
        y_train=mnist.y_train[:4000],
        x_test=mnist.x_test,
        y_test=mnist.y_test,
    )
    config = TrainingConfig(
        architecture="cnn",
        conv_filters=(16, 32),
        dense_units=64,
        batch_norm=True,
        learning_rate=3e-3,
        lr_schedule="warmup_cosine",
        epochs=3,
        batch_size=64,
    )
    model = build_model(config, steps_per_epoch=63)
    model.fit(mnist.x_train[:4000] / np.float32(255), mnist.y_train[:4000], epochs=3, batch_size=64, verbose=0)
    model.save(tmp_path / "base.keras")
    return tmp_path / "base.keras", data


@pytest.mark.slow
def test_fine_tuning_learns_my_style_without_forgetting_mnist(tmp_path, mnist, mnist_dir):
    images, labels = drawings()
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    assert import_file(tmp_path / "mine.npz", tmp_path / "mine") == 100
    base, data_dir = base_model_and_data(tmp_path, mnist, mnist_dir)
    handle = start_finetune(base, tmp_path / "runs", epochs=3, my_digits_dir=tmp_path / "mine", data_dir=data_dir)
    status = handle.wait(timeout=600)
    assert status.state == "completed", status.message
    report = finetune_report(handle)
    print("\nfine-tune:", json.dumps({k: dataclasses.asdict(report)[k] for k in ("train", "holdout", "test")}))
    print(
        "held-out European 1s and barred 7s (label, before, after):",
        [(r.label, r.before, r.after) for r in report.held_out if r.label in STYLE],
    )
    assert report.holdout.n == 30 and report.test.n == 10_000
    assert report.holdout.after >= 0.9 and report.holdout.after >= report.holdout.before
    assert report.test.after >= report.test.before - 0.003  # at most 0.3 points lost on MNIST
