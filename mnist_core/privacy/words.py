"""An inventory in plain words: what is kept, where on the server, and for how long (the CLI, the zip's README.txt
and the My data page say the same)."""

from __future__ import annotations

import time

from mnist_core.privacy.inventory import KINDS, Inventory, PrivacyError
from mnist_core.privacy.retention import RETENTION_ENV, last_cleanup, retention_days

NOT_KEPT = (
    "Not kept: what you draw on the Draw page unless you press Keep. Model files uploaded on Draw or Diagnostics "
    "are kept under a generated name, not yours, for at most a day. A class account itself (its name and hashed "
    "code) is removed by the teacher on the Class accounts page."
)


def size_text(size_bytes: int) -> str:
    """1234567 -> "1.2 MB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} bytes"


def retention_text() -> str:
    """How long data is kept, as the operator set it."""
    try:
        days = retention_days()
    except PrivacyError as error:
        return f"How long: the setting is wrong, so nothing is cleaned up until it is fixed. {error}"
    if days == 0:
        return f"How long: until you delete it; this server keeps data forever ({RETENTION_ENV}=0)."
    ran_at = last_cleanup()
    ran = (
        f"it last ran on {time.strftime('%Y-%m-%d', time.localtime(ran_at))}"
        if ran_at is not None
        else "it has not run on this server yet"
    )
    return (
        f"How long: a run, drawing or lesson progress that nobody changes for {days} days ({RETENTION_ENV}) is "
        f"removed by the cleanup the operator schedules (`python -m mnist_core data cleanup`, daily); {ran}. "
        "Runs waiting or training are never removed."
    )


def summary_lines(found: Inventory) -> list[str]:
    """Who, what (a line per item with its size and last change), where and how long."""
    who = found.person.label if found.person else "the operator (sign-in off: the runs without an owner)"
    if not found.items:
        return [f"Nothing is kept for {who} on this server.", NOT_KEPT]
    lines = [f"Kept for {who}: {len(found.items)} item(s), {size_text(found.size_bytes)} in all."]
    for item in found.items:
        state = f", {item.state}" if item.state else ""
        when = time.strftime("%Y-%m-%d", time.localtime(item.updated_at))
        lines.append(f"- {KINDS[item.kind]}: {item.label}{state}, {size_text(item.size_bytes)}, last changed {when}")
    lines.append(f"Where: on this server, runs and lesson progress in {found.runs_root}, drawings in "
                 f"{found.digits_root}.")  # fmt: skip
    return [*lines, retention_text(), NOT_KEPT]
