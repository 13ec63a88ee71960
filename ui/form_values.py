"""The Train form's values, apart from its widgets: the sliders' options and ends, a config as widget values
(`config_to_form`) and back (`form_to_config`, which validates it), and what a config loses on the way."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from mnist_core.config import TrainingConfig
from mnist_core.config_text import format_field
from mnist_core.presets import PRESETS

MAX_LAYERS = 4  # hidden dense layers / conv blocks the sliders offer


def _options(base: Sequence, *extra: Sequence) -> tuple:
    return tuple(sorted(set(base).union(*map(set, extra))))


_PRESET_CONFIGS = [p.config for p in PRESETS.values()]
WIDTH_OPTIONS = _options(
    (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024), *(c.hidden_units for c in _PRESET_CONFIGS)
)
FILTER_OPTIONS = _options((8, 16, 24, 32, 48, 64, 96, 128, 192, 256), *(c.conv_filters for c in _PRESET_CONFIGS))
DENSE_OPTIONS = _options((0, 32, 64, 128, 256, 512), [c.dense_units for c in _PRESET_CONFIGS])
LR_OPTIONS = _options((1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0), [c.learning_rate for c in _PRESET_CONFIGS])
BATCH_OPTIONS = _options((16, 32, 64, 128, 256, 512, 1024), [c.batch_size for c in _PRESET_CONFIGS])
MAX_EPOCHS = 50  # the slider's end (the engine accepts more from the CLI)
# The ends of the number widgets, each inside the engine's NUMBER_LIMITS (tests/test_train_form.py checks
# it); a value from a shared link or a CLI run beyond them is clamped, with a warning where it came by link.
WIDGET_RANGES: dict[str, tuple[float, float]] = {
    "dropout": (0.0, 0.7),
    "epochs": (1, MAX_EPOCHS),
    "min_steps": (0, 100_000),
    "early_stopping_patience": (0, 10),
    "validation_fraction": (0.01, 0.5),
    "train_limit": (0, 60_000),
    "seed": (0, 2**31 - 1),
}


def _nearest(options: Sequence, value: Any) -> Any:
    """`value` if it is an option, else the closest one (a run trained from the CLI may use any value)."""
    return value if value in options else min(options, key=lambda o: abs(o - value))


_LAYER_FIELDS = ("hidden_units", "conv_filters")  # shown as a layer count plus one slider per layer


def config_to_form(config: TrainingConfig) -> dict[str, Any]:
    """The Train page's widget values (keys without the page prefix) for a config."""
    form = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in _LAYER_FIELDS}
    widths = list(config.hidden_units) or [128]
    filters = list(config.conv_filters) or [32]
    form.update(
        {
            "layers": min(len(config.hidden_units), MAX_LAYERS),
            "conv_blocks": min(max(1, len(config.conv_filters)), MAX_LAYERS),
            "dense_units": _nearest(DENSE_OPTIONS, config.dense_units),
            "learning_rate": _nearest(LR_OPTIONS, config.learning_rate),
            "batch_size": _nearest(BATCH_OPTIONS, config.batch_size),
        }
    )
    for name, (low, high) in WIDGET_RANGES.items():
        form[name] = min(max(form[name], low), high)
    for i in range(MAX_LAYERS):
        form[f"width_{i}"] = _nearest(WIDTH_OPTIONS, widths[min(i, len(widths) - 1)])
        form[f"filters_{i}"] = _nearest(FILTER_OPTIONS, filters[min(i, len(filters) - 1)])
    return form


def form_adjustments(config: TrainingConfig) -> tuple[str, ...]:
    """One sentence per setting of `config` the form cannot show as it is (and so changes)."""
    shown = form_to_config(config_to_form(config))
    return tuple(
        f"{name}={format_field(getattr(config, name))} is beyond what the Train form offers; "
        f"using {format_field(getattr(shown, name))}."
        for name in config.to_dict()
        if getattr(shown, name) != getattr(config, name)
    )


def form_to_config(form: Mapping[str, Any]) -> TrainingConfig:
    """A validated TrainingConfig from the widget values; raises ConfigError naming the bad field."""
    names = [f.name for f in dataclasses.fields(TrainingConfig) if f.name not in _LAYER_FIELDS]
    values = {name: form[name] for name in names if name in form}
    values["hidden_units"] = tuple(int(form[f"width_{i}"]) for i in range(int(form["layers"])))
    values["conv_filters"] = tuple(int(form[f"filters_{i}"]) for i in range(int(form["conv_blocks"])))
    for name in ("train_limit", "seed"):  # number inputs can be cleared to None
        values[name] = int(values.get(name) or 0)
    return TrainingConfig(**values)


# ---------------------------------------------------------------- the widgets
