"""Training runs: queue one for a worker, list, read, stop, share, rename and delete them.

A run is a folder (see docs/DESIGN.md). The worker writes it; everything here only reads it,
except for the few requests a user makes (stop, rename, share, delete) and the queue's hand-out
(`dispatch`, rules in run_queue). A handle is bound to the person who asked for it (`viewer`, None
without sign-in): listing shows them only what they may see, and changes refuse what they may not
do (people.py). Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mnist_core import heartbeat, run_queue
from mnist_core.config import TrainingConfig
from mnist_core.people import Owner, Person, can_manage, can_view, is_shared, owner_of
from mnist_core.run_files import CONFIG, RunFiles, RunStatus, create_run
from mnist_core.run_names import DamagedRunFile
from mnist_core.storage import StorageError

RUNS_DIR_ENV = "DIGIT_LAB_RUNS_DIR"
_NAME_RE = re.compile(r"^[\w .,()+=#@-]{1,60}$")
_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,48}$")  # slug (<= 40) + "-N" for same-second runs


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


def runs_dir(path: str | Path | None = None) -> Path:
    """The runs folder: `path`, else $DIGIT_LAB_RUNS_DIR, else ./runs."""
    return Path(path or os.environ.get(RUNS_DIR_ENV) or "runs").expanduser().resolve()


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

    def _meta(self) -> dict:
        try:
            return self.files.read_meta()
        except (FileNotFoundError, DamagedRunFile):  # a damaged config.json names no owner: teachers see it
            return {}

    @property
    def owner(self) -> Owner:
        return owner_of(self._meta())

    @property
    def shared(self) -> bool:
        return is_shared(self._meta())

    @property
    def experiment(self) -> dict | None:
        """config.json's "experiment" entry ({"id", "name", "knobs", "values"}) for a run of an experiment."""
        entry = self._meta().get("experiment")
        return entry if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None

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
            status = self._mark_interrupted(status)
        return status

    def _alive(self, status: RunStatus) -> bool:
        handed = status.handed_at or status.created_at
        return heartbeat.is_alive(self.path, handed, status.pid, status.host or heartbeat.HOST)

    def _mark_interrupted(self, status: RunStatus) -> RunStatus:
        self.files.remove_temp_files()
        best = self.model_path("best")
        kept = f"its last checkpoint (epoch {status.epoch}) is kept" if best else "no checkpoint was saved yet"
        message = f"The training process ended unexpectedly (server restart or crash); {kept}."
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
        from mnist_core.evaluation import load_evaluation

        return load_evaluation(self.path)

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


def validate_name(name: str) -> str:
    """A run name: 1-60 letters, digits, spaces and simple punctuation (no path characters)."""
    name = (name or "").strip()
    if not _NAME_RE.match(name):
        raise RunError(
            f"Run name {name!r} is not allowed: use 1-60 letters, digits, spaces and . , ( ) + = # @ - _ (no slashes)."
        )
    return name


def list_runs(runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> list[RunHandle]:
    """Every run `viewer` may see, newest first (folders without a config.json are not runs)."""
    root = runs_dir(runs_dir_path)
    if not root.is_dir():
        return []
    handles = [RunHandle(p, viewer) for p in root.iterdir() if p.is_dir() and (p / CONFIG).is_file()]
    if viewer is not None:
        handles = [h for h in handles if can_view(viewer, h.owner, h.shared)]
    return sorted(handles, key=lambda h: h.id, reverse=True)


def load_run(run_id: str, runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> RunHandle:
    """The run with this id (its folder name), if `viewer` may see it."""
    root = runs_dir(runs_dir_path)
    path = root / str(run_id)
    if not _ID_RE.match(str(run_id)) or not (path / CONFIG).is_file():
        raise RunNotFoundError(f"No run {run_id!r} in {root}. `python -m mnist_core runs` lists the runs.")
    handle = RunHandle(path, viewer)
    if viewer is not None and not can_view(viewer, handle.owner, handle.shared):
        raise RunNotFoundError(f"No run {run_id!r} that you can see: it may be someone else's and not shared.")
    return handle


def active_runs(runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> list[RunHandle]:
    """The runs of `viewer` (all runs without sign-in) that wait in the queue or train now, oldest first."""
    mine = [h for h in list_runs(runs_dir_path, viewer) if viewer is None or h.owner.id == viewer.id]
    return [h for h in reversed(mine) if h.status().is_active]


def active_run(runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> RunHandle | None:
    """The first of `active_runs`, if any: a training run before a waiting one."""
    active = active_runs(runs_dir_path, viewer)
    training = [h for h in active if not h.status().is_waiting]
    return (training or active or [None])[0]


def start_run(
    config: TrainingConfig,
    name: str | None = None,
    runs_dir_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    prepare: Callable[[RunHandle], None] | None = None,
    owner: Person | None = None,
    experiment: dict | None = None,
) -> RunHandle:
    """Queue a run and hand it to a worker if a slot is free; returns at once, the run "queued".

    `owner` is the signed-in person (None without sign-in); `experiment` marks one run of an experiment
    (its runs hold one place of the owner's queue limit). `prepare(handle)` writes what else the worker
    needs into the new folder (a fine-tune's snapshot of My digits) before it can start; if it raises,
    the half-made run is removed. RunQueueFullError past $DIGIT_LAB_QUEUE_PER_PERSON waiting runs.
    """
    root = writable_runs_dir(runs_dir_path)
    with run_queue.queue_lock(root) as lock:
        if not lock.acquired:
            raise RunBusyError("The training queue is busy right now (another run is being queued); try again.")
        _check_queue_limit(root, owner, experiment)
        handle = _create_run_folder(root, config, name, data_dir, owner, experiment)
        if prepare is not None:
            try:
                prepare(handle)
            except BaseException:
                shutil.rmtree(handle.path, ignore_errors=True)
                raise
        try:
            launched = _hand_out(root, run_queue.current_launcher())
        except RunError:  # a queue setting gone bad, the pool's broker down: nothing changes
            shutil.rmtree(handle.path, ignore_errors=True)
            raise
    handle.viewer = owner
    handle.process = next((h.process for h in launched if h.id == handle.id), None)  # lets a caller reap it
    return handle


def dispatch(runs_dir_path: str | Path | None = None, blocking: bool = True) -> list[RunHandle]:
    """Hand waiting runs to workers while slots are free (fairly: run_queue.fair_order); returns those handed.

    Runs whose worker died are marked interrupted first, which frees their slots. Call it whenever a slot
    may have freed up (a run ended, a page shows the queue). `blocking=False` returns at once if someone
    else is handing out right now.
    """
    root = runs_dir(runs_dir_path)
    if not root.is_dir():
        return []
    with run_queue.queue_lock(root, blocking=blocking) as lock:
        return _hand_out(root, run_queue.current_launcher()) if lock.acquired else []


def _check_queue_limit(root: Path, owner: Person | None, experiment: dict | None) -> None:
    try:
        limit = run_queue.queue_per_person()
    except run_queue.QueueSettingError as error:
        raise RunError(str(error)) from error
    entries = [entry for _, entry in _waiting(list_runs(root))]
    owner_id = owner.id if owner else ""
    if experiment and any(e.experiment == experiment["id"] for e in entries):
        return  # the experiment already holds its place
    if run_queue.waiting_count(entries, owner_id) >= limit:
        raise RunQueueFullError(
            f"You already have {limit} run{'s' if limit != 1 else ''} waiting in the queue, the most it holds per "
            f"person ({run_queue.PER_PERSON_ENV}). Wait until one starts, or cancel one, then start again."
        )


def _waiting(handles: list[RunHandle]) -> list[tuple[RunHandle, run_queue.Waiting]]:
    waiting = []
    for handle in handles:
        status = handle.status()
        if status.is_waiting:
            experiment = handle.experiment
            entry = run_queue.Waiting(
                handle.id, handle.owner.id or "", status.queued_at or status.created_at, experiment and experiment["id"]
            )
            waiting.append((handle, entry))
    return waiting


def _hand_out(root: Path, launcher: run_queue.Launcher) -> list[RunHandle]:
    """With the queue lock held: start the next waiting runs in the fair order while slots are free."""
    handles = list_runs(root)
    statuses = {h.id: h.status() for h in handles}  # marks runs whose worker died as interrupted
    busy = sum(1 for s in statuses.values() if s.is_active and not s.is_waiting)
    try:
        free = launcher.capacity(root) - busy
    except (run_queue.QueueSettingError, OSError) as error:  # OSError: the Celery pool's broker is down
        raise RunError(str(error)) from error
    waiting = _waiting(handles)
    if free <= 0 or not waiting:
        return []
    last_handed: dict[str, float] = {}
    for handle in handles:
        handed, owner = statuses[handle.id].handed_at, handle.owner.id or ""
        if handed is not None:
            last_handed[owner] = max(handed, last_handed.get(owner, handed))
    by_id = {handle.id: handle for handle, _ in waiting}
    launched = []
    for entry in run_queue.fair_order([entry for _, entry in waiting], last_handed)[:free]:
        handle = by_id[entry.run_id]
        try:
            handle.files.update_status(handed_at=time.time(), message="Starting the training process…")
            handle.process = launcher.launch(handle.files)
        except OSError as error:  # StorageError too
            _fail_to_start(handle, error)
            continue
        launched.append(handle)
    return launched


def _fail_to_start(handle: RunHandle, error: OSError) -> None:
    message = f"Could not start the training process: {getattr(error, 'strerror', None) or error}."
    try:
        handle.files.update_status(state="failed", ended_at=time.time(), message=message)
    except StorageError:
        pass  # the disk is full: the run stays handed out and is interrupted by the heartbeat rule


def writable_runs_dir(path: str | Path | None = None) -> Path:
    """The runs folder (as `runs_dir`), created if need be; RunError if it cannot be written."""
    root = runs_dir(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}-{os.urandom(4).hex()}"  # issue 13: unique per call, not per process
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise RunError(
            f"Cannot write to the runs folder {root}: {error.strerror or error}. "
            f"Make it writable or point {RUNS_DIR_ENV} at a writable folder."
        ) from error
    return root


def _create_run_folder(
    root: Path,
    config: TrainingConfig,
    name: str | None,
    data_dir,
    owner: Person | None = None,
    experiment: dict | None = None,
) -> RunHandle:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = validate_name(name) if name else f"{config.architecture} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}"
    now = time.time()
    status = {"state": "queued", "message": "Waiting in the training queue…", "epochs": config.epochs}
    # The worker's cwd is the package root, so a relative --data-dir must be resolved here.
    data_dir = str(Path(data_dir).expanduser().resolve()) if data_dir else None
    extra = {"owner": owner.owner_record() if owner else None, "experiment": experiment}
    try:
        files = create_run(root, label, config, {**status, "created_at": now, "queued_at": now}, data_dir, **extra)
    except StorageError as error:  # e.g. the disk filled up after the write probe: no half-made run is left
        raise RunError(f"{error.strerror} The run was not started.") from error
    return RunHandle(files.path, owner)
