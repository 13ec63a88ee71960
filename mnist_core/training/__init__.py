"""Training: what runs inside a worker. The input pipeline, augmentation, callbacks, what the run
watches, fine-tunes and weight mixing. Here, a run's body: read the folder, fit, checkpoint, evaluate.

It runs inside the worker process (`python -m mnist_core.workers.worker RUN_DIR`, which chooses between
`train` here and `training.finetune.finetune_run`); everything it learns goes into the run folder,
which is all the app, the CLI and the tests ever read.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_core.config import TrainingConfig
from mnist_core.data import MnistData, load_mnist, split_validation
from mnist_core.runs import files as run_files
from mnist_core.training.watch import WatchedDigits

VALIDATION_BATCH = 256  # digits per batch when only predicting: a CNN's first activations of 1,000 are 100 MB

if TYPE_CHECKING:  # Keras loads only when a run trains
    from mnist_core.training.callbacks import BestWeights, MetricsLogger, NanGuard, StopRequest


@dataclass(frozen=True)
class Split:
    """The arrays one run trains and validates on: uint8 pixels 0..255 (N, 28, 28), cast to float32 a
    batch at a time by `pipeline.batches` (float32 in [0, 1] works too, as a fine-tune's mix is)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    validation_label: str  # e.g. "MNIST test set (10,000)"


def make_split(data: MnistData, config: TrainingConfig) -> Split:
    """Apply train_limit and the validation choice to the loaded data.

    A warm worker trains many runs on the same loaded data, mostly with the same split: the last split made
    is kept and given again (its arrays are never written to), which saves copying 42 MB of digits (~0.3 s
    of a run's start on a loaded machine). The key is everything the split depends on."""
    key = (id(data), config.train_limit, config.validation, config.validation_fraction, config.seed)
    if _LAST_SPLIT and _LAST_SPLIT[0] == key and _LAST_SPLIT[1] is data:
        split = _LAST_SPLIT[2]
    else:
        split = _make_split(data, config)
        _LAST_SPLIT[:] = [key, data, split]
    digits, held = len(split.y_train), len(split.y_val)
    if config.batch_size > digits:
        held_out = f" ({digits + held:,} less the {held:,} held out for validation)"
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the {digits:,} training digits"
            f"{held_out if config.validation == 'split' else ''}; choose a batch size of at most {digits:,}."
        )
    return split


_LAST_SPLIT: list = []  # [key, the data it was made from (keeps its id unique), Split]: make_split's last one


def _make_split(data: MnistData, config: TrainingConfig) -> Split:
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
    return Split(x, y.astype(np.int64), x_val, y_val.astype(np.int64), label)  # uint8: no float copy of the set


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


Body = Callable[[run_files.RunFiles, TrainingConfig, MnistData], str]


def train(run_dir: Path) -> str:
    """Train the run in `run_dir` to its end; returns the final state."""
    return run_in_folder(run_dir, _train)


def run_in_folder(run_dir: Path, body: Body) -> str:
    """Mark the run running, load its data and call `body(files, config, data)`; whatever breaks,
    the run ends with a readable status. Returns the final state."""
    files = run_files.RunFiles(run_dir)
    config = files.read_config()
    try:
        files.update_status(state="running", started_at=time.time(), message="Loading data…")
        return body(files, config, load_mnist(files.data_dir()))
    except Exception as error:  # the run must end with a readable status, whatever broke
        try:
            files.update_status(state="failed", ended_at=time.time(), message=failure_message(files, error))
        except OSError:  # not even status.json could be written: the app reads the dead worker as interrupted
            pass
        raise


def failure_message(files: run_files.RunFiles, error: BaseException) -> str:
    """What a failed run's status says: a full disk is named as such, with what to do."""
    full = _disk_full(error)
    if full is None:
        return f"Training failed: {str(error)[:1500]}"  # status.json holds at most 4,000 characters of message
    kept = "The best checkpoint so far is kept." if files.model_file("best").is_file() else "No checkpoint was saved."
    written = re.search(r"Could not write (.+?): ", full.strerror or "")  # a StorageError names its file
    file = Path(written.group(1) if written else str(full.filename or "a run file")).name
    return f"The disk is full (writing {file}): {os.strerror(errno.ENOSPC)}; free space and start again. {kept}"


def _disk_full(error: BaseException | None) -> OSError | None:
    """The ENOSPC OSError (a StorageError too) in `error` or what caused it, if there is one."""
    for _ in range(8):  # Keras may wrap the OSError of a failed save in its own exception
        if error is None:
            return None
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return error
        error = error.__cause__ or error.__context__
    return None


def _train(files: run_files.RunFiles, config: TrainingConfig, data: MnistData) -> str:
    if files.finetune_spec() is not None:
        raise ValueError("this is a fine-tune run; the worker runs it with mnist_core.training.finetune.")
    from mnist_core.training.accelerator import use_accelerator  # a GPU when TensorFlow sees one

    split, device = make_split(data, config), use_accelerator()
    files.update_status(
        data_source=data.source,
        message=f"Training on {len(split.y_train):,} digits, validating on the {split.validation_label}"
        + ("." if device == "CPU" else f", on the {device}.")
        + _more_epochs_note(split, config),
    )
    return _fit_and_finish(files, config, split, data)


@dataclass(frozen=True)
class RunCallbacks:
    """The callbacks of one run, and handles on the ones whose outcome matters afterwards."""

    stop: StopRequest  # did someone ask the run to stop?
    nan: NanGuard  # did the loss diverge, and when?
    best: BestWeights  # the best epoch's weights, early stopping
    logger: MetricsLogger
    watch: object = None  # a WatchDigits, when the run watches fixed digits

    @property
    def all(self) -> list:
        watch = [self.watch] if self.watch is not None else []
        return [self.logger, self.stop, self.nan, *watch, self.best]  # watch.json before status' epoch


def make_callbacks(
    files: run_files.RunFiles, config: TrainingConfig, steps_per_epoch: int, watch: WatchedDigits | None = None
) -> RunCallbacks:
    """Live metrics, stop requests, NaN guard, best-weights checkpoints and, given `watch`, the
    watch.json recorder for one run."""
    from mnist_core.training.callbacks import BestWeights, MetricsLogger, NanGuard, StopRequest
    from mnist_core.training.watch import WatchDigits

    best = BestWeights(
        lambda m: files.save_model(m, "best"),
        patience=config.early_stopping_patience,
        on_epoch=lambda epoch: files.update_status(epoch=epoch),
    )
    logger = MetricsLogger(files.append_metrics, steps_per_epoch, config.batch_size)
    watcher = None
    if watch is not None:
        watcher = WatchDigits(files.watch_file, watch.images, watch.labels, watch.indices, watch.source)
    return RunCallbacks(StopRequest(files.stop_flag), NanGuard(), best, logger, watcher)


def fit(model, split: Split, config: TrainingConfig, callbacks: list):
    """model.fit on the split through the uint8 pipeline (shuffled, augmented if the config says so)."""
    from mnist_core.training.pipeline import batches

    augment_seed = config.seed if config.augmentation else None
    return model.fit(
        batches(split.x_train, split.y_train, config.batch_size, shuffle_seed=config.seed, augment_seed=augment_seed),
        epochs=epochs_to_run(split, config),
        validation_data=batches(split.x_val, split.y_val, VALIDATION_BATCH),
        shuffle=False,  # the dataset reshuffles itself every pass
        callbacks=callbacks,
        verbose=0,
    )


def _fit_and_finish(files: run_files.RunFiles, config: TrainingConfig, split: Split, data: MnistData) -> str:
    import keras

    from mnist_core.training.kept_model import model_for
    from mnist_core.training.watch import test_set_watch

    keras.utils.set_random_seed(config.seed)
    model = model_for(config, steps_per_epoch(split, config))
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
    watch: WatchedDigits | None = None,
    keep_best: bool = True,
    report=None,
) -> str:
    """Fit a compiled `model`, keep its best (else its last) weights, evaluate it on the test set,
    call `report(model)` if given, and write the final status; returns the final state."""
    epochs = epochs_to_run(split, config)
    files.update_status(epochs=epochs)
    run = make_callbacks(files, config, steps_per_epoch(split, config), watch=watch)
    stop, nan, best = run.stop, run.nan, run.best
    from mnist_core.training.tensorboard_log import tensorboard_callback  # RUN_DIR/tensorboard/ event files

    fit(model, split, config, [*run.all, tensorboard_callback(files.path)])
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
    from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation
    from mnist_core.training.pipeline import predict_pixels

    probabilities = predict_pixels(model, data.x_test, batch_size=VALIDATION_BATCH)
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
