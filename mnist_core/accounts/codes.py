"""Sign-in codes: made at random from an alphabet children can read aloud, typed back forgivingly, and kept
only as argon2 hashes (argon2-cffi), never in clear."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mnist_core.accounts.store import AccountError

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # 31 signs: no 0/O, 1/I/L to misread
SECRET_LENGTH = 8  # a student's secret part: 31**8 = 8.5e11 codes
CLASS_CODE_LENGTH = 6  # a class's code, printed on every sheet of the class (not a secret)
PASSWORD_LENGTH = 12  # an operator-made teacher's password: 31**12 = 7.9e17
MAX_TYPED = 40  # longer than any code, with spaces and dashes
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)  # OWASP's argon2id minimum
_ALLOWED = re.compile(r"^[A-Z0-9 \-]*$")
_MISREAD = {"0": "O/0", "O": "O/0", "1": "I/1/L", "I": "I/1/L", "L": "I/1/L"}


class CodeError(AccountError):
    """A typed code that cannot be one of ours; the message says what to check."""


def new_secret(length: int = SECRET_LENGTH) -> str:
    """A random string of `length` signs from ALPHABET (the `secrets` module's generator)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def hash_code(code: str) -> str:
    """The argon2id hash kept on disk for a code (salted: the same code hashes differently each time)."""
    return _HASHER.hash(code)


def code_matches(stored_hash: str, code: str) -> bool:
    """Whether `code` is the one `stored_hash` was made from; False for a damaged hash too."""
    try:
        return _HASHER.verify(stored_hash, code)
    except (VerificationError, InvalidHashError):
        return False


def student_code(seat: int, secret: str) -> str:
    """A student's code as printed: the seat number, then the secret in two groups of four ("3-7KXP-QRMT")."""
    return f"{seat}-{secret[:4]}-{secret[4:]}"


def _cleaned(typed: str, what: str) -> str:
    text = typed.strip().upper()
    if len(text) > MAX_TYPED:
        raise CodeError(f"That {what} is {len(text)} characters long; codes are much shorter. Check your sheet.")
    odd = sorted({ch for ch in text if not _ALLOWED.match(ch)})
    if odd:
        shown = " ".join(repr(ch) for ch in odd[:5])
        raise CodeError(f"A {what} holds only letters and digits (dashes and spaces are fine), not {shown}.")
    return text.replace(" ", "").replace("-", "")


def _check_signs(part: str, what: str) -> None:
    misread = sorted({_MISREAD[ch] for ch in part if ch in _MISREAD})
    if misread:
        raise CodeError(f"Codes never use {', '.join(misread)}: look again at that letter on your sheet ({what}).")


def parse_class_code(typed: str) -> str:
    """The class code as stored (upper case, no spaces or dashes); CodeError if it cannot be one."""
    code = _cleaned(typed, "class code")
    if len(code) != CLASS_CODE_LENGTH:
        raise CodeError(f"A class code has {CLASS_CODE_LENGTH} letters and digits; that one has {len(code)}.")
    _check_signs(code, "class code")
    return code


def parse_student_code(typed: str) -> tuple[int, str]:
    """(seat, secret) from a student's typed code ("3-7KXP-QRMT", "37kxpqrmt"); CodeError if it cannot be one."""
    code = _cleaned(typed, "code")
    seat, secret = code[:-SECRET_LENGTH], code[-SECRET_LENGTH:]
    if len(code) <= SECRET_LENGTH or not seat.isdigit() or int(seat) < 1:
        raise CodeError("Your code starts with your number, then 8 letters and digits (like 3-7KXP-QRMT).")
    _check_signs(secret, "your code")
    return int(seat), secret
