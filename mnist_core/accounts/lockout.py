"""Failed sign-ins, limited per class and per client address: after MAX_FAILURES wrong codes within WINDOW_S
the class (or the address) is refused until the oldest of them is WINDOW_S old, with the minutes to wait.
Addresses are kept only as keyed digests. A teacher can let a class try again at once."""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

from mnist_core.accounts.store import AccountError, read_record, update_record

MAX_FAILURES = 10  # wrong codes per class, and per address, within the window
WINDOW_S = 15 * 60
MAX_KEPT = 20_000  # failures kept at most (the oldest go first): the file stays small under any attack


class LockedOut(AccountError):
    """Too many wrong codes lately; `wait_s` until the next try is accepted."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def attempts_file(folder: Path) -> Path:
    return folder / "attempts.json"


def address_key(address: str | None) -> str:
    """A short digest of a client address (None: a browser on this machine)."""
    return hashlib.sha256(f"digit-lab|{address or 'local'}".encode()).hexdigest()[:16]


def _recent(rows: object, now: float) -> list[dict]:
    rows = rows if isinstance(rows, list) else []
    return [r for r in rows if isinstance(r, dict) and isinstance(r.get("t"), int | float) and now - r["t"] < WINDOW_S]


def _wait_s(times: list[float], now: float) -> float:
    """Seconds until fewer than MAX_FAILURES of `times` lie within the window; 0 if they already do."""
    if len(times) < MAX_FAILURES:
        return 0.0
    times = sorted(times)
    return times[len(times) - MAX_FAILURES] + WINDOW_S - now


def check_allowed(folder: Path, class_id: str | None, address: str | None, now: float | None = None) -> None:
    """LockedOut if this class or this address had too many wrong codes lately."""
    now = time.time() if now is None else now
    rows, key = _recent(read_record(attempts_file(folder), []), now), address_key(address)
    for what, times in (
        ("this class", [r["t"] for r in rows if class_id is not None and r.get("c") == class_id]),
        ("this network address", [r["t"] for r in rows if r.get("a") == key]),
    ):
        wait = _wait_s(times, now)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise LockedOut(
                f"Too many wrong codes for {what} in the last {WINDOW_S // 60} minutes. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}, or ask your teacher to let the class try again now.",
                wait,
            )


def record_failure(folder: Path, class_id: str | None, address: str | None, now: float | None = None) -> None:
    """Count one wrong code against the class (None: no class had that code) and the address."""
    now = time.time() if now is None else now
    row = {"t": now, "c": class_id, "a": address_key(address)}
    update_record(attempts_file(folder), lambda rows: ([*_recent(rows, now), row])[-MAX_KEPT:], [])


def clear_class(folder: Path, class_id: str, now: float | None = None) -> int:
    """Forget the class's recent wrong codes (a teacher lets it try again); how many were forgotten."""
    now = time.time() if now is None else now
    gone = []

    def change(rows: object) -> list[dict]:
        recent = _recent(rows, now)
        gone.extend(r for r in recent if r.get("c") == class_id)
        return [r for r in recent if r.get("c") != class_id]

    update_record(attempts_file(folder), change, [])
    return len(gone)
