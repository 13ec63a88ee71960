"""One run folder, read and changed on behalf of a person: `RunHandle`, its errors and small records.

A handle re-reads the folder's files on every call, so it never goes stale; it is bound to the person who
asked for it (`viewer`, None for the operator without sign-in), and the changes a user can make (stop,
share, rename, delete) refuse what that person may not do (people.py). Listing runs, starting them and
the queue's hand-out live in runs.py, the public API, which re-exports everything here.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.config import TrainingConfig
from mnist_core.people import Owner, Person, can_manage, can_view, is_own, is_shared, owner_of
from mnist_core.runs import heartbeat
from mnist_core.runs import queue as run_queue
from mnist_core.runs.files import RunFiles, RunStatus
from mnist_core.runs.names import EVALUATION, QUEUED_MESSAGE, DamagedRunFile
from mnist_core.storage import StorageError

_NAME_RE = re.compile(r"^[\w .,()+=#@-]{1,60}$")


class RunError(RuntimeError):
    """A run could not be started, found, changed or removed; the message says why."""


class RunBusyError(RunError):
    """The queue is being changed by someone else this very moment; try again."""


class RunNotFoundError(RunError):
    """No run with that id (that this person may see)."""


class RunPermissionError(RunError):
    """The run belongs to someone else: only its owner or a teacher may change it."""


class RunQueueFullError(RunError):
    """This person already has as many runs waiting as the queue allows."""


class QueueUnavailableError(RunError):
    """The queue cannot hand out runs: a queue setting is wrong or the worker pool's broker is down. The
    message is the operator's advice; a student is told something they can act on (ui.queue_panel)."""


def _who_died(status: RunStatus) -> str:
    """Which training process ended without finishing, and what can end one that way."""
    host = status.host or heartbeat.HOST
    pool_worker = bool(status.worker) and not heartbeat.is_local_worker_name(status.worker)
    if host == heartbeat.HOST and not pool_worker:
        return "The training process ended unexpectedly (it was killed or ran out of memory, or the server restarted)"
    name = f"Worker {status.worker}" if pool_worker else f"The worker on {host}"
    return (
        f"{name} stopped answering (no heartbeat for {heartbeat.timeout_s():.0f} s: it was stopped, crashed or "
        "lost its connection)"
    )


@dataclass(frozen=True)
class RunMetrics:
    """The valid rows of metrics.jsonl, split by kind."""

    batches: list[dict]
    epochs: list[dict]
    skipped: int = 0  # rows left out: not JSON, not UTF-8, or not matching their kind's schema
    truncated: bool = False  # the file was too long; only its latest rows were read

    def column(self, kind: str, key: str) -> list[float]:
        rows = self.batches if kind == "batch" else self.epochs
        return [row[key] for row in rows if key in row]


@dataclass(frozen=True)
class Progress:
    """How far a run has come, for progress bars."""

    epoch: int  # the epoch now training (1-based)
    epochs: int
    batch: int
    batches: int
    fraction: float  # 0..1 over the whole run
    samples_per_s: float
    elapsed_s: float
    eta_s: float | None  # None until a speed is known


HAND_OUT: list = []  # the queue's dispatch(root, blocking), set by mnist_core.runs: a run taken back waits again


class RunHandle:
    """One run folder; every call re-reads the files, so a handle never goes stale."""

    def __init__(self, path: Path, viewer: Person | None = None):
        self.path = Path(path)
        self.id = self.path.name
        self.files = RunFiles(self.path)
        self.viewer = viewer  # who asked for this handle; None: the operator (no sign-in, the CLI)

    def __repr__(self) -> str:
        return f"RunHandle({self.id!r})"

    @property
    def name(self) -> str:
        """config.json's name; the folder's name when config.json is damaged."""
        try:
            return str(self.files.read_meta().get("name") or self.id)
        except DamagedRunFile:
            return self.id

    @property
    def config(self) -> TrainingConfig:
        return self.files.read_config()

    def meta(self) -> dict:
        """config.json's entries ({} when it is damaged: such a run names no owner, so teachers see it).
        One read: callers that need the owner, sharing and experiment together read it once."""
        try:
            return self.files.read_meta()
        except (FileNotFoundError, DamagedRunFile):
            return {}

    @property
    def owner(self) -> Owner:
        return owner_of(self.meta())

    @property
    def shared(self) -> bool:
        return is_shared(self.meta())

    @property
    def experiment(self) -> dict | None:
        """config.json's "experiment" entry ({"id", "name", "knobs", "values"}) for a run of an experiment."""
        return experiment_of(self.meta())

    def visible_to(self, viewer: Person | None) -> bool:
        """May `viewer` see this run (None: the operator sees everything)?"""
        if viewer is None:
            return True
        meta = self.meta()
        return can_view(viewer, owner_of(meta), is_shared(meta))

    @property
    def is_own(self) -> bool:
        """Is this the viewer's own run (not a classmate's shared one, nor a teacher's view of a student's)?"""
        return is_own(self.viewer, self.owner)

    @property
    def can_manage(self) -> bool:
        """May the viewer stop, rename, share or delete this run?"""
        return can_manage(self.viewer, self.owner)

    def _require_manage(self, action: str) -> None:
        if not self.can_manage:
            owner = self.owner
            whose = f"{owner.label}'s" if owner.id else "the operator's"
            raise RunPermissionError(
                f"Run {self.name!r} is {whose}: only its owner or a teacher can {action} it. "
                "You can still draw with it, open it in Diagnostics and compare its curves."
            )

    def damage(self) -> str | None:
        """What is wrong with this run's files (naming the file, never quoting a value), or None if nothing is.

        A damaged run still lists, reads as finished and can be deleted; pages name it with this."""
        return self.files.damage()

    def status(self) -> RunStatus:
        """status.json; a finished "failed" status saying what is wrong when it is missing or damaged."""
        try:
            status = self.files.read_status()
        except DamagedRunFile as error:
            return RunStatus("failed", f"This run is damaged: {error}", created_at=0.0)
        if status is None:
            return RunStatus("failed", "This run folder has no readable status.json.", created_at=0.0)
        if status.is_active and not status.is_waiting and not self._alive(status):
            status = self._back_in_queue(status) or self._mark_interrupted(status)
        return status

    def _back_in_queue(self, status: RunStatus) -> RunStatus | None:
        """A run handed to a warm worker that died before reading it never started: it waits again, in its
        old place (its queued_at is kept), and the queue hands it out. None when that is not what happened."""
        from mnist_core.workers import warm

        if status.state != "queued" or not warm.take_back(self.path, status.pid):
            return None
        waiting = self.files.update_status(handed_at=None, pid=None, host=None, message=QUEUED_MESSAGE)
        for hand_out in HAND_OUT:  # runs.dispatch, registered by the package (it imports this module)
            hand_out(self.path.parent, blocking=False)  # at once unless a hand-out is under way (it sees it)
        return self.files.read_status() or waiting

    def _alive(self, status: RunStatus) -> bool:
        handed = status.handed_at or status.created_at
        return heartbeat.is_alive(self.path, handed, status.pid, status.host or heartbeat.HOST)

    def _mark_interrupted(self, status: RunStatus) -> RunStatus:
        self.files.remove_temp_files()
        best = self.model_path("best")
        kept = f"its last checkpoint (epoch {status.epoch}) is kept" if best else "no checkpoint was saved yet"
        message = f"{_who_died(status)}; {kept}."
        try:
            return self.files.update_status(state="interrupted", ended_at=time.time(), message=message, pid=None)
        except StorageError:
            return RunStatus(**{**status.__dict__, "state": "interrupted", "message": message})

    def metrics(self) -> RunMetrics:
        """metrics.jsonl's rows that pass the schema (its latest few MB); bad rows are skipped."""
        read = self.files.read_metrics()
        dump = lambda rows: [row.model_dump(exclude_unset=True, exclude_none=True) for row in rows]  # noqa: E731
        return RunMetrics(dump(read.batches), dump(read.epochs), skipped=read.skipped, truncated=read.truncated)

    def progress(self) -> Progress | None:
        status = self.status()
        if status.started_at is None:
            return None
        metrics = self.metrics()
        last = metrics.batches[-1] if metrics.batches else {}
        epochs = max(1, status.epochs)
        epoch = int(last.get("epoch", status.epoch + 1))
        batch, batches = int(last.get("batch", 0)), int(last.get("batches", 1))
        done = (epoch - 1 + batch / max(1, batches)) / epochs
        if metrics.epochs and metrics.epochs[-1]["epoch"] >= epoch:
            done = metrics.epochs[-1]["epoch"] / epochs
        done = 1.0 if status.state == "completed" else min(1.0, done)
        elapsed = status.duration_s
        eta = elapsed * (1 - done) / done if done > 0.02 and status.is_active else None
        return Progress(epoch, epochs, batch, batches, done, float(last.get("samples_per_s", 0.0)), elapsed, eta)

    def stop(self) -> None:
        """Ask the worker to stop after the current batch (it keeps the best weights); a waiting run is cancelled."""
        self._require_manage("stop")
        status = self.status()
        if status.is_waiting:
            with run_queue.queue_lock(self.path.parent) as lock:  # not handed out while it is cancelled
                if not lock.acquired:
                    raise RunBusyError("The training queue is busy right now; try cancelling again in a moment.")
                if self.status().is_waiting:
                    message = "Cancelled while it waited in the queue; it never started."
                    self.files.update_status(state="stopped", ended_at=time.time(), message=message)
                    return
        if self.status().is_active:
            self.files.request_stop()

    def share(self, shared: bool = True) -> None:
        """Show this run to everyone (read-only for them), or stop sharing it."""
        self._require_manage("share")
        self.files.update_meta(shared=bool(shared))

    def wait(self, timeout: float | None = None, poll: float = 0.2) -> RunStatus:
        """Block until the run is finished (or `timeout` s passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (status := self.status()).is_active:
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(poll)
        return status

    def evaluation(self):
        from mnist_core.runs.evaluation import load_evaluation

        return load_evaluation(self.path)

    def evaluation_version(self) -> float:
        """When the run's test-set scores were last written (0 before): a cache key for pages."""
        return self.files.version(EVALUATION)

    def model_path(self, which: str = "best") -> Path | None:
        path = self.files.model_file(which)
        return path if path.is_file() else None

    def rename(self, new_name: str) -> None:
        self._require_manage("rename")
        self.files.update_meta(name=validate_name(new_name))

    def delete(self) -> None:
        self._require_manage("delete")
        if self.status().is_waiting:
            self.stop()  # cancelled first, so the queue cannot hand it out while it is removed
        if self.status().is_active:
            raise RunError(f"Run {self.name!r} is still training; stop it first, then delete it.")
        try:
            shutil.rmtree(self.path)
        except OSError as error:
            raise RunError(f"Could not delete {self.path}: {error.strerror or error}.") from error


def experiment_of(meta: dict) -> dict | None:
    """The "experiment" entry of a run's config.json entries, if it is a well-formed one."""
    entry = meta.get("experiment")
    return entry if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None


def validate_name(name: str) -> str:
    """A run name: 1-60 letters, digits, spaces and simple punctuation (no path characters)."""
    name = (name or "").strip()
    if not _NAME_RE.match(name):
        raise RunError(
            f"Run name {name!r} is not allowed: use 1-60 letters, digits, spaces and . , ( ) + = # @ - _ (no slashes)."
        )
    return name
