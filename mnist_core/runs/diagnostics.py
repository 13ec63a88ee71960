"""What a model got wrong, from its stored Evaluation: confusion cells, confident mistakes, per-class rows.

Pure functions of an `Evaluation` (probabilities, labels and images of a test set); nothing
here needs the model, TensorFlow or Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mnist_core.digits import NUM_CLASSES


class EvaluationLike(Protocol):
    """The parts of `mnist_core.runs.evaluation.Evaluation` these functions read."""

    probabilities: np.ndarray  # (N, 10) float
    labels: np.ndarray  # (N,) int
    images: np.ndarray  # (N, 28, 28) uint8
    confusion: np.ndarray  # (10, 10) int, rows = true, columns = predicted
    per_class: list[dict]  # digit, precision, recall, f1, support


@dataclass(frozen=True)
class Example:
    """One test digit and what the model said about it."""

    index: int  # position in the evaluated test set
    image: np.ndarray  # (28, 28) uint8
    true: int
    predicted: int
    p_predicted: float  # probability of the predicted digit
    p_true: float  # probability the model gave the true digit

    @property
    def correct(self) -> bool:
        return self.true == self.predicted


def _check_digit(name: str, value: int) -> int:
    if not 0 <= int(value) < NUM_CLASSES:
        raise ValueError(f"{name} must be a digit 0..9, got {value!r}.")
    return int(value)


def _examples(evaluation: EvaluationLike, indices: np.ndarray) -> list[Example]:
    probs, labels = evaluation.probabilities, evaluation.labels
    predicted = probs.argmax(axis=1)
    return [
        Example(
            int(i),
            evaluation.images[i],
            int(labels[i]),
            int(predicted[i]),
            float(probs[i, predicted[i]]),
            float(probs[i, labels[i]]),
        )
        for i in indices
    ]


def cell_examples(evaluation: EvaluationLike, true: int, predicted: int, limit: int | None = None) -> list[Example]:
    """The test digits in confusion cell (true, predicted), most confident prediction first."""
    true, predicted = _check_digit("true", true), _check_digit("predicted", predicted)
    probs = evaluation.probabilities
    hits = np.flatnonzero((evaluation.labels == true) & (probs.argmax(axis=1) == predicted))
    order = hits[np.argsort(-probs[hits, predicted], kind="stable")]
    return _examples(evaluation, order[:limit] if limit is not None else order)


def confident_mistakes(evaluation: EvaluationLike, limit: int = 16) -> list[Example]:
    """The wrong answers the model was surest of, surest first."""
    probs = evaluation.probabilities
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != evaluation.labels)
    order = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")]
    return _examples(evaluation, order[:limit])


def top_confusions(confusion: np.ndarray, limit: int = 6) -> list[tuple[int, int, int]]:
    """The most frequent mistakes as (true, predicted, count), largest first, zero counts left out."""
    counts = np.asarray(confusion, dtype=np.int64).copy()
    np.fill_diagonal(counts, 0)
    flat = np.argsort(-counts, axis=None, kind="stable")[:limit]
    pairs = [(int(f // NUM_CLASSES), int(f % NUM_CLASSES)) for f in flat]
    return [(t, p, int(counts[t, p])) for t, p in pairs if counts[t, p] > 0]


def per_class_rows(evaluation: EvaluationLike) -> list[dict]:
    """One row per digit for a table: precision, recall, F1, support, errors, most often mistaken for."""
    counts = np.asarray(evaluation.confusion, dtype=np.int64)
    rows = []
    for row in evaluation.per_class:
        digit = int(row["digit"])
        wrong = counts[digit].copy()
        wrong[digit] = 0
        worst = int(wrong.argmax())
        rows.append(
            {
                "digit": digit,
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "f1": float(row["f1"]),
                "support": int(row["support"]),
                "errors": int(wrong.sum()),
                "confused_with": f"{worst} ({int(wrong[worst])}×)" if wrong[worst] > 0 else "—",
            }
        )
    return rows


def cell_title(confusion: np.ndarray, true: int, predicted: int) -> str:
    """A heading for a confusion cell, e.g. 'True 4, predicted 9: 12 digits (1.2% of the 4s)'."""
    counts = np.asarray(confusion, dtype=np.int64)
    n, total = int(counts[true, predicted]), int(counts[true].sum())
    share = f" ({n / total:.1%} of the {true}s)" if total else ""
    what = "correct" if true == predicted else f"predicted {predicted}"
    return f"True {true}, {what}: {n:,} digit{'s' if n != 1 else ''}{share}"
