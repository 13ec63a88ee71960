"""Fine-tune on My digits: teach a trained model the way people here draw, without forgetting MNIST.

`start_finetune` starts a normal run (worker process, live curves, Stop) whose config.json carries
a "finetune" entry: {"base_model": path, "my_digits": "my_digits.npz", "mnist_mix", "repeat"}.
The snapshot `my_digits.npz` (images uint8, labels, ids, holdout bool) fixes which digits train
and which are held out (30%, stratified, seeded). The worker (`finetune`, called by
`training.train`) loads the base model in Keras' safe mode, freezes its batch-norm statistics,
and trains with a low constant learning rate on the training part of My digits, repeated to
about 1,000 samples an epoch (every copy but the first randomly distorted), mixed with
`mnist_mix` (default 3) times as many MNIST training digits, left undistorted, so that it does
not forget (measured: a 1:1 mix lost 1.3 points of test accuracy, 3:1 lost none). It keeps the
*last* weights (the held-out digits are only measured, never used to choose), and writes
`finetune.json`: accuracy before and after on the held-out My digits and on the test set, and
each held-out digit's guesses.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.my_digits import digit_arrays
from mnist_core.storage import atomic_path, atomic_write_json, read_json

REPORT_NAME = "finetune.json"
SNAPSHOT_NAME = "my_digits.npz"
HOLDOUT = 0.3  # share of each digit's drawings held out to measure the fine-tune
MIN_DIGITS = 10  # fewer My digits than this cannot both train and measure anything
REPEAT_TARGET = 1000  # My-digit samples per epoch: each drawing is repeated (and augmented) about this often
MAX_REPEAT = 50
LEARNING_RATE = 3e-4  # about a tenth of what the presets train with: nudge, do not retrain
BATCH_SIZE = 64


class FinetuneError(ValueError):
    """Fine-tuning cannot start; the message says what to do."""


def start_finetune(
    base_model_path: str | Path,
    runs_dir: str | Path | None = None,
    epochs: int = 3,
    mnist_mix: float = 3.0,
    name: str | None = None,
    my_digits_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
) -> runs.RunHandle:
    """Start fine-tuning `base_model_path` on My digits as a run; returns its handle at once.

    A page calls ``start_finetune(run.model_path("best"))`` (or ``STARTER_MODEL_PATH``) and then
    shows the run like any other; when it has finished, ``finetune_report(run)`` gives the numbers.
    `mnist_mix` is how many MNIST training digits join each My-digit sample (0..20).

    Raises FinetuneError (too few My digits, bad settings, not a Digit Lab model), ModelLoadError
    (an unreadable or unsafe model file), RunBusyError (a run is training) or RunError.
    """
    _check_settings(epochs, mnist_mix)
    images, labels, ids = digit_arrays(my_digits_dir)
    holdout = holdout_mask(labels, HOLDOUT, seed)
    n_train = int((~holdout).sum())
    base = _check_base_model(Path(base_model_path))
    config = _base_config(base).replace(
        epochs=epochs,
        min_steps=0,  # a preset's step budget is for training from scratch; a fine-tune runs `epochs`
        learning_rate=learning_rate,
        lr_schedule="constant",
        optimizer="adam",
        early_stopping_patience=0,
        augmentation=False,
        batch_size=BATCH_SIZE,
        validation="test",
        train_limit=0,
        seed=seed,
    )
    spec = {
        "base_model": str(base),
        "my_digits": SNAPSHOT_NAME,
        "mnist_mix": float(mnist_mix),
        "repeat": min(MAX_REPEAT, math.ceil(REPEAT_TARGET / n_train)),
    }

    def write_snapshot(handle: runs.RunHandle) -> None:  # before the worker starts: it reads these at once
        with atomic_path(handle.path / SNAPSHOT_NAME, suffix=".npz") as tmp:
            np.savez_compressed(
                tmp,
                images=np.round(images * 255).astype(np.uint8),
                labels=labels,
                ids=np.array(ids, dtype=str),
                holdout=holdout,
            )
        atomic_write_json(handle.files.config_file, {**handle.files.read_meta(), "finetune": spec})

    return runs.start_run(config, name or _default_name(base), runs_dir, data_dir, prepare=write_snapshot)


def finetune_report(run: runs.RunHandle | str | Path) -> dict | None:
    """The run's finetune.json, or None until the fine-tune has been measured (or for other runs).

    {"holdout": {"n", "before", "after"}, "test": {"n", "before", "after"} (accuracies 0..1),
     "train": {"my_digits", "repeat", "mnist"}, "base_model": path,
     "held_out": [{"id", "label", "before", "after", "confidence_before", "confidence_after"}]}
    """
    path = run.path if isinstance(run, runs.RunHandle) else Path(run)
    report = read_json(path / REPORT_NAME)
    return report if isinstance(report, dict) else None


def holdout_mask(labels: np.ndarray, share: float = HOLDOUT, seed: int = 0) -> np.ndarray:
    """bool (N,): round(share * n) of each digit's n drawings held out (seeded), at least one kept to train."""
    labels = np.asarray(labels)
    if len(labels) < MIN_DIGITS:
        raise FinetuneError(
            f"Fine-tuning needs at least {MIN_DIGITS} of My digits; there are {len(labels)}. "
            "Draw and save some more (a few of each digit the model gets wrong)."
        )
    rng, mask = np.random.default_rng(seed), np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        positions = rng.permutation(np.flatnonzero(labels == digit))
        mask[positions[: min(round(share * len(positions)), len(positions) - 1)]] = True
    if not mask.any():
        raise FinetuneError(
            "Too few drawings per digit to hold any out for measuring; save at least 2 of a "
            "digit (better 5 or more of each digit you want the model to learn)."
        )
    return mask


def _check_settings(epochs: object, mnist_mix: object) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 50:
        raise FinetuneError(f"epochs is {epochs!r}; fine-tune for 1 to 50 epochs.")
    if isinstance(mnist_mix, bool) or not isinstance(mnist_mix, (int, float)) or not 0 <= mnist_mix <= 20:
        raise FinetuneError(f"mnist_mix is {mnist_mix!r}; use 0 to 20 MNIST digits per My-digit sample.")


def _check_base_model(path: Path) -> Path:
    """The resolved path of a loadable Digit Lab model (it scales its own [0, 1] (28, 28) input)."""
    from mnist_core.predict import load_predictor

    predictor = load_predictor(path)
    if predictor.input_scale != "model" or predictor.input_shape != (28, 28):
        raise FinetuneError(
            f"{path.name} is not a Digit Lab model (no input_scaling layer, or input "
            f"{predictor.input_shape}); fine-tune a model trained here or the starter model."
        )
    return predictor.path


def _base_config(base: Path) -> TrainingConfig:
    """The config the base model was trained with, when it is known (a run's model or the starter)."""
    from mnist_core.predict import STARTER_MODEL_PATH
    from mnist_core.presets import get_preset

    if (base.parent / "config.json").is_file():
        try:
            return runs.RunHandle(base.parent).config
        except (ValueError, FileNotFoundError, KeyError):
            pass
    return get_preset("starter") if base == STARTER_MODEL_PATH.resolve() else TrainingConfig()


def _default_name(base: Path) -> str:
    source = runs.RunHandle(base.parent).name if (base.parent / "config.json").is_file() else base.stem
    return "fine-tune " + re.sub(r"[^\w .,()+=#@-]+", "-", source)[:40]


def finetune(files, config: TrainingConfig, data) -> str:
    """The worker's body for a fine-tune run (`training.train` calls it); returns the final state."""
    import keras

    from mnist_core.training import fit_and_finish, steps_per_epoch

    spec = files.finetune_spec()
    mine = np.load(files.path / spec["my_digits"], allow_pickle=False)
    images, labels, holdout = mine["images"].astype(np.float32) / 255, mine["labels"].astype(np.int64), mine["holdout"]
    split, counts = mixed_split(images, labels, holdout, data, spec, config.seed)
    keras.utils.set_random_seed(config.seed)
    model = load_base_model(spec["base_model"], config, steps_per_epoch(split, config))
    files.update_status(data_source=data.source, message="Measuring the base model…")
    x_test = data.x_test.astype(np.float32) / 255
    before = _predict(model, split.x_val), float(np.mean(_predict(model, x_test).argmax(1) == data.y_test))
    files.update_status(
        message=f"Fine-tuning on {counts['my_digits']} of My digits (each x{counts['repeat']}) "
        f"and {counts['mnist']:,} MNIST digits; measuring on {len(split.y_val)} held out."
    )
    held = np.flatnonzero(holdout)
    watch = (split.x_val[:100], split.y_val[:100], held[:100], "held-out My digits")

    def report(tuned) -> None:
        _write_report(
            files,
            spec,
            counts,
            split.y_val,
            [str(i) for i in mine["ids"][held]],
            before,
            _predict(tuned, split.x_val),
            len(data.y_test),
        )

    return fit_and_finish(files, config, split, data, model, watch=watch, keep_best=False, report=report)


def mixed_split(images: np.ndarray, labels: np.ndarray, holdout: np.ndarray, data, spec: dict, seed: int):
    """My digits' training part repeated (copies distorted), plus an MNIST training sample; validation =
    the held-out My digits. Returns the Split and the counts {"my_digits", "repeat", "mnist"}."""
    from mnist_core.training import Split

    repeat = int(spec["repeat"])
    x_mine, y_mine = np.tile(images[~holdout], (repeat, 1, 1)), np.tile(labels[~holdout], repeat)
    n = int((~holdout).sum())
    if repeat > 1:  # every copy but the first is randomly distorted (once); MNIST digits stay as they are
        from mnist_core.augment import augment_batch

        x_mine[n:] = np.asarray(augment_batch(x_mine[n:], seed=seed))
    n_mnist = min(len(data.y_train), round(float(spec["mnist_mix"]) * len(y_mine)))
    pick = np.random.default_rng(seed).choice(len(data.y_train), n_mnist, replace=False)
    x = np.concatenate([x_mine, data.x_train[pick].astype(np.float32) / 255])
    y = np.concatenate([y_mine, data.y_train[pick].astype(np.int64)])
    split = Split(x, y, images[holdout], labels[holdout], f"held-out My digits ({int(holdout.sum())})")
    return split, {"my_digits": int((~holdout).sum()), "repeat": repeat, "mnist": n_mnist}


def load_base_model(path: str, config: TrainingConfig, steps: int):
    """The base model (Keras safe mode), batch-norm statistics frozen, compiled for fine-tuning."""
    import keras

    from mnist_core.models import build_optimizer

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise FinetuneError(f"Could not load the base model {path}: {error}") from error
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # a few hundred drawings must not move the statistics of 60,000 digits
    model.compile(
        optimizer=build_optimizer(config, steps), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def _predict(model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=1000, verbose=0) if len(x) else np.zeros((0, 10), np.float32)


def _write_report(
    files, spec: dict, counts: dict, labels: np.ndarray, ids: list[str], before: tuple, after: np.ndarray, n_test: int
) -> None:
    before_p, before_test = before
    rows = [
        {
            "id": ids[i],
            "label": int(labels[i]),
            "before": int(before_p[i].argmax()),
            "after": int(after[i].argmax()),
            "confidence_before": round(float(before_p[i].max()), 4),
            "confidence_after": round(float(after[i].max()), 4),
        }
        for i in range(len(labels))
    ]
    accuracy = lambda p: float(np.mean(p.argmax(1) == labels)) if len(labels) else 0.0  # noqa: E731
    atomic_write_json(
        files.path / REPORT_NAME,
        {
            "base_model": spec["base_model"],
            "train": counts,
            "held_out": rows,
            "holdout": {"n": len(labels), "before": accuracy(before_p), "after": accuracy(after)},
            "test": {"n": n_test, "before": before_test, "after": files.read_evaluation_accuracy()},
        },
    )
