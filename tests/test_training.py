"""mnist_core.training: the data a run sees, and how a run ends (in this process, no worker)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.data import MnistData
from mnist_core.runs import RunHandle
from mnist_core.runs.files import RunFiles
from mnist_core.training import make_split

N_TRAIN, N_TEST = 1000, 200


def numbered_data() -> MnistData:
    """Images whose first two pixels spell their index, so splits can be checked for overlap."""
    x = np.zeros((N_TRAIN + N_TEST, 28, 28), dtype=np.uint8)
    index = np.arange(N_TRAIN + N_TEST)
    x[:, 0, 0], x[:, 0, 1] = index // 256, index % 256
    y = index % 10
    return MnistData(x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:], "numbered", "custom")


def indices(images: np.ndarray) -> np.ndarray:
    pixels = images.astype(int) if images.dtype == np.uint8 else np.rint(images * 255).astype(int)
    return pixels[:, 0, 0] * 256 + pixels[:, 0, 1]


def test_test_validation_uses_the_test_set_and_limits_train() -> None:
    split = make_split(numbered_data(), TrainingConfig(train_limit=300, seed=3, validation="test"))
    assert len(split.y_train) == 300 and len(np.unique(indices(split.x_train))) == 300
    np.testing.assert_array_equal(indices(split.x_val), np.arange(N_TRAIN, N_TRAIN + N_TEST))
    assert split.validation_label == "test set (200)"
    assert split.x_train.dtype == np.uint8 and split.x_val.dtype == np.uint8  # cast a batch at a time (issue 18)
    assert split.y_train.dtype == np.int64
    np.testing.assert_array_equal(split.y_train, indices(split.x_train) % 10)  # images keep their labels


@pytest.mark.parametrize(("fraction", "n_val"), [(0.25, 250), (0.1, 100), (0.9, 900), (0.01, 10)])
def test_split_validation_holds_out_that_fraction_of_train(fraction: float, n_val: int) -> None:
    split = make_split(numbered_data(), TrainingConfig(validation="split", validation_fraction=fraction, batch_size=8))
    train, val = indices(split.x_train), indices(split.x_val)
    assert (len(train), len(val)) == (N_TRAIN - n_val, n_val)
    assert not set(train) & set(val) and set(train) | set(val) == set(range(N_TRAIN))  # never the test set
    assert split.validation_label == f"held-out {fraction:.0%} of train ({n_val:,})"


def test_split_is_seeded() -> None:
    config = TrainingConfig(validation="split", train_limit=100, batch_size=10)
    first, again = make_split(numbered_data(), config), make_split(numbered_data(), config)
    other = make_split(numbered_data(), config.replace(seed=1))
    np.testing.assert_array_equal(indices(first.x_val), indices(again.x_val))
    np.testing.assert_array_equal(indices(first.x_train), indices(again.x_train))
    assert not np.array_equal(indices(first.x_val), indices(other.x_val))


def test_a_warm_worker_reuses_the_last_split_only_for_the_same_data_and_settings() -> None:
    data, config = numbered_data(), TrainingConfig(validation="split", train_limit=100, batch_size=10)
    first = make_split(data, config)
    assert make_split(data, config) is first  # the next run of a warm worker: no 42 MB copy again
    assert make_split(data, config.replace(learning_rate=0.5, epochs=3)) is first  # what the split ignores
    for other in (config.replace(seed=1), config.replace(train_limit=200), config.replace(validation_fraction=0.2)):
        assert make_split(data, other) is not first
    assert make_split(numbered_data(), config) is not first  # other data (another object), another split
    with pytest.raises(ValueError, match="batch_size 95 is larger than the 90 training digits"):
        make_split(data, config.replace(batch_size=95))  # the size check holds for a split given again too


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TrainingConfig(batch_size=1001, validation="test"),
         "batch_size 1001 is larger than the 1,000 training digits; choose a batch size of at most 1,000."),
        (TrainingConfig(batch_size=128, train_limit=100, validation="test"),
         "batch_size 128 is larger than the 100 training digits; choose a batch size of at most 100."),
        (TrainingConfig(batch_size=800, validation_fraction=0.25), "batch_size 800 is larger than the 750 training "
         "digits (1,000 less the 250 held out for validation); choose a batch size of at most 750."),
    ],
    ids=["all-data", "train-limit", "after-split"],
)  # fmt: skip
def test_batch_larger_than_the_training_data(config: TrainingConfig, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make_split(numbered_data(), config)


def test_batch_equal_to_the_training_data_is_fine() -> None:
    assert (
        len(make_split(numbered_data(), TrainingConfig(batch_size=100, train_limit=100, validation="test")).y_train)
        == 100
    )


# --- whole runs in this process ---------------------------------------------------------------


def run_here(root: Path, config: TrainingConfig, data_dir: Path) -> RunHandle:
    """Create a run folder and train it in this process, as the worker would."""
    pytest.importorskip("keras")
    from mnist_core.training import train

    path = root / "20200101-000000-here"
    path.mkdir()
    files = RunFiles(path)
    files.write_meta(config, "here", str(data_dir))
    files.update_status(state="queued", created_at=time.time(), epochs=config.epochs)
    train(path)
    return RunHandle(path)


def run_here_with_messages(root: Path, config: TrainingConfig, data_dir: Path) -> tuple[RunHandle, list[str]]:
    """run_here, and every status message the run wrote, as the Train page would show them."""
    messages: list[str] = []
    original = RunFiles.update_status

    def spy(self: RunFiles, **changes):
        messages.append(changes.get("message", ""))
        return original(self, **changes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunFiles, "update_status", spy)
        return run_here(root, config, data_dir), messages


DIVERGES = TrainingConfig(hidden_units=(128, 128, 128, 128), optimizer="sgd", learning_rate=10.0, scaling="raw",
                          batch_size=50, train_limit=500, epochs=2)  # fmt: skip


@pytest.mark.slow
def test_diverging_run_fails_and_says_to_lower_the_learning_rate(tmp_path: Path, mnist_dir: Path) -> None:
    handle = run_here(tmp_path, DIVERGES, mnist_dir)
    status = handle.status()
    assert status.state == "failed" and status.ended_at is not None
    assert re.fullmatch(
        r"The loss became NaN at epoch 1, batch \d+: training diverged\. "
        r"Lower the learning rate \(now 10\) or use batch normalisation\.",
        status.message,
    )
    assert len(handle.metrics().epochs) == 1  # it stopped at once instead of running on
    assert handle.model_path("best") is None, "a NaN model must not be offered as the best one"
    assert handle.evaluation() is None


@pytest.mark.slow
def test_split_validation_run_with_augmentation(tmp_path: Path, mnist_dir: Path) -> None:
    config = TrainingConfig(hidden_units=(16,), validation="split", validation_fraction=0.05, train_limit=300,
                            batch_size=50, epochs=1, augmentation=True)  # fmt: skip
    handle, messages = run_here_with_messages(tmp_path, config, mnist_dir)
    status = handle.status()
    assert status.state == "completed", status.message
    assert "Training on 285 digits, validating on the held-out 5% of train (15)." in messages
    assert status.message.startswith("Completed 1 epoch; kept the best weights from epoch 1: test accuracy ")
    epochs = handle.metrics().epochs
    assert len(epochs) == 1 and 0.0 <= epochs[0]["val_accuracy"] <= 1.0
    assert handle.evaluation().confusion.sum() == 10_000  # the test set stays for the final evaluation


# --- a budget of steps: small datasets train for more epochs -------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(batch_size=128),
        TrainingConfig(batch_size=128, train_limit=300),
        TrainingConfig(batch_size=32, validation="split", validation_fraction=0.25),
        TrainingConfig(batch_size=10, validation="split", validation_fraction=0.1, train_limit=333),
        TrainingConfig(batch_size=7, train_limit=5000),  # more than there is: all 1,000
    ],
)
def test_plan_counts_the_digits_and_steps_make_split_gives(config: TrainingConfig) -> None:
    from mnist_core.training import plan, steps_per_epoch

    split = make_split(numbered_data(), config)
    planned = plan(config, N_TRAIN)
    assert (planned.digits, planned.steps_per_epoch) == (len(split.y_train), steps_per_epoch(split, config))
    assert planned.epochs == config.epochs and planned.steps == planned.steps_per_epoch * config.epochs


@pytest.mark.slow
def test_min_steps_trains_more_epochs_on_a_small_dataset_and_says_so(tmp_path: Path, mnist_dir: Path) -> None:
    config = TrainingConfig(
        hidden_units=(8,), batch_size=100, train_limit=300, epochs=1, min_steps=10, validation="test"
    )
    handle, messages = run_here_with_messages(tmp_path, config, mnist_dir)
    status = handle.status()
    assert (
        "Training on 300 digits, validating on the test set (10,000). 4 epochs of 3 steps, to train at least 10 steps."
        in messages
    )
    assert (status.state, status.epoch, status.epochs) == ("completed", 4, 4)
    assert status.message.startswith("Completed 4 epochs; kept the ")
    assert [row["epoch"] for row in handle.metrics().epochs] == [1, 2, 3, 4]


def test_a_full_run_trains_on_the_loaded_uint8_digits_themselves() -> None:
    """No copy of the set, let alone a float32 one (issue 18: 188 MB for full MNIST)."""
    data = numbered_data()
    split = make_split(data, TrainingConfig(validation="test"))
    assert split.x_train is data.x_train and split.x_val is data.x_test
