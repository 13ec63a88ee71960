"""What a digit is to the engine: a 28x28 grey image, one of 10 classes, and how a model may take it.

The constants and checks every module shares (data, models, prediction, explanations, My digits),
written once. Imports only NumPy.
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10  # digits 0..9
IMAGE_SHAPE = (28, 28)  # one digit, float32 in [0, 1], bright ink on black
# How a model wants its [0, 1] input: x * scale + offset (a TrainingConfig's `scaling`, a Predictor's input_scale).
INPUT_SCALES = {"unit": (1.0, 0.0), "centered": (1.0, -0.5), "raw": (255.0, 0.0)}
ACCEPTED_INPUTS = ((28, 28), (28, 28, 1), (784,))  # per-image input shapes a model may declare


def accepted_input(shape: tuple) -> tuple[int, ...] | None:
    """A model's per-image input shape (None for unknown sizes) -> the one of ACCEPTED_INPUTS it fits, else None."""
    for accepted in ACCEPTED_INPUTS:
        if len(shape) == len(accepted) and all(d in (None, a) for d, a in zip(shape, accepted, strict=True)):
            return accepted
    return None


def to_unit_float(x: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 (N, 28, 28) -> float32 in [0, 1], same shape (what every model takes)."""
    x = np.asarray(x)
    if x.dtype.kind not in "ui":
        raise ValueError(f"to_unit_float expects whole-number pixels 0..255 (uint8); got dtype {x.dtype}.")
    if x.dtype != np.uint8 and x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(f"to_unit_float expects pixels 0..255; got {x.min()}..{x.max()}.")
    out = x.astype(np.float32)
    out /= 255.0
    return out


def to_uint8(x: np.ndarray) -> np.ndarray:
    """float pixels in [0, 1] -> uint8 0..255, rounded (the inverse of `to_unit_float`, for storing digits)."""
    return np.round(np.asarray(x) * 255).astype(np.uint8)


def check_unit_image(image: np.ndarray, expected: str = "Expected one") -> np.ndarray:
    """One float (28, 28) image in [0, 1] as float32, or ValueError saying what is wrong.

    `expected` starts the shape message ("Expected one" / "A digit must be a" ... "(28, 28) image").
    """
    image = np.asarray(image)
    if image.shape != IMAGE_SHAPE:
        raise ValueError(f"{expected} (28, 28) image; got shape {image.shape}. Pass what canvas_to_mnist returns.")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"Pixels must be float32 in [0, 1]; got dtype {image.dtype} (divide uint8 by 255).")
    if not np.all(np.isfinite(image)):
        raise ValueError("An image must not contain NaN or infinite values.")
    low, high = float(image.min()), float(image.max())
    if low < 0 or high > 1:
        raise ValueError(f"Pixels must have values in [0, 1]; got [{low:.4g}, {high:.4g}].")
    return image.astype(np.float32)
