"""is_digit: the shipped digit detector answers for every model, flags drawings that are not digits, keeps digits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digit_drawings import nondigits, style_eval
from mnist_core.drawing import detector
from mnist_core.drawing.predict import ModelLoadError, load_predictor
from mnist_core.drawing.preprocess import canvas_to_mnist

keras = pytest.importorskip("keras")


def _drawings(make_canvas, names, per_name: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([canvas_to_mnist(make_canvas(name, rng)) for name in names for _ in range(per_name)])


@pytest.fixture(scope="module")
def starter():
    return load_predictor()


def test_is_digit_returns_one_bool_per_image_and_prediction_carries_it(starter):
    images = np.zeros((3, 28, 28), np.float32)
    flags = starter.is_digit(images)
    assert flags.dtype == bool and flags.shape == (3,)
    assert starter.is_digit(np.zeros((28, 28), np.float32)).shape == (1,)
    assert starter.is_digit(np.zeros((0, 28, 28), np.float32)).shape == (0,)
    assert starter.probabilities(images).shape == (3, 10)  # the (N, 10) contract is unchanged
    prediction = starter.predict(images[0])
    assert isinstance(prediction.is_digit, bool)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 28, 28), np.uint8), "divide uint8 pixels by 255"),
        (np.zeros((2, 27, 28), np.float32), "got shape (2, 27, 28)"),
        (np.full((1, 28, 28), 2.0, np.float32), "got values in [2, 2]"),
    ],
)
def test_is_digit_refuses_bad_images_with_a_message(starter, images, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        starter.is_digit(images)


def test_every_model_gets_the_same_answer_from_the_shipped_detector(starter, tmp_path):
    layers = [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    other = keras.Sequential(layers)
    other.save(tmp_path / "uploaded.keras")
    images = _drawings(style_eval.style_canvas, ["7 bar", "3 round"], 2, 0)
    star = _drawings(style_eval.shape_canvas, [nondigits.TRAIN_KINDS["star"]], 2, 1)
    both = np.concatenate([images, star])
    assert np.array_equal(load_predictor(tmp_path / "uploaded.keras").is_digit(both), starter.is_digit(both))


@pytest.mark.slow
def test_pen_digits_of_every_style_and_mnist_digits_are_digits(starter, mnist_dir):
    from mnist_core.data import load_mnist

    styles = _drawings(style_eval.style_canvas, list(style_eval.STYLES), 3, 2)
    assert starter.is_digit(styles).mean() >= 0.95
    mnist = load_mnist(mnist_dir).x_test[:1000].astype(np.float32) / 255
    assert starter.is_digit(mnist).mean() >= 0.98


def test_stars_smileys_letters_and_scribbles_are_not_digits(starter):
    kinds = {**nondigits.TRAIN_KINDS, **nondigits.HELD_OUT_KINDS}
    names = ["star", "scribble", "smiley", "heart", "letter C", "plus", "question mark", "umbrella"]
    names += ["letter W", "letter K", "hash"]  # never trained on
    drawn = _drawings(lambda name, rng: style_eval.shape_canvas(kinds[name], rng), names, 4, 3)
    assert (~starter.is_digit(drawn)).mean() >= 0.8


def test_a_missing_or_damaged_detector_says_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError, match="digit detector.*missing or damaged.*train_starter_pen.py"):
        detector.load_detector(tmp_path / "digit_detector.keras")


def test_the_calibration_beside_the_detector_names_its_threshold_and_how():
    raw = json.loads(detector.CALIBRATION_PATH.read_text())
    assert np.isfinite(raw["threshold"]) and "held-out pen digits" in raw["how"]
    found = detector.load_detector()
    assert found.calibration.threshold == raw["threshold"]
