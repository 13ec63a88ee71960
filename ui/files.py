"""Files in and out of the browser: bytes for download buttons, uploads through a temporary file, and
a file's version for cache keys.

The engine's exporters and importers work on paths (atomic writes, size-capped reads); pages deal
in bytes. These helpers bridge the two so the pages never touch the file system.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def file_version(path: str | Path) -> float:
    """A file's modification time (a cache key that changes when the file is replaced); 0 if missing."""
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def starter_available() -> bool:
    """Whether the starter model file ships with this install (checked without loading it or NumPy)."""
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    return file_version(STARTER_MODEL_PATH) > 0


def read_bytes(path: str | Path) -> bytes:
    """A model file's bytes, for a download button."""
    return Path(path).read_bytes()


def export_bytes(export: Callable[[Path], object], suffix: str) -> bytes:
    """Run `export(path)` into a temporary file and return what it wrote."""
    with tempfile.TemporaryDirectory(prefix="digit-lab-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        export(path)
        return path.read_bytes()


def import_bytes(data: bytes, file_name: str, load: Callable[[Path], T], max_bytes: int, what: str) -> T:
    """Write uploaded bytes to a temporary file named like the upload (its suffix matters) and call
    `load(path)`. Raises ValueError for an empty file or one above `max_bytes` before writing it."""
    if not data:
        raise ValueError(f"{file_name} is empty; choose {what}.")
    if len(data) > max_bytes:
        raise ValueError(
            f"{file_name} is {len(data) / 1e6:.1f} MB; {what} up to {max_bytes / 1e6:.0f} MB can be imported."
        )
    safe = "".join(ch for ch in Path(file_name).name if ch.isalnum() or ch in "._-")[-80:] or "upload"
    with tempfile.TemporaryDirectory(prefix="digit-lab-import-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        return load(path)


def my_digits_zip(folder: Path | None = None) -> bytes:
    from mnist_core.my_digits.archive import export_zip

    return export_bytes(lambda path: export_zip(path, folder), ".zip")


def my_digits_npz(folder: Path | None = None) -> bytes:
    from mnist_core.my_digits.archive import export_npz

    return export_bytes(lambda path: export_npz(path, folder), ".npz")


def run_zip(run_id: str) -> bytes:
    """A finished run as the zip `sharing.export_run_zip` writes."""
    from mnist_core.runs import load_run
    from mnist_core.runs.sharing import export_run_zip

    return export_bytes(lambda path: export_run_zip(load_run(run_id), path), ".zip")


def run_notebook_zip(run_id: str) -> bytes:
    """A finished run's notebook and script in one zip, with a fine-tune's base model and drawings."""
    from mnist_core.notebook.export import export_zip
    from mnist_core.runs import load_run

    return export_bytes(lambda path: export_zip(load_run(run_id), path), ".zip")


def run_notebook_file(run_id: str, suffix: str) -> bytes:
    """A finished run as a Jupyter notebook (suffix ".ipynb") or its py:percent script (".py")."""
    from mnist_core.notebook.export import export_notebook
    from mnist_core.runs import load_run

    where = "out" if suffix == ".ipynb" else "py"
    return export_bytes(lambda path: export_notebook(load_run(run_id), **{where: path}), suffix)
