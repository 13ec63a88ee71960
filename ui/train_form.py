"""The Train form: config <-> widget values, the sliders' ends, and the widgets themselves.

Every widget key is KEY + a name from `config_to_form`, so a config fills the form in one update and
the form's values make a config back (`form_to_config`, which validates it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from mnist_core import training
from mnist_core.config import (
    ACTIVATIONS,
    FIELD_HELP,
    LR_SCHEDULES,
    OPTIMIZERS,
    SCALING_LABELS,
    ConfigError,
    TrainingConfig,
)
from mnist_core.config_text import format_field
from mnist_core.lessons.files import LessonError
from mnist_core.presets import PRESETS
from ui.data_banner import cached_data_info
from ui.formatting import batch_norm_hint, plan_text, preset_expectation, steps_warning
from ui.lesson_controls import LESSON_KEY, current_lesson, knob, lesson_banner, open_lesson
from ui.responsive import columns

KEY = "train_"  # every session-state key of the Train page starts with it
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
KEEP = {"persist_state": "session"}  # a control keeps its value when the user visits another page


CUSTOM = "custom"  # the preset box's option for settings that came from a link, a run or a lesson


def fill_form(config: TrainingConfig) -> None:
    """Set every control to `config`, and the preset box to the preset it is, or to Custom settings."""
    _fill_controls(config)
    st.session_state[KEY + "preset"] = next((name for name, p in PRESETS.items() if p.config == config), CUSTOM)


def _fill_controls(config: TrainingConfig) -> None:
    st.session_state.update({KEY + name: value for name, value in config_to_form(config).items()})


def _apply_preset() -> None:
    if (picked := st.session_state[KEY + "preset"]) in PRESETS:
        _fill_controls(PRESETS[picked].config)


def lesson_from_url() -> str | None:
    """Open the lesson the URL names (`?lesson=` a name or class code) when it is not open yet, filling the form
    with its settings; the message to show when it cannot be opened, else None."""
    asked = st.query_params.get("lesson")
    if not asked or asked == st.session_state.get(LESSON_KEY):
        return None
    try:
        fill_form(open_lesson(asked).config())
    except LessonError as error:
        return str(error)
    return None


def start_with_a_preset() -> None:
    """On the first visit, fill the form from the quick preset."""
    if KEY + "architecture" not in st.session_state:
        st.session_state.setdefault(KEY + "preset", "quick")
        _apply_preset()


def settings_form() -> tuple[TrainingConfig | None, str | None]:
    """The preset picker and every knob; returns (the config they make, None) or (None, why it is invalid)."""
    if (lesson := current_lesson()) is not None:
        st.info(lesson_banner(lesson), icon=":material/school:")
    else:
        _preset_picker()
    model_box, optim_box, data_box = columns(3, key=KEY + "settings", min_rem=14, border=True)
    with model_box:
        _model_knobs()
    with optim_box:
        _optimisation_knobs()
    with data_box:
        _data_knobs()
    base = _lesson_form()
    form = {name: st.session_state.get(KEY + name, base[name]) for name in base}  # hidden: the lesson's value
    try:
        return form_to_config(form), None
    except ConfigError as error:
        return None, str(error)


def _preset_picker() -> None:
    preset_col, about_col = columns([1, 3], key=KEY + "preset_row", min_rem=12, vertical_alignment="bottom")
    preset = preset_col.selectbox(
        "Preset",
        [*PRESETS, CUSTOM],
        format_func=lambda name: "Custom settings" if name == CUSTOM else name,
        key=KEY + "preset",
        on_change=_apply_preset,
        help="Fills every control below; change any of them after.",
        **KEEP,
    )
    if preset == CUSTOM:
        about_col.info(
            "**Custom settings**: the controls below hold the settings of a link, a run or a lesson, not one of "
            "the presets. Pick a preset to start from one of those.",
            icon=":material/tune:",
        )
    else:
        about_col.info(preset_expectation(PRESETS[preset], cached_data_info()), icon=":material/tune:")


def keep_lesson_locks() -> list[str]:
    """Before the widgets are drawn: put back what the open lesson fixes where a shared link or the URL
    changed it, and return those fields (the page says they were not applied)."""
    lesson = current_lesson()
    if lesson is None:
        return []
    base = _lesson_form()
    form = {name: st.session_state.get(KEY + name, base[name]) for name in base}
    try:
        asked = form_to_config(form)
    except ConfigError:
        asked = lesson.config()
    shown = form_to_config(base)  # the lesson's settings as the form shows them
    broken = [name for name in lesson.fixed() if getattr(asked, name) != getattr(shown, name)]
    if broken:
        fill_form(asked.replace(**{name: getattr(lesson.config(), name) for name in lesson.fixed()}))
    return broken


def _lesson_form() -> dict[str, Any]:
    lesson = current_lesson()
    return config_to_form(lesson.config() if lesson else PRESETS["quick"].config)


def _knob(widget, name: str, label: str, *args, **kwargs) -> Any:
    """One Train control, keyed KEY + name, kept across pages, drawn as the open lesson allows."""
    return knob(widget, name, _lesson_form()[name], label, *args, key=KEY + name, **kwargs, **KEEP)


def _model_knobs() -> None:
    st.markdown("**:material/hub: Model**")
    names = {"mlp": "Dense (MLP)", "cnn": "Convolutional"}
    arch = _knob(
        st.segmented_control, "architecture", "Architecture", ["mlp", "cnn"], required=True, format_func=names.get
    )
    if arch == "cnn":
        blocks = _knob(st.slider, "conv_blocks", "Conv blocks", 1, MAX_LAYERS, help=FIELD_HELP["conv_filters"])
        for i in range(blocks):
            _knob(st.select_slider, f"filters_{i}", f"Filters in block {i + 1}", FILTER_OPTIONS)
        dense_help = FIELD_HELP["dense_units"]
        _knob(st.select_slider, "dense_units", "Dense units after the convs", DENSE_OPTIONS, help=dense_help)
    else:
        linear = "0 gives a linear model (logistic regression)"
        layers = _knob(st.slider, "layers", "Hidden layers", 0, MAX_LAYERS, help=linear)
        for i in range(layers):
            _knob(st.select_slider, f"width_{i}", f"Units in layer {i + 1}", WIDTH_OPTIONS)
    _knob(st.selectbox, "activation", "Activation", ACTIVATIONS)
    _knob(st.slider, "dropout", "Dropout", *WIDGET_RANGES["dropout"], step=0.05, help=FIELD_HELP["dropout"])
    _knob(st.toggle, "batch_norm", "Batch normalisation", help=FIELD_HELP["batch_norm"])


def _optimisation_knobs() -> None:
    st.markdown("**:material/speed: Optimisation**")
    _knob(st.selectbox, "optimizer", "Optimizer", OPTIMIZERS)
    _knob(st.select_slider, "learning_rate", "Learning rate", LR_OPTIONS, format_func=lambda v: f"{v:g}")
    schedules = {"constant": "constant", "warmup_cosine": "warm-up + cosine decay"}
    _knob(
        st.selectbox,
        "lr_schedule",
        "Learning-rate schedule",
        LR_SCHEDULES,
        help=FIELD_HELP["lr_schedule"],
        format_func=schedules.get,
    )
    _knob(st.select_slider, "batch_size", "Batch size", BATCH_OPTIONS)
    _knob(st.slider, "epochs", "Epochs", *WIDGET_RANGES["epochs"], help=FIELD_HELP["epochs"])
    steps_help = FIELD_HELP["min_steps"]
    _knob(
        st.number_input, "min_steps", "At least this many steps", *WIDGET_RANGES["min_steps"], step=50, help=steps_help
    )
    patience_help = FIELD_HELP["early_stopping_patience"]
    patience = WIDGET_RANGES["early_stopping_patience"]
    _knob(st.slider, "early_stopping_patience", "Early stopping patience", *patience, help=patience_help)


def _data_knobs() -> None:
    st.markdown("**:material/dataset: Data**")
    scalings = list(SCALING_LABELS)
    _knob(
        st.selectbox, "scaling", "Input scaling", scalings, format_func=SCALING_LABELS.get, help=FIELD_HELP["scaling"]
    )
    _knob(st.toggle, "augmentation", "Augmentation", help=FIELD_HELP["augmentation"])
    validation = _knob(
        st.radio,
        "validation",
        "Validate on",
        ["split", "test"],
        horizontal=True,
        format_func={"split": "part of train", "test": "MNIST test set"}.get,
        help=FIELD_HELP["validation"],
    )
    held_out = validation == "split"
    if not held_out:
        st.caption(
            ":material/warning: The test set picks the best epoch and when to stop, so the test accuracy "
            "reported afterwards is optimistic: the model was chosen on those very digits. The seed "
            "notebooks did this; hold out part of train for an honest score."
        )
    share = WIDGET_RANGES["validation_fraction"]
    _knob(st.slider, "validation_fraction", "Held-out share of train", *share, step=0.01, disabled=not held_out)
    limit_help = FIELD_HELP["train_limit"]
    limits = WIDGET_RANGES["train_limit"]
    _knob(st.number_input, "train_limit", "Training digits (0 = all)", *limits, step=1000, help=limit_help)
    _knob(st.number_input, "seed", "Seed", *WIDGET_RANGES["seed"], step=1)


def show_plan(config: TrainingConfig) -> None:
    """How many steps `config` trains on this app's data, and a hint when batch norm will not settle."""
    data = cached_data_info()
    if not data.n_train:
        return
    plan = training.plan(config, data.n_train)
    st.caption(f":material/timer: {plan_text(plan, config)}")
    if warning := steps_warning(plan, config):
        st.warning(warning, icon=":material/warning:")
    if hint := batch_norm_hint(plan, config):
        st.info(hint, icon=":material/lightbulb:")
