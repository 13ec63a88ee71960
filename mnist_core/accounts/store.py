"""Where accounts live and how they change: `$DIGIT_LAB_ACCOUNTS_DIR`, else `accounts/` beside the runs folder;
one JSON file per class (`classes/<id>.json`), `teachers.json`, `attempts.json` and the token key. Every change
reads, edits and writes a file under an exclusive lock (fcntl.flock on `<file>.lock`), so two teachers (two
threads of the server, or the server and the CLI) editing one class at once both keep their change; the write
itself is atomic (storage.atomic_write_json)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mnist_core.storage import atomic_write_json, read_json

ACCOUNTS_ENV = "DIGIT_LAB_ACCOUNTS_DIR"
SWITCH_ENV = "DIGIT_LAB_CLASS_ACCOUNTS"  # "1" (or on/yes/true) offers class and teacher accounts at sign-in
MAX_FILE_BYTES = 1024 * 1024  # a class of 100 with its hashes is about 20 KB


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why and what to do."""


def class_accounts_on(env: dict[str, str] | None = None) -> bool:
    """Whether the operator switched class accounts on ($DIGIT_LAB_CLASS_ACCOUNTS)."""
    value = (env if env is not None else os.environ).get(SWITCH_ENV, "")
    return value.strip().lower() in ("1", "on", "yes", "true")


def accounts_dir(path: str | Path | None = None) -> Path:
    """The accounts folder: `path`, else $DIGIT_LAB_ACCOUNTS_DIR, else `accounts/` beside the runs folder."""
    if path or os.environ.get(ACCOUNTS_ENV):
        return Path(path or os.environ[ACCOUNTS_ENV]).expanduser().resolve()
    from mnist_core.runs import runs_dir

    return runs_dir().parent / "accounts"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for `path` (its `.lock` file beside it) across threads and processes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def read_record(path: Path, default: Any = None) -> Any:
    """A JSON file of the accounts folder; `default` when it is missing, too big or unreadable."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return default
    except OSError:
        return default
    return read_json(path, default=default)


def update_record(path: Path, change: Callable[[Any], Any], default: Any = None) -> Any:
    """Apply `change` to the file's current content under its lock and write what it returns; returns that.
    `change` may raise AccountError, and then nothing is written."""
    with locked(path):
        value = change(read_record(path, default))
        atomic_write_json(path, value)
        os.chmod(path, 0o600)  # hashes and names of children: for the server's eyes only
        return value
