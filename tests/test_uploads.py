"""Uploaded models (issue 13, item 9): refused ones are removed at once, old ones cleaned up on each upload."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mnist_core.checks.model_files import MAX_MODEL_BYTES, ModelLoadError
from mnist_core.runs import uploads
from mnist_core.runs.uploads import MAX_AGE_S, MAX_FILES, accept_model_upload, prune_uploads, save_upload

STARTER = Path(__file__).resolve().parent.parent / "mnist_core" / "assets" / "starter.keras"


def test_a_refused_upload_is_removed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="is not a Keras .keras file"):
        accept_model_upload(b"PK\x03\x04 not really a model", tmp_path, MAX_MODEL_BYTES)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_empty_and_oversized_uploads_are_never_written(tmp_path: Path) -> None:
    for data, message in ((b"", "is empty"), (b"x" * 11, "up to 0 MB")):
        with pytest.raises(ValueError, match=message):
            accept_model_upload(data, tmp_path, 10)
    assert not (tmp_path / "uploads").exists()


@pytest.mark.slow
def test_an_accepted_upload_stays_and_cleans_up_old_ones(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    stale = folder / "upload-0000000000000000.keras"
    stale.write_bytes(b"old")
    os.utime(stale, (time.time() - MAX_AGE_S - 60,) * 2)
    path = accept_model_upload(STARTER.read_bytes(), tmp_path, MAX_MODEL_BYTES)
    assert sorted(folder.iterdir()) == [path]


def _uploads(folder: Path, ages_h: list[float], size: int = 10) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, age in enumerate(ages_h):
        path = folder / f"upload-{i:016x}.keras"
        path.write_bytes(b"x" * size)
        os.utime(path, (time.time() - age * 3600,) * 2)
        paths.append(path)
    return paths


def test_uploads_older_than_a_day_go(tmp_path: Path) -> None:
    fresh, old = _uploads(tmp_path / "uploads", [1, 25])
    assert prune_uploads(tmp_path / "uploads") == [old]
    assert fresh.exists()


def test_only_the_newest_files_stay(tmp_path: Path) -> None:
    paths = _uploads(tmp_path / "uploads", [i / 100 for i in range(MAX_FILES + 5)])
    assert sorted(prune_uploads(tmp_path / "uploads")) == sorted(paths[MAX_FILES:])


def test_the_total_size_is_capped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 25)
    newest, middle, oldest = _uploads(tmp_path / "uploads", [1, 2, 3])
    assert sorted(prune_uploads(tmp_path / "uploads")) == sorted([oldest])  # 10 + 10 <= 25 < 30


def test_the_file_just_uploaded_is_never_removed(tmp_path: Path) -> None:
    (old,) = _uploads(tmp_path / "uploads", [100])
    assert prune_uploads(tmp_path / "uploads", keep=old) == []


def test_other_files_in_the_folder_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir()
    other = tmp_path / "uploads" / "notes.txt"
    other.write_text("mine")
    os.utime(other, (0, 0))
    assert prune_uploads(tmp_path / "uploads") == [] and other.exists()


def test_uploading_the_same_file_again_makes_it_the_newest(tmp_path: Path) -> None:
    path = save_upload(b"model bytes", tmp_path, 100)
    os.utime(path, (0, 0))
    assert save_upload(b"model bytes", tmp_path, 100) == path
    assert time.time() - path.stat().st_mtime < 60


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x" * 101, "models up to"),
    ],
)
def test_save_upload_refuses_empty_and_oversized_files(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        uploads.save_upload(data, tmp_path, max_bytes=100)


def test_save_upload_uses_a_generated_name_in_the_uploads_folder(tmp_path):
    first = uploads.save_upload(b"model bytes", tmp_path, max_bytes=100)
    again = uploads.save_upload(b"model bytes", tmp_path, max_bytes=100)
    assert first == again and first.parent == tmp_path / "uploads"
    assert first.name.startswith("upload-") and first.suffix == ".keras"
    assert first.read_bytes() == b"model bytes"
