"""The body of a training run: read the run folder, fit, checkpoint, evaluate, write results.

It runs inside the worker process (`python -m mnist_core.worker RUN_DIR`); everything it learns
goes into the run folder, which is all the app, the CLI and the tests ever read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core import run_files
from mnist_core.config import TrainingConfig
from mnist_core.data import MnistData, load_mnist, split_validation


@dataclass(frozen=True)
class Split:
    """The arrays one run trains and validates on, float32 in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    validation_label: str  # e.g. "MNIST test set (10,000)"


def make_split(data: MnistData, config: TrainingConfig) -> Split:
    """Apply train_limit and the validation choice to the loaded data."""
    x, y = data.x_train, data.y_train
    if config.train_limit and config.train_limit < len(y):  # first, so a small run validates on few digits
        keep = np.random.default_rng(config.seed).permutation(len(y))[: config.train_limit]
        x, y = x[keep], y[keep]
    if config.validation == "split":
        x, y, x_val, y_val = split_validation(x, y, config.validation_fraction, config.seed)
        label = f"held-out {config.validation_fraction:.0%} of train ({len(y_val):,})"
    else:
        x_val, y_val = data.x_test, data.y_test
        label = f"test set ({len(y_val):,})"
    if config.batch_size > len(y):
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the {len(y):,} training digits; "
            f"choose a batch size of at most {len(y):,}."
        )
    unit = lambda a: a.astype(np.float32) / 255.0  # noqa: E731
    return Split(unit(x), y.astype(np.int64), unit(x_val), y_val.astype(np.int64), label)


@dataclass(frozen=True)
class Plan:
    """How long a config trains on a dataset, known before it starts (the Train page shows it)."""

    digits: int  # training digits, after train_limit and the validation split
    steps_per_epoch: int
    epochs: int  # config.epochs, or more where min_steps needs them

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs


def plan(config: TrainingConfig, available: int) -> Plan:
    """The Plan of `config` on a train set of `available` digits (the same counts make_split gives)."""
    digits = min(config.train_limit, available) if config.train_limit else available
    if config.validation == "split":
        digits -= round(digits * config.validation_fraction)
    per_epoch = -(-max(1, digits) // config.batch_size)
    return Plan(digits, per_epoch, config.planned_epochs(per_epoch))


def _dataset(split: Split, config: TrainingConfig):
    """Numpy arrays for plain runs; a shuffled, augmented tf.data pipeline otherwise."""
    if not config.augmentation:
        return split.x_train, split.y_train
    import tensorflow as tf

    from mnist_core.augment import augment_batch

    ds = tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train))
    ds = ds.shuffle(len(split.y_train), seed=config.seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size).map(
        lambda x, y: (augment_batch(x, seed=config.seed), y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return ds.prefetch(tf.data.AUTOTUNE), None


def train(run_dir: Path) -> str:
    """Train the run in `run_dir` to its end; returns the final state."""
    files = run_files.RunFiles(run_dir)
    config = files.read_config()
    files.update_status(state="running", started_at=time.time(), message="Loading data…")
    try:
        data = load_mnist(files.data_dir())
        if files.finetune_spec() is not None:  # a fine-tune of a trained model (mnist_core.finetune)
            from mnist_core.finetune import finetune

            return finetune(files, config, data)
        split = make_split(data, config)
        files.update_status(
            data_source=data.source,
            message=f"Training on {len(split.y_train):,} digits, validating on the {split.validation_label}."
            + _more_epochs_note(split, config),
        )
        return _fit_and_finish(files, config, split, data)
    except Exception as error:  # the run must end with a readable status, whatever broke
        files.update_status(state="failed", ended_at=time.time(), message=f"Training failed: {error}")
        raise


@dataclass(frozen=True)
class RunCallbacks:
    """The callbacks of one run, and handles on the ones whose outcome matters afterwards."""

    stop: object  # StopRequest
    nan: object  # NanGuard
    best: object  # BestWeights
    logger: object  # MetricsLogger
    watch: object = None  # WatchDigits, when the run watches fixed digits

    @property
    def all(self) -> list:
        watch = [self.watch] if self.watch is not None else []
        return [self.logger, self.stop, self.nan, *watch, self.best]  # watch.json before status' epoch


def make_callbacks(
    files: run_files.RunFiles, config: TrainingConfig, steps_per_epoch: int, watch: tuple | None = None
) -> RunCallbacks:
    """Live metrics, stop requests, NaN guard, best-weights checkpoints and, given `watch`
    (images, labels, indices, source), the watch.json recorder for one run."""
    from mnist_core.callbacks import BestWeights, MetricsLogger, NanGuard, StopRequest
    from mnist_core.watch import WATCH_NAME, WatchDigits

    best = BestWeights(
        lambda m: files.save_model(m, "best"),
        patience=config.early_stopping_patience,
        on_epoch=lambda epoch: files.update_status(epoch=epoch),
    )
    logger = MetricsLogger(files.metrics, steps_per_epoch, config.batch_size)
    watcher = WatchDigits(files.path / WATCH_NAME, *watch) if watch is not None else None
    return RunCallbacks(StopRequest(files.stop_flag), NanGuard(), best, logger, watcher)


def fit(model, split: Split, config: TrainingConfig, callbacks: list):
    """model.fit on the split: plain arrays, or the augmented pipeline."""
    x, y = _dataset(split, config)
    return model.fit(
        x,
        y,
        batch_size=None if y is None else config.batch_size,
        epochs=epochs_to_run(split, config),
        validation_data=(split.x_val, split.y_val),
        shuffle=y is not None,  # a Dataset shuffles itself
        callbacks=callbacks,
        verbose=0,
    )


def _fit_and_finish(files: run_files.RunFiles, config: TrainingConfig, split: Split, data: MnistData) -> str:
    import keras

    from mnist_core.models import build_model
    from mnist_core.watch import test_set_watch

    keras.utils.set_random_seed(config.seed)
    model = build_model(config, steps_per_epoch=steps_per_epoch(split, config))
    return fit_and_finish(files, config, split, data, model, watch=test_set_watch(data))


def steps_per_epoch(split: Split, config: TrainingConfig) -> int:
    return -(-len(split.y_train) // config.batch_size)


def _more_epochs_note(split: Split, config: TrainingConfig) -> str:
    """' 8 epochs of 32 steps, to train at least 250 steps.' where min_steps adds epochs, else ''."""
    epochs = epochs_to_run(split, config)
    if epochs == config.epochs:
        return ""
    return f" {epochs} epochs of {steps_per_epoch(split, config)} steps, to train at least {config.min_steps} steps."


def epochs_to_run(split: Split, config: TrainingConfig) -> int:
    """config.epochs, or more where config.min_steps needs them on this split."""
    return config.planned_epochs(steps_per_epoch(split, config))


def fit_and_finish(
    files: run_files.RunFiles,
    config: TrainingConfig,
    split: Split,
    data: MnistData,
    model,
    watch: tuple | None = None,
    keep_best: bool = True,
    report=None,
) -> str:
    """Fit a compiled `model`, keep its best (else its last) weights, evaluate it on the test set,
    call `report(model)` if given, and write the final status; returns the final state."""
    epochs = epochs_to_run(split, config)
    files.update_status(epochs=epochs)
    run = make_callbacks(files, config, steps_per_epoch(split, config), watch=watch)
    stop, nan, best = run.stop, run.nan, run.best
    from mnist_core.tensorboard_log import tensorboard_callback  # issue 17: RUN_DIR/tensorboard/ event files

    fit(model, split, config, [*run.all, tensorboard_callback(files.path)])  # issue 17
    if nan.failed_at:
        epoch, batch = nan.failed_at
        files.update_status(
            state="failed",
            ended_at=time.time(),
            message=(
                f"The loss became NaN at epoch {epoch}, batch {batch}: training diverged. "
                f"Lower the learning rate (now {config.learning_rate:g}) or use batch normalisation."
            ),
        )
        return "failed"
    files.save_model(model, "final")
    if not (keep_best and best.restore()):
        files.save_model(model, "best")
    files.update_status(message="Evaluating on the test set…")
    _evaluate(files, model, data)
    if report is not None:
        report(model)
    return _finish(files, config, epochs, stop.requested, best if keep_best else None)


def _evaluate(files: run_files.RunFiles, model, data: MnistData) -> None:
    from mnist_core.evaluation import evaluate_probabilities, save_evaluation

    probabilities = model.predict(data.x_test.astype(np.float32) / 255.0, batch_size=1000, verbose=0)
    save_evaluation(files.path, evaluate_probabilities(probabilities, data.y_test, data.x_test))


def _finish(files: run_files.RunFiles, config: TrainingConfig, epochs: int, stopped: bool, best) -> str:
    accuracy = files.read_evaluation_accuracy()
    result = f"test accuracy {accuracy:.2%}" if accuracy is not None else "no evaluation"
    kept = f"best weights from epoch {best.best_epoch}" if best and best.best_epoch else "last weights"
    if stopped:
        state, message = "stopped", f"Stopped on request; kept the {kept}: {result}."
    elif best and best.early_stopped:
        state, message = (
            "completed",
            (
                f"Early stopping after {config.early_stopping_patience} epochs "
                f"without improvement; kept the {kept}: {result}."
            ),
        )
    else:
        state, message = (
            "completed",
            f"Completed {epochs} epoch{'' if epochs == 1 else 's'}; kept the {kept}: {result}.",
        )
    files.update_status(state=state, ended_at=time.time(), message=message)
    return state
