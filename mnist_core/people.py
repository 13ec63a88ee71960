"""Who is using Digit Lab, and what they may do with a run.

With sign-in off (the default) there is no person: the caller is the operator of a one-person app and
may do everything, as before. With sign-in on, the app passes the signed-in `Person`; the engine then
shows a run only to its owner, to everyone once it is shared, and to teachers, and lets only the owner
or a teacher stop, rename, share or delete it. A run's owner lives in its config.json ("owner").
Nothing here imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TEACHERS_ENV = "DIGIT_LAB_TEACHERS"  # emails, separated by commas or spaces
_MAX_ID = 300  # a provider's issuer + subject; longer is not an id we issued
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
CLASS_PREFIX = "class:"  # ids of class accounts (mnist_core.accounts): "class:<class id>|s<seat>"
TEACHER_PREFIX = "teacher:"  # ids of operator-made teacher accounts: "teacher:<id>"


@dataclass(frozen=True)
class Person:
    """A signed-in person."""

    id: str  # stable: the provider's issuer and subject ("https://accounts.google.com|1234…"), or "class:…|s3"
    email: str = ""  # lower case; used for DIGIT_LAB_TEACHERS
    name: str = ""  # for people to read
    is_teacher: bool = False

    @property
    def label(self) -> str:
        return self.name or self.email or "someone"

    def owner_record(self) -> dict[str, str]:
        """What a run's config.json keeps about its owner."""
        return {"id": self.id, "email": self.email, "name": self.name}

    @property
    def folder_name(self) -> str:
        """A file name for this person's own folders (My digits, uploads): a digest, never a path."""
        return hashlib.sha256(self.id.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Owner:
    """A run's owner as its config.json says; `valid` is False when the record was tampered with."""

    id: str | None
    label: str = ""
    valid: bool = True


UNOWNED = Owner(None)  # runs from before sign-in, or with sign-in off: the operator's (teachers manage them)


def teacher_emails(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The emails in DIGIT_LAB_TEACHERS, lower case."""
    raw = (env if env is not None else os.environ).get(TEACHERS_ENV, "")
    return frozenset(part.lower() for part in re.split(r"[\s,;]+", raw) if _EMAIL_RE.match(part))


def person_from_claims(claims: Mapping[str, Any], teachers: frozenset[str] | None = None) -> Person:
    """A Person from an OpenID Connect user's claims (Streamlit's st.user); ValueError without a subject."""
    subject, issuer = claims.get("sub"), claims.get("iss") or ""
    if not isinstance(subject, str) or not subject or not isinstance(issuer, str):
        raise ValueError("The sign-in provider sent no subject ('sub') for this person; check the [auth] settings.")
    if issuer.startswith((CLASS_PREFIX, TEACHER_PREFIX)):  # those ids are Digit Lab's own accounts'
        raise ValueError(f"The sign-in provider's issuer {issuer[:60]!r} is not a web address; check [auth].")
    person_id = f"{issuer}|{subject}"[:_MAX_ID]
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    email = email.strip().lower() if _EMAIL_RE.match(email.strip()) else ""
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    teachers = teacher_emails() if teachers is None else teachers
    verified = claims.get("email_verified", True) is not False  # a provider that says "unverified" is not trusted
    return Person(person_id, email, name.strip()[:100], is_teacher=bool(email) and verified and email in teachers)


def owner_of(meta: Mapping[str, Any]) -> Owner:
    """The owner recorded in a run's config.json; a malformed record is kept apart as invalid."""
    if "owner" not in meta or meta["owner"] is None:
        return UNOWNED
    record = meta["owner"]
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not 0 < len(record["id"]) <= _MAX_ID:
        return Owner(None, valid=False)
    label = next((record[k] for k in ("name", "email") if isinstance(record.get(k), str) and record[k]), "someone")
    return Owner(record["id"], label[:100])


def is_shared(meta: Mapping[str, Any]) -> bool:
    return meta.get("shared") is True


def is_own(viewer: Person | None, owner: Owner) -> bool:
    """The viewer's own run: every run without sign-in; else the runs they own (a teacher's too, not their class's)."""
    return viewer is None or (owner.id is not None and owner.id == viewer.id)


def can_view(viewer: Person | None, owner: Owner, shared: bool) -> bool:
    """Anyone without sign-in; the owner, teachers, and everyone once the run is shared."""
    return is_own(viewer, owner) or viewer.is_teacher or (owner.id is not None and shared)


def can_manage(viewer: Person | None, owner: Owner) -> bool:
    """Stop, rename, share, delete: anyone without sign-in; else the owner or a teacher."""
    return is_own(viewer, owner) or viewer.is_teacher
