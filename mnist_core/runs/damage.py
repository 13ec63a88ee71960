"""What is wrong with a run folder, if anything: each run file checked against run_schema.

Pages ask every run on every rerun, so a file's verdict is kept per version (its size and modification
time): a run's files are checked once each time they change, and evaluation.npz (megabytes to unpack)
only when it or evaluation.json changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from mnist_core.runs import schema as run_schema
from mnist_core.runs.names import CONFIG, EVALUATION, EVALUATION_ARRAYS, FINETUNE_REPORT, STATUS, WATCH

REQUIRED = (CONFIG, STATUS)  # a listed run has both (run_files.create_run writes them last)
READERS: dict[str, Callable[[Path], object]] = {
    CONFIG: run_schema.read_meta,
    STATUS: run_schema.read_status,
    EVALUATION: run_schema.read_evaluation_summary,
    WATCH: run_schema.read_watch,
    FINETUNE_REPORT: run_schema.read_finetune_report,
}


def folder_damage(folder: Path) -> str | None:
    """The first problem of the run in `folder` (a sentence naming the file), or None when every file passes.

    metrics.jsonl is never damage: its bad rows are skipped when read (run_schema.read_metrics).
    """
    folder = Path(folder)
    for name in (*READERS, EVALUATION_ARRAYS):
        version = _version(folder / name)
        if version is None:
            if name in REQUIRED:
                return f"{name} is missing."
            if name == EVALUATION_ARRAYS and _version(folder / EVALUATION) is not None:
                return f"{EVALUATION_ARRAYS} is missing, so evaluation.json cannot be shown."
            continue
        if name == EVALUATION_ARRAYS:
            version = (*version, *(_version(folder / EVALUATION) or ()))
        problem = _file_damage(str(folder), name, version)
        if problem is not None:
            return problem
    return None


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2048)
def _file_damage(folder: str, name: str, version: tuple[int, ...]) -> str | None:
    """What is wrong with one file at one version, or None (`version` is only the cache key)."""
    path = Path(folder) / name
    try:
        if name == EVALUATION_ARRAYS:
            from mnist_core.runs.arrays import check_evaluation_arrays  # NumPy: only when there is an .npz

            summary = run_schema.read_evaluation_summary(Path(folder) / EVALUATION)
            check_evaluation_arrays(path, summary, images=False)  # the pixels' header and size, not the pixels
        else:
            READERS[name](path)
    except run_schema.DamagedRunFile as error:
        return str(error)
    except Exception as error:  # any other failure of a reader is damage too, never a broken page
        return f"{name} cannot be read ({type(error).__name__}: {str(error)[:120]})."
    return None
