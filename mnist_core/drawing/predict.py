"""Load a trained model once, safely, and turn 28×28 drawings into digit probabilities in about a millisecond.

`model.predict` costs 30–100 ms a call (it builds a data pipeline every time), far too slow for a
prediction that follows the pen. A `Predictor` traces the model once into a TensorFlow graph with a
fixed input signature and warms it up at load time, so each stroke costs one graph call.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.checks.model_budget import prediction_chunk
from mnist_core.checks.model_files import MAX_MODEL_BYTES, ModelLoadError, check_model_file  # noqa: F401 (public here too)
from mnist_core.digits import IMAGE_SHAPE, INPUT_SCALES, NUM_CLASSES
from mnist_core.drawing.detector import load_detector
from mnist_core.drawing.model_loading import (
    check_output,
    has_input_scaling,
    input_shape_of,
    load_keras_model,
)
from mnist_core.models import describe, summary_text

STARTER = "starter"  # the shipped model's name: the preset it was trained with, its choice in model pickers
STARTER_MODEL_PATH = Path(__file__).resolve().parents[1] / "assets" / f"{STARTER}.keras"
BATCH_CHUNK = 512  # images per graph call: bounds activation memory when scoring a whole test set

_EXPECTED = "expects float32 images of shape (N, 28, 28) in [0, 1]"
# TensorFlow's first call in a thread is slow, and Streamlit runs every rerun in a new thread: on the Draw
# page each stroke's first call took ~10 ms against 3.6 ms in a thread that lives on (measured in the
# server, idle machine). So `predict` (one drawing) always runs in this one long-lived thread.
_ONE_DRAWING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digit-lab-predict")


@dataclass(frozen=True, eq=False)
class Prediction:
    """The model's answer for one image."""

    digit: int  # the most probable class, 0..9
    confidence: float  # its probability
    probabilities: np.ndarray  # float32 (10,), sums to 1
    top3: tuple[tuple[int, float], ...]  # (digit, probability), most probable first
    is_digit: bool = True  # False: the drawing does not look like a digit (a letter, a shape, a scribble)


def to_prediction(p: np.ndarray, is_digit: bool = True) -> Prediction:
    """One image's float32 (10,) probabilities (and the detector's verdict) -> its `Prediction`."""
    top = np.argsort(p)[::-1][:3]
    return Prediction(int(top[0]), float(p[top[0]]), p, tuple((int(d), float(p[d])) for d in top), is_digit)


class Predictor:
    """A loaded model with a fast `probabilities` path; build it with `load_predictor`."""

    chunk = BATCH_CHUNK  # images per graph call; load_predictor lowers it for heavy models

    def __init__(self, model, path: Path, input_scale: str) -> None:
        self.model = model
        self.path = path
        self.input_shape = input_shape_of(model, path.name)
        check_output(model, path.name)
        self.input_scale = "model" if has_input_scaling(model) else input_scale  # "model": scales itself
        self.num_params = int(model.count_params())
        self.description = describe(model)
        self._batch, self._single = _compile(model, self.input_shape, INPUT_SCALES.get(self.input_scale))
        warm = self._single(_tf().zeros((1, *IMAGE_SHAPE))).numpy()  # traces and compiles now, not on stroke 1
        self._batch(_tf().zeros((2, *IMAGE_SHAPE)))
        self.outputs_logits = _outputs_logits(model, warm)
        self._summary: str | None = None

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) or (28, 28) in [0, 1], ink bright on dark -> float32 (N, 10) summing to 1."""
        x = _as_batch(images)
        if len(x) == 1:
            out = self._single(_tf().constant(x)).numpy()
        else:
            parts = [self._batch(_tf().constant(x[i : i + self.chunk])).numpy() for i in range(0, len(x), self.chunk)]
            out = np.concatenate(parts) if parts else np.zeros((0, NUM_CLASSES), np.float32)
        return _softmax(out) if self.outputs_logits else out

    def predict(self, image: np.ndarray) -> Prediction:
        """One float32 (28, 28) image in [0, 1] -> its `Prediction`."""
        if np.shape(image) not in (IMAGE_SHAPE, (1, *IMAGE_SHAPE)):
            raise ValueError(
                f"predict() takes one image of shape (28, 28); got shape {np.shape(image)}. "
                "Use probabilities() for a batch."
            )
        return _ONE_DRAWING.submit(self._predict_one, image).result()

    def _predict_one(self, image: np.ndarray) -> Prediction:
        return to_prediction(self.probabilities(image)[0], bool(self.is_digit(image)[0]))

    def is_digit(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28) or (28, 28) in [0, 1] -> bool (N,): whether each image looks like a digit at all.

        The same shipped detector answers for every model (`mnist_core.drawing.detector`): a classifier with
        ten outputs has no way to say "none of these".
        """
        return load_detector().is_digit(_as_batch(images))

    def summary(self) -> str:
        """The model's layer table, as `model.summary()` prints it."""
        if self._summary is None:
            self._summary = summary_text(self.model)
        return self._summary

    def __repr__(self) -> str:
        return f"Predictor({str(self.path)!r}, {self.description!r})"


def load_predictor(path: str | Path | None = None, input_scale: str | None = None) -> Predictor:
    """Load a model file once (cached per path, modification time and size) and return its `Predictor`.

    Parameters
    ----------
    path : str, Path or None
        A Keras 3 ``.keras`` file (or a legacy ``.h5``). None loads the starter model.
    input_scale : {"unit", "centered", "raw"} or None
        How a model *without* an ``input_scaling`` layer expects its inputs: [0, 1], [-0.5, 0.5]
        or 0..255. None means "unit". Ignored for Digit Lab models, which scale inside themselves.

    Raises
    ------
    ModelLoadError
        The file is missing, too large, not a Keras model, damaged, unsafe (Lambda layers or
        custom code), or the model does not map a 28×28 grey image to 10 classes.
    """
    if input_scale is not None and input_scale not in INPUT_SCALES:
        raise ValueError(f"input_scale must be one of {sorted(INPUT_SCALES)} or None; got {input_scale!r}")
    resolved = _resolve(path)
    stat = resolved.stat()
    if resolved.is_dir():  # check_model_file says what to do instead
        return _load_cached(resolved, stat.st_mtime_ns, stat.st_size, input_scale or "unit")
    digest = (_file_digest(resolved, stat.st_mtime_ns, stat.st_size), resolved.name)  # messages name the file
    refused = _REFUSED.get(digest)
    if refused is not None:  # a bad file costs its checks once, whoever brings which copy of it
        raise ModelLoadError(refused)
    try:
        return _load_cached(resolved, stat.st_mtime_ns, stat.st_size, input_scale or "unit")
    except ModelLoadError as error:
        with _REFUSED_LOCK:  # pages load models from many threads
            if len(_REFUSED) >= MAX_REFUSED:
                _REFUSED.pop(next(iter(_REFUSED)))
            _REFUSED[digest] = str(error)
        raise


MAX_REFUSED = 256  # refused files remembered by their SHA-256 and name
_REFUSED: dict[tuple[str, str], str] = {}
_REFUSED_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    """SHA-256 of one version of a file (read once per version: mtime and size are the cache key)."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int, size: int, input_scale: str) -> Predictor:
    """The cache key includes mtime and size so that a rewritten file is loaded again."""
    cost = check_model_file(path, size)
    predictor = Predictor(load_keras_model(path), path, input_scale)
    predictor.chunk = prediction_chunk(cost.activation_bytes, BATCH_CHUNK)  # bounded activation memory
    return predictor


def _resolve(path: str | Path | None) -> Path:
    """The absolute model path; a missing file is a `ModelLoadError` that says what to do."""
    resolved = Path(STARTER_MODEL_PATH if path is None else path).expanduser().resolve()
    if resolved.exists():
        return resolved
    if path is None:
        raise ModelLoadError(
            f"the starter model is missing ({resolved}). Train a model on the Train page "
            "and pick it on the Draw page, or reinstall Digit Lab to get the starter back."
        )
    raise ModelLoadError(
        f"model file not found: {resolved}. Check the path, or train a model on the "
        "Train page and pick it from the list."
    )


def _compile(model, input_shape: tuple[int, ...], scale: tuple[float, float] | None):
    """Two graph functions (batch of any size; one image, XLA-compiled) from (N, 28, 28) [0, 1] to outputs."""
    tf = _tf()
    dtype = model.inputs[0].dtype

    def forward(x):
        x = tf.reshape(x, (-1, *input_shape))
        if scale is not None and scale != (1.0, 0.0):  # foreign models: convert [0, 1] to what they expect
            x = x * scale[0] + scale[1]
        return tf.cast(model(tf.cast(x, dtype), training=False), tf.float32)

    def signature(batch):
        return [tf.TensorSpec((batch, *IMAGE_SHAPE), tf.float32)]

    batch = tf.function(forward, input_signature=signature(None), autograph=False).get_concrete_function()
    try:  # XLA fuses the small ops: about 20% faster for one image, but it compiles once per batch size
        single = tf.function(forward, input_signature=signature(1), jit_compile=True, autograph=False)
        single = single.get_concrete_function()
        single(tf.zeros((1, *IMAGE_SHAPE)))
    except Exception:  # a layer XLA cannot compile: the plain graph is fine
        single = batch
    return batch, single


def _outputs_logits(model, sample: np.ndarray) -> bool:
    """Whether the model ends in raw scores: by the last layer's activation, else by whether rows sum to 1."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if type(last).__name__ == "Softmax" or activation == "softmax":
        return False
    if activation == "linear":
        return True
    return not (np.all(sample >= 0) and np.allclose(sample.sum(axis=1), 1.0, atol=1e-3))


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _as_batch(images: np.ndarray) -> np.ndarray:
    """Validate images and return them as C-contiguous float32 (N, 28, 28)."""
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{_EXPECTED}; got dtype {x.dtype}" + (" (divide uint8 pixels by 255)" if x.dtype == np.uint8 else "")
        )
    if x.shape == IMAGE_SHAPE:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{_EXPECTED}; got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{_EXPECTED}; got NaN or infinite values")
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(f"{_EXPECTED}; got values in [{lo:.4g}, {hi:.4g}]")
    return x


def _tf():
    """TensorFlow, imported on first use so that `import mnist_core.drawing.predict` stays cheap."""
    import tensorflow as tf

    return tf
