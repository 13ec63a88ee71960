"""Reading lessons: the built-in ones by name, or a teacher's file, bounded and checked before anything of it
is used. A lesson that fails any check is refused whole with one message that names the file, where, and what
is wrong; nothing of it is ever half-applied."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from mnist_core.lessons.schema import Lesson

BUILTIN = Path(__file__).with_name("builtin")
MAX_BYTES = 256 * 1024  # a lesson is a page of settings and thirty steps of text, never more


class LessonError(ValueError):
    """A lesson that cannot be used; the message says which, what is wrong and what to do."""


def builtin_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN.glob("*.yaml"))


def load_lesson(source: str | Path) -> Lesson:
    """A built-in lesson by name (`seed000`), or the lesson file at a path (YAML or JSON)."""
    if isinstance(source, str) and source in builtin_names():
        return read_lesson(BUILTIN / f"{source}.yaml")
    path = Path(source)
    if not path.is_file():
        raise LessonError(
            f"No lesson {str(source)!r}: it is neither a built-in lesson ({', '.join(builtin_names())}) nor a file."
        )
    return read_lesson(path)


def read_lesson(path: Path) -> Lesson:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise LessonError(f"{path.name}: {size:,} bytes; a lesson file is at most {MAX_BYTES:,} bytes.")
    try:
        return parse_lesson(path.read_bytes(), json_text=path.suffix.lower() == ".json")
    except LessonError as error:
        raise LessonError(f"{path.name}: {error}") from None


def parse_lesson(data: bytes, json_text: bool = False) -> Lesson:
    """A lesson from the bytes of its file; LessonError with what is wrong."""
    if len(data) > MAX_BYTES:
        raise LessonError(f"{len(data):,} bytes; a lesson file is at most {MAX_BYTES:,} bytes.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError("not UTF-8 text; save the lesson as a UTF-8 YAML or JSON file.") from None
    try:
        return Lesson.model_validate(_decoded(text, json_text))
    except ValidationError as error:
        raise LessonError(_first_problem(error)) from None


def _decoded(text: str, json_text: bool) -> object:
    try:
        if json_text:
            return json.loads(text)
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise LessonError("uses YAML aliases (*name); write each value out in full.")
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError, RecursionError) as error:
        first_line = str(error).splitlines()[0][:200]
        raise LessonError(f"not valid {'JSON' if json_text else 'YAML'} ({first_line}).") from None


def _first_problem(error: ValidationError) -> str:
    """pydantic's first error as 'steps 2 gate: a run_accuracy gate needs min_accuracy' (+ how many more)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    where = " ".join(str(part + 1) if isinstance(part, int) else str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{where + ': ' if where else ''}{message}{more}"
