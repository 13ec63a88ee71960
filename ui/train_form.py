"""The Train form's widgets: the preset box, every knob (as the open lesson allows), the plan line.

Every widget key is KEY + a name from `form_values.config_to_form`, so a config fills the form in one update
and the form's values make a config back (`form_values.form_to_config`, which validates it).
"""

from __future__ import annotations

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
from mnist_core.lessons.files import LessonError
from mnist_core.presets import PRESETS
from ui.data_banner import cached_data_info
from ui.form_values import (  # noqa: F401 - the form's values, re-exported with the widgets
    BATCH_OPTIONS,
    DENSE_OPTIONS,
    FILTER_OPTIONS,
    LR_OPTIONS,
    MAX_EPOCHS,
    MAX_LAYERS,
    WIDGET_RANGES,
    WIDTH_OPTIONS,
    config_to_form,
    form_adjustments,
    form_to_config,
)
from ui.formatting import batch_norm_hint, plan_text, preset_expectation, steps_warning
from ui.lesson_controls import LESSON_KEY, current_lesson, knob, lesson_banner, open_lesson
from ui.responsive import columns

KEY = "train_"  # every session-state key of the Train page starts with it
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
