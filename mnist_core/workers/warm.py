"""Warm workers on this machine: a worker process that has finished a run (TensorFlow imported, the data
loaded) offers itself for the next one instead of exiting, so a run handed to it starts training in well
under a second instead of the ~4 s a fresh process spends importing.

The offer is a file, `<runs>/.warm/<host>-<pid>.idle`. The queue's local launcher takes an idle worker by
renaming its file to `.taken` (atomic: two dispatchers cannot take one worker) and then writes the run's
folder into it; the worker, polling, trains that run. A worker whose offer times out renames it away
itself (again atomic: a launcher that took it first wins, and the worker then trains that run). Each
worker trains at most `max_runs()` runs and stops once its private memory passes `max_memory_mb()`, so a
leak or a fragmenting heap cannot grow for ever; a crash or a kill loses only the run it was training.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.storage import atomic_write_json, read_json
from mnist_core.workers.process import HOST, pid_is_worker

FOLDER = ".warm"
LINGER_ENV = "DIGIT_LAB_WORKER_LINGER_S"  # how long a warm worker waits for its next run (0: it exits)
RUNS_ENV = "DIGIT_LAB_WORKER_RUNS"  # runs one process trains before a fresh one replaces it
MEMORY_ENV = "DIGIT_LAB_WORKER_MAX_MB"  # private memory after which it is replaced
DEFAULT_LINGER_S, DEFAULT_RUNS, DEFAULT_MAX_MB = 120.0, 25, 3000
POLL_S = 0.02


def linger_s() -> float:
    return _setting(LINGER_ENV, DEFAULT_LINGER_S, 0, 3600)


def max_runs() -> int:
    return int(_setting(RUNS_ENV, DEFAULT_RUNS, 1, 10_000))


def max_memory_mb() -> float:
    return _setting(MEMORY_ENV, DEFAULT_MAX_MB, 200, 1_000_000)


def private_memory_mb() -> float:
    """This process's private resident memory (anonymous pages), in MB; 0 where /proc does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(frozen=True)
class Offer:
    """This worker's standing offer to train the next run."""

    idle: Path  # the file a launcher renames to take it
    taken: Path  # where the launcher then writes the run


def offer(root: Path) -> Offer:
    folder = Path(root) / FOLDER
    stem = _stem(root, os.getpid())
    made = Offer(stem.with_suffix(".idle"), stem.with_suffix(".taken"))
    for attempt in range(3):  # another worker may remove the empty folder between the two steps
        folder.mkdir(parents=True, exist_ok=True)
        made.taken.unlink(missing_ok=True)
        try:
            atomic_write_json(made.idle, {"pid": os.getpid(), "host": HOST, "since": time.time()})
            return made
        except FileNotFoundError:
            if attempt == 2:
                raise
    return made


def _stem(root: Path, pid: int) -> Path:
    """The offer files of worker `pid` of this machine are this path with .idle / .taken."""
    return Path(root) / FOLDER / f"{HOST}-{pid}"


def take(root: Path) -> tuple[Path, int] | None:
    """An idle worker of this machine, taken for one run: (the file to give the run to, its pid), or None."""
    folder = Path(root) / FOLDER
    if not folder.is_dir():
        return None
    for idle in sorted(folder.glob(f"{HOST}-*.idle"), key=_age):
        raw = read_json(idle, default={})
        pid = raw.get("pid") if isinstance(raw, dict) else None
        if not isinstance(pid, int) or not pid_is_worker(pid):
            idle.unlink(missing_ok=True)  # its worker is gone
            continue
        taken = idle.with_suffix(".taken")
        try:
            os.rename(idle, taken)  # atomic: only one launcher takes it
        except FileNotFoundError:
            continue  # taken by another dispatcher, or withdrawn, just now
        return taken, pid
    return None


def _age(idle: Path) -> float:
    """When the offer was made (oldest first); 0 for one another dispatcher took between listing and now."""
    try:
        return idle.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def give(taken: Path, run_path: Path) -> None:
    atomic_write_json(taken, {"run": str(run_path), "at": time.time()})


def take_back(run_path: Path, pid: int | None) -> bool:
    """Take back `run_path` from the warm worker `pid` (now dead) if it never read it: killed in the moment
    between a launcher taking its offer and its reading the run. True if the run was still in its offer
    file, which is then removed: the run never started and may be handed out again."""
    if pid is None:
        return False
    taken = _stem(Path(run_path).parent, pid).with_suffix(".taken")
    given = _given(taken)
    if given is None or given.resolve() != Path(run_path).resolve():
        return False
    taken.unlink(missing_ok=True)
    _tidy(taken.parent)
    return True


def wait(made: Offer, timeout_s: float, leaving=lambda: False) -> Path | None:
    """The run a launcher gave this worker within `timeout_s`, else None (the offer withdrawn); None at once
    when `leaving()` turns true (the worker was asked to stop)."""
    deadline, grace = time.monotonic() + timeout_s, None
    while True:
        run = _given(made.taken)
        if run is not None:
            made.taken.unlink(missing_ok=True)
            _tidy(made.idle.parent)
            return run
        if leaving():
            withdraw(made)
            return None
        now = time.monotonic()
        if grace is not None and now >= grace:  # taken, but its run never came: the launcher failed
            withdraw(made)
            return None
        if grace is None and now >= deadline:
            try:
                os.rename(made.idle, made.idle.with_suffix(".gone"))  # withdrawn, unless taken meanwhile
            except FileNotFoundError:
                grace = now + 5.0  # a launcher took it: its run is being written
                continue
            made.idle.with_suffix(".gone").unlink(missing_ok=True)
            _tidy(made.idle.parent)
            return None
        time.sleep(POLL_S)


def withdraw(made: Offer) -> None:
    """Take the offer back (the worker is leaving); the folder goes with the last offer, so a runs folder
    holds only runs when no worker waits."""
    made.idle.unlink(missing_ok=True)
    made.taken.unlink(missing_ok=True)
    _tidy(made.idle.parent)


def _tidy(folder: Path) -> None:
    try:
        folder.rmdir()  # only when empty
    except OSError:
        pass


def _given(taken: Path) -> Path | None:
    raw = read_json(taken, default=None)
    return Path(raw["run"]) if isinstance(raw, dict) and isinstance(raw.get("run"), str) else None


def _setting(name: str, default: float, low: float, high: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)
