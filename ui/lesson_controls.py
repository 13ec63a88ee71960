"""The Train form under a lesson: controls the lesson hides are not drawn, locked ones are drawn disabled, and
the config always takes the lesson's values for both (the engine refuses anything else anyway)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.lessons.files import LessonError
from mnist_core.lessons.library import find_lesson, made_folder
from mnist_core.lessons.schema import Lesson

LESSON_KEY = "lesson_name"  # session state: the lesson this person has open
# Widgets that stand for one config field between them (a layer count plus one slider per layer).
_FIELD_OF = {"layers": "hidden_units", "conv_blocks": "conv_filters"}


@st.cache_resource(show_spinner=False, max_entries=64)
def _lesson(name: str, version: float) -> Lesson:
    return find_lesson(runs.runs_dir(), name)


def _version(name: str) -> float:
    """A made lesson's last save (its code file's time; 0 for a built-in), so an edit is read again."""
    try:
        return (made_folder(runs.runs_dir()) / f"{name}.code.json").stat().st_mtime
    except OSError:
        return 0.0


def open_lesson(name_or_code: str) -> Lesson:
    """Open a built-in or made lesson (by name or class code) in this session; LessonError says why not."""
    lesson = _lesson(name_or_code.strip(), _version(name_or_code.strip()))
    st.session_state[LESSON_KEY] = lesson.name
    return lesson


def current_lesson() -> Lesson | None:
    """The lesson open in this session, if any (one that no longer loads, or was retired, closes it)."""
    name = st.session_state.get(LESSON_KEY)
    if not name:
        return None
    try:
        return _lesson(name, _version(name))
    except LessonError:
        st.session_state.pop(LESSON_KEY, None)
        return None


def field_of(widget_name: str) -> str:
    """The config field a Train widget sets: 'width_2' -> 'hidden_units', 'dropout' -> 'dropout'."""
    if widget_name.startswith("width_"):
        return "hidden_units"
    if widget_name.startswith("filters_"):
        return "conv_filters"
    return _FIELD_OF.get(widget_name, widget_name)


def knob(widget: Callable, name: str, fallback: Any, *args, **kwargs) -> Any:
    """Draw `widget` for the form value `name` as the open lesson allows: not at all when hidden (its value
    is then `fallback`, the lesson's), disabled when locked, as usual otherwise."""
    lesson = current_lesson()
    state = lesson.state(field_of(name)) if lesson else "shown"
    if state == "hidden":
        return fallback
    if state == "locked":
        kwargs |= {"disabled": True, "help": "Locked by the lesson: it stays as the lesson set it."}
    return widget(*args, **kwargs)


def with_lesson(config: TrainingConfig) -> TrainingConfig:
    """`config` with every field the open lesson fixes set to the lesson's own value (the form may round it)."""
    lesson = current_lesson()
    if lesson is None:
        return config
    fixed = lesson.config()
    return config.replace(**{name: getattr(fixed, name) for name in lesson.fixed()})


def lesson_banner(lesson: Lesson) -> str:
    """What the Train page says at the top under a lesson (Markdown, from checked lesson text only)."""
    locked = [name.replace("_", " ") for name, state in lesson.controls.items() if state == "locked"]
    said = f"Lesson **{lesson.title}**: its settings start from the `{lesson.preset}` preset."
    if locked:
        said += f" Locked: {', '.join(locked)}."
    hidden = sum(state == "hidden" for state in lesson.controls.values())
    if hidden:
        said += f" {hidden} controls are hidden until later lessons."
    return said + " Open **Lessons** for the steps."


def close_lesson() -> None:
    st.session_state.pop(LESSON_KEY, None)
