"""A lesson's locks, enforced by the engine: a run that changes a locked or hidden control is refused,
whatever asked for it (the Train page, a shared link, the URL, the CLI or a direct engine call)."""

from __future__ import annotations

from mnist_core.config import TrainingConfig
from mnist_core.config_text import format_field
from mnist_core.lessons.schema import Lesson


class LessonLockError(ValueError):
    """A run that breaks a lesson's locks; the message names the control and the value it must keep."""


def broken_locks(lesson: Lesson, config: TrainingConfig) -> list[str]:
    """The locked or hidden controls whose value in `config` is not the lesson's."""
    fixed = lesson.config()
    return [name for name in lesson.fixed() if getattr(config, name) != getattr(fixed, name)]


def check_locks(lesson: Lesson, config: TrainingConfig) -> None:
    """LessonLockError if `config` changes anything the lesson fixes."""
    broken = broken_locks(lesson, config)
    if broken:
        fixed = lesson.config()
        said = "; ".join(
            f"{name.replace('_', ' ')} stays {format_field(getattr(fixed, name))} "
            f"(asked: {format_field(getattr(config, name))})"
            for name in broken
        )
        raise LessonLockError(
            f"The lesson {lesson.title!r} fixes these settings: {said}. Change only the settings it shows "
            "unlocked, or ask your teacher."
        )


def lesson_config(lesson: Lesson, changes: dict) -> TrainingConfig:
    """The lesson's starting config with a student's `changes` applied, refused if they break its locks."""
    config = lesson.config().replace(**changes)
    check_locks(lesson, config)
    return config
