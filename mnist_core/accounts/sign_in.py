"""Signing in with a class code and a student's code, or as an operator-made teacher, and knowing who a token
is: every answer is the `Person` the engine already uses for ownership, queue fairness and My digits. Their ids
live in namespaces of their own ("class:<class id>|s<seat>", "teacher:<id>") that no OpenID Connect id can take
(people.person_from_claims refuses those issuers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from mnist_core.accounts.classes import find_class, read_class_raw
from mnist_core.accounts.codes import code_matches, hash_code, parse_class_code, parse_student_code
from mnist_core.accounts.lockout import check_allowed, record_failure
from mnist_core.accounts.store import AccountError
from mnist_core.accounts.teachers import teacher_rows
from mnist_core.accounts.tokens import TokenError, issue_token, read_token
from mnist_core.people import CLASS_PREFIX, TEACHER_PREFIX, Person


@functools.cache
def _dummy_hash() -> str:
    """Checked when there is no such seat or teacher: a wrong seat costs the same time as a wrong code."""
    return hash_code("not-a-code")


@dataclass(frozen=True)
class SignedIn:
    person: Person
    token: str  # for the browser to keep (accounts.tokens)


def student_id(class_id: str, seat: int) -> str:
    return f"{CLASS_PREFIX}{class_id}|s{seat}"


def sign_in_student(folder: Path, class_code: str, code: str, address: str | None) -> SignedIn:
    """The student whose code this is; CodeError for a malformed code, LockedOut, or AccountError if wrong."""
    class_code, (seat, secret) = parse_class_code(class_code), parse_student_code(code)
    found = find_class(folder, class_code)
    check_allowed(folder, found.id if found else None, address)
    if found is None or found.closed:
        record_failure(folder, None, address)
        if found is None:
            raise AccountError(f"No class has the code {class_code}. Check the class code at the top of your sheet.")
        raise AccountError(f"The class {found.name!r} is closed, so its codes no longer work. Ask your teacher.")
    raw = read_class_raw(folder, found.id)
    student = next((s for s in raw["students"] if s.get("seat") == seat), None)
    if not code_matches(student["hash"] if student else _dummy_hash(), secret) or student is None:
        record_failure(folder, found.id, address)
        raise AccountError(f"That is not the code of number {seat} in this class. Check it on your sheet.")
    claims = {"k": "student", "c": found.id, "s": seat, "v": int(student["version"])}
    return SignedIn(_student_person(found.id, student), issue_token(folder, claims))


def sign_in_teacher(folder: Path, name: str, password: str, address: str | None) -> SignedIn:
    """An operator-made teacher; LockedOut, or AccountError for a wrong name or password."""
    check_allowed(folder, None, address)
    typed = " ".join(name.split()).casefold()
    row = next((r for r in teacher_rows(folder) if r.get("name", "").casefold() == typed), None)
    cleaned = password.strip().upper().replace("-", "").replace(" ", "")
    if len(password) > 100 or not code_matches(row["hash"] if row else _dummy_hash(), cleaned) or row is None:
        record_failure(folder, None, address)
        raise AccountError("That name and password do not match a teacher account here. Ask the operator.")
    claims = {"k": "teacher", "t": row["id"], "v": int(row["version"])}
    return SignedIn(_teacher_person(row), issue_token(folder, claims))


def person_from_token(folder: Path, token: str) -> Person:
    """Who a token signed in, checked against the accounts as they are now; TokenError if it no longer holds."""
    claims = read_token(folder, token)
    if claims.get("k") == "student" and isinstance(claims.get("c"), str):
        return _student_from_claims(folder, claims)
    if claims.get("k") == "teacher":
        row = next((r for r in teacher_rows(folder) if r.get("id") == claims.get("t")), None)
        if row is None or row.get("version") != claims.get("v"):
            raise TokenError("This teacher account was removed or given a new password. Sign in again.")
        return _teacher_person(row)
    raise TokenError("This sign-in is not one of ours. Sign in again.")


def _student_from_claims(folder: Path, claims: dict) -> Person:
    try:
        raw = read_class_raw(folder, claims["c"])
    except AccountError:
        raise TokenError("Your class is no longer on this server. Ask your teacher.") from None
    if raw.get("closed"):
        raise TokenError(f"Your class {raw.get('name', '')!r} was closed by your teacher, so you are signed out.")
    student = next((s for s in raw["students"] if s.get("seat") == claims.get("s")), None)
    if student is None:
        raise TokenError("You are no longer in this class, so you are signed out. Ask your teacher.")
    if student.get("version") != claims.get("v"):
        raise TokenError("Your teacher gave you a new code: sign in again with the new one.")
    return _student_person(raw["id"], student)


def _student_person(class_id: str, student: dict) -> Person:
    return Person(student_id(class_id, int(student["seat"])), name=str(student["name"]))


def _teacher_person(row: dict) -> Person:
    return Person(f"{TEACHER_PREFIX}{row['id']}", name=str(row["name"]), is_teacher=True)
