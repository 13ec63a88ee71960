"""Is a run's training process alive? Judged by its heartbeat, wherever it runs.

Every training process writes `heartbeat.json` ({"at", "worker", "host", "pid"}) every `EVERY_S`
seconds through a small beater process of its own, from before TensorFlow is imported to the end of the run. A run
handed to a worker whose heartbeat is older than `timeout_s()` (default 30 s,
$DIGIT_LAB_HEARTBEAT_TIMEOUT) is dead, on this machine or another; on the machine that runs it, a
dead pid tells at once. The heartbeat is a file of its own so it never races the status writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.runs.files import HEARTBEAT
from mnist_core.storage import StorageError, atomic_write_json
from mnist_core.workers import process as worker_process
from mnist_core.workers.process import HOST

EVERY_S = 5.0
PARENT_CHECK_S = 0.2  # how soon a beater notices that its training process is gone
TIMEOUT_ENV = "DIGIT_LAB_HEARTBEAT_TIMEOUT"
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Beat:
    at: float  # unix seconds of the writer's clock
    worker: str  # e.g. "digit-lab@host" (Celery) or "host:pid" (a local process)
    host: str
    pid: int | None


def timeout_s() -> float:
    """Seconds without a heartbeat after which a run counts as dead ($DIGIT_LAB_HEARTBEAT_TIMEOUT, 5-3600)."""
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return min(3600.0, max(5.0, value))


def read(run_path: Path) -> Beat | None:
    """The last heartbeat, or None (none written yet, or unreadable)."""
    try:
        raw = json.loads((Path(run_path) / HEARTBEAT).read_bytes()[:4096])
        pid = raw.get("pid")
        return Beat(
            float(raw["at"]), str(raw["worker"])[:200], str(raw["host"])[:200], pid if type(pid) is int else None
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def write(run_path: Path, worker: str, pid: int | None = None) -> None:
    """One heartbeat for the training process `pid` (default: this one)."""
    beat = {"at": time.time(), "worker": worker, "host": HOST, "pid": pid or os.getpid()}
    atomic_write_json(Path(run_path) / HEARTBEAT, beat)


def local_worker_name() -> str:
    return f"{HOST}:{os.getpid()}"


def is_local_worker_name(worker: str) -> bool:
    """Whether `worker` is a name `local_worker_name` gives ("host:pid"), not a pool worker's own name."""
    host, _, pid = worker.rpartition(":")
    return bool(host) and pid.isdigit()


class Heartbeat:
    """Beats for this process every EVERY_S seconds until stopped (a context manager).

    The beats come from a small process of their own (`python -m mnist_core.runs.heartbeat`), not a thread:
    importing TensorFlow holds Python's GIL for many seconds at a time (minutes on a loaded machine), and a
    thread's heartbeat would then look dead. The beater stops when this process ends, however it ends.
    """

    def __init__(self, run_path: Path, worker: str | None = None, every_s: float = EVERY_S):
        self.run_path, self.worker, self.every_s = Path(run_path), worker or local_worker_name(), every_s
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Heartbeat:
        self._write()
        beater = [str(self.run_path), self.worker, str(self.every_s), str(os.getpid())]
        command = [sys.executable, "-m", "mnist_core.runs.heartbeat", *beater]
        self._process = subprocess.Popen(  # a session of its own: Linux's autogroup scheduling then gives it the
            command,  # CPU share of a session, not the niced training's (which starved it under load)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def _write(self) -> None:
        try:
            write(self.run_path, self.worker)
        except (StorageError, OSError):
            pass  # a full disk: the run itself reports it; a missed beat is only late


def beat_for_parent(run_path: Path, worker: str, every_s: float, parent: int) -> None:
    """The beater process: a beat for `parent` (the training process that started it) every `every_s` s while
    it is this process's parent. Re-parented means the training process is gone, even SIGKILLed, and the
    beater stops within PARENT_CHECK_S; one that starts after its parent died (it was killed while this
    process was still importing) writes nothing, instead of beating for whatever process adopted it."""
    next_beat = 0.0
    while os.getppid() == parent:
        if time.monotonic() >= next_beat:
            try:
                write(run_path, worker, parent)
            except (StorageError, OSError):
                pass
            next_beat = time.monotonic() + every_s
        time.sleep(min(PARENT_CHECK_S, every_s))


def is_alive(run_path: Path, handed_at: float | None, pid: int | None, host: str, now: float | None = None) -> bool:
    """Is the training process of a run handed to a worker at `handed_at` alive?

    With a heartbeat: while it is fresh (and, on this host, its pid lives). Without one yet: on this
    host, while the recorded pid lives (also an older worker's run, from before heartbeats); elsewhere,
    for `timeout_s()` after the hand-out (the worker is starting).
    """
    now = time.time() if now is None else now
    beat = read(run_path)
    if beat is not None:
        pid, host = beat.pid, beat.host
    local_pid = host == HOST and pid is not None
    if local_pid and not worker_process.pid_is_worker(pid):
        return False
    if beat is None:
        return local_pid or now - (handed_at or 0.0) < timeout_s()
    return now - beat.at < timeout_s()


if __name__ == "__main__":
    beat_for_parent(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
