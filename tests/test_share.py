"""Share on the Train page: a config through URL query parameters and back, never trusting the URL."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlencode

import pytest
from test_sharing import EVERY_FIELD_CHANGED

from mnist_core.config import TrainingConfig
from mnist_core.presets import PRESETS
from ui.share import config_from_query, config_to_query


def test_every_field_differs_from_its_default():
    default = TrainingConfig()
    assert all(
        getattr(EVERY_FIELD_CHANGED, f.name) != getattr(default, f.name) for f in dataclasses.fields(TrainingConfig)
    )


@pytest.mark.parametrize(
    "config",
    [EVERY_FIELD_CHANGED, TrainingConfig(hidden_units=())] + [p.config for p in PRESETS.values()],
    ids=lambda c: c.to_json()[:40],
)
def test_query_round_trip(config):
    query = config_to_query(config)
    assert all(isinstance(v, str) for v in query.values()) and set(query) == set(config.to_dict())
    shared = config_from_query(query)
    assert shared.config == config and shared.warnings == ()
    assert config_from_query(parse_qs(urlencode(config_to_query(config)), keep_blank_values=True)).config == config


BAD_QUERIES = [
    ({"epochs": "0"}, "epochs", "Ignored epochs='0' (epochs is 0; it must be in [1, 500]); using 5."),
    ({"epochs": "3.5"}, "epochs", "invalid literal for int()"),
    ({"learning_rate": "nan"}, "learning_rate", "Ignored learning_rate='nan'"),
    ({"learning_rate": "1e999"}, "learning_rate", "learning_rate is inf"),
    ({"architecture": "transformer"}, "architecture", "choose one of: mlp, cnn"),
    ({"hidden_units": "512,x"}, "hidden_units", "Ignored hidden_units='512,x'"),
    ({"hidden_units": ","}, "hidden_units", "Ignored hidden_units=','"),
    ({"architecture": "cnn", "conv_filters": ""}, "conv_filters", "a CNN needs at least one conv block"),
    ({"batch_norm": "maybe"}, "batch_norm", "expected true or false"),
    ({"seed": "9" * 300}, "seed", "longer than 200 characters"),
    ({"bogus": "1"}, None, "Ignored unknown setting 'bogus'."),
]


@pytest.mark.parametrize(("params", "field", "message"), BAD_QUERIES, ids=[m for *_, m in BAD_QUERIES])
def test_bad_query_values_fall_back_to_defaults_with_a_warning(params, field, message):
    shared = config_from_query(params)
    assert len(shared.warnings) == 1 and message in shared.warnings[0]
    if field:
        assert getattr(shared.config, field) == getattr(TrainingConfig(), field)


def test_good_values_survive_next_to_bad_ones_and_lists_take_the_last():
    shared = config_from_query(
        {"epochs": ["3", "9"], "dropout": "oops", "augmentation": "on", "page": "x"}, ignore={"page"}
    )
    assert (shared.config.epochs, shared.config.dropout, shared.config.augmentation) == (9, 0.0, True)
    assert len(shared.warnings) == 1


WEIRD = [
    "",
    " ",
    "nan",
    "inf",
    "-inf",
    "-1",
    "1e308",
    "0x10",
    "1,2,3",
    ",,",
    "true",
    "None",
    "\x00",
    "é",
    "[1]",
    "9" * 250,
    "1" * 19,
    "-0",
    "1_000",
]


def test_config_from_query_never_raises():
    for name in TrainingConfig.__dataclass_fields__:
        for value in WEIRD:
            assert isinstance(config_from_query({name: value}).config, TrainingConfig)
    many = {f"p{i}": "1" for i in range(500)}
    assert "Ignored 400 parameters" in config_from_query(many).warnings[0]
    assert isinstance(config_from_query({1: 2, "epochs": 3}).config, TrainingConfig)
