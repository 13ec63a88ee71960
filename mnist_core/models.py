"""Build and compile the Keras model a TrainingConfig describes.

Every model takes float32 (N, 28, 28) in [0, 1] and starts with a Rescaling layer named
``input_scaling`` that maps [0, 1] to the configured scaling, so a predictor never needs to know
how a model was trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnist_core.config import TrainingConfig
from mnist_core.digits import IMAGE_SHAPE, INPUT_SCALES, NUM_CLASSES

if TYPE_CHECKING:
    import keras

SCALING_LAYER = "input_scaling"
BN_MOMENTUM = 0.9  # Keras' 0.99 needs hundreds of steps before its test-time statistics settle
BN_SETTLED_STEPS = 100  # below this many steps in all, batch norm's moving statistics would lag the weights


def build_model(config: TrainingConfig, steps_per_epoch: int = 1) -> keras.Model:
    """A compiled model for `config`; `steps_per_epoch` sizes the learning-rate schedule."""
    import keras

    keras.utils.set_random_seed(config.seed)
    momentum = batch_norm_momentum(steps_per_epoch * config.planned_epochs(steps_per_epoch))
    body = _cnn_layers(config, momentum) if config.architecture == "cnn" else _mlp_layers(config, momentum)
    scale, offset = INPUT_SCALES[config.scaling]  # [0, 1] input -> the configured range
    model = keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="digit"),
            keras.layers.Rescaling(scale, offset, name=SCALING_LAYER),
            *body,
            # float32 even under mixed precision (accelerator.py): a float16 softmax rounds small probabilities to 0
            keras.layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32"),
        ],
        name=f"digit_lab_{config.architecture}",
    )
    compile_for_training(model, build_optimizer(config, steps_per_epoch))
    return model


def compile_for_training(model: keras.Model, optimizer) -> None:
    """Compile `model` (sparse cross-entropy, accuracy) and make everything its first train step would make.

    Made inside the first traced step instead, the optimizer's slots (Adam's moments) are conditional
    initialisers in the graph (~0.25 s), and the accuracy metric's two variables make TensorFlow trace the
    whole train step a second time (a function that creates variables is traced again without them: ~0.45 s
    of a warm worker's Start -> first batch). Nothing here draws a random number, so training is unchanged.
    """
    import numpy as np

    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    one = np.zeros((1, *IMAGE_SHAPE), np.float32)
    model.compute_metrics(one, np.zeros((1,), np.int64), model(one, training=False), sample_weight=None)
    model.reset_metrics()


def batch_norm_momentum(total_steps: int) -> float:
    """The moving-average momentum of batch norm for a run of `total_steps` batches.

    Test-time statistics are an average over about 1 / (1 - momentum) of the last batches. A short run
    (one epoch of the 4,000 embedded digits is 32 steps) with the usual 0.9 would test with statistics
    still close to their start values while the weights have moved on; averaging over the last tenth
    of the run keeps them in step with the weights. Runs of BN_SETTLED_STEPS or more keep 0.9.
    """
    return max(0.0, min(BN_MOMENTUM, 1.0 - 10.0 / max(1, total_steps)))


def _hidden(units: int, config: TrainingConfig, momentum: float) -> list:
    """Dense -> [BatchNorm] -> activation -> [Dropout]."""
    import keras

    layers = [keras.layers.Dense(units, use_bias=not config.batch_norm)]
    if config.batch_norm:
        layers.append(keras.layers.BatchNormalization(momentum=momentum))
    layers.append(keras.layers.Activation(config.activation))
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout))
    return layers


def _mlp_layers(config: TrainingConfig, momentum: float) -> list:
    import keras

    layers: list = [keras.layers.Flatten()]
    for units in config.hidden_units:
        layers += _hidden(units, config, momentum)
    return layers


def _cnn_layers(config: TrainingConfig, momentum: float) -> list:
    """Conv blocks (3x3 conv, [BN], activation, 2x2 max-pool), then an optional dense layer."""
    import keras

    layers: list = [keras.layers.Reshape((*IMAGE_SHAPE, 1))]
    size = IMAGE_SHAPE[0]
    for filters in config.conv_filters:
        layers.append(keras.layers.Conv2D(filters, 3, padding="same", use_bias=not config.batch_norm))
        if config.batch_norm:
            layers.append(keras.layers.BatchNormalization(momentum=momentum))
        layers.append(keras.layers.Activation(config.activation))
        if size >= 6:  # keep at least a 3x3 map
            layers.append(keras.layers.MaxPooling2D(2))
            size //= 2
    layers.append(keras.layers.Flatten())
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout))
    if config.dense_units:
        layers += _hidden(config.dense_units, config, momentum)
    return layers


def build_optimizer(config: TrainingConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The configured optimizer with a constant or warm-up + cosine learning rate."""
    import keras

    rate = config.learning_rate
    if config.lr_schedule == "warmup_cosine":
        total = max(1, steps_per_epoch * config.planned_epochs(steps_per_epoch))
        warmup = max(1, min(total // 2, round(0.1 * total)))
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate / 20,
            decay_steps=max(1, total - warmup),  # one step in all (1 epoch, 1 batch) leaves none to decay
            warmup_target=config.learning_rate,
            warmup_steps=warmup,
            alpha=0.0,
        )
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(rate),
        "adamw": lambda: keras.optimizers.AdamW(rate, weight_decay=5e-4),
        "sgd": lambda: keras.optimizers.SGD(rate, momentum=0.0),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate),
    }
    return optimizers[config.optimizer]()


def describe(model: keras.Model) -> str:
    """One line: kind, layer counts and parameters."""
    kinds = [layer.__class__.__name__ for layer in model.layers]
    convs, dense = kinds.count("Conv2D"), kinds.count("Dense")
    layers = "layer" if (convs + dense if convs else dense) == 1 else "layers"
    kind = f"CNN, {convs} conv + {dense} dense {layers}" if convs else f"MLP, {dense} dense {layers}"
    return f"{kind}, {model.count_params():,} parameters"


def summary_text(model: keras.Model) -> str:
    """model.summary() as plain text."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=90)
    return "\n".join(lines)
