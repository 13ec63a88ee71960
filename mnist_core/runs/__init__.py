"""Runs: a run folder's files and their schema, the queue and its hand-out to a worker, evaluations,
sharing, experiments, uploads and fine-tunes. Here, the runs API: queue, list, read, stop, share, delete.

A run is a folder (see docs/DESIGN.md). The worker writes it; everything here only reads it,
except for the few requests a user makes (stop, rename, share, delete: runs/handle.py) and the queue's
hand-out (`dispatch`, rules in runs/queue.py). A handle is bound to the person who asked for it (`viewer`,
None without sign-in): listing shows them only what they may see, and changes refuse what they may not
do (people.py). Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core.config import TrainingConfig
from mnist_core.people import Person, owner_of
from mnist_core.runs import handle as _handle_module
from mnist_core.runs import queue as run_queue
from mnist_core.runs.files import CONFIG, create_run
from mnist_core.runs.handle import (  # noqa: F401 (re-exported: runs is the public API)
    Progress,
    QueueUnavailableError,
    RunBusyError,
    RunError,
    RunHandle,
    RunMetrics,
    RunNotFoundError,
    RunPermissionError,
    RunQueueFullError,
    experiment_of,
    validate_name,
)
from mnist_core.runs.names import QUEUED_MESSAGE
from mnist_core.storage import StorageError

if TYPE_CHECKING:
    from mnist_core.lessons.schema import Lesson

RUNS_DIR_ENV = "DIGIT_LAB_RUNS_DIR"
_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,48}$")  # slug (<= 40) + "-N" for same-second runs


def runs_dir(path: str | Path | None = None) -> Path:
    """The runs folder: `path`, else $DIGIT_LAB_RUNS_DIR, else ./runs."""
    return Path(path or os.environ.get(RUNS_DIR_ENV) or "runs").expanduser().resolve()


def list_runs(runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> list[RunHandle]:
    """Every run `viewer` may see, newest first (folders without a config.json are not runs)."""
    root = runs_dir(runs_dir_path)
    if not root.is_dir():
        return []
    handles = [RunHandle(p, viewer) for p in root.iterdir() if p.is_dir() and (p / CONFIG).is_file()]
    return sorted((h for h in handles if h.visible_to(viewer)), key=lambda h: h.id, reverse=True)


def load_run(run_id: str, runs_dir_path: str | Path | None = None, viewer: Person | None = None) -> RunHandle:
    """The run with this id (its folder name), if `viewer` may see it."""
    root = runs_dir(runs_dir_path)
    path = root / str(run_id)
    if not _ID_RE.match(str(run_id)) or not (path / CONFIG).is_file():
        raise RunNotFoundError(f"No run {run_id!r} in {root}. `python -m mnist_core runs` lists the runs.")
    handle = RunHandle(path, viewer)
    if not handle.visible_to(viewer):
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
    lesson: Lesson | None = None,
) -> RunHandle:
    """Queue a run and hand it to a worker if a slot is free; returns at once, the run "queued".

    `owner` is the signed-in person (None without sign-in); `experiment` marks one run of an experiment
    (its runs hold one place of the owner's queue limit). `prepare(handle)` writes what else the worker
    needs into the new folder (a fine-tune's snapshot of My digits) before it can start; if it raises,
    the half-made run is removed. RunQueueFullError past $DIGIT_LAB_QUEUE_PER_PERSON waiting runs. With a
    `lesson`, LessonLockError (and no run) if `config` changes a control the lesson locks or hides; the run's
    config.json then names the lesson.
    """
    if lesson is not None:
        from mnist_core.lessons.locks import check_locks  # pydantic: only lesson runs pay for importing it

        check_locks(lesson, config)
    root = writable_runs_dir(runs_dir_path)
    with run_queue.queue_lock(root) as lock:
        if not lock.acquired:
            raise RunBusyError("The training queue is busy right now (another run is being queued); try again.")
        _check_queue_limit(root, owner, experiment)
        handle = _create_run_folder(root, config, name, data_dir, owner, experiment, lesson and lesson.name)
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


_handle_module.HAND_OUT[:] = [dispatch]  # a run taken back from a dead warm worker is handed out again


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
            meta = handle.meta()  # one read for the owner and the experiment
            experiment, queued = experiment_of(meta), status.queued_at or status.created_at
            entry = run_queue.Waiting(handle.id, owner_of(meta).id or "", queued, experiment and experiment["id"])
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
        raise QueueUnavailableError(str(error)) from error
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
        probe = root / f".write-test-{os.getpid()}-{os.urandom(4).hex()}"  # unique per call, not per process
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise RunError(
            f"Cannot write to the runs folder {root}: {error.strerror or error}. "
            f"Make it writable or point {RUNS_DIR_ENV} at a writable folder."
        ) from error
    return root


def _auto_name(root: Path, config: TrainingConfig, stamp: str) -> str:
    """ "mlp 13:36:04", or "mlp 13:36:04 (2)" when a run started in the same second has that name (two
    people press Start together). Only that second's folders are read: their ids begin with the stamp."""
    base = f"{config.architecture} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}"
    taken = {RunHandle(path).name for path in root.glob(f"{stamp}-*") if (path / CONFIG).is_file()}
    return next(label for n in range(1, len(taken) + 2) if (label := base if n == 1 else f"{base} ({n})") not in taken)


def _create_run_folder(
    root: Path,
    config: TrainingConfig,
    name: str | None,
    data_dir,
    owner: Person | None = None,
    experiment: dict | None = None,
    lesson: str | None = None,
) -> RunHandle:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = validate_name(name) if name else _auto_name(root, config, stamp)
    now = time.time()
    status = {"state": "queued", "message": QUEUED_MESSAGE, "epochs": config.epochs}
    # The worker's cwd is the package root, so a relative --data-dir must be resolved here.
    data_dir = str(Path(data_dir).expanduser().resolve()) if data_dir else None
    extra = {"owner": owner.owner_record() if owner else None, "experiment": experiment}
    if lesson:
        extra["lesson"] = lesson
    try:
        files = create_run(root, label, config, {**status, "created_at": now, "queued_at": now}, data_dir, **extra)
    except StorageError as error:  # e.g. the disk filled up after the write probe: no half-made run is left
        raise RunError(f"{error.strerror} The run was not started.") from error
    return RunHandle(files.path, owner)
