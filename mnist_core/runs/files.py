"""The files of one run folder: every name, every write and the validated reads (see docs/DESIGN.md).

Everything that writes into a run folder (the runs API, the worker and its callbacks, evaluation,
watch, fine-tuning, import) goes through this module, so the folder's contract is written once.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mnist_core.runs import schema as run_schema

from mnist_core.config import TrainingConfig
from mnist_core.runs.names import (  # noqa: F401 - the contract's names, re-exported for every user of run folders
    ACTIVE_STATES,
    CLAIM,
    CONFIG,
    EVALUATION,
    EVALUATION_ARRAYS,
    EXPORTED,
    FINETUNE_DIGITS,
    FINETUNE_REPORT,
    HEARTBEAT,
    METRICS,
    MODEL_BEST,
    MODEL_FINAL,
    NAMES,
    STATES,
    STATUS,
    STOP_REQUEST,
    TENSORBOARD,
    WATCH,
    WORKER_LOG,
    DamagedRunFile,
)
from mnist_core.runs.status import RunStatus  # noqa: F401 - re-exported with the run-file API
from mnist_core.storage import (
    StorageError,
    append_jsonl,
    atomic_path,
    atomic_save,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    rewrite_in_place,
)


def _schema():
    """run_schema, imported on first use: pydantic's import is a quarter of a second Home need not wait for."""
    from mnist_core.runs import schema as run_schema

    return run_schema


def write_record(path: Path, value: Any) -> None:
    """Write a run file's JSON atomically; refuses a name that is not in the contract (NAMES)."""
    atomic_write_json(_named(path), value)


def _named(path: str | Path) -> Path:
    path = Path(path)
    if path.name not in NAMES:
        raise ValueError(f"{path.name!r} is not a run file; run folders hold only {', '.join(NAMES)}.")
    return path


class RunFiles:
    """Paths and atomic reads/writes of one run folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_file = self.path / CONFIG
        self.status_file = self.path / STATUS
        self.metrics = self.path / METRICS
        self.stop_flag = self.path / STOP_REQUEST
        self.watch_file = self.path / WATCH
        self.tensorboard_dir = self.path / TENSORBOARD

    def version(self, name: str) -> float:
        """A run file's modification time (a cache key that changes when it is replaced); 0 if missing."""
        try:
            return (self.path / name).stat().st_mtime
        except OSError:
            return 0.0

    def file(self, name: str) -> Path:
        """The path of the run file `name` (one of NAMES)."""
        return _named(self.path / name)

    def model_file(self, which: str = "best") -> Path:
        if which not in ("best", "final"):
            raise ValueError(f"which must be 'best' or 'final', got {which!r}")
        return self.path / (MODEL_BEST if which == "best" else MODEL_FINAL)

    def read_meta(self) -> dict[str, Any]:
        """config.json as stored (unknown keys kept) once it passes the schema; DamagedRunFile if it does not."""
        return _schema().checked_raw(self.config_file, _schema().Meta)

    def read_config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.read_meta()["config"])

    def data_dir(self) -> str | None:
        return self.read_meta().get("data_dir")

    def finetune_spec(self) -> dict | None:
        """config.json's "finetune" entry (a fine-tune run, see mnist_core.runs.finetune), else None."""
        spec = self.read_meta().get("finetune")
        return spec if isinstance(spec, dict) else None

    def write_meta(self, config: TrainingConfig, name: str, data_dir: str | None, **extra: Any) -> None:
        """config.json; `extra` adds "owner" and "experiment" where there are some."""
        meta = {"config": config.to_dict(), "name": name, "data_dir": data_dir}
        atomic_write_json(self.config_file, {**meta, **{k: v for k, v in extra.items() if v is not None}})

    def update_meta(self, **changes: Any) -> None:
        """Merge `changes` (a new "name", a "finetune" spec) into config.json (atomic)."""
        atomic_write_json(self.config_file, {**self.read_meta(), **changes})

    def read_status(self) -> RunStatus | None:
        """status.json once it passes the schema (unknown keys ignored); None while there is none,
        DamagedRunFile if it does not pass."""
        if not self.status_file.exists():
            return None
        raw = _schema().checked_raw(self.status_file, _schema().Status)  # keys a newer version adds stay
        return RunStatus.from_dict({**raw, **_schema().Status.model_validate(raw).model_dump()})  # with defaults

    def update_status(self, **changes: Any) -> RunStatus:
        """Merge `changes` into status.json (atomic; on a disk too full for that, rewritten in place)."""
        raw = read_json(self.status_file)
        raw = raw if isinstance(raw, dict) else {"created_at": time.time(), "state": "queued", "message": ""}
        raw.update(changes)
        try:
            atomic_write_json(self.status_file, raw)
        except StorageError as error:
            if error.errno != errno.ENOSPC or not self.status_file.is_file():
                raise
            rewrite_in_place(self.status_file, json.dumps(raw, separators=(",", ":")).encode())
        return RunStatus.from_dict(raw)

    def read_metrics(self) -> run_schema.Metrics:
        """metrics.jsonl's valid rows (its last few MB at most); bad rows are skipped and counted."""
        return _schema().read_metrics(self.metrics)

    def append_metrics(self, rows: list[dict[str, Any]]) -> None:
        append_jsonl(self.metrics, rows)

    def request_stop(self) -> None:
        self.stop_flag.touch()

    def claim(self, worker: str) -> bool:
        """Claim the run for one training process; False if another process claimed it first."""
        try:
            fd = os.open(self.path / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as claim:
            claim.write(worker)
        return True

    def save_model(self, model: Any, which: str) -> None:
        """model.save to a temp .keras file beside the target, then rename."""
        atomic_save(self.model_file(which), lambda tmp: model.save(tmp), suffix=".keras")

    def save_arrays(self, name: str, write: Callable[[Path], None]) -> None:
        """Let `write(tmp)` write an .npz run file (evaluation arrays, the fine-tune snapshot), then rename."""
        with atomic_path(self.file(name), suffix=".npz") as tmp:
            write(tmp)

    def write_json(self, name: str, value: Any) -> None:
        write_record(self.path / name, value)

    def read_evaluation_accuracy(self) -> float | None:
        """evaluation.json's accuracy; None if there is none or it fails the schema (`damage` says why)."""
        try:
            return _schema().read_evaluation_summary(self.file(EVALUATION)).accuracy
        except DamagedRunFile:
            return None

    def read_finetune_report(self) -> dict[str, Any] | None:
        """finetune.json once it passes the schema; None if there is none or it fails (`damage` says why)."""
        try:
            return _schema().read_finetune_report(self.file(FINETUNE_REPORT)).model_dump()
        except DamagedRunFile:
            return None

    def damage(self) -> str | None:
        """What is wrong with this run's files (naming the file), or None when every one passes the schema."""
        from mnist_core.runs.damage import folder_damage

        return folder_damage(self.path)

    def open_log(self) -> IO[bytes]:
        """worker.log, opened for appending (the worker process writes its output there)."""
        return open(self.path / WORKER_LOG, "ab")  # noqa: SIM115 - the caller hands it to a child process

    def remove_temp_files(self) -> None:
        """Delete the temp files a dead worker was writing (".model_best.keras.x1y2.keras", ...).

        Writes are atomic, so the real names are always whole; these are only clutter. The app's own
        rename writes ".config.json.*", so that one is left alone.
        """
        try:
            leftovers = [
                p for p in self.path.iterdir() if p.name.startswith(".") and not p.name.startswith(f".{CONFIG}.")
            ]
        except OSError:
            return  # an unreadable folder: the leftovers stay, nothing reads them
        for leftover in leftovers:  # files, and the staging folder of a rewritten tensorboard/
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def create_run(
    root: Path,
    label: str,
    config: TrainingConfig,
    status: dict[str, Any],
    data_dir: str | None = None,
    contents: Mapping[str, bytes] | None = None,
    **extra: Any,
) -> RunFiles:
    """A new run folder `root/<time>-<slug of label>`: `contents` (an import's files), status.json, config.json
    (with `extra` entries such as "owner").

    A folder is listed as a run once it has a config.json, so the files it points at come first (a listed
    run never lacks its status.json, which would read as damaged); if
    a write fails the half-made folder is removed and the StorageError (an OSError) propagates.
    """
    files = _new_folder(root, label)
    try:
        for name, data in (contents or {}).items():
            atomic_write_bytes(files.file(name), data)
        atomic_write_json(files.status_file, status)
        files.write_meta(config, label, data_dir, **extra)
    except OSError:
        shutil.rmtree(files.path, ignore_errors=True)
        raise
    return files


def _new_folder(root: Path, label: str) -> RunFiles:
    """An empty folder named by the time and `label`, with "-2", "-3", ... for same-second twins.

    The name is claimed with `mkdir`, which is atomic: two starts or imports in the same second
    (sessions of one server run in one process) each get their own folder.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-") or "run"
    path, suffix = root / f"{stamp}-{slug}", 1
    while True:
        try:
            path.mkdir()
            return RunFiles(path)
        except FileExistsError:
            suffix += 1
            path = root / f"{stamp}-{slug}-{suffix}"[:64]
