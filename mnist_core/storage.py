"""Durable file writes: a crash at any moment never leaves a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class StorageError(OSError):
    """A file could not be written; the message names the file and what to do."""


def _describe(error: OSError, path: Path) -> str:
    reason = error.strerror or str(error)
    hint = "Free some disk space" if error.errno == 28 else "Check that the folder exists and is writable"
    return f"Could not write {path}: {reason}. {hint}, then try again."


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one step."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
        os.close(fd)
    except OSError as error:
        raise StorageError(error.errno, _describe(error, path)) from error
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp_path, path)
    except OSError as error:
        raise StorageError(error.errno, _describe(error, path)) from error
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes to `path` atomically (temp file, fsync, rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_json(path: str | Path, value: Any) -> None:
    """Write `value` as pretty JSON to `path` atomically."""
    atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def rewrite_in_place(path: str | Path, data: bytes) -> None:
    """Overwrite an existing file's bytes where they lie, then cut it to `data`'s length.

    Not atomic: only for a disk so full that not even a small temporary file fits.
    A file of up to one block (4 KB) rewritten with up to as many bytes needs no new block.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise StorageError(error.errno, _describe(error, path)) from error


def atomic_save(path: str | Path, save: Callable[[Path], None], suffix: str = "") -> None:
    """Let `save(tmp_path)` write a file (e.g. model.save), then move it over `path`."""
    with atomic_path(path, suffix=suffix) as tmp:
        save(tmp)


def write_npz(path: str | Path, arrays: dict[str, Any], level: int = 1) -> None:
    """`np.savez_compressed(path, **arrays)` at zlib level `level` (NumPy's own is 6): a run's evaluation
    (10,000 test digits) compresses in half the time for a file ~10% larger; `np.load` reads it the same."""
    import numpy as np

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def append_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Append rows to a JSON-lines file; each row is one write of one whole line."""
    text = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise StorageError(error.errno, _describe(error, Path(path))) from error


def read_json(path: str | Path, default: Any = None) -> Any:
    """Read a JSON file; `default` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # deeply nested JSON is unreadable too
        return default


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read every whole line of a JSON-lines file, skipping a torn or corrupt line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):  # deeply nested JSON is a bad row too
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows
