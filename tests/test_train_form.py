"""The Train form's values: every preset round-trips, values the sliders lack snap to the nearest one."""

import pytest

from mnist_core.config import TrainingConfig
from mnist_core.presets import PRESETS
from ui import train_form


@pytest.mark.parametrize("name", list(PRESETS))
def test_form_round_trips_every_preset(name):
    config = PRESETS[name].config
    assert train_form.form_to_config(train_form.config_to_form(config)) == config


def test_form_snaps_values_the_sliders_do_not_offer():
    form = train_form.config_to_form(TrainingConfig(learning_rate=0.0021, batch_size=100, epochs=300))
    assert form["learning_rate"] in train_form.LR_OPTIONS
    assert form["batch_size"] in train_form.BATCH_OPTIONS
    assert form["epochs"] == train_form.MAX_EPOCHS
