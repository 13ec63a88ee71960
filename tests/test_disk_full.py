"""A disk that fills up while a run trains ends the run as "failed" with the cause (issue 13, item 8), not
as "interrupted… server restart or crash" with the cause only in worker.log.

The disk is filled by monkeypatching (no tmpfs here): every new file fails with ENOSPC from the moment the
training body's write fails, as on a real full disk, so even status.json cannot be replaced atomically.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from mnist_core import storage, training
from mnist_core.config import TrainingConfig
from mnist_core.runs import RunHandle
from mnist_core.runs.files import RunFiles
from mnist_core.storage import StorageError

TINY = TrainingConfig(hidden_units=(8,), epochs=1, batch_size=4)
DISK_FULL = "The disk is full (writing {}): No space left on device; free space and start again. {}"


def queued_run(root: Path) -> RunFiles:
    files = RunFiles(root / "20240101-000001-full")
    files.path.mkdir(parents=True)
    files.write_meta(TINY, "full", None)
    files.update_status(state="queued", message="Waiting…", created_at=time.time(), epochs=1)
    return files


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on no new file can be made (a temp file for an atomic write included) nor appended to."""
    monkeypatch.setattr(tempfile, "mkstemp", no_space)
    monkeypatch.setattr(storage, "open", no_space, raising=False)  # append_jsonl's open (metrics.jsonl)


def body_that_fills_the_disk(monkeypatch: pytest.MonkeyPatch, file: str):
    """A training body that saves a checkpoint, then hits a full disk writing `file` (as the worker's do)."""

    def body(files: RunFiles, config: TrainingConfig, data) -> str:
        files.model_file("best").write_bytes(b"PK\x03\x04 an earlier checkpoint")
        fill_the_disk(monkeypatch)
        if file == "metrics.jsonl":
            files.append_metrics([{"kind": "batch"}])
        storage.atomic_write_json(files.file(file), {})
        return "completed"

    return body


@pytest.mark.parametrize("file", ["model_best.keras", "metrics.jsonl", "watch.json"])
def test_a_full_disk_fails_the_run_with_its_cause(tmp_path: Path, monkeypatch, file: str) -> None:
    files = queued_run(tmp_path)
    monkeypatch.setattr(training, "load_mnist", lambda data_dir: None)  # the body is fake: no data needed
    with pytest.raises(StorageError) as raised:
        training.run_in_folder(files.path, body_that_fills_the_disk(monkeypatch, file))
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    status = RunHandle(files.path).status()  # the worker is gone: still "failed", not "interrupted"
    assert status.state == "failed" and status.ended_at is not None
    assert status.message == DISK_FULL.format(file, "The best checkpoint so far is kept.")
    assert RunHandle(files.path).damage() is None  # the in-place status.json passes the schema
    assert (files.path / "model_best.keras").read_bytes() == b"PK\x03\x04 an earlier checkpoint"


def test_a_full_disk_before_any_checkpoint_says_none_was_saved(tmp_path: Path, monkeypatch) -> None:
    files = queued_run(tmp_path)
    monkeypatch.setattr(training, "load_mnist", lambda data_dir: None)

    def body(files: RunFiles, config, data) -> str:
        fill_the_disk(monkeypatch)
        files.save_arrays("evaluation.npz", lambda tmp: None)
        return "completed"

    with pytest.raises(StorageError):
        training.run_in_folder(files.path, body)
    assert files.read_status().message == DISK_FULL.format("evaluation.npz", "No checkpoint was saved.")


def test_status_is_rewritten_in_place_only_when_the_disk_is_full(tmp_path: Path, monkeypatch) -> None:
    files = queued_run(tmp_path)
    fill_the_disk(monkeypatch)
    files.update_status(state="failed", message="x" * 2000)
    assert json.loads(files.status_file.read_text())["message"] == "x" * 2000
    assert sorted(p.name for p in files.path.iterdir()) == ["config.json", "status.json"]  # no temp file left
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, **k: os.open("/nonexistent/x", os.O_RDONLY))  # ENOENT
    with pytest.raises(StorageError, match="Check that the folder exists and is writable"):
        files.update_status(state="completed")  # any other error is not papered over
    assert files.read_status().state == "failed"


def test_other_failures_keep_their_message(tmp_path: Path, monkeypatch) -> None:
    files = queued_run(tmp_path)
    monkeypatch.setattr(training, "load_mnist", lambda data_dir: None)

    def body(files, config, data) -> str:
        raise ValueError("the model diverged in a new way")

    with pytest.raises(ValueError):
        training.run_in_folder(files.path, body)
    assert files.read_status().message == "Training failed: the model diverged in a new way"
