"""The Train form's values: every preset round-trips, values the sliders lack snap to the nearest one."""

import pytest

from mnist_core.config import HIGH_OPEN, NUMBER_LIMITS, TrainingConfig
from mnist_core.config_text import format_field
from mnist_core.presets import PRESETS
from ui import train_form
from ui.train_form import WIDGET_RANGES


@pytest.mark.parametrize("name", list(PRESETS))
def test_form_round_trips_every_preset(name):
    config = PRESETS[name].config
    assert train_form.form_to_config(train_form.config_to_form(config)) == config


def test_form_snaps_values_the_sliders_do_not_offer():
    form = train_form.config_to_form(TrainingConfig(learning_rate=0.0021, batch_size=100, epochs=300))
    assert form["learning_rate"] in train_form.LR_OPTIONS
    assert form["batch_size"] in train_form.BATCH_OPTIONS
    assert form["epochs"] == train_form.MAX_EPOCHS


# ---------------------------------------------------------------- the engine's limits and the widgets' agree
OPTION_WIDGETS = {  # number fields shown as a slider over fixed options
    "dense_units": train_form.DENSE_OPTIONS,
    "learning_rate": train_form.LR_OPTIONS,
    "batch_size": train_form.BATCH_OPTIONS,
}


def engine_ends(name: str) -> list[float]:
    """The lowest and highest value the engine accepts for a number field."""
    low, high = NUMBER_LIMITS[name]
    return [low, (high - 0.01) if name in HIGH_OPEN else high]


def test_every_number_field_has_a_widget_inside_the_engines_limits():
    assert set(WIDGET_RANGES) | set(OPTION_WIDGETS) == set(NUMBER_LIMITS)
    for name, (low, high) in WIDGET_RANGES.items():
        assert TrainingConfig(**{name: low}) and TrainingConfig(**{name: high}), name  # both ends are valid
        assert NUMBER_LIMITS[name][0] <= low < high <= NUMBER_LIMITS[name][1], name
    for name, options in OPTION_WIDGETS.items():
        assert all(TrainingConfig(**{name: value}) for value in options), name


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name in NUMBER_LIMITS for value in engine_ends(name)], ids=str
)
def test_a_value_at_the_engines_end_fills_the_form_within_its_widget(name: str, value: float):
    config = TrainingConfig(**{name: value})
    form = train_form.config_to_form(config)
    if name in WIDGET_RANGES:
        low, high = WIDGET_RANGES[name]
        assert low <= form[name] <= high
    else:
        assert form[name] in OPTION_WIDGETS[name]
    shown = train_form.form_to_config(form)
    changed = [a for a in train_form.form_adjustments(config) if a.startswith(f"{name}=")]
    assert bool(changed) == (getattr(shown, name) != value)
    if changed:
        assert changed[0].endswith(f"is beyond what the Train form offers; using {format_field(getattr(shown, name))}.")
