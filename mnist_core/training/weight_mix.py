"""Weight interpolation between two models of one architecture (WiSE-FT), with batch norm re-estimated.

θ = (1 - α)·θ_old + α·θ_fine-tuned keeps much of what the old model knew while gaining much of what
fine-tuning taught (Wortsman et al., "Robust fine-tuning of zero-shot models", 2022). A mixed
network's activations follow neither parent's statistics, so every BatchNormalization layer's moving
mean and variance are measured again on given images, layer after layer, in inference mode.
"""

from __future__ import annotations

import numpy as np

CHUNK = 1_000  # images per forward pass while measuring statistics


def interpolate(old, fine_tuned, alpha: float, into) -> None:
    """Set `into`'s weights to (1 - alpha) * old + alpha * fine_tuned (three Keras models of one architecture)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha is {alpha!r}; it must be between 0 (the old model) and 1 (the fine-tuned one).")
    a, b = old.get_weights(), fine_tuned.get_weights()
    if [w.shape for w in a] != [w.shape for w in b]:
        raise ValueError("the two models have different weight shapes; interpolation needs one architecture.")
    into.set_weights([(1 - alpha) * x + alpha * y for x, y in zip(a, b, strict=True)])


def reestimate_batch_norm(model, images: np.ndarray) -> int:
    """Measure every BatchNormalization layer's mean and variance on float32 images; returns how many layers."""
    import keras

    layers = list(model.layers)
    found = 0
    for k, layer in enumerate(layers):
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        total, squares, count = 0.0, 0.0, 0
        for start in range(0, len(images), CHUNK):
            h = _forward(layers[:k], images[start : start + CHUNK])
            flat = h.reshape(-1, h.shape[-1]).astype(np.float64)
            total, squares, count = total + flat.sum(axis=0), squares + (flat**2).sum(axis=0), count + len(flat)
        mean = total / count
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(np.maximum(squares / count - mean**2, 0.0).astype(np.float32))
        found += 1
    return found


def _forward(layers, x: np.ndarray) -> np.ndarray:
    """The layers applied in order, in inference mode (dropout off, batch norm on its moving statistics)."""
    import keras

    h = x
    for layer in layers:
        h = layer(h, training=False)
    return keras.ops.convert_to_numpy(h)
