"""The training queue's rules: how many runs train at once, how many may wait per person, who goes next.

Start never refuses because someone else is training: the run waits (state "queued", no `handed_at`)
in its folder, so a restart or a crash loses nothing. Whenever a slot frees up, the runs API
(`runs.dispatch`) takes the queue lock, asks `fair_order` which waiting runs go next and hands them to
the launcher: a local worker process here, or a Celery worker pool when $DIGIT_LAB_BROKER is set.

Fairness is round-robin between people: the next run belongs to the person whose last run was handed
out longest ago (someone who has not trained yet comes first), so five runs of one person never hold
back another person's first. Nothing here imports TensorFlow or the runs API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mnist_core.runs.files import RunFiles

SLOTS_ENV = "DIGIT_LAB_TRAINING_SLOTS"  # runs that train at once on this machine
PER_PERSON_ENV = "DIGIT_LAB_QUEUE_PER_PERSON"  # runs (or experiments) one person may have waiting
BROKER_ENV = "DIGIT_LAB_BROKER"  # redis://host:port/db: train on a Celery worker pool instead
DEFAULT_PER_PERSON = 3
LOCK_NAME = ".queue.lock"
LOCK_STALE_S = 30  # a lock file older than this was left by a crashed process


class QueueSettingError(ValueError):
    """An environment setting of the queue is not usable; the message names it and says what to set."""


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise QueueSettingError(f"{name}={raw!r} is not a whole number from {low} to {high}; fix it or unset it.")
    return value


def training_slots() -> int:
    """Runs that train at once here: $DIGIT_LAB_TRAINING_SLOTS, else one per two cores (at least one)."""
    return _whole_number(SLOTS_ENV, max(1, (os.cpu_count() or 1) // 2), 1, 256)


def queue_per_person() -> int:
    """Runs one person may have waiting: $DIGIT_LAB_QUEUE_PER_PERSON, else 3."""
    return _whole_number(PER_PERSON_ENV, DEFAULT_PER_PERSON, 1, 1000)


@dataclass(frozen=True)
class Waiting:
    """A waiting run, as the queue sees it."""

    run_id: str
    owner: str  # the owner's id ("" for runs without one: the operator's)
    queued_at: float
    experiment: str | None = None  # runs of one experiment count as one against the per-person limit


def fair_order(waiting: Iterable[Waiting], last_handed: dict[str, float]) -> list[Waiting]:
    """The waiting runs in the order they should start: round-robin between owners.

    `last_handed[owner]` is when that owner's latest run was handed to a worker. Each owner's own runs
    keep their order; rounds go to the owner served longest ago, ties to the earliest waiting run.
    """
    queues: dict[str, list[Waiting]] = {}
    for entry in sorted(waiting, key=lambda w: (w.queued_at, w.run_id)):
        queues.setdefault(entry.owner, []).append(entry)
    served = dict(last_handed)
    order: list[Waiting] = []
    clock = max([time.time(), *served.values()])
    while queues:
        owner = min(queues, key=lambda o: (served.get(o, float("-inf")), queues[o][0].queued_at))
        order.append(queues[owner].pop(0))
        clock += 1e-6  # in the plan, each hand-out happens after the previous one
        served[owner] = clock
        if not queues[owner]:
            del queues[owner]
    return order


def waiting_count(entries: Iterable[Waiting], owner: str) -> int:
    """How many places `owner` holds in the queue (an experiment's runs hold one)."""
    mine = [e for e in entries if e.owner == owner]
    return len({e.experiment or e.run_id for e in mine})


class queue_lock:
    """An exclusive lock file in the runs folder: one hand-out (or enqueue) at a time, across processes
    and machines sharing the folder. `blocking=False` gives up at once (`acquired` is then False); so does
    a wait past `timeout_s`. Another `name` is another lock (the lessons library has one of its own)."""

    def __init__(self, root: Path, blocking: bool = True, timeout_s: float = 10.0, name: str = LOCK_NAME):
        self.path, self.blocking, self.timeout_s = Path(root) / name, blocking, timeout_s
        self.acquired = False

    def __enter__(self) -> queue_lock:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self.fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                self.acquired = True
                return self
            except FileExistsError:
                if time.time() - _mtime(self.path) > LOCK_STALE_S:
                    self.path.unlink(missing_ok=True)
                elif not self.blocking or time.monotonic() > deadline:
                    return self
                time.sleep(0.02)

    def __exit__(self, *exc) -> None:
        if self.acquired:
            os.close(self.fd)
            self.path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


class Launcher(Protocol):
    """Where handed-out runs train."""

    def capacity(self, root: Path) -> int:
        """How many runs may train at once."""

    def launch(self, files: RunFiles) -> object:
        """Start training the run (its status already has `handed_at`); return a handle, or raise OSError."""


class LocalLauncher:
    """Worker processes on this machine, $DIGIT_LAB_TRAINING_SLOTS at once."""

    def capacity(self, root: Path) -> int:
        return training_slots()

    def launch(self, files: RunFiles) -> object:
        """A warm worker that offered itself trains the run (None: no new process); else a new process."""
        from mnist_core.workers import process as worker_process
        from mnist_core.workers import warm

        taken = warm.take(files.path.parent)
        if taken is not None:
            path, pid = taken
            files.update_status(pid=pid, host=worker_process.HOST)  # alive from the hand-out on, like a spawn
            warm.give(path, files.path)
            return None
        return worker_process.spawn(files.path, files)


def current_launcher() -> Launcher:
    """The Celery pool when $DIGIT_LAB_BROKER is set, else local worker processes."""
    if os.environ.get(BROKER_ENV, "").strip():
        from mnist_core.workers.celery_launcher import CeleryLauncher

        return CeleryLauncher(os.environ[BROKER_ENV].strip())
    return LocalLauncher()
