"""Is this drawing a digit at all? A small shipped model that answers for every predictor.

A digit classifier always names one of ten digits: a star, a letter or a scribble gets "100% sure
8", and a threshold on its top probability flags few of them. So "not a digit" is a model of its
own, trained on digits (MNIST and pen-drawn, every style) against drawings that are not digits
(letters, shapes, marks, scribbles, filled blobs; `scripts/train_starter_pen.py`). Being separate,
it works for every model Digit Lab loads (the starter, a run, an upload: all of them have ten
outputs and were never shown a non-digit). Its threshold is calibrated on held-out pen digits and
stored beside it in a small JSON file.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.digits import IMAGE_SHAPE

DETECTOR_PATH = Path(__file__).resolve().parents[1] / "assets" / "digit_detector.keras"
CALIBRATION_PATH = DETECTOR_PATH.with_suffix(".json")  # {"threshold": logit, "how": ..., measured rates}
FILTERS = (32, 64, 128)  # conv widths: a fraction of a millisecond per drawing
DENSE = 128  # width of the layer before the logit


@dataclass(frozen=True)
class Calibration:
    """Where the detector's score is cut: a drawing scoring below `threshold` is not a digit."""

    threshold: float  # a logit: log(p / (1 - p)) of "this is a digit"
    how: str  # one line: the held-out set and the share of its digits allowed below the threshold


class DigitDetector:
    """The shipped detector with a compiled graph; build it with `load_detector`."""

    def __init__(self, model, calibration: Calibration) -> None:
        self.calibration = calibration
        self._batch, self._single = _graphs(model)

    def scores(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) in [0, 1] -> float32 (N,) logits: high for digits, low for anything else."""
        import tensorflow as tf

        if len(images) == 1:  # a drawing on the Draw page: the XLA-compiled graph
            return self._single(tf.constant(images)).numpy()
        parts = [self._batch(tf.constant(images[i : i + 512])).numpy() for i in range(0, len(images), 512)]
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)

    def is_digit(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) in [0, 1] -> bool (N,): whether each image looks like a digit."""
        return self.scores(images) >= self.calibration.threshold


def _graphs(model):
    """Two graph functions from float32 (N, 28, 28) to (N,) logits: any batch; one image, XLA-compiled."""
    import tensorflow as tf

    def forward(x):
        return model(x, training=False)[:, 0]

    def graph(batch, xla: bool):
        spec = [tf.TensorSpec((batch, *IMAGE_SHAPE), tf.float32)]
        function = tf.function(forward, input_signature=spec, jit_compile=xla, autograph=False).get_concrete_function()
        function(tf.zeros((1, *IMAGE_SHAPE)))  # traced and compiled now, not on the first drawing
        return function

    batch = graph(None, False)
    try:
        return batch, graph(1, True)
    except Exception:  # XLA cannot compile it here: the plain graph is fine
        return batch, batch


def build_detector():
    """An untrained detector: small CNN, (N, 28, 28) in [0, 1] -> (N, 1) logit of "is a digit"."""
    import keras

    layers: list = [keras.Input(shape=IMAGE_SHAPE, name="drawing"), keras.layers.Reshape((*IMAGE_SHAPE, 1))]
    for filters in FILTERS:
        layers += [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2)]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(DENSE, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, name="digit_logit"),
    ]
    return keras.Sequential(layers, name="digit_detector")


def save_calibration(calibration: Calibration, path: Path = CALIBRATION_PATH, **measured: float) -> None:
    """Write the threshold (and what was measured with it) atomically beside the detector."""
    from mnist_core.storage import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"threshold": calibration.threshold, "how": calibration.how, **measured}, indent=2))


def read_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The threshold stored beside the detector; OSError, ValueError, KeyError or TypeError if it is unusable."""
    raw = json.loads(path.read_text())
    return Calibration(float(raw["threshold"]), str(raw["how"]))


@functools.cache
def load_detector(path: Path = DETECTOR_PATH) -> DigitDetector:
    """The shipped detector, loaded once per process (safe mode, uncompiled)."""
    import keras

    from mnist_core.checks.model_files import ModelLoadError

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
        calibration = read_calibration(path.with_suffix(".json"))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelLoadError(
            f"the digit detector ({path.name} and its .json) is missing or damaged ({err}). "
            "Reinstall Digit Lab, or rebuild it with scripts/train_starter_pen.py."
        ) from err
    return DigitDetector(model, calibration)
