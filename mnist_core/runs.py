"""Training runs: start one in a worker process, list, read, stop, rename and delete them.

A run is a folder (see docs/DESIGN.md). The worker writes it; everything here only reads it,
except for the few requests a user makes (stop, rename, delete). Importing this module does not
import TensorFlow.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mnist_core import worker_process
from mnist_core.config import TrainingConfig
from mnist_core.run_files import CONFIG, RunFiles, RunStatus, create_run
from mnist_core.run_schema import DamagedRunFile
from mnist_core.storage import StorageError

RUNS_DIR_ENV = "DIGIT_LAB_RUNS_DIR"
_NAME_RE = re.compile(r"^[\w .,()+=#@-]{1,60}$")
_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,48}$")  # slug (<= 40) + "-N" for same-second runs


class RunError(RuntimeError):
    """A run could not be started, found, changed or removed; the message says why."""


class RunBusyError(RunError):
    """Another run is training; only one trains at a time on a server."""


class RunNotFoundError(RunError):
    """No run with that id."""


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

    def __init__(self, path: Path):
        self.path = Path(path)
        self.id = self.path.name
        self.files = RunFiles(self.path)

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
        if status.is_active and not worker_process.is_alive(status.pid, status.created_at):
            status = self._mark_interrupted(status)
        return status

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
        """Ask the worker to stop after the current batch; it keeps the best weights."""
        if self.status().is_active:
            self.files.request_stop()

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
        self.files.update_meta(name=validate_name(new_name))

    def delete(self) -> None:
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


def list_runs(runs_dir_path: str | Path | None = None) -> list[RunHandle]:
    """Every run, newest first (folders without a config.json are not runs)."""
    root = runs_dir(runs_dir_path)
    if not root.is_dir():
        return []
    handles = [RunHandle(p) for p in root.iterdir() if p.is_dir() and (p / CONFIG).is_file()]
    return sorted(handles, key=lambda h: h.id, reverse=True)


def load_run(run_id: str, runs_dir_path: str | Path | None = None) -> RunHandle:
    """The run with this id (its folder name)."""
    root = runs_dir(runs_dir_path)
    path = root / str(run_id)
    if not _ID_RE.match(str(run_id)) or not (path / CONFIG).is_file():
        raise RunNotFoundError(f"No run {run_id!r} in {root}. `python -m mnist_core runs` lists the runs.")
    return RunHandle(path)


def active_run(runs_dir_path: str | Path | None = None) -> RunHandle | None:
    """The run that is queued or training now, if any."""
    for handle in list_runs(runs_dir_path):
        if handle.status().is_active:
            return handle
    return None


def start_run(
    config: TrainingConfig,
    name: str | None = None,
    runs_dir_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    prepare: Callable[[RunHandle], None] | None = None,
) -> RunHandle:
    """Create a run folder and start its worker process; returns at once.

    `prepare(handle)` writes what else the worker needs into the new folder (a fine-tune's snapshot
    of My digits) before the worker starts; if it raises, the half-made run is removed.
    """
    root = writable_runs_dir(runs_dir_path)
    with _start_lock(root):
        busy = active_run(root)
        if busy is not None:
            raise RunBusyError(
                f"Run {busy.name!r} is training now; only one run trains at a time. Stop it or wait until it finishes."
            )
        handle = _create_run_folder(root, config, name, data_dir)
        if prepare is not None:
            try:
                prepare(handle)
            except BaseException:
                shutil.rmtree(handle.path, ignore_errors=True)
                raise
        _spawn_worker(handle)
    return handle


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


class _start_lock:
    """An exclusive lock file, so two starts at the same moment cannot both win."""

    def __init__(self, root: Path):
        self.path = root / ".start.lock"

    def __enter__(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                return self
            except FileExistsError:
                if time.time() - _mtime(self.path) > 30:  # left by a crashed starter
                    self.path.unlink(missing_ok=True)
                elif time.monotonic() > deadline:
                    raise RunBusyError("Another run is being started right now; try again in a moment.") from None
                time.sleep(0.05)

    def __exit__(self, *exc):
        os.close(self.fd)
        self.path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _create_run_folder(root: Path, config: TrainingConfig, name: str | None, data_dir) -> RunHandle:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = validate_name(name) if name else f"{config.architecture} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}"
    status = {"state": "queued", "message": "Waiting for the training process to start…", "epochs": config.epochs}
    # The worker's cwd is the package root, so a relative --data-dir must be resolved here.
    data_dir = str(Path(data_dir).expanduser().resolve()) if data_dir else None
    try:
        files = create_run(root, label, config, {**status, "created_at": time.time()}, data_dir)
    except StorageError as error:  # e.g. the disk filled up after the write probe: no half-made run is left
        raise RunError(f"{error.strerror} The run was not started.") from error
    return RunHandle(files.path)


def _spawn_worker(handle: RunHandle) -> None:
    handle.process = worker_process.spawn(handle.path, handle.files)  # lets a caller in this process reap it
