"""The cells of an experiment's notebook: the data once, then one `train_one(config)` that does what each run's
own notebook does (limit, hold-out, batches, model, optimizer, fit, test set) from a settings dict, and the
knob grid as a loop over it, each combination with the run's seed and order of random draws, so each line it
prints is the test accuracy of that combination's run. A table and a chart compare them at the end."""

from __future__ import annotations

from mnist_core.config import TrainingConfig
from mnist_core.digits import INPUT_SCALES
from mnist_core.notebook import cell_code as code
from mnist_core.notebook.cells import Cell, data_cells

TRAIN_ONE = '''\
INPUT_SCALES = {scales!r}  # what the first layer does to [0, 1] pixels
OPTIMIZERS = {{
    "adam": lambda rate: keras.optimizers.Adam(rate),
    "adamw": lambda rate: keras.optimizers.AdamW(rate, weight_decay=5e-4),
    "sgd": lambda rate: keras.optimizers.SGD(rate, momentum=0.0),
    "rmsprop": lambda rate: keras.optimizers.RMSprop(rate),
}}


def split(config):
    """The training digits (at most train_limit), and the digits that pick the best epoch."""
    SEED = config["seed"]
    x, y = x_train_all, y_train_all
    if config["train_limit"] and config["train_limit"] < len(y):
        keep = np.random.default_rng(SEED).permutation(len(y))[: config["train_limit"]]
        x, y = x[keep], y[keep]
    if config["validation"] != "split":
        return x, y, x_test, y_test  # validation on the test set: optimistic
    rng = np.random.default_rng(SEED)
    digits, counts = np.unique(y, return_counts=True)
    n_val = round(len(y) * config["validation_fraction"])
    exact = counts * n_val / len(y)
    take = np.clip(np.floor(exact).astype(int), 1, counts - 1)
    while take.sum() != n_val:
        step = 1 if take.sum() < n_val else -1
        room = (take + step >= 1) & (take + step <= counts - 1)
        take[int(np.argmax(np.where(room, (exact - take) * step, -np.inf)))] += step
    val = np.concatenate([rng.permutation(np.flatnonzero(y == d))[:k] for d, k in zip(digits, take)])
    val = rng.permutation(val)
    train = rng.permutation(np.setdiff1d(np.arange(len(y)), val, assume_unique=True))
    return x[train], y[train], x[val], y[val]


def batches(x, y, batch_size, seed, shuffle=False, augmented=False):
    """A tf.data pipeline of (float32 images in [0, 1], labels) batches."""
    pixels, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def gather(index):
        images = tf.cast(tf.gather(pixels, index), tf.float32) / 255.0
        if augmented:
            images = augment(images, seed)
        return images, tf.gather(labels, index)

    return order.batch(batch_size).map(gather, deterministic=True).prefetch(2)


def build_model(config, total_steps):
    """The run's model, layer by layer, as Digit Lab builds it from these settings."""
    bn = config["batch_norm"]
    momentum = max(0.0, min(0.9, 1.0 - 10.0 / total_steps))

    def after(dropout):
        out = [keras.layers.BatchNormalization(momentum=momentum)] if bn else []
        out.append(keras.layers.Activation(config["activation"]))
        return out + ([keras.layers.Dropout(config["dropout"])] if dropout and config["dropout"] else [])

    keras.utils.set_random_seed(config["seed"])
    layers = [keras.Input(shape=(28, 28), name="digit"),
              keras.layers.Rescaling(*INPUT_SCALES[config["scaling"]], name="input_scaling")]
    if config["architecture"] == "cnn":
        layers.append(keras.layers.Reshape((28, 28, 1)))
        size = 28
        for filters in config["conv_filters"]:
            layers.append(keras.layers.Conv2D(filters, 3, padding="same", use_bias=not bn))
            layers += after(False)
            if size >= 6:
                layers.append(keras.layers.MaxPooling2D(2))
                size //= 2
        layers.append(keras.layers.Flatten())
        layers += [keras.layers.Dropout(config["dropout"])] if config["dropout"] else []
        hidden = [config["dense_units"]] if config["dense_units"] else []
    else:
        layers.append(keras.layers.Flatten())
        hidden = list(config["hidden_units"])
    for units in hidden:
        layers.append(keras.layers.Dense(units, use_bias=not bn))
        layers += after(True)
    layers.append(keras.layers.Dense(10, activation="softmax", name="probabilities"))
    return keras.Sequential(layers, name=f"digit_lab_{{config['architecture']}}")


def train_one(config):
    """One combination, from start to test set: returns its test accuracy and its history."""
    keras.utils.set_random_seed(config["seed"])
    x, y, x_val, y_val = split(config)
    train_batches = batches(x, y, config["batch_size"], config["seed"], shuffle=True, augmented=config["augmentation"])
    steps_per_epoch = -(-len(y) // config["batch_size"])
    epochs = config["epochs"]
    if config["min_steps"]:
        epochs = min(500, max(epochs, -(-config["min_steps"] // steps_per_epoch)))
    model = build_model(config, max(1, steps_per_epoch * epochs))
    rate = config["learning_rate"]
    if config["lr_schedule"] == "warmup_cosine":
        total = max(1, steps_per_epoch * epochs)
        warmup = max(1, min(total // 2, round(0.1 * total)))
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=rate / 20, decay_steps=max(1, total - warmup),
            warmup_target=rate, warmup_steps=warmup, alpha=0.0,
        )
    model.compile(optimizer=OPTIMIZERS[config["optimizer"]](rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    keep_best = KeepBest(patience=config["early_stopping_patience"])
    history = model.fit(train_batches, epochs=epochs, validation_data=batches(x_val, y_val, 256, config["seed"]),
                        callbacks=[keep_best], shuffle=False, verbose=0)
    predicted = model.predict(batches(x_test, y_test, 256, config["seed"]), verbose=0).argmax(axis=1)
    return float(np.mean(predicted == y_test)), history
'''


LOOP = """\
BASE = {base!r}
GRID = {grid!r}  # {knobs}: one run per combination

results = []
for values in GRID:
    start = time.monotonic()
    accuracy, history = train_one({{**BASE, **values}})
    results.append((values, accuracy, history))
    said = ", ".join(f"{{k}}={{v}}" for k, v in values.items())
    print(f"{{said}}: test accuracy {{accuracy:.2%}} ({{time.monotonic() - start:.0f}} s)")
"""

COMPARE = """\
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
labels = [", ".join(f"{k}={v}" for k, v in values.items()) for values, _, _ in results]
left.barh(labels, [100 * accuracy for _, accuracy, _ in results])
left.set_xlabel("test accuracy (%)")
left.set_xlim(max(0, 100 * min(a for _, a, _ in results) - 5), 100)
for label, (_, _, history) in zip(labels, results):
    right.plot(range(1, len(history.history["val_accuracy"]) + 1), history.history["val_accuracy"], label=label)
right.set_xlabel("epoch")
right.set_title("validation accuracy")
right.legend(fontsize=7)
plt.tight_layout()
plt.show()
"""


def experiment_cells(
    name: str, knobs: tuple[str, ...], base: TrainingConfig, grid: list[dict], source: str, keras_version: str
) -> list[Cell]:
    """Every cell of the experiment's notebook; `grid` holds each combination's knob values, in run order."""
    varied = " and ".join(f"**{knob.replace('_', ' ')}**" for knob in knobs)
    intro = (
        f"# {name}\n\nThis notebook repeats the Digit Lab experiment *{name}*: the same model trained "
        f"{len(grid)} times, varying {varied}, everything else as the experiment set it. Each combination gets the "
        "seed and the order of random draws its run had, so each line it prints is that run's test accuracy. It "
        f"needs only Keras, NumPy and matplotlib, and was written for **Keras {keras_version}** with the "
        "TensorFlow backend. Change `GRID` (or `BASE`) and run it again."
    )
    base_dict = {key: list(value) if isinstance(value, tuple) else value for key, value in base.to_dict().items()}
    grid = [{key: list(value) if isinstance(value, tuple) else value for key, value in row.items()} for row in grid]
    data = data_cells(source)
    data[-1] = (
        "code",
        data[-1][1] + "x_train_all, y_train_all = x_train, y_train  # each combination draws from these\n",
    )
    return [
        ("markdown", intro),
        ("code", code.IMPORTS),
        *data,
        ("markdown", "## 2. One combination, from start to test set\n\nWhat each run did, written once as a "
         "function of its settings: the training digits and the held-out part that picks the best epoch, "
         "batches (distorted if `augmentation`), the model layer by layer, the optimizer and its learning-rate "
         "schedule, `fit` keeping the best epoch, and the test set scored once."),
        ("code", code.AUGMENT + code.KEEP_BEST + TRAIN_ONE.format(scales=INPUT_SCALES)),
        ("markdown", f"## 3. The grid\n\n{len(grid)} combinations of {varied}, one after the other."),
        ("code", LOOP.format(base=base_dict, grid=grid, knobs=", ".join(knobs))),
        ("markdown", "## 4. Side by side\n\nTest accuracy of each combination, and how its validation accuracy "
         "grew epoch by epoch."),
        ("code", COMPARE),
    ]  # fmt: skip
