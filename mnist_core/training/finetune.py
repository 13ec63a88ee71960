"""The worker's part of a fine-tune run (see `mnist_core.runs.finetune`): mix My digits with MNIST, fit the
base model, measure it before and after, write finetune.json.

`mnist_core.workers.worker` calls `finetune_run` for a run whose config.json has a "finetune" entry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_core.config import TrainingConfig
from mnist_core.data import MnistData
from mnist_core.digits import to_unit_float
from mnist_core.runs.files import FINETUNE_REPORT, RunFiles
from mnist_core.runs.finetune import FinetuneError
from mnist_core.training import VALIDATION_BATCH, Split, fit_and_finish, run_in_folder, steps_per_epoch
from mnist_core.training.watch import WatchedDigits


def finetune_run(run_dir: Path) -> str:
    """Fine-tune the run in `run_dir` to its end (the worker calls it); returns the final state."""
    return run_in_folder(run_dir, finetune)


def finetune(files: RunFiles, config: TrainingConfig, data: MnistData) -> str:
    """The worker's body for a fine-tune run; returns the final state."""
    import keras

    spec = files.finetune_spec()
    mine = np.load(files.file(spec["my_digits"]), allow_pickle=False)
    images, labels, holdout = to_unit_float(mine["images"]), mine["labels"].astype(np.int64), mine["holdout"]
    split, counts = mixed_split(images, labels, holdout, data, spec, config.seed)
    keras.utils.set_random_seed(config.seed)
    model = load_base_model(spec["base_model"], config, steps_per_epoch(split, config))
    files.update_status(data_source=data.source, message="Measuring the base model…")
    before = _predict(model, split.x_val), float(np.mean(_predict(model, data.x_test).argmax(1) == data.y_test))
    files.update_status(
        message=f"Fine-tuning on {counts['my_digits']} of My digits (each x{counts['repeat']}) "
        f"and {counts['mnist']:,} MNIST digits; measuring on {len(split.y_val)} held out."
    )
    held = np.flatnonzero(holdout)
    watch = WatchedDigits(split.x_val[:100], split.y_val[:100], held[:100], "held-out My digits")

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
    repeat = int(spec["repeat"])
    x_mine, y_mine = np.tile(images[~holdout], (repeat, 1, 1)), np.tile(labels[~holdout], repeat)
    n = int((~holdout).sum())
    if repeat > 1:  # every copy but the first is randomly distorted (once); MNIST digits stay as they are
        from mnist_core.training.augment import augment_batch

        x_mine[n:] = np.asarray(augment_batch(x_mine[n:], seed=seed))
    n_mnist = min(len(data.y_train), round(float(spec["mnist_mix"]) * len(y_mine)))
    pick = np.random.default_rng(seed).choice(len(data.y_train), n_mnist, replace=False)
    x = np.concatenate([x_mine, to_unit_float(data.x_train[pick])])
    y = np.concatenate([y_mine, data.y_train[pick].astype(np.int64)])
    split = Split(x, y, images[holdout], labels[holdout], f"held-out My digits ({int(holdout.sum())})")
    return split, {"my_digits": int((~holdout).sum()), "repeat": repeat, "mnist": n_mnist}


def load_base_model(path: str, config: TrainingConfig, steps: int):
    """The base model (Keras safe mode), batch-norm statistics frozen, compiled for fine-tuning."""
    import keras

    from mnist_core.models import build_optimizer, compile_for_training

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise FinetuneError(f"Could not load the base model {path}: {error}") from error
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # a few hundred drawings must not move the statistics of 60,000 digits
    compile_for_training(model, build_optimizer(config, steps))
    return model


def _predict(model, x: np.ndarray) -> np.ndarray:
    """Probabilities on uint8 or [0, 1] float digits, a batch at a time."""
    from mnist_core.training.pipeline import predict_pixels

    return predict_pixels(model, x, batch_size=VALIDATION_BATCH)


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
    files.write_json(
        FINETUNE_REPORT,
        {
            "base_model": spec["base_model"],
            "train": counts,
            "held_out": rows,
            "holdout": {"n": len(labels), "before": accuracy(before_p), "after": accuracy(after)},
            "test": {"n": n_test, "before": before_test, "after": files.read_evaluation_accuracy()},
        },
    )
