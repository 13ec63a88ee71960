"""A teacher's class of student accounts: `classes/<id>.json` holds its code, its students (seat, name, the
argon2 hash of their code and the code's version) and whether it is closed. Codes are returned once, when
made, and never kept in clear. Seats are never reused, so a new student never becomes a removed one's Person."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.accounts.codes import CLASS_CODE_LENGTH, hash_code, new_secret, student_code
from mnist_core.accounts.store import AccountError, read_record, update_record
from mnist_core.people import Person

MAX_STUDENTS = 100  # per class: a sheet of codes a teacher can hand out; several classes for more
MAX_CLASSES = 1000  # per server, closed ones included
MAX_NAME = 40
_ID_RE = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Student:
    seat: int  # 1, 2, …: printed before the code, never reused in the class
    name: str
    version: int  # goes up with every new code: older sign-ins stop working


@dataclass(frozen=True)
class ClassInfo:
    id: str  # 12 hex digits, in every student's Person.id
    code: str  # what students type, printed on the sheet
    name: str
    teacher: str  # who made it
    created_at: float
    closed: bool
    students: tuple[Student, ...]


@dataclass(frozen=True)
class NewCode:
    """A code made just now: shown and printed once, then only its hash is kept."""

    seat: int
    name: str
    code: str  # as printed, e.g. "3-7KXP-QRMT"


def classes_folder(folder: Path) -> Path:
    return folder / "classes"


def class_file(folder: Path, class_id: str) -> Path:
    if not _ID_RE.match(class_id or ""):
        raise AccountError("There is no such class.")
    return classes_folder(folder) / f"{class_id}.json"


def student_names(count: int | None = None, names: str = "") -> list[str]:
    """The students to add: one per non-empty line of `names`, else "Student 1" … "Student count"."""
    listed = [" ".join(line.split()) for line in names.splitlines() if line.strip()]
    wanted = len(listed) if listed else count or 0
    if wanted < 1:
        raise AccountError("Give the students' names (one a line) or how many students to make codes for.")
    if wanted > MAX_STUDENTS:
        raise AccountError(
            f"A class holds at most {MAX_STUDENTS} students; {wanted:,} were asked for. "
            "Make several classes (one per group), each with its own sheet."
        )
    for name in listed:
        if len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
            raise AccountError(f"A name is at most {MAX_NAME} printable characters; {name[:MAX_NAME]!r}… is not.")
    return listed or [f"Student {n}" for n in range(1, wanted + 1)]


def _hashed(names: list[str], first_seat: int) -> tuple[list[dict], list[NewCode]]:
    """Fresh codes for `names` from seat `first_seat` on: the records to keep and the codes to show once."""
    records, shown = [], []
    for seat, name in enumerate(names, start=first_seat):
        secret = new_secret()
        records.append({"seat": seat, "name": name, "hash": hash_code(secret), "version": 1})
        shown.append(NewCode(seat, name, student_code(seat, secret)))
    return records, shown


def _unused_code(folder: Path) -> str:
    taken = {c.code for c in list_classes(folder)}
    for _ in range(100):
        code = new_secret(CLASS_CODE_LENGTH)
        if code not in taken:
            return code
    raise AccountError("Could not find a free class code; close and remove old classes, then try again.")


def create_class(folder: Path, name: str, students: list[str], teacher: Person | None) -> tuple[ClassInfo, list]:
    """A new class with a code per student; returns it and the codes (NewCode) to print now."""
    name = " ".join(name.split())[:MAX_NAME] or "My class"
    if len(list(classes_folder(folder).glob("*.json"))) >= MAX_CLASSES:
        raise AccountError(f"This server keeps at most {MAX_CLASSES} classes; remove closed ones first.")
    records, shown = _hashed(student_names(names="\n".join(students)), 1)
    class_id = secrets.token_hex(6)
    raw = {
        "version": 1, "id": class_id, "code": _unused_code(folder), "name": name, "created_at": time.time(),
        "teacher": teacher.label if teacher else "operator", "closed": False,
        "next_seat": len(records) + 1, "students": records,
    }  # fmt: skip
    update_record(class_file(folder, class_id), lambda _old: raw)
    return _info(raw), shown


def _info(raw: dict) -> ClassInfo:
    students = tuple(Student(int(s["seat"]), str(s["name"]), int(s["version"])) for s in raw["students"])
    return ClassInfo(raw["id"], raw["code"], raw["name"], raw["teacher"], raw["created_at"], raw["closed"], students)


def read_class_raw(folder: Path, class_id: str) -> dict:
    """A class file as kept (hashes included); AccountError if there is no such class."""
    raw = read_record(class_file(folder, class_id))
    if not isinstance(raw, dict) or raw.get("id") != class_id or not isinstance(raw.get("students"), list):
        raise AccountError("There is no such class (it may have been removed).")
    return raw


def load_class(folder: Path, class_id: str) -> ClassInfo:
    return _info(read_class_raw(folder, class_id))


def list_classes(folder: Path) -> list[ClassInfo]:
    """Every class on this server, newest first (damaged files skipped)."""
    found = []
    for path in classes_folder(folder).glob("*.json") if classes_folder(folder).is_dir() else []:
        try:
            found.append(load_class(folder, path.stem))
        except (AccountError, KeyError, TypeError, ValueError):
            continue
    return sorted(found, key=lambda c: c.created_at, reverse=True)


def find_class(folder: Path, code: str) -> ClassInfo | None:
    """The class with this (parsed) class code, closed or not; None if there is none."""
    return next((c for c in list_classes(folder) if c.code == code), None)
