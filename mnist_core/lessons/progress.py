"""Where each person is in a lesson, kept on the server (so it survives a refresh or another device) in
runs/lessons/progress/<person's digest>/<lesson>.json. A person moves on only when the engine finds the step's
gate passed in their own runs and drawings."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mnist_core.lessons.gates import gate_passed
from mnist_core.lessons.schema import Lesson
from mnist_core.people import Person
from mnist_core.runs.handle import RunHandle
from mnist_core.storage import atomic_write_json, read_json

OPERATOR = "operator"  # the one person of a lab without sign-in


@dataclass(frozen=True)
class Progress:
    step: int  # 0-based: the step the person is on
    done: tuple[int, ...]  # steps finished
    updated_at: float  # last move, seconds since the epoch (0: never started)

    def is_finished(self, lesson: Lesson) -> bool:
        return len(self.done) == len(lesson.steps)


def progress_file(runs_root: Path, person: Person | None, lesson: Lesson) -> Path:
    who = person.folder_name if person else OPERATOR
    return runs_root / "lessons" / "progress" / who / f"{lesson.name}.json"


def read_progress(runs_root: Path, person: Person | None, lesson: Lesson) -> Progress:
    """The person's progress; the first step for someone who has not started, or whose file is damaged."""
    raw = read_json(progress_file(runs_root, person, lesson), default={})
    last = len(lesson.steps) - 1
    try:
        step = min(max(int(raw.get("step", 0)), 0), last)
        done = tuple(sorted({int(i) for i in raw.get("done", []) if 0 <= int(i) <= last}))
        return Progress(step, done, float(raw.get("updated_at", 0.0)))
    except (AttributeError, TypeError, ValueError):  # a hand-edited or torn file: start again, never crash
        return Progress(0, (), 0.0)


def advance(
    runs_root: Path, person: Person | None, lesson: Lesson, runs: Iterable[RunHandle], kept_digits: int = 0
) -> Progress:
    """Finish the current step and move to the next if its gate is passed (else nothing changes)."""
    now = read_progress(runs_root, person, lesson)
    if now.is_finished(lesson) or not gate_passed(lesson.steps[now.step].gate, list(runs), kept_digits):
        return now
    moved = Progress(min(now.step + 1, len(lesson.steps) - 1), tuple(sorted({*now.done, now.step})), time.time())
    path = progress_file(runs_root, person, lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        path,
        {"step": moved.step, "done": list(moved.done), "updated_at": moved.updated_at},
    )
    return moved
