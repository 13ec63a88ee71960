"""Diagnostics: every answer is checked against a plain loop over the test digits."""

from dataclasses import dataclass

import numpy as np
import pytest

from mnist_core.runs import diagnostics


@dataclass(frozen=True)
class FakeEvaluation:
    """The fields of mnist_core.runs.evaluation.Evaluation that diagnostics reads."""

    probabilities: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    confusion: np.ndarray
    per_class: list


def make_evaluation(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    logits = rng.normal(size=(n, 10))
    logits[np.arange(n), labels] += 2.0  # mostly right, with plenty of mistakes
    probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(labels, predicted, strict=True):
        confusion[t, p] += 1
    per_class = [
        {"digit": d, "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": int(confusion[d].sum())} for d in range(10)
    ]
    return FakeEvaluation(probabilities, labels, images, confusion, per_class)


@pytest.fixture(scope="module")
def evaluation():
    return make_evaluation()


@pytest.mark.parametrize(("true", "predicted"), [(4, 9), (3, 3), (0, 7), (9, 0)])
def test_cell_examples_are_exactly_the_digits_of_that_cell_surest_first(evaluation, true, predicted):
    expected = [
        i
        for i in range(len(evaluation.labels))
        if evaluation.labels[i] == true and evaluation.probabilities[i].argmax() == predicted
    ]
    examples = diagnostics.cell_examples(evaluation, true, predicted)
    assert sorted(e.index for e in examples) == expected
    assert len(examples) == evaluation.confusion[true, predicted]
    confidences = [e.p_predicted for e in examples]
    assert confidences == sorted(confidences, reverse=True)
    for e in examples:
        assert (e.true, e.predicted) == (true, predicted)
        assert e.p_true == pytest.approx(evaluation.probabilities[e.index, true])
        assert np.array_equal(e.image, evaluation.images[e.index])


def test_cell_examples_limit(evaluation):
    assert len(diagnostics.cell_examples(evaluation, 1, 1, limit=3)) == 3


@pytest.mark.parametrize(("true", "predicted", "name"), [(-1, 0, "true"), (10, 0, "true"), (0, 12, "predicted")])
def test_cell_examples_refuse_non_digits(evaluation, true, predicted, name):
    with pytest.raises(ValueError, match=f"{name} must be a digit 0..9"):
        diagnostics.cell_examples(evaluation, true, predicted)


def test_confident_mistakes_are_wrong_and_sorted(evaluation):
    mistakes = diagnostics.confident_mistakes(evaluation, limit=10)
    assert len(mistakes) == 10
    assert all(not m.correct for m in mistakes)
    predicted = evaluation.probabilities.argmax(axis=1)
    wrong = predicted != evaluation.labels
    surest = np.sort(evaluation.probabilities.max(axis=1)[wrong])[::-1][:10]
    assert [m.p_predicted for m in mistakes] == pytest.approx(list(surest))


def test_no_mistakes_gives_an_empty_list():
    perfect = make_evaluation(n=50)
    labels = perfect.probabilities.argmax(axis=1)
    perfect = FakeEvaluation(perfect.probabilities, labels, perfect.images, perfect.confusion, perfect.per_class)
    assert diagnostics.confident_mistakes(perfect) == []


def test_top_confusions_match_a_loop(evaluation):
    pairs = [
        (t, p, int(evaluation.confusion[t, p]))
        for t in range(10)
        for p in range(10)
        if t != p and evaluation.confusion[t, p] > 0
    ]
    pairs.sort(key=lambda x: -x[2])
    top = diagnostics.top_confusions(evaluation.confusion, limit=5)
    assert [c for *_, c in top] == [c for *_, c in pairs[:5]]
    assert all(evaluation.confusion[t, p] == c for t, p, c in top)


def test_top_confusions_leave_out_zero_cells():
    assert diagnostics.top_confusions(np.eye(10, dtype=int) * 5) == []


def test_per_class_rows_count_errors_and_the_most_common_confusion(evaluation):
    rows = diagnostics.per_class_rows(evaluation)
    assert [r["digit"] for r in rows] == list(range(10))
    for row in rows:
        d = row["digit"]
        wrong = [int(evaluation.confusion[d, p]) if p != d else 0 for p in range(10)]
        assert row["errors"] == sum(wrong)
        assert row["confused_with"].startswith(f"{int(np.argmax(wrong))} ({max(wrong)}")


@pytest.mark.parametrize(
    ("true", "predicted", "counts", "expected"),
    [
        (4, 9, {(4, 9): 12, (4, 4): 988}, "True 4, predicted 9: 12 digits (1.2% of the 4s)"),
        (4, 4, {(4, 4): 1}, "True 4, correct: 1 digit (100.0% of the 4s)"),
        (2, 3, {}, "True 2, predicted 3: 0 digits"),
    ],
)
def test_cell_title(true, predicted, counts, expected):
    confusion = np.zeros((10, 10), dtype=int)
    for (t, p), n in counts.items():
        confusion[t, p] = n
    assert diagnostics.cell_title(confusion, true, predicted) == expected
