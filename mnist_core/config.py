"""Training configuration: every knob the Train page exposes, validated in one place."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

ARCHITECTURES = ("mlp", "cnn")
ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "elu")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "warmup_cosine")
SCALINGS = ("unit", "centered", "raw")  # [0,1], [-0.5,0.5], raw 0..255
VALIDATIONS = ("test", "split")
MAX_EPOCHS = 500  # also the most epochs min_steps can add  # the MNIST test set, or a held-out fraction of train
SCALING_LABELS = {"unit": "[0, 1]", "centered": "[-0.5, 0.5]", "raw": "raw 0-255"}


class ConfigError(ValueError):
    """A TrainingConfig field has a value outside its allowed range."""


@dataclass(frozen=True)
class TrainingConfig:
    """What to train and how. Defaults give a small MLP that trains in seconds."""

    architecture: str = "mlp"  # "mlp" (dense layers) or "cnn" (conv blocks, then dense)
    hidden_units: tuple[int, ...] = (128,)  # MLP: width of each hidden dense layer
    conv_filters: tuple[int, ...] = (32, 64)  # CNN: filters of each conv block (3x3 convs)
    dense_units: int = 128  # CNN: width of the dense layer after the conv blocks (0 = none)
    batch_norm: bool = False  # batch normalisation after each conv / dense layer
    activation: str = "relu"  # hidden-layer activation
    dropout: float = 0.0  # dropout rate after each hidden layer, 0 <= p < 1
    optimizer: str = "adam"  # adam, adamw, sgd or rmsprop
    learning_rate: float = 1e-3  # peak learning rate
    lr_schedule: str = "constant"  # "constant" or "warmup_cosine" (linear warm-up, cosine decay)
    batch_size: int = 128  # samples per gradient step
    epochs: int = 5  # maximum number of passes over the training data
    min_steps: int = 0  # train at least this many batches: a small dataset gets more epochs; 0 = off
    early_stopping_patience: int = 0  # stop after this many epochs without val improvement; 0 = off
    scaling: str = "unit"  # input scaling inside the model: unit, centered or raw
    augmentation: bool = False  # random shifts, rotations, scale and stroke width while training
    # "split": a held-out, stratified part of train picks the best epoch and early-stops, and the test set
    # is scored once at the end; "test": the test set does both, so its final score is optimistic.
    validation: str = "split"
    validation_fraction: float = 0.1  # with validation="split": share of train held out
    train_limit: int = 0  # use at most this many digits of the train set (split off validation after); 0 = all
    seed: int = 0  # seeds weights, shuffling, splits and augmentation

    def __post_init__(self) -> None:
        # JSON gives lists; keep tuples so the config stays hashable and frozen.
        object.__setattr__(self, "hidden_units", _widths("hidden_units", self.hidden_units))
        object.__setattr__(self, "conv_filters", _widths("conv_filters", self.conv_filters))
        for check in _CHECKS:
            check(self)

    def planned_epochs(self, steps_per_epoch: int) -> int:
        """The epochs a run trains for when one epoch has `steps_per_epoch` batches: `epochs`, or more
        where `min_steps` needs them (4,000 digits in batches of 128 are 32 steps an epoch)."""
        return min(MAX_EPOCHS, max(self.epochs, -(-self.min_steps // max(1, steps_per_epoch))))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        """Build from a dict, naming any field this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _widths(name: str, value: Any) -> tuple[int, ...]:
    """A list of whole numbers -> tuple of ints; anything else is a ConfigError naming the field."""
    try:
        widths = tuple(value)
        if all(not isinstance(w, bool) and int(w) == w for w in widths):
            return tuple(int(w) for w in widths)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite width
        pass
    raise ConfigError(f"{name} must be a list of whole numbers (layer widths), got {value!r}.")


def _flag(name: str):
    def check(cfg: TrainingConfig) -> None:
        value = getattr(cfg, name)
        if not isinstance(value, bool):
            raise ConfigError(f"{name} is {value!r}; it must be true or false.")

    return check


def _choice(name: str, allowed: tuple[str, ...]):
    def check(cfg: TrainingConfig) -> None:
        value = getattr(cfg, name)
        if value not in allowed:
            raise ConfigError(f"{name} is {value!r}; choose one of: {', '.join(allowed)}.")

    return check


def _number(name: str, low: float, high: float, *, high_open: bool = False, integer: bool = False):
    def check(cfg: TrainingConfig) -> None:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {value!r}.")
        if integer and int(value) != value:
            raise ConfigError(f"{name} must be a whole number, got {value!r}.")
        too_high = value >= high if high_open else value > high
        if not value == value or value < low or too_high:  # NaN fails the first test
            bracket = ")" if high_open else "]"
            shown = (f"{int(low)}", f"{int(high)}") if integer else (f"{low:g}", f"{high:g}")  # no 2.14748e+09
            raise ConfigError(f"{name} is {value!r}; it must be in [{shown[0]}, {shown[1]}{bracket}.")
        if integer:  # 5.0 from a number widget must not reach Keras as a float
            object.__setattr__(cfg, name, int(value))

    return check


def _layers(name: str, low: int, high: int, max_layers: int, allow_empty: bool):
    def check(cfg: TrainingConfig) -> None:
        widths = getattr(cfg, name)
        if not widths and not allow_empty:
            raise ConfigError(f"{name} is empty; give at least one layer width.")
        if len(widths) > max_layers:
            raise ConfigError(f"{name} has {len(widths)} layers; at most {max_layers} are allowed.")
        for width in widths:
            if not low <= width <= high:
                raise ConfigError(f"{name} has a layer of width {width}; widths must be in [{low}, {high}].")

    return check


def _cnn_needs_conv(cfg: TrainingConfig) -> None:
    if cfg.architecture == "cnn" and not cfg.conv_filters:
        raise ConfigError("conv_filters is empty; a CNN needs at least one conv block.")


def _within_model_budget(cfg: TrainingConfig) -> None:
    """A config may not describe a model that Digit Lab would refuse to load (mnist_core/model_budget)."""
    from mnist_core.checks.model_budget import (
        MAX_MULTIPLY_ADDS,
        MAX_PARAMETERS,
        training_multiply_adds,
        training_parameters,
    )

    params = training_parameters(cfg)
    if params > MAX_PARAMETERS:
        raise ConfigError(
            f"this model would have {params:,} parameters; Digit Lab trains and loads models up to "
            f"{MAX_PARAMETERS:,}. Use fewer or narrower layers (hidden_units, conv_filters, dense_units)."
        )
    macs = training_multiply_adds(cfg)
    if macs > MAX_MULTIPLY_ADDS:
        raise ConfigError(
            f"this model would need {macs / 1e6:,.0f} million multiply-adds per image; Digit Lab trains and runs "
            f"models up to {MAX_MULTIPLY_ADDS / 1e6:,.0f} million. Use narrower conv blocks (conv_filters), "
            "especially the first two, which see the most positions."
        )


# Each number field's allowed range [low, high] (dropout's is [0, 1)); whole-number fields have int ends.
NUMBER_LIMITS: dict[str, tuple[float, float]] = {
    "dense_units": (0, 4096),
    "dropout": (0.0, 1.0),
    "learning_rate": (1e-7, 10.0),
    "batch_size": (1, 60000),
    "epochs": (1, MAX_EPOCHS),
    "min_steps": (0, 100_000),
    "early_stopping_patience": (0, 100),
    "validation_fraction": (0.01, 0.9),
    "train_limit": (0, 10_000_000),
    "seed": (0, 2**31 - 1),
}
HIGH_OPEN = ("dropout",)  # fields whose high end is not allowed itself

_CHECKS = (
    _choice("architecture", ARCHITECTURES),
    _choice("activation", ACTIVATIONS),
    _choice("optimizer", OPTIMIZERS),
    _choice("lr_schedule", LR_SCHEDULES),
    _choice("scaling", SCALINGS),
    _choice("validation", VALIDATIONS),
    _layers("hidden_units", 1, 4096, 8, allow_empty=True),
    _layers("conv_filters", 1, 512, 4, allow_empty=True),
    _cnn_needs_conv,
    _flag("batch_norm"),
    _flag("augmentation"),
    *(
        _number(name, low, high, high_open=name in HIGH_OPEN, integer=isinstance(low, int))
        for name, (low, high) in NUMBER_LIMITS.items()
    ),
    _within_model_budget,  # last, once every field it reads is checked
)

# Keep the field list and the docs in one place for UIs and the CLI.
FIELD_HELP: dict[str, str] = {
    "architecture": "mlp (dense layers) or cnn (conv blocks, then dense)",
    "hidden_units": "MLP hidden layer widths, e.g. 512,512",
    "conv_filters": "CNN filters per conv block, e.g. 32,64",
    "dense_units": "CNN dense layer width after the conv blocks (0 = none)",
    "batch_norm": "batch normalisation after each hidden layer",
    "activation": "hidden-layer activation",
    "dropout": "dropout rate after each hidden layer",
    "optimizer": "adam, adamw, sgd or rmsprop",
    "learning_rate": "peak learning rate",
    "lr_schedule": "constant or warmup_cosine",
    "batch_size": "samples per gradient step",
    "epochs": "maximum passes over the training data",
    "min_steps": "train at least this many batches, adding epochs on a small dataset (0 = off)",
    "early_stopping_patience": "epochs without improvement before stopping (0 = off)",
    "scaling": "input scaling: unit [0,1], centered [-0.5,0.5], raw 0-255",
    "augmentation": "random shifts, rotations, scale and stroke width",
    "validation": "split (a held-out part of train picks the epoch; the test set is scored once at the end) "
    "or test (the MNIST test set picks it: its score is then optimistic)",
    "validation_fraction": "share of train held out with validation=split",
    "train_limit": "use at most this many training digits (0 = all)",
    "seed": "random seed",
}
