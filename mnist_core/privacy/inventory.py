"""What the server keeps for one person, found on disk: their runs, My digits, lesson progress, lessons made.

Every place is found from the person's id the way the code that writes it names it: a run's config.json
"owner", My digits' `people/<digest>` folder, lesson progress's `lessons/progress/<digest>` folder and a made
lesson's "author_id". The operator (None: sign-in off, or the CLI without --person) owns the runs without an
owner, the default My digits folder's drawings and the "operator" progress. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnist_core import my_digits, runs
from mnist_core.lessons.library import made_folder
from mnist_core.lessons.progress import OPERATOR
from mnist_core.people import Person, owner_of
from mnist_core.storage import read_json

MAX_PERSON_ID = 300  # as people.py: a provider's issuer + subject
KINDS = {"run": "Training run", "digits": "My digits drawings", "progress": "Lesson progress", "lesson": "Lesson made"}


class PrivacyError(ValueError):
    """A person id, an export or a delete that cannot be done; the message says what to do."""


@dataclass(frozen=True)
class Item:
    """One thing kept for a person."""

    kind: str  # a key of KINDS
    label: str  # for people: the run's name, "12 drawings", the lesson's name
    paths: tuple[Path, ...]  # the files or folders on the server that hold it
    size_bytes: int
    updated_at: float  # newest change of any of its files, seconds since the epoch
    state: str = ""  # a run's state ("queued", "running", "completed", ...)


@dataclass(frozen=True)
class Inventory:
    """Everything kept for `person` (None: the operator) on this server."""

    person: Person | None
    items: tuple[Item, ...]
    runs_root: Path
    digits_root: Path

    @property
    def size_bytes(self) -> int:
        return sum(item.size_bytes for item in self.items)

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]


@dataclass(frozen=True)
class Holder:
    """Someone who has data on this server, for a teacher's or the operator's picker."""

    id: str
    label: str

    def person(self) -> Person:
        return Person(self.id, name=self.label)


def check_person_id(person_id: object) -> str:
    """A person id as given on the command line or picked on a page; PrivacyError naming what is wrong."""
    if not isinstance(person_id, str) or not person_id.strip():
        raise PrivacyError("Give a person's id (`python -m mnist_core data people` lists who has data here).")
    if len(person_id) > MAX_PERSON_ID or not person_id.isprintable():
        raise PrivacyError(
            f"{person_id[:40]!r}… is not a person id: ids are at most {MAX_PERSON_ID} printable characters. "
            "`python -m mnist_core data people` lists who has data here."
        )
    return person_id


def tree_size(path: Path) -> tuple[int, float]:
    """Bytes in all files under `path` (a file or a folder; links are not followed) and the newest change."""
    if not path.is_dir():
        stat = path.lstat() if path.exists() or path.is_symlink() else None
        return (stat.st_size, stat.st_mtime) if stat else (0, 0.0)
    total, newest = 0, path.lstat().st_mtime
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                stat = Path(folder, name).lstat()
            except OSError:  # removed meanwhile
                continue
            total, newest = total + stat.st_size, max(newest, stat.st_mtime)
    return total, newest


def owns(person: Person | None, meta: dict) -> bool:
    """Is the run with config.json entries `meta` this person's (the operator's: no owner recorded)?"""
    owner = owner_of(meta)
    return owner.id is None and owner.valid if person is None else owner.id == person.id


def person_runs(person: Person | None, runs_root: Path) -> list[runs.RunHandle]:
    """The person's runs in the runs folder, any state (queued, training, interrupted, experiments' too)."""
    return [handle for handle in runs.list_runs(runs_root) if owns(person, handle.meta())]


def digit_files(person: Person | None, digits_root: Path) -> list[Path]:
    """The person's My digits drawings: their own folder, or the default folder's (not its people/) for the operator."""
    folder = digits_root / "people" / person.folder_name if person else digits_root
    return sorted(path for path in folder.glob("*.png") if path.is_file()) if folder.is_dir() else []


def progress_folder(person: Person | None, runs_root: Path) -> Path:
    return runs_root / "lessons" / "progress" / (person.folder_name if person else OPERATOR)


def made_lesson_files(person: Person | None, runs_root: Path) -> dict[str, list[Path]]:
    """Lesson name -> its two files, for the lessons this person made on the Class page."""
    folder, found = made_folder(runs_root), {}
    for code in sorted(folder.glob("*.code.json")) if folder.is_dir() else []:
        record = read_json(code, default=None)
        author = record.get("author_id") if isinstance(record, dict) else "?"
        if author == (person.id if person else None):
            name = code.name.removesuffix(".code.json")
            found[name] = [path for path in (folder / f"{name}.json", code) if path.is_file()]
    return found


def take_inventory(person: Person | None, runs_root: str | Path | None = None, digits_root: str | Path | None = None):
    """Everything kept for `person` on this server, as an `Inventory`."""
    root, digits = runs.runs_dir(runs_root), my_digits.my_digits_dir(digits_root)
    items = [_run_item(handle) for handle in person_runs(person, root)]
    if drawings := digit_files(person, digits):
        sizes = [tree_size(path) for path in drawings]
        label = f"{len(drawings)} drawing{'s' if len(drawings) != 1 else ''}"
        items.append(Item("digits", label, tuple(drawings), sum(s for s, _ in sizes), max(t for _, t in sizes)))
    progress = progress_folder(person, root)
    if lessons := sorted(progress.glob("*.json")) if progress.is_dir() else []:
        size, updated = tree_size(progress)
        names = ", ".join(path.stem for path in lessons)
        items.append(Item("progress", f"{len(lessons)} lesson{'s' if len(lessons) != 1 else ''}: {names}",
                          (progress,), size, updated))  # fmt: skip
    for name, paths in made_lesson_files(person, root).items():
        sizes = [tree_size(path) for path in paths]
        items.append(Item("lesson", name, tuple(paths), sum(s for s, _ in sizes), max(t for _, t in sizes)))
    return Inventory(person, tuple(items), root, digits)


def _run_item(handle: runs.RunHandle) -> Item:
    size, updated = tree_size(handle.path)
    experiment = handle.experiment
    label = handle.name + (f" (experiment {experiment.get('name', '')})" if experiment else "")
    return Item("run", label, (handle.path,), size, updated, handle.status().state)


def people_with_data(runs_root: str | Path | None = None) -> list[Holder]:
    """The signed-in people who have runs, lesson progress or made lessons on this server, by name."""
    root, found = runs.runs_dir(runs_root), {}
    for handle in runs.list_runs(root):
        owner = handle.owner
        if owner.id is not None:
            found.setdefault(owner.id, owner.label)
    for path in sorted((root / "lessons" / "progress").glob("*/*.json")):
        record = read_json(path, default=None) if path.stat().st_size < 65536 else None
        if isinstance(record, dict) and isinstance(record.get("person_id"), str):
            found.setdefault(record["person_id"], str(record.get("person_name") or record["person_id"])[:100])
    for code in sorted(made_folder(root).glob("*.code.json")):
        record = read_json(code, default=None)
        if isinstance(record, dict) and isinstance(record.get("author_id"), str):
            found.setdefault(record["author_id"], str(record.get("author") or record["author_id"])[:100])
    return sorted((Holder(pid, label) for pid, label in found.items()), key=lambda h: (h.label.lower(), h.id))
