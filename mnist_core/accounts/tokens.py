"""Signed, expiring sign-in tokens (itsdangerous): what a browser keeps so that a refresh stays signed in.

A token names the account and its code's version; it is signed with a key of this server (the
`$DIGIT_LAB_ACCOUNTS_SECRET`, else `token.key` made once in the accounts folder), so a changed or made-up one is
refused, and it expires after `$DIGIT_LAB_SIGN_IN_HOURS` (12 h: a school day). A new code, a removed student or
a closed class ends it at once, because every use checks the account again (accounts.sign_in)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from mnist_core.accounts.store import AccountError

SECRET_ENV = "DIGIT_LAB_ACCOUNTS_SECRET"
HOURS_ENV = "DIGIT_LAB_SIGN_IN_HOURS"
DEFAULT_HOURS = 12.0
MAX_TOKEN_CHARS = 1000
_SALT = "digit-lab-sign-in"


class TokenError(AccountError):
    """A token that is forged, damaged or expired; the message says to sign in again."""


def token_hours() -> float:
    """How long a sign-in lasts: $DIGIT_LAB_SIGN_IN_HOURS (between 0.01 and 720), else 12."""
    try:
        hours = float(os.environ.get(HOURS_ENV, DEFAULT_HOURS))
    except ValueError:
        return DEFAULT_HOURS
    return min(max(hours, 0.01), 720.0)


def _key(folder: Path) -> str:
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = folder / "token.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: two first sign-ins at once agree on one key
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
        handle.flush()
        os.fsync(handle.fileno())
    return path.read_text().strip()


def _serializer(folder: Path) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_key(folder), salt=_SALT)


def issue_token(folder: Path, claims: dict[str, str | int]) -> str:
    """A signed token holding `claims` (small: ids and a version), stamped with the time now."""
    return _serializer(folder).dumps(claims)


def read_token(folder: Path, token: str, max_age_s: float | None = None) -> dict:
    """The claims of a token this server signed within `max_age_s` (default: token_hours()); else TokenError."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise TokenError("This sign-in is not one of ours. Sign in again.")
    age = token_hours() * 3600 if max_age_s is None else max_age_s
    try:
        claims = _serializer(folder).loads(token, max_age=age)
    except SignatureExpired:
        raise TokenError(f"Your sign-in has expired (it lasts {age / 3600:g} hours). Sign in again.") from None
    except BadSignature:
        raise TokenError("This sign-in was changed or made elsewhere, so it is not accepted. Sign in again.") from None
    if not isinstance(claims, dict):
        raise TokenError("This sign-in is not one of ours. Sign in again.")
    return claims
