"""A teacher's changes to a class: add students, a new code for one, remove one, let the class try again, close
it. Each is applied to the class file as it is at that moment, under its lock (accounts.store), so two teachers
editing one class at once both keep their change; one that no longer makes sense (a student the other teacher
removed, a class they closed) is refused with a message and changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

from mnist_core.accounts.classes import MAX_STUDENTS, ClassInfo, NewCode, _info, class_file, load_class, student_names
from mnist_core.accounts.codes import hash_code, new_secret, student_code
from mnist_core.accounts.lockout import clear_class
from mnist_core.accounts.store import AccountError, update_record


def _edit(folder: Path, class_id: str, change) -> ClassInfo:
    def checked(raw: object) -> dict:
        if not isinstance(raw, dict) or raw.get("id") != class_id:
            raise AccountError("There is no such class (it may have been removed). Nothing changed.")
        if raw.get("closed"):
            raise AccountError(f"The class {raw.get('name', '')!r} is closed, so it cannot change. Nothing changed.")
        return change(raw)

    return _info(update_record(class_file(folder, class_id), checked))


def _student(raw: dict, seat: int) -> dict:
    found = next((s for s in raw["students"] if s["seat"] == seat), None)
    if found is None:
        raise AccountError(
            f"Number {seat} is no longer in the class {raw['name']!r} (another teacher may have removed them). "
            "Nothing changed; the list below is up to date."
        )
    return found


def _fits(students: list | tuple, wanted: list[str]) -> None:
    if len(students) + len(wanted) > MAX_STUDENTS:
        raise AccountError(
            f"The class has {len(students)} students and holds at most {MAX_STUDENTS}; "
            f"{len(wanted)} more do not fit. Make another class for them."
        )


def add_students(folder: Path, class_id: str, count: int | None = None, names: str = "") -> list[NewCode]:
    """New students at the end of the class (new seats); their codes, to print now."""
    wanted = student_names(count, names)
    _fits(load_class(folder, class_id).students, wanted)  # before the slow hashing; again under the lock
    secrets_ = [new_secret() for _ in wanted]
    hashes = [hash_code(s) for s in secrets_]  # slow on purpose: done before the lock is taken
    shown: list[NewCode] = []

    def change(raw: dict) -> dict:
        _fits(raw["students"], wanted)
        first = raw["next_seat"]
        for seat, name, secret, hashed in zip(range(first, first + len(wanted)), wanted, secrets_, hashes, strict=True):
            raw["students"].append({"seat": seat, "name": name, "hash": hashed, "version": 1})
            shown.append(NewCode(seat, name, student_code(seat, secret)))
        raw["next_seat"] = first + len(wanted)
        return raw

    _edit(folder, class_id, change)
    return shown


def reset_code(folder: Path, class_id: str, seat: int) -> NewCode:
    """A new code for one student: the old one, and every sign-in made with it, stop working at once."""
    secret = new_secret()
    hashed = hash_code(secret)
    shown: list[NewCode] = []

    def change(raw: dict) -> dict:
        student = _student(raw, seat)
        student.update(hash=hashed, version=int(student["version"]) + 1)
        shown.append(NewCode(seat, student["name"], student_code(seat, secret)))
        return raw

    _edit(folder, class_id, change)
    return shown[0]


def remove_student(folder: Path, class_id: str, seat: int) -> ClassInfo:
    """The student can no longer sign in; their runs and drawings stay until someone deletes them."""

    def change(raw: dict) -> dict:
        _student(raw, seat)
        raw["students"] = [s for s in raw["students"] if s["seat"] != seat]
        return raw

    return _edit(folder, class_id, change)


def close_class(folder: Path, class_id: str) -> ClassInfo:
    """No code of the class works any more, nor any sign-in made with one; the class stays listed as closed."""

    def change(raw: dict) -> dict:
        raw.update(closed=True, closed_at=time.time())
        return raw

    return _edit(folder, class_id, change)


def let_try_again(folder: Path, class_id: str) -> int:
    """Forget the class's recent wrong codes (after a lock-out); how many were forgotten."""
    load_class(folder, class_id)
    return clear_class(folder, class_id)
