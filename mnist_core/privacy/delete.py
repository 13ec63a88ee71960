"""Delete everything kept for a person: their waiting runs are cancelled and their training runs asked to stop
first (the runs API's stop, so the queue never hands out a run being removed), then every file goes.

A run that does not stop within `stop_timeout_s` is kept and named in the result, so the caller can say
"try again in a minute"; everything else of the person is removed either way.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core import runs
from mnist_core.people import Person
from mnist_core.privacy.inventory import Inventory, PrivacyError, person_runs, take_inventory

STOP_TIMEOUT_S = 30.0  # a training run stops after its current batch: seconds, even on a slow CPU


@dataclass(frozen=True)
class Deletion:
    """What deleting a person's data did."""

    stopped: tuple[str, ...]  # runs cancelled in the queue or stopped while training, by name
    removed: tuple[str, ...]  # what was removed, in plain words ("run 'mlp 12:00'", "12 drawings")
    still_training: tuple[str, ...]  # runs that did not stop in time and are kept: delete again in a minute
    size_bytes: int  # what was removed, in bytes


def delete_all(
    person: Person | None,
    runs_root: str | Path | None = None,
    digits_root: str | Path | None = None,
    stop_timeout_s: float = STOP_TIMEOUT_S,
) -> Deletion:
    """Stop, then remove every run, drawing, lesson progress and made lesson of `person` (None: the operator)."""
    found = take_inventory(person, runs_root, digits_root)
    if not found.items:
        who = person.label if person else "the operator"
        raise PrivacyError(f"Nothing is kept for {who} on this server, so there is nothing to delete.")
    stopped = _stop_runs(person, found.runs_root, stop_timeout_s)
    still = {handle.path for handle in person_runs(person, found.runs_root) if handle.status().is_active}
    removed, size = [], 0
    for item in found.items:
        if item.kind == "run" and item.paths[0] in still:
            continue
        for path in item.paths:
            _remove(path)
        removed.append(f"{item.kind} {item.label!r}" if item.kind in ("run", "lesson") else item.label)
        size += item.size_bytes
    _tidy(found)
    names = tuple(runs.RunHandle(path).name for path in sorted(still))
    return Deletion(tuple(stopped), tuple(removed), names, size)


def _stop_runs(person: Person | None, root: Path, timeout_s: float) -> list[str]:
    """Cancel the person's waiting runs and ask their training ones to stop; wait for those. Returns their names."""
    active = [handle for handle in person_runs(person, root) if handle.status().is_active]
    for handle in active:
        try:
            handle.stop()  # a waiting run is cancelled under the queue lock; a training one stops after its batch
        except runs.RunBusyError:
            handle.stop()  # the queue was busy for a moment: once more (it waits for the lock)
    deadline = time.monotonic() + timeout_s  # one wait for all of them: they stop side by side
    for handle in active:
        handle.wait(timeout=max(0.0, deadline - time.monotonic()))
    return [handle.name for handle in active]


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise PrivacyError(
            f"Could not remove {path}: {error.strerror or error}. Nothing else was kept back; ask the operator to "
            "check that folder's permissions, then delete again."
        ) from error


def _tidy(found: Inventory) -> None:
    """Remove the person's own folders once empty (their My digits folder, named by their id's digest)."""
    if found.person is not None:
        folder = found.digits_root / "people" / found.person.folder_name
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)  # only non-digit leftovers (an export's temp file) remain
