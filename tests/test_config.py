"""mnist_core.config and presets: every bad value's message, round trips, the presets themselves."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest

from mnist_core.config import FIELD_HELP, ConfigError, TrainingConfig
from mnist_core.presets import PRESETS, Preset, get_preset

BAD_VALUES = [
    # (changes, the exact message a user reads)
    ({"architecture": "rnn"}, "architecture is 'rnn'; choose one of: mlp, cnn."),
    ({"optimizer": "adagrad"}, "optimizer is 'adagrad'; choose one of: adam, adamw, sgd, rmsprop."),
    ({"activation": "swish"}, "activation is 'swish'; choose one of: relu, gelu, tanh, sigmoid, elu."),
    ({"lr_schedule": "step"}, "lr_schedule is 'step'; choose one of: constant, warmup_cosine."),
    ({"scaling": "zscore"}, "scaling is 'zscore'; choose one of: unit, centered, raw."),
    ({"validation": "kfold"}, "validation is 'kfold'; choose one of: test, split."),
    ({"dropout": 1.0}, "dropout is 1.0; it must be in [0, 1)."),
    ({"dropout": -0.1}, "dropout is -0.1; it must be in [0, 1)."),
    ({"learning_rate": -0.01}, "learning_rate is -0.01; it must be in [1e-07, 10]."),
    ({"learning_rate": 0.0}, "learning_rate is 0.0; it must be in [1e-07, 10]."),
    ({"learning_rate": math.nan}, "learning_rate is nan; it must be in [1e-07, 10]."),
    ({"learning_rate": math.inf}, "learning_rate is inf; it must be in [1e-07, 10]."),
    ({"learning_rate": "0.01"}, "learning_rate must be a number, got '0.01'."),
    ({"batch_size": 0}, "batch_size is 0; it must be in [1, 60000]."),
    ({"batch_size": 32.5}, "batch_size must be a whole number, got 32.5."),
    ({"batch_size": True}, "batch_size must be a number, got True."),
    ({"epochs": 0}, "epochs is 0; it must be in [1, 500]."),
    ({"epochs": 501}, "epochs is 501; it must be in [1, 500]."),
    ({"min_steps": -1}, "min_steps is -1; it must be in [0, 100000]."),
    ({"min_steps": 100_001}, "min_steps is 100001; it must be in [0, 100000]."),
    ({"min_steps": 2.5}, "min_steps must be a whole number, got 2.5."),
    ({"early_stopping_patience": -1}, "early_stopping_patience is -1; it must be in [0, 100]."),
    ({"validation_fraction": 0}, "validation_fraction is 0; it must be in [0.01, 0.9]."),
    ({"validation_fraction": 1}, "validation_fraction is 1; it must be in [0.01, 0.9]."),
    ({"train_limit": -5}, "train_limit is -5; it must be in [0, 10000000]."),
    ({"seed": -1}, "seed is -1; it must be in [0, 2147483647]."),
    ({"dense_units": 5000}, "dense_units is 5000; it must be in [0, 4096]."),
    ({"hidden_units": (64,) * 9}, "hidden_units has 9 layers; at most 8 are allowed."),
    ({"hidden_units": (128, 0)}, "hidden_units has a layer of width 0; widths must be in [1, 4096]."),
    ({"hidden_units": (1.5,)}, "hidden_units must be a list of whole numbers (layer widths), got (1.5,)."),
    ({"hidden_units": 128}, "hidden_units must be a list of whole numbers (layer widths), got 128."),
    ({"hidden_units": "ab"}, "hidden_units must be a list of whole numbers (layer widths), got 'ab'."),
    ({"conv_filters": (16,) * 5}, "conv_filters has 5 layers; at most 4 are allowed."),
    ({"conv_filters": (1024,)}, "conv_filters has a layer of width 1024; widths must be in [1, 512]."),
    ({"architecture": "cnn", "conv_filters": ()}, "conv_filters is empty; a CNN needs at least one conv block."),
    ({"batch_norm": "no"}, "batch_norm is 'no'; it must be true or false."),
    ({"augmentation": 1}, "augmentation is 1; it must be true or false."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_VALUES, ids=[next(iter(c)) for c, _ in BAD_VALUES])
def test_bad_value_names_field_and_range(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        TrainingConfig(**changes)


@pytest.mark.parametrize(("changes", "message"), BAD_VALUES[:6], ids=[next(iter(c)) for c, _ in BAD_VALUES[:6]])
def test_replace_validates_again(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        TrainingConfig().replace(**changes)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_from_dict_names_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r"^Unknown setting\(s\): colour, lr\. Known: activation, "):
        TrainingConfig.from_dict({"epochs": 2, "lr": 0.1, "colour": "red"})


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(),
        TrainingConfig(
            architecture="cnn",
            conv_filters=(8, 16, 32, 64),
            dense_units=0,
            batch_norm=True,
            dropout=0.5,
            optimizer="sgd",
            learning_rate=10.0,
            lr_schedule="warmup_cosine",
        ),
        TrainingConfig(hidden_units=(), scaling="raw", validation="split", validation_fraction=0.9, seed=2**31 - 1),
        *(preset.config for preset in PRESETS.values()),
    ],
)
def test_round_trip_through_dict_and_json(config: TrainingConfig) -> None:
    assert TrainingConfig.from_dict(config.to_dict()) == config
    again = TrainingConfig.from_dict(json.loads(config.to_json()))
    assert again == config and hash(again) == hash(config)
    assert isinstance(again.hidden_units, tuple) and isinstance(again.conv_filters, tuple)


def test_to_dict_has_every_field_and_json_is_plain() -> None:
    values = json.loads(TrainingConfig().to_json())
    assert set(values) == {field.name for field in dataclasses.fields(TrainingConfig)}
    assert values["hidden_units"] == [128]


def test_whole_numbers_from_float_widgets_become_ints() -> None:
    config = TrainingConfig(epochs=3.0, batch_size=64.0, hidden_units=[32.0, 16])
    assert (config.epochs, config.batch_size, config.hidden_units) == (3, 64, (32, 16))
    assert type(config.epochs) is int and type(config.batch_size) is int


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainingConfig().epochs = 3  # type: ignore[misc]


def test_every_field_has_help() -> None:
    assert set(FIELD_HELP) == {field.name for field in dataclasses.fields(TrainingConfig)}
    assert all(text.strip() for text in FIELD_HELP.values())


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_valid_and_described(name: str) -> None:
    preset = PRESETS[name]
    assert isinstance(preset, Preset) and preset.name == name
    assert get_preset(name) is preset.config
    assert TrainingConfig(**preset.config.to_dict()) == preset.config  # passes validation again
    assert 0.0 < preset.expected_accuracy <= 1.0
    assert preset.description.strip() and preset.expected_from.strip()


@pytest.mark.parametrize(
    ("epochs", "min_steps", "steps_per_epoch", "planned"),
    [
        (1, 0, 32, 1),  # no budget: epochs as set
        (1, 250, 469, 1),  # full MNIST, batch 128: one epoch is already 469 steps
        (1, 250, 32, 8),  # the embedded sample's 4,000 digits: 8 epochs make 256 steps
        (4, 600, 32, 19),
        (10, 250, 32, 10),  # never fewer epochs than asked for
        (1, 100_000, 1, 500),  # never more than the engine's most epochs
    ],
)
def test_min_steps_adds_epochs_on_small_datasets(epochs: int, min_steps: int, steps_per_epoch: int, planned: int):
    config = TrainingConfig(epochs=epochs, min_steps=min_steps)
    assert config.planned_epochs(steps_per_epoch) == planned


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_states_what_to_expect_on_both_datasets(name: str) -> None:
    preset = PRESETS[name]
    assert 0.0 < preset.expected_embedded <= preset.expected_accuracy + 0.005  # 1,000 test digits: small slack
    assert (preset.expected_on(True), preset.expected_on(False)) == (preset.expected_embedded, preset.expected_accuracy)


def test_quick_preset_exists_for_the_cli_default() -> None:
    assert "quick" in PRESETS


def test_get_preset_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"^Unknown preset 'fastest'; choose one of: ") as caught:
        get_preset("fastest")
    assert all(name in str(caught.value) for name in PRESETS)
