"""Test-set evaluation of a model: accuracy, loss, confusion matrix, per-class scores.

Everything derives from the predicted probabilities, so a run's evaluation can be stored once
and browsed later without the model.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.checks.zip_safety import ARCHIVE_ERRORS
from mnist_core.digits import NUM_CLASSES, to_unit_float
from mnist_core.runs.files import EVALUATION, EVALUATION_ARRAYS, RunFiles
from mnist_core.storage import atomic_path, write_npz

STORED_SUFFIX = ".evaluation.npz"  # next to a model file: its probabilities on a test set
_SHIPPED = Path(__file__).resolve().parents[1]  # the package: its models' stored evaluations are never rewritten


@dataclass(frozen=True)
class Evaluation:
    """A model's results on a labelled test set."""

    loss: float  # mean cross-entropy
    accuracy: float  # share of correct predictions, 0..1
    confusion: np.ndarray  # (10, 10) int counts, rows = true digit, columns = predicted
    per_class: list[dict]  # one dict per digit: digit, precision, recall, f1, support
    probabilities: np.ndarray  # (N, 10) float32
    labels: np.ndarray  # (N,) int64 true digits
    images: np.ndarray  # (N, 28, 28) uint8 test digits

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(N,), (N,) ints -> (10, 10) int64 counts, rows = true, columns = predicted."""
    flat = labels.astype(np.int64) * NUM_CLASSES + predictions.astype(np.int64)
    return np.bincount(flat, minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES)


def per_class_scores(confusion: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support of each digit from a confusion matrix."""
    hits = np.diag(confusion).astype(float)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(hits), where=total > 0)
    return [
        {
            "digit": d,
            "precision": float(precision[d]),
            "recall": float(recall[d]),
            "f1": float(f1[d]),
            "support": int(actual[d]),
        }
        for d in range(NUM_CLASSES)
    ]


def evaluate_probabilities(probabilities: np.ndarray, labels: np.ndarray, images: np.ndarray) -> Evaluation:
    """Summarise (N, 10) predicted probabilities against the true labels."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    true_p = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.mean(np.log(np.clip(true_p, 1e-7, 1.0)))) if len(labels) else float("nan")
    confusion = confusion_matrix(labels, probabilities.argmax(axis=1))
    accuracy = float(np.trace(confusion) / max(1, len(labels)))
    return Evaluation(
        loss,
        accuracy,
        confusion,
        per_class_scores(confusion),
        probabilities,
        labels,
        np.asarray(images, dtype=np.uint8),
    )


def save_evaluation(folder: Path, evaluation: Evaluation) -> None:
    """Write evaluation.npz then evaluation.json (the JSON's presence marks it complete)."""
    files = RunFiles(folder)
    # float32: float16 rounding ties top-2 probabilities, so argmax would disagree with `confusion`.
    arrays = {
        "probabilities": evaluation.probabilities.astype(np.float32),
        "labels": evaluation.labels.astype(np.uint8),
        "images": evaluation.images,
    }
    files.save_arrays(EVALUATION_ARRAYS, lambda tmp: write_npz(tmp, arrays))
    summary = {
        "loss": evaluation.loss,
        "accuracy": evaluation.accuracy,
        "n": evaluation.n,
        "confusion": evaluation.confusion.tolist(),
        "per_class": evaluation.per_class,
    }
    files.write_json(EVALUATION, summary)


def load_evaluation(folder: Path) -> Evaluation | None:
    """The evaluation stored in a run folder once both files pass the schema (run_schema, run_arrays), or None
    if it has none or they do not (`RunFiles.damage` then says what is wrong)."""
    from mnist_core.runs.arrays import check_evaluation_arrays
    from mnist_core.runs.schema import DamagedRunFile, read_evaluation_summary

    files = RunFiles(folder)
    try:
        summary = read_evaluation_summary(files.file(EVALUATION))
        arrays = check_evaluation_arrays(files.file(EVALUATION_ARRAYS), summary)
    except DamagedRunFile:
        return None
    return Evaluation(
        summary.loss,
        summary.accuracy,
        np.array(summary.confusion, dtype=np.int64),
        [row.model_dump() for row in summary.per_class],
        arrays["probabilities"].astype(np.float32),
        arrays["labels"].astype(np.int64),
        arrays["images"],
    )


def evaluate_model_file(
    path: str | Path, data_dir: str | Path | None = None, save: bool = False
) -> tuple[Evaluation, str]:
    """Evaluate a .keras/.h5 file (loaded safely) on the test set; returns it and the data source.

    The probabilities stored next to the model (`stored_evaluation_path`) are used instead when
    they were made by this very file on this very test set (both checked by SHA-256), so the
    shipped starter model opens in Diagnostics without loading TensorFlow. `save=True` stores them.
    The app evaluates outside models with `mnist_core.runs.evaluation_apart` instead: in a child process.
    """
    stored = stored_model_evaluation(path, data_dir)
    if stored is not None:
        return stored
    from mnist_core.data import load_mnist
    from mnist_core.drawing.predict import load_predictor

    data = load_mnist(data_dir)
    probabilities = load_predictor(path).probabilities(to_unit_float(data.x_test))
    if save:
        _store_probabilities(Path(path), test_set_fingerprint(data.x_test, data.y_test), probabilities)
    return evaluate_probabilities(probabilities, data.y_test, data.x_test), data.source


def stored_model_evaluation(path: str | Path, data_dir: str | Path | None = None) -> tuple[Evaluation, str] | None:
    """`evaluate_model_file`'s answer from the probabilities stored beside the file, or None when there are
    none for this very file and test set; never loads the model."""
    from mnist_core.data import load_mnist

    data = load_mnist(data_dir)
    probabilities = _stored_probabilities(Path(path), test_set_fingerprint(data.x_test, data.y_test), len(data.y_test))
    if probabilities is None:
        return None
    return evaluate_probabilities(probabilities, data.y_test, data.x_test), data.source


def stored_evaluation_path(model_path: str | Path) -> Path:
    """Where a model file's test-set probabilities are kept: starter.keras -> starter.evaluation.npz."""
    return Path(model_path).with_suffix(STORED_SUFFIX)


def test_set_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of a test set's uint8 images and labels: which digits, in which order."""
    digest = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _store_probabilities(model_path: Path, test_set: str, probabilities: np.ndarray) -> None:
    with atomic_path(_writable_store(model_path, test_set), suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            probabilities=np.asarray(probabilities, np.float32),
            model_sha256=_file_sha256(model_path),
            test_set_sha256=test_set,
        )


def _writable_store(model_path: Path, test_set: str) -> Path:
    """Beside the file, except for a model shipped in the package: the one stored for the full MNIST test set
    stays as shipped (an install may be read-only), and other test sets' go to the temporary folder."""
    if not model_path.resolve().is_relative_to(_SHIPPED):
        return stored_evaluation_path(model_path)
    folder = Path(tempfile.gettempdir()) / "digit-lab-evaluations"
    folder.mkdir(exist_ok=True)
    return folder / f"{model_path.stem}-{test_set[:16]}{STORED_SUFFIX}"


def _stored_probabilities(model_path: Path, test_set: str, n: int) -> np.ndarray | None:
    """The stored probabilities if they belong to this model file and test set, else None."""
    for stored in dict.fromkeys((stored_evaluation_path(model_path), _writable_store(model_path, test_set))):
        if (probabilities := _read_store(stored, model_path, test_set, n)) is not None:
            return probabilities
    return None


def _read_store(stored: Path, model_path: Path, test_set: str, n: int) -> np.ndarray | None:
    if not stored.is_file():
        return None
    try:
        with np.load(stored) as arrays:  # allow_pickle stays False: only plain arrays are read
            if str(arrays["test_set_sha256"]) != test_set or str(arrays["model_sha256"]) != _file_sha256(model_path):
                return None
            probabilities = arrays["probabilities"].astype(np.float32)
    except (KeyError, *ARCHIVE_ERRORS):
        return None  # unreadable (damaged, encrypted, an unknown method): evaluate again
    return probabilities if probabilities.shape == (n, NUM_CLASSES) else None
