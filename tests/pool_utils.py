"""A real Redis and real Digit Lab Celery workers for tests (issue 16), started as processes of their own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEARTBEAT_TIMEOUT_S = 15  # small, so a dead worker counts as dead soon; 3 beats, for a loaded machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    """Poll `condition()` until it returns something true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


class RedisServer:
    """redis-server on a free localhost port, keeping nothing on disk (the queue must live in the run folders)."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - redis-server keeps it open
        self.process = subprocess.Popen([*args, "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(self._answers, 20, f"redis-server answering on port {self.port}", every=0.05)
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def worker_env(broker: str, root: Path) -> dict[str, str]:
    """The environment of a worker: the embedded digits (no MNIST_DATA_DIR, an empty Keras home)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_DATA_DIR",)}
    env.update(
        DIGIT_LAB_BROKER=broker,
        DIGIT_LAB_RUNS_DIR=str(root),
        DIGIT_LAB_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT_S),
        KERAS_HOME=str(root.parent / "empty-keras-home"),
        PYTHONPATH=str(REPO),
    )
    return env


class PoolWorker:
    """`python -m mnist_core worker --name NAME --concurrency 1` in a session of its own."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, concurrency: int = 1):
        self.name, self.env, self.concurrency = name, env, concurrency
        self.log_path, self.process = folder / f"{name}.log", None
        self.registration = Path(env["DIGIT_LAB_RUNS_DIR"]) / ".workers" / f"{name}.json"

    def start(self) -> PoolWorker:
        self.registration.unlink(missing_ok=True)
        args = ["worker", "--name", self.name, "--concurrency", str(self.concurrency)]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the worker keeps it open
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mnist_core", *args], cwd=REPO, env=self.env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for(self._registered, 120, f"worker {self.name} registered (log: {self.log_path})", every=0.3)
        return self

    def _registered(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited: {self.log()[-3000:]}")
        return self.registration.is_file()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its children at once (a machine that died)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it does not end in 30 s."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
