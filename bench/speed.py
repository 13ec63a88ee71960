"""Time to accuracy, in one session: the keras-io mnist_convnet recipe against the `quick` and `cnn` presets.

    MNIST_DATA_DIR=../shared/data/mnist python bench/speed.py [--only keras-io quick cnn]

Each recipe trains on full MNIST in this process; after every epoch the clock pauses while the model
is scored on the 10,000 test digits. Printed per recipe: the training time (its own validation
included, the test scoring not) until the test accuracy first reaches 98.0%, 99.0% and 99.5%, the
first epoch's time, and training samples per second. The presets train exactly as a run does
(`training.make_split` + `models.build_model` + `training.fit`, without the run's file writing, which
costs about 2%: bench/train_overhead.py). The keras-io recipe is
https://keras.io/examples/vision/mnist_convnet/ as published (float32 inputs from NumPy, batch 128,
10% of train for validation, Adam), with integer labels instead of one-hot (the same loss); it stops
once it has reached 99.0% (`--keras-stop`), or after `--keras-epochs`. Every recipe compiles with Keras'
default `jit_compile="auto"`, which Keras 3 turns into no XLA on a machine without a GPU.
Absolute seconds on a shared VM vary 2-3x from day to day: compare the ratios printed at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: its queue.py would hide the stdlib's

import numpy as np  # noqa: E402

from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.digits import to_unit_float  # noqa: E402
from mnist_core.presets import get_preset  # noqa: E402
from mnist_core.training import fit, make_split, steps_per_epoch  # noqa: E402
from mnist_core.training.pipeline import predict_pixels  # noqa: E402

THRESHOLDS = (0.98, 0.99, 0.995)
KERAS_IO = "keras-io"


def test_clock(score):
    """A Keras callback that times training and calls `score(model)` -> test accuracy after each epoch,
    with the clock paused; `.rows` holds (epoch, training seconds so far, test accuracy)."""
    import keras

    class TestClock(keras.callbacks.Callback):
        def __init__(self, stop_at: float | None = None):
            super().__init__()
            self.rows: list[tuple[int, float, float]] = []
            self.stop_at, self.elapsed, self.resumed = stop_at, 0.0, 0.0

        def on_train_begin(self, logs=None):
            self.resumed = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.elapsed += time.perf_counter() - self.resumed
            accuracy = score(self.model)
            self.rows.append((epoch + 1, self.elapsed, accuracy))
            print(f"  epoch {epoch + 1}: {self.elapsed:7.1f} s, test accuracy {accuracy:.2%}", flush=True)
            if self.stop_at is not None and accuracy >= self.stop_at:
                self.model.stop_training = True
            self.resumed = time.perf_counter()

    return TestClock


def train_keras_io(data, epochs: int, stop_at: float) -> tuple[list, int]:
    """The keras-io mnist_convnet recipe; returns the clock's rows and the training digits per epoch."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x_train, x_test = to_unit_float(data.x_train)[..., None], to_unit_float(data.x_test)[..., None]
    score = lambda m: float(np.mean(m.predict(x_test, batch_size=256, verbose=0).argmax(1) == data.y_test))  # noqa: E731
    clock = test_clock(score)(stop_at)
    model.fit(x_train, data.y_train, batch_size=128, epochs=epochs, validation_split=0.1, callbacks=[clock], verbose=0)
    return clock.rows, len(data.y_train) - round(0.1 * len(data.y_train))


def train_preset(data, name: str) -> tuple[list, int]:
    """Preset `name` as a run trains it; returns the clock's rows and the training digits per epoch."""
    from mnist_core.models import build_model

    config = get_preset(name)
    split = make_split(data, config)
    model = build_model(config, steps_per_epoch=steps_per_epoch(split, config))
    score = lambda m: float(np.mean(predict_pixels(m, data.x_test, batch_size=256).argmax(1) == data.y_test))  # noqa: E731
    clock = test_clock(score)()
    fit(model, split, config, [clock])
    return clock.rows, len(split.y_train)


def time_to(rows: list, threshold: float) -> float | None:
    """Training seconds until the test accuracy first reached `threshold`, or None."""
    return next((seconds for _, seconds, accuracy in rows if accuracy >= threshold), None)


def summary(name: str, rows: list, digits: int, load: tuple[float, float]) -> dict:
    epochs, seconds, accuracy = rows[-1]
    return {
        "name": name,
        "load": load,
        "epochs": epochs,
        "first_s": rows[0][1],
        "to": {t: time_to(rows, t) for t in THRESHOLDS},
        "samples_s": epochs * digits / seconds,
        "final": accuracy,
        "best": max(r[2] for r in rows),
    }


def print_table(results: list[dict]) -> None:
    cell = lambda s: f"{s:.0f} s" if s is not None else "not reached"  # noqa: E731
    print("\n| recipe | epochs | 1st epoch | to 98.0% | to 99.0% | to 99.5% | samples/s | best test acc | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        reached = " | ".join(cell(r["to"][t]) for t in THRESHOLDS)
        print(
            f"| {r['name']} | {r['epochs']} | {r['first_s']:.0f} s | {reached} | {r['samples_s']:,.0f} "
            f"| {r['best']:.2%} | {r['load'][0]:.1f}–{r['load'][1]:.1f} |"
        )


def print_goals(by_name: dict) -> None:
    keras_io, quick, cnn = by_name.get(KERAS_IO), by_name.get("quick"), by_name.get("cnn")
    if keras_io and quick and quick["to"][0.98] is not None:
        ratio = quick["to"][0.98] / keras_io["first_s"]
        print(f"quick to 98.0% / keras-io's first epoch: {ratio:.2f} (goal <= 1)")
    if keras_io and cnn and keras_io["to"][0.99] is not None and cnn["to"][0.995] is not None:
        ratio = cnn["to"][0.995] / keras_io["to"][0.99]
        print(f"cnn to 99.5% / keras-io to 99.0%: {ratio:.2f} (goal <= 1)")
    elif keras_io and cnn:
        print(f"cnn reached {cnn['best']:.2%}, keras-io {keras_io['best']:.2%}: a threshold was not reached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[KERAS_IO, "quick", "cnn"])
    parser.add_argument("--keras-epochs", type=int, default=15, help="the recipe's epochs (keras-io: 15)")
    parser.add_argument("--keras-stop", type=float, default=0.99, help="stop keras-io at this test accuracy")
    args = parser.parse_args()
    data = load_mnist()
    print(f"data: {data.source}")
    results = []
    for name in args.only:
        print(f"{name}: load average {os.getloadavg()[0]:.1f}", flush=True)
        start_load = os.getloadavg()[0]
        if name == KERAS_IO:
            rows, digits = train_keras_io(data, args.keras_epochs, args.keras_stop)
        else:
            rows, digits = train_preset(data, name)
        results.append(summary(name, rows, digits, (start_load, os.getloadavg()[0])))
    print_table(results)
    print_goals({r["name"]: r for r in results})


if __name__ == "__main__":
    main()
