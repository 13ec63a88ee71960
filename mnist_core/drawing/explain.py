"""See why: which pixels pushed a model to an answer, what its first layer looks for, what it sees.

Every function takes a Digit Lab model (a `keras.Model` whose input is float32 (N, 28, 28) in
[0, 1]) or a `Predictor` (which also knows how a foreign model without an `input_scaling` layer
wants its inputs scaled), and a float32 (28, 28) image in [0, 1] where an image is needed.
"""

from __future__ import annotations

import numpy as np

from mnist_core.digits import IMAGE_SHAPE, INPUT_SCALES, accepted_input, check_unit_image

_PASS_THROUGH = ("InputLayer", "Rescaling", "Reshape", "Flatten")  # layers with no weights to show
_AFTER_CONV = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU")


def saliency(model_or_predictor, image28: np.ndarray, target: int) -> np.ndarray:
    """Gradient x input: how much each pixel's ink added to (or, negative, took from) class `target`.

    The score is the class's pre-softmax logit (Simonyan et al. 2013); for a model whose softmax
    cannot be peeled off, its log-probability. The gradient of that score with respect to the [0, 1]
    image, times the image, is signed and exactly 0 where there is no ink: it explains the ink
    that is there, not the ink that is missing. A page calls
    ``saliency(predictor, image, prediction.digit)`` and shows it with a diverging colour scale
    centred on 0 (red: for `target`, blue: against).

    Returns float32 (28, 28). Raises ValueError for a bad image or target, TypeError for an
    object that is neither a keras.Model nor a Predictor.
    """
    import tensorflow as tf

    model, shape, scale = _unwrap(model_or_predictor)
    target = _check_target(target)
    x = tf.constant(check_unit_image(image28)[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = _class_scores(model, _model_input(x, shape, scale))[:, target]
    gradient = tape.gradient(score, x)
    return (gradient * x)[0].numpy().astype(np.float32)


def first_layer_filters(model_or_predictor) -> np.ndarray:
    """What the first weighted layer looks for, one small image per unit.

    CNN (first weighted layer Conv2D on one channel): its kernels, float32 (k, kh, kw), e.g. (32, 3, 3).
    MLP (first weighted layer Dense on 784 inputs): each unit's weights, float32 (units, 28, 28).
    Raises ValueError naming the layer for anything else.
    """
    model, _, _ = _unwrap(model_or_predictor)
    layer = _first_weighted_layer(model)
    kind = type(layer).__name__
    kernel = np.asarray(layer.kernel.numpy() if hasattr(layer, "kernel") else [], dtype=np.float32)
    if kind == "Conv2D" and kernel.ndim == 4 and kernel.shape[2] == 1:
        return np.ascontiguousarray(np.transpose(kernel[:, :, 0, :], (2, 0, 1)))
    if kind == "Dense" and kernel.ndim == 2 and kernel.shape[0] == 784:
        return np.ascontiguousarray(kernel.T.reshape(-1, *IMAGE_SHAPE))
    raise ValueError(
        f"first_layer_filters supports models whose first weighted layer is a Conv2D on one grey "
        f"channel or a Dense layer on 784 pixels; this model's is {kind} {layer.name!r} with weights "
        f"of shape {kernel.shape}."
    )


def activation_maps(model_or_predictor, image28: np.ndarray, activated: bool = True) -> np.ndarray:
    """The first conv layer's feature maps for one image: float32 (k, H, W), e.g. (32, 28, 28).

    With `activated` (default) the maps are taken after the batch normalisation and activation
    that follow the conv (what the next layer sees); otherwise straight out of the Conv2D.
    Raises ValueError for a model with no Conv2D layer (an MLP has no feature maps).
    """
    import keras

    model, shape, scale = _unwrap(model_or_predictor)
    x = check_unit_image(image28)[None]
    layers = list(model.layers)
    convs = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Conv2D"]
    if not convs:
        raise ValueError(
            f"activation_maps needs a CNN; {model.name!r} has no Conv2D layer (an MLP has no "
            "feature maps). Use first_layer_filters to see its first-layer weights."
        )
    end = convs[0]
    while activated and end + 1 < len(layers) and type(layers[end + 1]).__name__ in _AFTER_CONV:
        end += 1
    probe = keras.Model(model.inputs, layers[end].output)
    maps = np.asarray(probe(_model_input(x, shape, scale), training=False))[0]
    return np.ascontiguousarray(np.moveaxis(maps, -1, 0), dtype=np.float32)


def _check_target(target: object) -> int:
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= int(target) <= 9:
        raise ValueError(f"target must be a digit 0-9; got {target!r}.")
    return int(target)


def _unwrap(obj) -> tuple:
    """(keras model, per-image input shape, (scale, offset) for [0, 1] inputs) of a model or Predictor."""
    import keras

    if isinstance(obj, keras.Model):
        model, scale = obj, (1.0, 0.0)
    elif isinstance(getattr(obj, "model", None), keras.Model):  # a Predictor
        model, scale = obj.model, INPUT_SCALES.get(getattr(obj, "input_scale", "model"), (1.0, 0.0))
    else:
        raise TypeError(f"Expected a keras.Model or a Predictor (from load_predictor); got {type(obj).__name__}.")
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None
    accepted = accepted_input(shape) if shape is not None else None
    if accepted is not None:
        return model, accepted, scale
    raise ValueError(
        f"{model.name!r} takes input {shape if shape is not None else f'{len(inputs)} inputs'}; "
        "explanations need one 28x28 grey image input ((28, 28), (28, 28, 1) or (784,))."
    )


def _model_input(x, shape: tuple, scale: tuple[float, float]):
    """float32 (1, 28, 28) in [0, 1] -> the tensor the model takes (reshaped, scaled if foreign)."""
    import tensorflow as tf

    return tf.reshape(x * scale[0] + scale[1], (-1, *shape))


def _first_weighted_layer(model):
    for layer in model.layers:
        if type(layer).__name__ not in _PASS_THROUGH:
            return layer
    raise ValueError(f"{model.name!r} has no layer with weights.")


def _class_scores(model, x):
    """Pre-softmax class scores (N, 10): peeled off a final softmax Dense layer, else log(outputs)."""
    import keras
    import tensorflow as tf

    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(model, keras.Sequential) and type(last).__name__ == "Dense" and activation == "softmax":
        hidden = keras.Model(model.inputs, model.layers[-2].output)(x, training=False)
        logits = tf.matmul(hidden, last.kernel)
        return logits + last.bias if last.use_bias else logits
    out = model(x, training=False)
    if activation == "softmax" or type(last).__name__ == "Softmax":
        return tf.math.log(tf.maximum(out, 1e-30))
    return out  # a model that ends in raw scores
