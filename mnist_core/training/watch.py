"""Watch it learn: the model's guesses on 100 fixed digits, recorded before training and after each epoch.

During a run the `WatchDigits` callback rewrites `watch.json` in the run folder (atomically) with
one row per epoch; `load_watch(run_dir)` reads it back as a `Watch`. Importing this module is cheap:
Keras loads only when `WatchDigits` is first used.

watch.json: {"source": str, "indices": [int], "labels": [int], "images": base64 of uint8 (N, 28, 28),
"rows": [{"epoch": 0 (before training), 1, ..., "guesses": [int], "confidence": [float], "accuracy",
"cost_s": seconds this row took}]}
"""

from __future__ import annotations

import base64
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.digits import NUM_CLASSES, to_uint8, to_unit_float
from mnist_core.runs.files import WATCH as WATCH_NAME  # the name pages know it by
from mnist_core.runs.files import write_record
from mnist_core.runs.schema import DamagedRunFile, read_watch

N_WATCH = 100  # 10 per digit: a 10x10 grid, one row per digit


@dataclass(frozen=True, eq=False)
class Watch:
    """What watch.json holds: the fixed digits and the model's guesses on them, epoch by epoch."""

    source: str  # where the digits come from, e.g. "MNIST test set"
    indices: list[int]  # each digit's position in that source
    labels: np.ndarray  # int64 (N,) true digits
    images: np.ndarray  # uint8 (N, 28, 28)
    epochs: list[int]  # epoch of each row; 0 = before training
    guesses: np.ndarray  # int64 (E, N): the predicted digit per row and digit
    confidence: np.ndarray  # float32 (E, N): the probability of that guess

    @property
    def accuracy(self) -> np.ndarray:
        """float64 (E,): share of the fixed digits guessed right after each epoch."""
        return (self.guesses == self.labels[None]).mean(axis=1)


@dataclass(frozen=True, eq=False)
class WatchedDigits:
    """The fixed digits one run watches (what `WatchDigits` records the model's guesses on)."""

    images: np.ndarray  # float32 (N, 28, 28) in [0, 1]
    labels: np.ndarray  # int (N,) true digits
    indices: np.ndarray  # each digit's position in `source`
    source: str  # e.g. "test set", "held-out My digits"


def fixed_watch_indices(n: int = N_WATCH, seed: int = 0, labels: np.ndarray | None = None) -> np.ndarray:
    """n // 10 test-set positions per digit, chosen once by `seed`, sorted by digit then position.

    `labels` are the test labels to choose from (default: the MNIST test set `load_mnist()` finds).
    A digit with fewer examples contributes all it has. Returns int64 (<= n,).
    """
    if labels is None:
        from mnist_core.data import load_mnist

        labels = load_mnist().y_test
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    per_class = max(1, n // NUM_CLASSES)
    picked = [np.sort(rng.permutation(np.flatnonzero(labels == d))[:per_class]) for d in range(NUM_CLASSES)]
    return np.concatenate(picked).astype(np.int64)


def test_set_watch(data) -> WatchedDigits:
    """The fixed digits of a run on `data` (an MnistData)."""
    indices = fixed_watch_indices(labels=data.y_test)
    return WatchedDigits(to_unit_float(data.x_test[indices]), data.y_test[indices], indices, "test set")


def load_watch(run_dir: str | Path) -> Watch | None:
    """The run's `Watch`, or None if it has no (readable) watch.json yet.

    A page calls ``load_watch(run.path)`` every second while a run trains and draws the grid of
    ``watch.images`` coloured by ``watch.guesses[-1] == watch.labels``.
    """
    try:
        raw = read_watch(Path(run_dir) / WATCH_NAME)  # the schema checks every length against the labels'
    except DamagedRunFile:  # none yet, or damaged (RunFiles.damage says what is wrong)
        return None
    labels, rows = np.asarray(raw.labels, dtype=np.int64), raw.rows
    images = np.frombuffer(base64.b64decode(raw.images), dtype=np.uint8).reshape(len(labels), 28, 28)
    guesses = np.asarray([row.guesses for row in rows], dtype=np.int64).reshape(len(rows), len(labels))
    confidence = np.asarray([row.confidence for row in rows], np.float32).reshape(guesses.shape)
    return Watch(raw.source, list(raw.indices), labels, images.copy(), [row.epoch for row in rows], guesses, confidence)


class DigitWatcher:
    """Keeps the rows of one run's watch.json and rewrites the file after each new row."""

    def __init__(
        self, path: str | Path, images: np.ndarray, labels: np.ndarray, indices=None, source: str = "MNIST test set"
    ):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise ValueError(
                f"WatchDigits needs images (N, 28, 28) and labels (N,); got {images.shape} and {labels.shape}."
            )
        if not np.issubdtype(images.dtype, np.floating) or images.min() < 0 or images.max() > 1:
            raise ValueError("WatchDigits needs float images in [0, 1] (what the model takes).")
        self.path, self.source = Path(path), source
        self.x = np.ascontiguousarray(images, dtype=np.float32)
        self.labels = labels.astype(np.int64)
        self.indices = list(range(len(labels))) if indices is None else [int(i) for i in indices]
        self.rows: list[dict] = []

    def record(self, epoch: int, probabilities: np.ndarray, cost_s: float) -> None:
        """Add the row for `epoch` from (N, 10) probabilities and rewrite watch.json."""
        guesses = probabilities.argmax(axis=1)
        self.rows.append(
            {
                "epoch": epoch,
                "guesses": guesses.tolist(),
                "cost_s": round(cost_s, 5),
                "confidence": np.round(probabilities.max(axis=1), 4).tolist(),
                "accuracy": float(np.mean(guesses == self.labels)),
            }
        )
        pixels = to_uint8(self.x)
        write_record(
            self.path,
            {
                "source": self.source,
                "indices": self.indices,
                "labels": self.labels.tolist(),
                "images": base64.b64encode(pixels.tobytes()).decode(),
                "rows": self.rows,
            },
        )


def __getattr__(name: str):
    if name == "WatchDigits":  # built on first use so that reading watch.json never loads Keras
        return _watch_digits_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _watch_digits_class():
    import keras

    class WatchDigits(keras.callbacks.Callback):
        """Record the model's guesses on fixed digits before training and after every epoch.

        ``WatchDigits(run_dir / "watch.json", images float32 (N, 28, 28) in [0, 1], labels (N,),
        indices=None, source="MNIST test set")``. One forward pass of N images per epoch (about a
        millisecond per 100 digits for Digit Lab models); a failure is logged, never fatal to a run.
        """

        def __init__(self, path, images, labels, indices=None, source: str = "MNIST test set"):
            super().__init__()
            self.watcher = DigitWatcher(path, images, labels, indices, source)
            self.costs: list[float] = []

        def on_train_begin(self, logs=None) -> None:
            self._record(0)

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            self._record(epoch + 1)

        def _record(self, epoch: int) -> None:
            start = time.perf_counter()
            try:
                probabilities = np.asarray(self.model(self.watcher.x, training=False), dtype=np.float32)
                self.watcher.record(epoch, probabilities, time.perf_counter() - start)
            except Exception as error:  # a picture of progress must never end a run
                print(f"WatchDigits: could not record epoch {epoch}: {error}", file=sys.stderr)
            self.costs.append(time.perf_counter() - start)

    return WatchDigits
