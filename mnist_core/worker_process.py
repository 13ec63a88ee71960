"""The training worker as an operating-system process: start one for a run folder and tell a live one
from a dead one (`RunFiles.remove_temp_files` clears what a dead one was writing). Imports neither
TensorFlow nor Streamlit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mnist_core.run_files import RunFiles
from mnist_core.storage import StorageError

STARTING_S = 30  # a queued run without a pid counts as starting this long


def spawn(run_path: Path, files: RunFiles) -> subprocess.Popen:
    """Start `python -m mnist_core.worker RUN_PATH` in a session of its own (it outlives the server)."""
    log = files.open_log()  # the child keeps it open
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnist_core.worker", str(run_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    finally:
        log.close()
    try:  # the worker records its pid too; recorded now, a worker that dies while starting shows at once
        files.update_status(pid=process.pid)
    except StorageError:
        pass  # a queued run without a pid is judged by its age instead
    return process


def is_alive(pid: int | None, created_at: float) -> bool:
    """Is `pid` a live Digit Lab worker? (guards against a reused pid after a reboot)"""
    if not pid:
        return time.time() - created_at < STARTING_S  # queued: the worker may still be starting
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes()
        except OSError:
            return False
        return b"mnist_core" in text and not _is_zombie(pid)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return False
