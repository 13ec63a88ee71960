"""Lessons teachers make, kept on the server beside the runs: `runs/lessons/made/<name>.json` is an ordinary
lesson file (the CLI's `train --lesson` takes it too) and `<name>.code.json` its short class code, author and
whether it is retired. A student opens one by its link (`?lesson=<name>`) or by typing the class code."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_core.config import TrainingConfig
from mnist_core.lessons.files import LessonError, builtin_names, load_lesson, parse_lesson, read_lesson
from mnist_core.lessons.schema import CONTROLS, Lesson
from mnist_core.people import Person
from mnist_core.presets import PRESETS
from mnist_core.runs.queue import queue_lock
from mnist_core.storage import atomic_write_json, read_json

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by children
CODE_LENGTH = 6
MAX_MADE = 500  # lessons kept per server: a school's year of them
SAVING_LOCK = ".saving.lock"  # a file, not a thread lock: replicas of the app share the folder, not memory
SAVING_WAIT_S = 10.0


@dataclass(frozen=True)
class MadeLesson:
    """A teacher's lesson with its class code; `retired` ones no longer open for students."""

    lesson: Lesson
    code: str
    author: str  # the teacher's name, or "operator" without sign-in
    author_id: str | None
    updated_at: float
    retired: bool

    @property
    def link(self) -> str:
        """The query string that opens it on the Lessons page."""
        return f"?lesson={self.lesson.name}"


def made_folder(runs_root: Path) -> Path:
    return Path(runs_root) / "lessons" / "made"


def lesson_from_form(
    name: str,
    title: str,
    audience: str,
    preset: str,
    config: TrainingConfig,
    controls: dict[str, str],
    steps: list[dict[str, Any]],
    data: str = "sample",
) -> Lesson:
    """A lesson from the Train page as it stands: the preset plus whatever the form changed, the controls'
    states, and the steps; LessonError naming what is wrong (the same checks as a lesson file)."""
    if preset not in PRESETS:
        raise LessonError(f"There is no preset {preset!r}; start the lesson from one of {', '.join(PRESETS)}.")
    base = PRESETS[preset].config
    overrides = {
        field.name: _plain(getattr(config, field.name))
        for field in dataclasses.fields(TrainingConfig)
        if getattr(config, field.name) != getattr(base, field.name)
    }
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise LessonError(f"{', '.join(unknown)}: not Train controls; a lesson can hide or lock {', '.join(CONTROLS)}.")
    raw = {
        "version": 1,
        "name": name,
        "title": title,
        "audience": audience,
        "data": data,
        "preset": preset,
        "overrides": overrides,
        "controls": {control: state for control, state in controls.items() if state != "shown"},
        "steps": [{key: value for key, value in step.items() if value not in (None, "")} for step in steps],
    }
    return parse_lesson(json.dumps(raw).encode(), json_text=True)


def save_lesson(runs_root: Path, lesson: Lesson, author: Person | None) -> MadeLesson:
    """Keep `lesson` (new, or a new version of one already made: it keeps its class code and comes back from
    retirement); LessonError for a built-in lesson's name, another teacher's lesson, or a full library."""
    if lesson.name in builtin_names():
        raise LessonError(f"{lesson.name!r} is a built-in lesson's name; give yours another name.")
    folder = made_folder(runs_root)
    with _saving(folder):
        existing = _read_code(folder, lesson.name)
        if existing is not None and existing.get("author_id") not in (None, author and author.id):
            raise LessonError(
                f"{lesson.name!r} is {existing.get('author', 'another teacher')}'s lesson; give yours another name."
            )
        if existing is None and len(list(folder.glob("*.code.json"))) >= MAX_MADE:
            raise LessonError(f"This server keeps at most {MAX_MADE} lessons; retire and delete old ones first.")
        code = existing["code"] if existing else _new_code(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / f"{lesson.name}.json", lesson.model_dump(mode="json", exclude_defaults=False))
        record = {
            "code": code,
            "author": author.label if author else "operator",
            "author_id": author.id if author else None,
            "updated_at": time.time(),
            "retired": False,
        }
        atomic_write_json(folder / f"{lesson.name}.code.json", record)
    return MadeLesson(lesson, code, record["author"], record["author_id"], record["updated_at"], False)


def set_retired(runs_root: Path, name: str, retired: bool, by: Person | None) -> None:
    """Retire a lesson (students can no longer open it; their progress stays) or bring it back."""
    folder = made_folder(runs_root)
    with _saving(folder):
        record = _read_code(folder, name)
        if record is None:
            raise LessonError(f"There is no lesson {name!r} made on this server.")
        if record.get("author_id") not in (None, by and by.id):
            raise LessonError(
                f"{name!r} is {record.get('author', 'another teacher')}'s lesson; only they can retire it."
            )
        atomic_write_json(folder / f"{name}.code.json", {**record, "retired": retired, "updated_at": time.time()})


def made_lessons(runs_root: Path, include_retired: bool = True) -> list[MadeLesson]:
    """Every lesson made on this server that still reads as a valid lesson, newest first."""
    folder = made_folder(runs_root)
    found = []
    for path in sorted(folder.glob("*.code.json")) if folder.is_dir() else []:
        made = _read_made(folder, path.name.removesuffix(".code.json"))
        if made is not None and (include_retired or not made.retired):
            found.append(made)
    return sorted(found, key=lambda made: made.updated_at, reverse=True)


def find_lesson(runs_root: Path, name_or_code: str) -> Lesson:
    """A built-in lesson by name, a made lesson by name, or a made lesson by its class code (any case, spaces
    ignored); LessonError saying what to do when there is none or it is retired."""
    asked = name_or_code.strip()
    if asked in builtin_names():
        return load_lesson(asked)
    folder = made_folder(runs_root)
    code = asked.replace(" ", "").replace("-", "").upper()
    for made in made_lessons(runs_root):
        if made.lesson.name == asked or made.code == code:
            if made.retired:
                raise LessonError(f"The lesson {made.lesson.title!r} has been retired by its teacher.")
            return made.lesson
    if folder.is_dir() and (folder / f"{asked}.json").is_file():
        raise LessonError(f"The lesson {asked!r} cannot be read; ask your teacher to save it again.")
    raise LessonError(
        f"There is no lesson or class code {asked[:40]!r}; check the code your teacher gave you (6 letters and digits)."
    )


@contextlib.contextmanager
def _saving(folder: Path) -> Iterator[None]:
    """One save or retirement at a time in `folder`, across threads, processes and app replicas: two teachers
    saving at once cannot both take one name or one code."""
    folder.mkdir(parents=True, exist_ok=True)
    with queue_lock(folder, timeout_s=SAVING_WAIT_S, name=SAVING_LOCK) as lock:
        if not lock.acquired:
            raise LessonError("Another teacher is saving a lesson right now; press Save again in a moment.")
        yield


def _read_made(folder: Path, name: str) -> MadeLesson | None:
    record = _read_code(folder, name)
    if record is None or not isinstance(record.get("code"), str):
        return None
    try:
        lesson = read_lesson(folder / f"{name}.json")
    except (LessonError, OSError):
        return None
    return MadeLesson(
        lesson,
        record["code"],
        str(record.get("author", "operator"))[:120],
        record.get("author_id") if isinstance(record.get("author_id"), str) else None,
        float(record.get("updated_at", 0) or 0),
        record.get("retired") is True,
    )


def _read_code(folder: Path, name: str) -> dict | None:
    raw = read_json(folder / f"{name}.code.json", default=None)
    return raw if isinstance(raw, dict) else None


def _new_code(folder: Path) -> str:
    taken = {record.get("code") for path in folder.glob("*.code.json") if (record := read_json(path, default={}))}
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
