"""How long the server keeps signed-in people's data, and the cleanup that enforces it.

$DIGIT_LAB_RETENTION_DAYS (default 365; 0 keeps everything forever) is the most days a person's run,
drawing or lesson progress may stay untouched (no file of it changed) before the cleanup removes it. Runs
still queued or training are never removed; nor is the operator's own data (runs without an owner, the
default My digits folder) nor the lessons teachers made, which classes share. `python -m mnist_core data
cleanup` runs it (the operator schedules it, e.g. a daily cron line); `cleanup_if_due` cleans at most once a day.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core import my_digits, runs
from mnist_core.privacy.inventory import PrivacyError, tree_size
from mnist_core.storage import atomic_write_json, read_json

RETENTION_ENV = "DIGIT_LAB_RETENTION_DAYS"
DEFAULT_DAYS = 365
MAX_DAYS = 36500  # a hundred years
DAY_S = 24 * 3600
MARKER = ".retention.json"  # in the runs folder: when the cleanup last ran


@dataclass(frozen=True)
class Removal:
    """One thing the cleanup removed (or, in a dry run, would remove)."""

    what: str  # for people: "run 'mlp 12:00:01'", "drawing 1732370000123-a1b2c3.png"
    path: Path
    updated_at: float


def retention_days(env: dict | None = None) -> int:
    """$DIGIT_LAB_RETENTION_DAYS as a whole number of days (0: keep forever); PrivacyError naming a bad value."""
    raw = (env if env is not None else os.environ).get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_DAYS
    if not raw.isdigit() or int(raw) > MAX_DAYS:
        raise PrivacyError(
            f"{RETENTION_ENV}={raw[:20]!r} is not a number of days: set a whole number from 0 (keep forever) "
            f"to {MAX_DAYS}, or unset it for the default of {DEFAULT_DAYS} days."
        )
    return int(raw)


def expired(
    runs_root: str | Path | None = None, digits_root: str | Path | None = None, now: float | None = None
) -> list[Removal]:
    """What the retention setting says must go now: people's runs, drawings and progress untouched too long."""
    days = retention_days()
    if days == 0:
        return []
    cutoff = (time.time() if now is None else now) - days * DAY_S
    root, digits = runs.runs_dir(runs_root), my_digits.my_digits_dir(digits_root)
    found = []
    for handle in runs.list_runs(root):
        if handle.owner.id is not None and not handle.status().is_active:
            _, updated = tree_size(handle.path)
            found.append(Removal(f"run {handle.name!r} of {handle.owner.label}", handle.path, updated))
    for path in sorted((digits / "people").glob("*/*.png")):
        found.append(Removal(f"drawing {path.name}", path, path.stat().st_mtime))
    for path in sorted((root / "lessons" / "progress").glob("*/*.json")):
        if path.parent.name != "operator":
            found.append(Removal(f"lesson progress {path.stem!r}", path, path.stat().st_mtime))
    return [removal for removal in found if removal.updated_at < cutoff]


def cleanup(
    runs_root: str | Path | None = None,
    digits_root: str | Path | None = None,
    now: float | None = None,
    dry_run: bool = False,
) -> list[Removal]:
    """Remove what `expired` lists (nothing with dry_run); emptied folders of people go too. Returns the list."""
    found = expired(runs_root, digits_root, now)
    if dry_run:
        return found
    for removal in found:
        if removal.path.is_dir():
            shutil.rmtree(removal.path, ignore_errors=True)
        else:
            removal.path.unlink(missing_ok=True)
            _remove_if_empty(removal.path.parent)
    root = runs.runs_dir(runs_root)
    if root.is_dir():
        atomic_write_json(root / MARKER, {"ran_at": time.time() if now is None else now, "removed": len(found)})
    return found


def last_cleanup(runs_root: str | Path | None = None) -> float | None:
    """When the cleanup last ran on this runs folder (a Unix time), or None if it never did."""
    last = read_json(runs.runs_dir(runs_root) / MARKER, default={})
    ran_at = last.get("ran_at") if isinstance(last, dict) else None
    return float(ran_at) if isinstance(ran_at, (int, float)) else None


def cleanup_if_due(runs_root: str | Path | None = None, digits_root: str | Path | None = None) -> list[Removal]:
    """`cleanup`, if it has not run in the last day on this runs folder (servers beside each other share it)."""
    root = runs.runs_dir(runs_root)
    last = read_json(root / MARKER, default={})
    ran_at = last.get("ran_at") if isinstance(last, dict) else None
    if isinstance(ran_at, (int, float)) and time.time() - ran_at < DAY_S or retention_days() == 0:
        return []
    return cleanup(runs_root, digits_root)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()  # only an empty folder: a person's digits or progress folder emptied by the cleanup
    except OSError:
        pass
