"""Teacher accounts the operator makes (`python -m mnist_core accounts add-teacher NAME`), for schools without
an OpenID Connect provider: `teachers.json` holds each teacher's name and the argon2 hash of a password that is
printed once, when made or reset, and never kept in clear."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.accounts.codes import PASSWORD_LENGTH, hash_code, new_secret
from mnist_core.accounts.store import AccountError, read_record, update_record

MAX_TEACHERS = 200
MAX_NAME = 60


@dataclass(frozen=True)
class Teacher:
    id: str  # 12 hex digits, in the teacher's Person.id
    name: str
    version: int  # goes up with every new password: older sign-ins stop working


def teachers_file(folder: Path) -> Path:
    return folder / "teachers.json"


def _rows(raw: object) -> list[dict]:
    rows = raw.get("teachers") if isinstance(raw, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def teacher_rows(folder: Path) -> list[dict]:
    """The teachers as kept (hashes included)."""
    return _rows(read_record(teachers_file(folder), {}))


def list_teachers(folder: Path) -> list[Teacher]:
    return [Teacher(r["id"], r["name"], int(r["version"])) for r in teacher_rows(folder)]


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise AccountError(f"A teacher's name is 1 to {MAX_NAME} printable characters, such as 'Ms Rivera'.")
    return name


def _same(row: dict, name: str) -> bool:
    return row.get("name", "").casefold() == name.casefold()


def add_teacher(folder: Path, name: str) -> str:
    """A new teacher account; returns its password (shown once)."""
    name, password = _clean_name(name), new_secret(PASSWORD_LENGTH)
    row = {"id": secrets.token_hex(6), "name": name, "hash": hash_code(password), "version": 1, "at": time.time()}

    def change(raw: object) -> dict:
        rows = _rows(raw)
        if any(_same(r, name) for r in rows):
            raise AccountError(f"There is already a teacher called {name!r}; reset their password instead.")
        if len(rows) >= MAX_TEACHERS:
            raise AccountError(f"This server keeps at most {MAX_TEACHERS} teacher accounts; remove one first.")
        return {"teachers": [*rows, row]}

    update_record(teachers_file(folder), change, {})
    return password


def reset_teacher(folder: Path, name: str) -> str:
    """A new password for a teacher; the old one and its sign-ins stop working. Returns it (shown once)."""
    name, password = _clean_name(name), new_secret(PASSWORD_LENGTH)
    hashed = hash_code(password)

    def change(raw: object) -> dict:
        rows = _rows(raw)
        row = next((r for r in rows if _same(r, name)), None)
        if row is None:
            raise AccountError(f"There is no teacher called {name!r}; add them with add-teacher.")
        row.update(hash=hashed, version=int(row["version"]) + 1)
        return {"teachers": rows}

    update_record(teachers_file(folder), change, {})
    return password


def remove_teacher(folder: Path, name: str) -> None:
    """The teacher can no longer sign in (their classes and runs stay)."""
    name = _clean_name(name)

    def change(raw: object) -> dict:
        rows = _rows(raw)
        if not any(_same(r, name) for r in rows):
            raise AccountError(f"There is no teacher called {name!r}.")
        return {"teachers": [r for r in rows if not _same(r, name)]}

    update_record(teachers_file(folder), change, {})
