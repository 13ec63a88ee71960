"""The training worker as an operating-system process on this machine: start one for a run folder, and
tell whether a pid is still a live worker (heartbeat.is_alive uses it for runs on this host).
Imports neither TensorFlow nor Streamlit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mnist_core.runs.files import RunFiles
from mnist_core.storage import StorageError

EXEC_RETRIES = 20  # 10 ms apart: how long a process may be mid-exec
HOST = socket.gethostname()  # pids are only meaningful on this machine


def spawn(run_path: Path, files: RunFiles) -> subprocess.Popen:
    """Start `python -m mnist_core.workers.worker RUN_PATH` in a session of its own (it outlives the server)."""
    log = files.open_log()  # the child keeps it open
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnist_core.workers.worker", str(run_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        log.close()
    try:  # the worker records its pid too; recorded now, a worker that dies while starting shows at once
        files.update_status(pid=process.pid, host=HOST)
    except StorageError:
        pass  # a queued run without a pid is judged by its age instead
    return process


def pid_is_worker(pid: int) -> bool:
    """Is `pid` a live Digit Lab worker on this machine? (guards against a reused pid after a reboot)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    for _ in range(EXEC_RETRIES):
        try:
            text = cmdline.read_bytes()
        except OSError:
            return False
        if text:
            return b"mnist_core" in text and not _is_zombie(pid)
        # Empty while the kernel is still inside exec: Popen has returned (close-on-exec ran) but the new
        # program's arguments are not mapped yet. A run checked in that instant was once marked
        # interrupted 4 ms after its hand-out. A kernel thread stays empty and is not a worker.
        time.sleep(0.01)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return False
