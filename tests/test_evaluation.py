"""mnist_core.runs.evaluation against plain reference computations; stored evaluations survive bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_core.runs.evaluation import (
    confusion_matrix,
    evaluate_model_file,
    evaluate_probabilities,
    load_evaluation,
    per_class_scores,
    save_evaluation,
    stored_evaluation_path,
)
from mnist_core.runs.files import EVALUATION as JSON_NAME
from mnist_core.runs.files import EVALUATION_ARRAYS as ARRAYS_NAME


def reference_confusion(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    counts = np.zeros((10, 10), dtype=np.int64)
    for true in range(10):
        for predicted in range(10):
            for i in range(len(labels)):
                counts[true, predicted] += int(labels[i] == true and predictions[i] == predicted)
    return counts


def random_evaluation(n: int = 300, seed: int = 0, sharp: float = 3.0):
    """Softmax probabilities that are right more often than chance, their labels and images."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    logits = rng.normal(size=(n, 10))
    logits[np.arange(n), labels] += sharp
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return probabilities.astype(np.float32), labels, images


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_matrix_equals_double_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels, predictions = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    confusion = confusion_matrix(labels, predictions)
    np.testing.assert_array_equal(confusion, reference_confusion(labels, predictions))
    assert confusion.shape == (10, 10) and confusion.sum() == 500


def test_confusion_matrix_rows_are_true_digits() -> None:
    confusion = confusion_matrix(np.array([4, 4, 9]), np.array([9, 9, 9]))
    assert confusion[4, 9] == 2 and confusion[9, 9] == 1 and confusion.sum() == 3


def test_per_class_scores_by_hand() -> None:
    # digit 0: 3 true, 2 found, 1 false alarm; digit 1: 2 true, 1 found; digit 2: never true, predicted once
    labels = np.array([0, 0, 0, 1, 1])
    predictions = np.array([0, 0, 1, 1, 2])
    rows = per_class_scores(confusion_matrix(labels, predictions))
    assert [row["digit"] for row in rows] == list(range(10))
    zero, one, two, three = rows[0], rows[1], rows[2], rows[3]
    assert (zero["precision"], zero["recall"], zero["support"]) == (1.0, pytest.approx(2 / 3), 3)
    assert zero["f1"] == pytest.approx(2 * 1.0 * (2 / 3) / (1.0 + 2 / 3))
    assert (one["precision"], one["recall"], one["f1"], one["support"]) == (0.5, 0.5, 0.5, 2)
    assert (two["precision"], two["recall"], two["f1"], two["support"]) == (0.0, 0.0, 0.0, 0)
    assert (three["precision"], three["recall"], three["f1"], three["support"]) == (0.0, 0.0, 0.0, 0)


def test_per_class_scores_match_reference_on_random_labels() -> None:
    rng = np.random.default_rng(5)
    labels, predictions = rng.integers(0, 10, 400), rng.integers(0, 10, 400)
    for row in per_class_scores(confusion_matrix(labels, predictions)):
        d = row["digit"]
        tp = np.sum((labels == d) & (predictions == d))
        precision = tp / np.sum(predictions == d)
        recall = tp / np.sum(labels == d)
        assert row["precision"] == pytest.approx(precision)
        assert row["recall"] == pytest.approx(recall)
        assert row["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
        assert row["support"] == np.sum(labels == d)


def test_evaluate_probabilities_accuracy_and_loss() -> None:
    probabilities, labels, images = random_evaluation()
    evaluation = evaluate_probabilities(probabilities, labels, images)
    predictions = probabilities.argmax(axis=1)
    assert evaluation.accuracy == pytest.approx(np.mean(predictions == labels))
    assert evaluation.loss == pytest.approx(-np.mean(np.log(probabilities[np.arange(len(labels)), labels])), rel=1e-5)
    np.testing.assert_array_equal(evaluation.confusion, reference_confusion(labels, predictions))
    np.testing.assert_array_equal(evaluation.predictions, predictions)
    assert evaluation.n == len(labels)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    evaluation = evaluate_probabilities(*random_evaluation())
    save_evaluation(tmp_path, evaluation)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ARRAYS_NAME, JSON_NAME])
    loaded = load_evaluation(tmp_path)
    assert loaded is not None
    assert (loaded.loss, loaded.accuracy, loaded.per_class) == (
        evaluation.loss,
        evaluation.accuracy,
        evaluation.per_class,
    )
    np.testing.assert_array_equal(loaded.confusion, evaluation.confusion)
    np.testing.assert_array_equal(loaded.labels, evaluation.labels)
    np.testing.assert_array_equal(loaded.images, evaluation.images)
    assert loaded.images.dtype == np.uint8 and loaded.probabilities.dtype == np.float32
    np.testing.assert_allclose(loaded.probabilities, evaluation.probabilities, atol=1e-3)


def test_stored_predictions_agree_with_stored_confusion(tmp_path: Path) -> None:
    """Near-ties between the top two digits must not flip when stored (Diagnostics shows both)."""
    probabilities, labels, images = random_evaluation(n=2000, sharp=0.0)
    top = probabilities.argmax(axis=1)
    runner_up = np.argsort(probabilities, axis=1)[:, -2]
    rows = np.arange(len(labels))
    probabilities[rows, runner_up] = probabilities[rows, top] * (1 - 1e-4)  # a near-tie in every row
    save_evaluation(tmp_path, evaluate_probabilities(probabilities, labels, images))
    loaded = load_evaluation(tmp_path)
    np.testing.assert_array_equal(confusion_matrix(loaded.labels, loaded.predictions), loaded.confusion)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda folder: (folder / JSON_NAME).unlink(), id="json-missing"),
        pytest.param(lambda folder: (folder / ARRAYS_NAME).unlink(), id="npz-missing"),
        pytest.param(lambda folder: (folder / JSON_NAME).write_text('{"loss": 0.3, "accur'), id="json-torn"),
        pytest.param(lambda folder: (folder / JSON_NAME).write_text('{"accuracy": 0.9}'), id="json-without-keys"),
        pytest.param(lambda folder: _truncate(folder / ARRAYS_NAME, 0.5), id="npz-torn-half"),
        pytest.param(lambda folder: _truncate(folder / ARRAYS_NAME, 0.99), id="npz-torn-end"),
        pytest.param(lambda folder: (folder / ARRAYS_NAME).write_bytes(b""), id="npz-empty"),
    ],
)
def test_load_evaluation_of_missing_or_torn_files_is_none(tmp_path: Path, damage) -> None:
    save_evaluation(tmp_path, evaluate_probabilities(*random_evaluation()))
    damage(tmp_path)
    assert load_evaluation(tmp_path) is None


def test_load_evaluation_of_empty_folder_is_none(tmp_path: Path) -> None:
    assert load_evaluation(tmp_path) is None


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- probabilities stored next to a model file (the shipped starter's evaluation) ------------


@pytest.fixture
def model_and_data(tmp_path: Path):
    """An untrained small MLP saved as .keras and a 200-digit test set in an npz."""
    from mnist_core.config import TrainingConfig
    from mnist_core.models import build_model

    model_path = tmp_path / "tiny.keras"
    build_model(TrainingConfig(architecture="mlp", hidden_units=(16,))).save(model_path)
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 100),
        "x_test": rng.integers(0, 256, (200, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 200),
    }
    data_path = tmp_path / "mnist.npz"
    np.savez(data_path, **arrays)
    return model_path, data_path, arrays


def refuse_to_load(*args, **kwargs):
    raise AssertionError("the model was loaded although its stored evaluation matches")


def test_saved_probabilities_are_used_instead_of_the_model(model_and_data, monkeypatch) -> None:
    from mnist_core.drawing import predict

    model_path, data_path, _ = model_and_data
    computed, _ = evaluate_model_file(model_path, data_path, save=True)
    assert stored_evaluation_path(model_path) == model_path.with_name("tiny.evaluation.npz")
    assert stored_evaluation_path(model_path).is_file()
    monkeypatch.setattr(predict, "load_predictor", refuse_to_load)
    stored, source = evaluate_model_file(model_path, data_path)
    assert np.array_equal(stored.probabilities, computed.probabilities)
    assert stored.accuracy == computed.accuracy and np.array_equal(stored.confusion, computed.confusion)
    assert "mnist.npz" in source


def test_stored_probabilities_of_another_test_set_or_model_are_ignored(model_and_data) -> None:
    model_path, data_path, arrays = model_and_data
    evaluate_model_file(model_path, data_path, save=True)
    before = stored_evaluation_path(model_path).read_bytes()
    other = data_path.with_name("other.npz")
    np.savez(other, **{**arrays, "y_test": (arrays["y_test"] + 1) % 10})  # same digits, other labels
    relabelled, _ = evaluate_model_file(model_path, other)
    assert np.array_equal(relabelled.labels, (arrays["y_test"] + 1) % 10)
    assert stored_evaluation_path(model_path).read_bytes() == before  # not saved: save=False

    from mnist_core.config import TrainingConfig
    from mnist_core.drawing.predict import load_predictor
    from mnist_core.models import build_model

    build_model(TrainingConfig(architecture="mlp", hidden_units=(8,), seed=5)).save(model_path)  # retrained file
    fresh, _ = evaluate_model_file(model_path, data_path)
    expected = load_predictor(model_path).probabilities(arrays["x_test"].astype(np.float32) / 255)
    assert np.allclose(fresh.probabilities, expected, atol=1e-6)


def test_the_shipped_starters_stored_evaluation_is_never_rewritten(model_and_data, tmp_path, monkeypatch) -> None:
    """Diagnostics on another test set (the embedded sample, a test's tiny one) used to overwrite the
    starter's stored full-MNIST probabilities inside the package; they go to the temporary folder now."""
    import tempfile

    from mnist_core.drawing import predict

    _, data_path, _ = model_and_data
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    shipped = stored_evaluation_path(predict.STARTER_MODEL_PATH)
    before = shipped.read_bytes()
    computed, _ = evaluate_model_file(predict.STARTER_MODEL_PATH, data_path, save=True)
    assert shipped.read_bytes() == before
    assert [p.name for p in (tmp_path / "tmp" / "digit-lab-evaluations").iterdir()] != []
    monkeypatch.setattr(predict, "load_predictor", refuse_to_load)
    again, _ = evaluate_model_file(predict.STARTER_MODEL_PATH, data_path)
    assert np.array_equal(again.probabilities, computed.probabilities)


@pytest.mark.parametrize("damage", ["torn", "text", "wrong shape"])
def test_a_damaged_stored_evaluation_means_evaluating_again(model_and_data, damage: str) -> None:
    model_path, data_path, arrays = model_and_data
    computed, _ = evaluate_model_file(model_path, data_path, save=True)
    stored = stored_evaluation_path(model_path)
    if damage == "torn":
        stored.write_bytes(stored.read_bytes()[:300])
    elif damage == "text":
        stored.write_text("not an npz")
    else:
        with np.load(stored) as npz:
            np.savez(stored, **{**dict(npz), "probabilities": npz["probabilities"][:10]})
    again, _ = evaluate_model_file(model_path, data_path)
    assert np.allclose(again.probabilities, computed.probabilities, atol=1e-6)


def test_the_starter_ships_its_own_evaluation_on_the_full_test_set(mnist_dir: Path, monkeypatch) -> None:
    """Diagnostics opens the starter without TensorFlow: its stored probabilities are the model's own."""
    from mnist_core.data import load_mnist
    from mnist_core.drawing import predict

    stored_path = stored_evaluation_path(predict.STARTER_MODEL_PATH)
    assert stored_path.is_file(), "run: python -m mnist_core evaluate mnist_core/assets/starter.keras --save"
    real_loader = predict.load_predictor
    monkeypatch.setattr(predict, "load_predictor", refuse_to_load)
    stored, _ = evaluate_model_file(predict.STARTER_MODEL_PATH, mnist_dir)
    assert stored.n == 10_000 and stored.accuracy >= 0.995
    x_test = load_mnist(mnist_dir).x_test[:300].astype(np.float32) / 255
    recomputed = real_loader(predict.STARTER_MODEL_PATH).probabilities(x_test)
    np.testing.assert_allclose(stored.probabilities[:300], recomputed, atol=1e-5)
