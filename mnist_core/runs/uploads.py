"""Uploaded models on the server: saved under a generated name, refused ones removed, old ones cleaned up.

`runs/uploads/` used to keep every upload forever, refused ones too. Now an upload
is checked at once (the same checks as loading it: size, format, no code, the model budget, a 28×28
input and 10 outputs) and removed when refused, and each accepted upload cleans the folder:

    uploads older than MAX_AGE_S (24 h), and beyond the MAX_FILES (50) newest or MAX_TOTAL_BYTES (1 GiB)
    in all, are deleted, oldest first; the file just uploaded is never among them.

A session whose upload was cleaned up saves it again from the uploader on its next rerun.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

UPLOADS_FOLDER = "uploads"  # inside the runs folder; never listed as a run (it has no config.json)
MAX_AGE_S = 24 * 3600
MAX_FILES = 50
MAX_TOTAL_BYTES = 1 << 30
_PREFIX = "upload-"


def accept_model_upload(data: bytes, runs_root: Path, max_bytes: int) -> Path:
    """Save uploaded model bytes, load-check them, clean the folder; return the saved path.

    Raises ValueError (empty, too large) or `ModelLoadError` (a ValueError) for a refused model,
    whose file is gone by then.
    """
    from mnist_core.drawing.predict import ModelLoadError, load_predictor

    path = save_upload(data, Path(runs_root), max_bytes)
    try:
        load_predictor(path)  # cached: the page that uses this upload next gets this very predictor
    except ModelLoadError:
        discard_upload(path)
        raise
    prune_uploads(path.parent, keep=path)
    return path


def save_upload(data: bytes, runs_root: Path, max_bytes: int) -> Path:
    """Store the bytes as uploads/upload-<sha256>.keras (never the user's file name); a repeat reuses the file."""
    from mnist_core.storage import atomic_write_bytes

    if not data:
        raise ValueError("The uploaded file is empty. Upload a Keras model saved with model.save('x.keras').")
    if len(data) > max_bytes:
        raise ValueError(
            f"The uploaded file is {len(data) / 1e6:.1f} MB; models up to {max_bytes / 1e6:.0f} MB are accepted."
        )
    folder = Path(runs_root) / UPLOADS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_PREFIX}{hashlib.sha256(data).hexdigest()[:16]}.keras"
    if path.is_file():
        os.utime(path)  # used again: the newest, so the cleanup keeps it
    else:
        atomic_write_bytes(path, data)
    return path


def discard_upload(path: Path) -> None:
    """Remove one upload (only a generated name in an uploads folder); a missing file is fine."""
    path = Path(path)
    if path.parent.name == UPLOADS_FOLDER and path.name.startswith(_PREFIX):
        path.unlink(missing_ok=True)


def prune_uploads(folder: Path, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Delete uploads that are too old, too many or too large in all (oldest first); return what went."""
    now = time.time() if now is None else now
    files = []
    for path in Path(folder).glob(f"{_PREFIX}*"):
        try:
            stat = path.stat()
        except OSError:  # removed meanwhile by another session's cleanup
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    files.sort(reverse=True)  # newest first
    removed, count, total = [], 0, 0
    for mtime, size, path in files:
        if path != keep:
            count, total = count + 1, total + size
            if now - mtime > MAX_AGE_S or count > MAX_FILES or total > MAX_TOTAL_BYTES:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
