"""The starter's NumPy copy (the first answers on a fresh server) against Keras, the reference."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.drawing.numpy_model import load_numpy_predictor
from mnist_core.drawing.predict import STARTER_MODEL_PATH, load_predictor


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """64 test digits as float32 (64, 28, 28) in [0, 1], plus blank and saturated images."""
    x = load_mnist().x_test[:64].astype(np.float32) / 255
    return np.concatenate([x, np.zeros((1, 28, 28), np.float32), np.ones((1, 28, 28), np.float32)])


MODELS = {  # Digit Lab models of every layer kind the copy knows (random weights: every layer must match)
    "mlp": TrainingConfig(hidden_units=(32, 16), epochs=1),
    "cnn batch norm": TrainingConfig(architecture="cnn", conv_filters=(8, 16), dense_units=16, batch_norm=True),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_the_numpy_copy_gives_the_probabilities_keras_gives(name, digits, tmp_path):
    from mnist_core.models import build_model

    path = tmp_path / "model.keras"
    build_model(MODELS[name]).save(path)
    copy, keras_model = load_numpy_predictor(path), load_predictor(path)
    np.testing.assert_allclose(copy.probabilities(digits), keras_model.probabilities(digits), atol=1e-5)
    assert copy.description == keras_model.description


@pytest.mark.skipif(not STARTER_MODEL_PATH.is_file(), reason="the starter model is not built")
def test_the_starter_copy_answers_as_the_starter_does(digits):
    copy, starter = load_numpy_predictor(STARTER_MODEL_PATH), load_predictor(None)
    np.testing.assert_allclose(copy.probabilities(digits), starter.probabilities(digits), atol=1e-5)
    for image in digits[:8]:
        ours, theirs = copy.predict(image), starter.predict(image)
        assert (ours.digit, ours.top3[1][0]) == (theirs.digit, theirs.top3[1][0])
    assert copy.description == starter.description


def test_a_layer_without_a_numpy_copy_is_refused_by_name(tmp_path):
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.GaussianNoise(0.1),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "noisy.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"noisy.keras: layer 'gaussian_noise' \(GaussianNoise\) has no NumPy copy"):
        load_numpy_predictor(path)


def _empty_hdf5(path) -> bytes:
    """A well-formed weights file with nothing in it (the budget check refuses a file that is not HDF5)."""
    import h5py

    with h5py.File(path, "w"):
        pass
    return path.read_bytes()


def test_a_functional_model_is_refused(tmp_path):
    path = tmp_path / "functional.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Functional", "config": {"layers": []}}))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("model.weights.h5", _empty_hdf5(tmp_path / "empty.h5"))
    with pytest.raises(
        ValueError, match="functional.keras: only Sequential models have a NumPy copy; this is Functional"
    ):
        load_numpy_predictor(path)


def test_the_detectors_numpy_copy_agrees_with_keras():
    """Before TensorFlow is in, Draw's NumPy starter still says "that is not a digit" (issue 14 with issue 17)."""
    from mnist_core.drawing.detector import load_detector
    from mnist_core.drawing.numpy_model import load_numpy_detector

    rng = np.random.default_rng(0)
    scribbles = (rng.random((20, 28, 28)) > 0.9).astype(np.float32)
    digits = np.zeros((5, 28, 28), np.float32)
    digits[:, 6:22, 12:16] = 1.0  # plain strokes
    images = np.concatenate([scribbles, digits])
    numpy_detector, keras_detector = load_numpy_detector(), load_detector()
    np.testing.assert_allclose(numpy_detector.model.outputs(images)[:, 0], keras_detector.scores(images), atol=1e-4)
    assert (numpy_detector.is_digit(images) == keras_detector.is_digit(images)).all()
