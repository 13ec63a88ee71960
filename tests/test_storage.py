"""mnist_core.storage: atomic writes never leave half files or litter; readers survive torn files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnist_core.storage import (
    StorageError,
    append_jsonl,
    atomic_path,
    atomic_save,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    read_jsonl,
    write_npz,
)


def test_atomic_write_json_writes_value_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "status.json"
    atomic_write_json(target, {"state": "running", "epoch": 1})
    atomic_write_json(target, {"state": "completed", "epoch": 2})
    assert json.loads(target.read_text()) == {"state": "completed", "epoch": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]
    assert target.stat().st_mode & 0o777 == 0o644  # shared results, not mkstemp's private 0600


def test_atomic_write_bytes_round_trip(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "model.bin", b"\x00\x01weights")
    assert (tmp_path / "model.bin").read_bytes() == b"\x00\x01weights"


@pytest.mark.parametrize("failure", [RuntimeError("crash while writing"), KeyboardInterrupt()])
def test_failure_inside_atomic_path_keeps_the_old_file(tmp_path: Path, failure: BaseException) -> None:
    target = tmp_path / "config.json"
    atomic_write_json(target, {"version": "old"})
    with pytest.raises(type(failure)):
        with atomic_path(target) as tmp:
            tmp.write_text('{"version": "ne')  # half written, then the crash
            raise failure
    assert json.loads(target.read_text()) == {"version": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_atomic_save_failure_keeps_old_model(tmp_path: Path) -> None:
    target = tmp_path / "model_best.keras"
    target.write_bytes(b"old model")

    def broken_save(path: Path) -> None:
        path.write_bytes(b"half a mod")
        raise OSError(28, "No space left on device")

    with pytest.raises(StorageError, match="No space left on device. Free some disk space, then try again."):
        atomic_save(target, broken_save, suffix=".keras")
    assert target.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["model_best.keras"]


def test_atomic_save_temp_file_keeps_suffix(tmp_path: Path) -> None:
    seen: list[Path] = []
    atomic_save(tmp_path / "m.keras", lambda tmp: (seen.append(tmp), tmp.write_bytes(b"x")), suffix=".keras")
    assert seen[0].suffix == ".keras" and seen[0].parent == tmp_path  # model.save needs the .keras suffix
    assert (tmp_path / "m.keras").read_bytes() == b"x"


@pytest.mark.parametrize(
    "write",
    [
        lambda path: atomic_write_json(path, {"a": 1}),
        lambda path: atomic_write_bytes(path, b"a"),
        lambda path: append_jsonl(path, [{"a": 1}]),
    ],
    ids=["atomic_write_json", "atomic_write_bytes", "append_jsonl"],
)
def test_unwritable_target_raises_storage_error_naming_it(tmp_path: Path, write) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "status.json"
    with pytest.raises(StorageError) as caught:
        write(target)
    message = str(caught.value)
    assert f"Could not write {target}: Not a directory." in message
    assert "Check that the folder exists and is writable, then try again." in message
    assert isinstance(caught.value, OSError)


def test_append_jsonl_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, [{"kind": "batch", "loss": 2.3}])
    append_jsonl(path, [{"kind": "epoch", "loss": 1.5}, {"kind": "epoch", "loss": 1.2}])
    assert read_jsonl(path) == [
        {"kind": "batch", "loss": 2.3},
        {"kind": "epoch", "loss": 1.5},
        {"kind": "epoch", "loss": 1.2},
    ]
    assert path.read_text().count("\n") == 3


@pytest.mark.parametrize(
    "torn",
    ['{"kind": "epoch", "lo', '{"kind"', "12", "[1, 2]", "\x00\x00"],
    ids=["half-row", "half-key", "not-an-object", "a-list", "zeros"],
)
def test_read_jsonl_skips_a_torn_last_line(tmp_path: Path, torn: str) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"kind": "batch", "step": 1}\n{"kind": "batch", "step": 2}\n' + torn)
    assert read_jsonl(path) == [{"kind": "batch", "step": 1}, {"kind": "batch", "step": 2}]


def test_read_jsonl_of_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_jsonl(tmp_path / "absent.jsonl") == []


@pytest.mark.parametrize("content", ["", '{"state": "runn', "not json"], ids=["empty", "torn", "garbage"])
def test_read_json_returns_default_for_unreadable(tmp_path: Path, content: str) -> None:
    path = tmp_path / "status.json"
    path.write_text(content)
    assert read_json(path) is None
    assert read_json(path, default={}) == {}
    assert read_json(tmp_path / "absent.json", default=7) == 7


def test_write_npz_is_a_compressed_npz_numpy_reads_back(tmp_path: Path) -> None:
    import numpy as np

    arrays = {"images": np.zeros((500, 28, 28), np.uint8), "p": np.linspace(0, 1, 50, dtype=np.float32)}
    write_npz(tmp_path / "a.npz", arrays)
    with np.load(tmp_path / "a.npz", allow_pickle=False) as loaded:
        assert sorted(loaded.files) == ["images", "p"]
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype and np.array_equal(loaded[name], array)
    assert (tmp_path / "a.npz").stat().st_size < 20_000  # 392 KB of zeros, deflated
