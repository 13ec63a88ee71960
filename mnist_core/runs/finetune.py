"""Fine-tune on My digits: teach a trained model the way people here draw, without forgetting MNIST.

`start_finetune` starts a normal run (worker process, live curves, Stop) whose config.json carries
a "finetune" entry: {"base_model": path, "my_digits": "my_digits.npz", "mnist_mix", "repeat"}.
The snapshot `my_digits.npz` (images uint8, labels, ids, holdout bool) fixes which digits train
and which are held out (30%, stratified, seeded). The worker (`training.finetune.finetune_run`,
chosen by `mnist_core.workers.worker`) loads the base model in Keras' safe mode, freezes its batch-norm statistics,
and trains with a low constant learning rate on the training part of My digits, repeated to
about 1,000 samples an epoch (every copy but the first randomly distorted), mixed with
`mnist_mix` (default 3) times as many MNIST training digits, left undistorted, so that it does
not forget (measured: a 1:1 mix lost 1.3 points of test accuracy, 3:1 lost none). It keeps the
*last* weights (the held-out digits are only measured, never used to choose), and writes
`finetune.json`: accuracy before and after on the held-out My digits and on the test set, and
each held-out digit's guesses. The worker's part lives in `training.finetune`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.digits import to_uint8
from mnist_core.my_digits import digit_arrays
from mnist_core.people import Person
from mnist_core.runs.files import CONFIG, FINETUNE_DIGITS, RunFiles

HOLDOUT = 0.3  # share of each digit's drawings held out to measure the fine-tune
MIN_DIGITS = 10  # fewer My digits than this cannot both train and measure anything
REPEAT_TARGET = 1000  # My-digit samples per epoch: each drawing is repeated (and augmented) about this often
MAX_REPEAT = 50
LEARNING_RATE = 3e-4  # about a tenth of what the presets train with: nudge, do not retrain
BATCH_SIZE = 64
FIXED_SETTINGS = {  # over the base model's own config: nudge it gently, keep the last weights
    "min_steps": 0,  # a preset's step budget is for training from scratch; a fine-tune runs `epochs`
    "lr_schedule": "constant",
    "optimizer": "adam",
    "early_stopping_patience": 0,
    "augmentation": False,
    "batch_size": BATCH_SIZE,
    "validation": "test",
    "train_limit": 0,
}


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
    owner: Person | None = None,
) -> runs.RunHandle:
    """Start fine-tuning `base_model_path` on My digits as a run of `owner`; returns its handle at once (queued).

    A page calls ``start_finetune(run.model_path("best"))`` (or ``STARTER_MODEL_PATH``) and then
    shows the run like any other; when it has finished, ``finetune_report(run)`` gives the numbers.
    `mnist_mix` is how many MNIST training digits join each My-digit sample (0..20).

    Raises FinetuneError (too few My digits, bad settings, not a Digit Lab model), ModelLoadError
    (an unreadable or unsafe model file), RunQueueFullError (too many runs waiting) or RunError.
    """
    _check_settings(epochs, mnist_mix)
    images, labels, ids = digit_arrays(my_digits_dir)
    holdout = holdout_mask(labels, HOLDOUT, seed)
    base = _check_base_model(Path(base_model_path))
    config = _base_config(base).replace(**FIXED_SETTINGS, epochs=epochs, learning_rate=learning_rate, seed=seed)
    spec = {
        "base_model": str(base),
        "my_digits": FINETUNE_DIGITS,
        "mnist_mix": float(mnist_mix),
        "repeat": min(MAX_REPEAT, math.ceil(REPEAT_TARGET / int((~holdout).sum()))),
    }
    arrays = {"images": to_uint8(images), "labels": labels, "ids": np.array(ids, dtype=str), "holdout": holdout}

    def write_snapshot(handle: runs.RunHandle) -> None:  # before the worker starts: it reads these at once
        handle.files.save_arrays(FINETUNE_DIGITS, lambda tmp: np.savez_compressed(tmp, **arrays))
        handle.files.update_meta(finetune=spec)

    return runs.start_run(config, name or _default_name(base), runs_dir, data_dir, prepare=write_snapshot, owner=owner)


@dataclass(frozen=True)
class BeforeAfter:
    """Accuracy (0..1) on `n` digits before and after fine-tuning; None where it was not measured."""

    n: int
    before: float | None
    after: float | None


@dataclass(frozen=True)
class HeldOutDigit:
    """One held-out drawing: its label and the model's guesses on it before and after."""

    id: str
    label: int
    before: int
    after: int
    confidence_before: float
    confidence_after: float


@dataclass(frozen=True)
class FinetuneReport:
    """What finetune.json says: how a fine-tune changed the model."""

    base_model: str  # path of the model that was fine-tuned
    train: dict[str, int]  # {"my_digits": drawings trained on, "repeat": copies of each, "mnist": MNIST digits}
    holdout: BeforeAfter  # on the held-out My digits
    test: BeforeAfter  # on the MNIST test set
    held_out: tuple[HeldOutDigit, ...]

    @classmethod
    def from_dict(cls, raw: dict) -> FinetuneReport:
        """Build from finetune.json's dict; KeyError/TypeError/ValueError if it is not one."""
        return cls(
            str(raw["base_model"]),
            {str(k): int(v) for k, v in raw["train"].items()},
            BeforeAfter(**raw["holdout"]),
            BeforeAfter(**raw["test"]),
            tuple(HeldOutDigit(**row) for row in raw["held_out"]),
        )


def finetune_report(run: runs.RunHandle | str | Path) -> FinetuneReport | None:
    """The run's `FinetuneReport`, or None until the fine-tune has been measured (or for other runs)."""
    files = run.files if isinstance(run, runs.RunHandle) else RunFiles(run)
    raw = files.read_finetune_report()  # checked against the schema: None when missing or damaged
    return None if raw is None else FinetuneReport.from_dict(raw)


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
    from mnist_core.drawing.predict import load_predictor

    predictor = load_predictor(path)
    if predictor.input_scale != "model" or predictor.input_shape != (28, 28):
        raise FinetuneError(
            f"{path.name} is not a Digit Lab model (no input_scaling layer, or input "
            f"{predictor.input_shape}); fine-tune a model trained here or the starter model."
        )
    return predictor.path


def _base_config(base: Path) -> TrainingConfig:
    """The config the base model was trained with, when it is known (a run's model or the starter)."""
    from mnist_core.drawing.predict import STARTER, STARTER_MODEL_PATH
    from mnist_core.presets import get_preset

    if (base.parent / CONFIG).is_file():
        try:
            return runs.RunHandle(base.parent).config
        except (ValueError, FileNotFoundError, KeyError):
            pass
    return get_preset(STARTER) if base == STARTER_MODEL_PATH.resolve() else TrainingConfig()


def _default_name(base: Path) -> str:
    source = runs.RunHandle(base.parent).name if (base.parent / CONFIG).is_file() else base.stem
    return "fine-tune " + re.sub(r"[^\w .,()+=#@-]+", "-", source)[:40]
