"""Where each person is in a lesson, kept on the server (so it survives a refresh or another device) in
runs/lessons/progress/<person's digest>/<lesson>.json, with who they are for the teacher's class view. A person
moves on only when the engine finds the step's gate passed in their own runs and drawings."""

from __future__ import annotations

import dataclasses
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
MAX_BYTES = 64 * 1024  # a progress file is a few numbers


@dataclass(frozen=True)
class Progress:
    step: int  # 0-based: the step the person is on
    done: tuple[int, ...]  # steps finished
    updated_at: float  # last move, seconds since the epoch (0: never started)
    person_id: str | None = None  # who, as the class view names them (None: the operator, without sign-in)
    person_name: str = OPERATOR

    def is_finished(self, lesson: Lesson) -> bool:
        return len(self.done) == len(lesson.steps)


def progress_file(runs_root: Path, person: Person | None, lesson: Lesson) -> Path:
    who = person.folder_name if person else OPERATOR
    return runs_root / "lessons" / "progress" / who / f"{lesson.name}.json"


def read_progress(runs_root: Path, person: Person | None, lesson: Lesson) -> Progress:
    """The person's progress; the first step for someone who has not started, or whose file is damaged."""
    return _parsed(read_json(progress_file(runs_root, person, lesson), default={}), lesson, person)


def join(runs_root: Path, person: Person | None, lesson: Lesson) -> Progress:
    """The person opened the lesson: from now on the teacher's class view lists them (on its first step)."""
    now = read_progress(runs_root, person, lesson)
    if now.updated_at == 0:
        now = dataclasses.replace(now, updated_at=time.time())
        _write(runs_root, person, lesson, now)
    return now


def class_progress(runs_root: Path, lesson: Lesson) -> list[Progress]:
    """Everyone's progress in `lesson`: each person who opened it, with who they are."""
    folder = Path(runs_root) / "lessons" / "progress"
    found = []
    for path in sorted(folder.glob(f"*/{lesson.name}.json")) if folder.is_dir() else []:
        raw = read_json(path, default=None)
        if isinstance(raw, dict) and path.stat().st_size <= MAX_BYTES:
            found.append(_parsed(raw, lesson, None))
    return found


def _parsed(raw: object, lesson: Lesson, person: Person | None) -> Progress:
    last = len(lesson.steps) - 1
    who = (person.id, person.label) if person else (None, OPERATOR)
    try:
        if person is None and isinstance(raw.get("person_id"), str):
            who = (raw["person_id"], str(raw.get("person_name") or raw["person_id"])[:120])
        step = min(max(int(raw.get("step", 0)), 0), last)
        done = tuple(sorted({int(i) for i in raw.get("done", []) if 0 <= int(i) <= last}))
        return Progress(step, done, float(raw.get("updated_at", 0.0)), *who)
    except (AttributeError, TypeError, ValueError):  # a hand-edited or torn file: start again, never crash
        return Progress(0, (), 0.0, *who)


def _write(runs_root: Path, person: Person | None, lesson: Lesson, progress: Progress) -> None:
    path = progress_file(runs_root, person, lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        path,
        {
            "step": progress.step,
            "done": list(progress.done),
            "updated_at": progress.updated_at,
            "person_id": person.id if person else None,
            "person_name": person.label if person else OPERATOR,
        },
    )


def advance(
    runs_root: Path, person: Person | None, lesson: Lesson, runs: Iterable[RunHandle], kept_digits: int = 0
) -> Progress:
    """Finish the current step and move to the next if its gate is passed (else nothing changes)."""
    now = read_progress(runs_root, person, lesson)
    if now.is_finished(lesson) or not gate_passed(lesson.steps[now.step].gate, list(runs), kept_digits):
        return now
    moved = dataclasses.replace(
        now, step=min(now.step + 1, len(lesson.steps) - 1), done=tuple(sorted({*now.done, now.step})),
        updated_at=time.time(),
    )  # fmt: skip
    _write(runs_root, person, lesson, moved)
    return moved
