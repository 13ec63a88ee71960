"""A NumPy copy of a Sequential Digit Lab model: the first answers on a fresh server, before TensorFlow is in.

Importing TensorFlow takes 4-9 s on a busy 2-core machine; NumPy and h5py take a fraction of a second.
The starter model is a plain stack (Rescaling, Reshape, Conv2D, BatchNormalization, ReLU, MaxPooling2D,
Flatten, Dropout, Dense), so its inference pass is a few lines of NumPy, read straight from the .keras
zip (config.json + model.weights.h5). It gives the same probabilities as Keras to about 1e-6 (tested),
in a few milliseconds a drawing. Anything else it does not know is refused, never guessed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_core.checks.model_files import check_model_file
from mnist_core.digits import IMAGE_SHAPE
from mnist_core.drawing.predict import Prediction, to_prediction

Layer = Callable[[np.ndarray], np.ndarray]  # float32 (N, ...) -> float32 (N, ...)
ACTIVATIONS: dict[str, Layer] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: _softmax(x),
}


class NumpyPredictor:
    """Probabilities for 28x28 drawings from a Sequential model's weights, without TensorFlow."""

    def __init__(self, layers: list[Layer], path: Path, description: str, outputs_logits: bool) -> None:
        self.layers, self.path, self.description = layers, path, description
        self.outputs_logits = outputs_logits
        self.detector: NumpyDetector | None = None  # the digit detector's NumPy copy, where there is one

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) or (28, 28) in [0, 1] -> the last layer's float32 (N, K) outputs."""
        x = np.asarray(images, np.float32).reshape(-1, *IMAGE_SHAPE)
        for layer in self.layers:
            x = layer(x)
        return x.astype(np.float32)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) or (28, 28) in [0, 1] -> float32 (N, 10) summing to 1."""
        x = self.outputs(images)
        return (_softmax(x) if self.outputs_logits else x).astype(np.float32)

    def predict(self, image: np.ndarray) -> Prediction:
        """One float32 (28, 28) image in [0, 1] -> its `Prediction` (with the detector's verdict, if any)."""
        is_digit = True if self.detector is None else bool(self.detector.is_digit(image)[0])
        return to_prediction(self.probabilities(image)[0], is_digit)


class NumpyDetector:
    """The shipped digit detector (mnist_core.drawing.detector) in NumPy: a logit per drawing, cut at its threshold."""

    def __init__(self, model: NumpyPredictor, threshold: float) -> None:
        self.model, self.threshold = model, threshold

    def is_digit(self, images: np.ndarray) -> np.ndarray:
        return self.model.outputs(images)[:, 0] >= self.threshold


def load_numpy_detector() -> NumpyDetector:
    """The detector's NumPy copy (ValueError or OSError when it cannot be made), for before TensorFlow is in."""
    from mnist_core.drawing.detector import CALIBRATION_PATH, DETECTOR_PATH, read_calibration

    try:
        threshold = read_calibration(CALIBRATION_PATH).threshold
    except (KeyError, TypeError) as error:
        raise ValueError(f"{CALIBRATION_PATH.name} is damaged: {error}") from error
    return NumpyDetector(load_numpy_predictor(DETECTOR_PATH), threshold)


def load_numpy_predictor(path: str | Path) -> NumpyPredictor:
    """Read a Sequential .keras file into a `NumpyPredictor`; ValueError for a layer it does not know."""
    path = Path(path)
    check_model_file(path, path.stat().st_size)  # the same checks as before Keras opens a file
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    if config.get("class_name") != "Sequential":
        raise ValueError(f"{path.name}: only Sequential models have a NumPy copy; this is {config.get('class_name')}")
    import h5py  # a fraction of a second, where TensorFlow takes seconds

    with h5py.File(io.BytesIO(weights), "r") as h5:
        specs = [(spec["class_name"], spec["config"]) for spec in config["config"]["layers"]]
        specs = [(kind, cfg) for kind, cfg in specs if kind != "InputLayer"]  # not one of model.layers
        variables = [_variables(h5, name) for name in _weight_names([kind for kind, _ in specs])]
    layers = [_layer(kind, cfg, vs, path.name) for (kind, cfg), vs in zip(specs, variables, strict=True)]
    last = [cfg.get("activation") for kind, cfg in specs if kind in ("Dense", "Activation")][-1:]
    description = _describe([kind for kind, _ in specs], sum(v.size for vs in variables for v in vs))
    return NumpyPredictor([layer for layer in layers if layer is not None], path, description, last != ["softmax"])


def _weight_names(kinds: list[str]) -> list[str]:
    """Where Keras 3 saves each layer's variables: its class in snake case, numbered from the second on."""
    names, seen = [], Counter()
    for kind in kinds:
        snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", kind)).lower()
        names.append(snake if not seen[snake] else f"{snake}_{seen[snake]}")
        seen[snake] += 1
    return names


def _variables(h5, name: str) -> list[np.ndarray]:
    group = h5.get(f"layers/{name}/vars")
    return [] if group is None else [np.asarray(group[str(i)], np.float32) for i in range(len(group))]


def _layer(kind: str, cfg: dict, variables: list[np.ndarray], file: str) -> Layer | None:
    """One Keras layer as a NumPy function (None: nothing to do at inference)."""
    if kind == "Dropout":
        return None
    if kind == "Rescaling":
        return lambda x: x * np.float32(cfg["scale"]) + np.float32(cfg["offset"])
    if kind == "Reshape":
        return lambda x: x.reshape(len(x), *cfg["target_shape"])
    if kind == "Flatten":
        return lambda x: x.reshape(len(x), -1)
    if kind == "Activation" and cfg["activation"] in ACTIVATIONS:
        return ACTIVATIONS[cfg["activation"]]
    if kind == "MaxPooling2D" and _plain_pool(cfg):
        return _max_pool(cfg["pool_size"])
    if kind == "BatchNormalization" and cfg["axis"] in (-1, [-1], [3], 3):
        return _batch_norm(cfg, variables)
    if kind in ("Dense", "Conv2D") and cfg["activation"] in ACTIVATIONS and _plain_conv(kind, cfg):
        act, bias = ACTIVATIONS[cfg["activation"]], variables[1] if cfg["use_bias"] else 0
        if kind == "Dense":
            return lambda x: act(x @ variables[0] + bias)
        return lambda x: act(_conv_same_or_valid(x, variables[0], cfg["padding"]) + bias)
    raise ValueError(f"{file}: layer {cfg.get('name')!r} ({kind}) has no NumPy copy; TensorFlow is needed for it")


def _plain_pool(cfg: dict) -> bool:
    return cfg["padding"] == "valid" and list(cfg["strides"] or cfg["pool_size"]) == list(cfg["pool_size"])


def _plain_conv(kind: str, cfg: dict) -> bool:
    if kind == "Dense":
        return True
    plain = list(cfg["strides"]) == [1, 1] and list(cfg["dilation_rate"]) == [1, 1] and cfg["groups"] == 1
    return plain and cfg["padding"] in ("same", "valid")


def _max_pool(size: list[int]) -> Layer:
    ph, pw = size

    def pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        x = x[:, : h // ph * ph, : w // pw * pw]
        return x.reshape(n, h // ph, ph, w // pw, pw, c).max(axis=(2, 4))

    return pool


def _batch_norm(cfg: dict, variables: list[np.ndarray]) -> Layer:
    *affine, mean, var = variables  # gamma when scale, beta when center, then the moving statistics
    gamma = affine[0] if cfg["scale"] else np.float32(1)
    beta = affine[-1] if cfg["center"] else np.float32(0)
    factor = gamma / np.sqrt(var + np.float32(cfg["epsilon"]))
    return lambda x: (x - mean) * factor + beta


def _conv_same_or_valid(x: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """(N, H, W, C) with kernel (kh, kw, C, F), stride 1 -> (N, H', W', F), as Keras' Conv2D."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        x = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    return np.tensordot(windows, kernel, axes=([3, 4, 5], [2, 0, 1]))


def _describe(kinds: list[str], params: int) -> str:
    """As models.describe words a Keras model."""
    convs, dense = kinds.count("Conv2D"), kinds.count("Dense")
    layers = "layer" if (convs + dense if convs else dense) == 1 else "layers"
    kind = f"CNN, {convs} conv + {dense} dense {layers}" if convs else f"MLP, {dense} dense {layers}"
    return f"{kind}, {params:,} parameters"


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
