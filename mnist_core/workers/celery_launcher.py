"""The queue's launcher for a Celery worker pool: how many runs the pool trains at once, and
sending a handed-out run to it.

Workers register themselves in the shared runs folder: `<runs>/.workers/<name>.json`, rewritten every
few seconds with the worker's concurrency (celery_worker.Registration). The pool's capacity is the
total concurrency of the workers whose registration is fresh (younger than heartbeat.timeout_s()), so
a dead worker machine stops counting within the same timeout that interrupts its runs. Reading a few
files costs well under a millisecond; asking the workers over the broker (`inspect().ping()`) costs a
round trip to every worker and a wait for the slowest.

A run is sent by the task's NAME (`digit_lab.train`), so this module imports neither the task module nor
TensorFlow, nor the runs API (runs imports the queue, which imports this).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_core.runs import heartbeat
from mnist_core.runs.files import CONFIG, RunFiles
from mnist_core.storage import atomic_write_json

TASK_NAME = "digit_lab.train"
QUEUE = "digit-lab"  # a queue of its own, so a broker shared with other Celery apps never mixes tasks
WORKERS_DIR = ".workers"  # in the runs folder: one registration file per live worker
CONNECT_TIMEOUT_S = 2.0
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
SCHEMES = ("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")


class BrokerError(OSError):
    """The pool's broker is not usable; the message says why and what to do (the runs API makes it a RunError)."""


class BrokerUnreachableError(BrokerError):
    """The broker does not answer."""


class BrokerSettingError(BrokerError):
    """$DIGIT_LAB_BROKER is not a broker address."""


@dataclass(frozen=True)
class WorkerInfo:
    """A live worker of the pool, and what it trains now."""

    name: str  # --name of `python -m mnist_core worker`; status.json's "worker" of its runs
    host: str
    pid: int
    concurrency: int  # runs it trains at once
    seen_at: float  # its last registration (unix seconds)
    started_at: float
    training: tuple[str, ...] = ()  # ids of the runs it trains now

    @property
    def free(self) -> int:
        return max(0, self.concurrency - len(self.training))


def check_broker_url(url: str) -> str:
    """The broker address, stripped; BrokerSettingError if it is not one Celery can use."""
    url = (url or "").strip()
    if not url.startswith(SCHEMES):
        raise BrokerSettingError(
            f"DIGIT_LAB_BROKER={safe_url(url)!r} is not a broker address: use redis://HOST:PORT/DB "
            "(or amqp://…), or unset it to train on this machine."
        )
    return url


def safe_url(url: str) -> str:
    """The address without its password, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1**@", url)


def unreachable(url: str, error: BaseException) -> BrokerUnreachableError:
    reason = str(error).strip().rstrip(".") or type(error).__name__
    return BrokerUnreachableError(
        f"Cannot reach the training queue's broker at {safe_url(url)}: {reason}; start Redis or unset DIGIT_LAB_BROKER"
    )


def check_broker(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Connect to the broker once; BrokerUnreachableError if it does not answer within `timeout_s`.

    Redis is asked with a PING (a few ms); other brokers through kombu (tens of ms).
    """
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            with redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s) as client:
                client.ping()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=timeout_s) as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout_s)
    except Exception as error:  # redis' and kombu's connection errors, a socket error, a bad address
        raise unreachable(url, error) from error


def workers_dir(root: Path) -> Path:
    return Path(root) / WORKERS_DIR


def register(root: Path, name: str, concurrency: int, started_at: float) -> None:
    """Write (or refresh) this worker's registration file."""
    record = {"name": name, "host": heartbeat.HOST, "pid": os.getpid(), "concurrency": concurrency}
    folder = workers_dir(root)
    folder.mkdir(exist_ok=True)
    atomic_write_json(folder / f"{name}.json", {**record, "at": time.time(), "started_at": started_at})


def unregister(root: Path, name: str) -> None:
    (workers_dir(root) / f"{name}.json").unlink(missing_ok=True)


def _read_registration(path: Path) -> WorkerInfo | None:
    try:
        raw = json.loads(path.read_bytes()[:4096])
        info = WorkerInfo(
            str(raw["name"]), str(raw["host"])[:200], int(raw["pid"]), int(raw["concurrency"]),
            float(raw["at"]), float(raw["started_at"]),
        )  # fmt: skip
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return info if NAME_RE.match(info.name) and f"{info.name}.json" == path.name and info.concurrency > 0 else None


def live_workers(root: Path, now: float | None = None) -> list[WorkerInfo]:
    """The workers whose registration is fresh (younger than heartbeat.timeout_s()), by name."""
    now = time.time() if now is None else now
    try:
        paths = sorted(workers_dir(root).glob("*.json"))
    except OSError:
        return []
    infos = [info for info in map(_read_registration, paths) if info is not None]
    return [info for info in infos if now - info.seen_at < heartbeat.timeout_s()]


def pool_status(root: Path, now: float | None = None) -> list[WorkerInfo]:
    """The live workers and the runs each trains now (from status.json's "worker" of the active runs)."""
    workers = live_workers(root, now)
    training: dict[str, list[str]] = {info.name: [] for info in workers}
    for path in _run_folders(root):
        status = RunFiles(path).read_status()
        if status is not None and status.state == "running" and status.worker in training:
            training[status.worker].append(path.name)
    return [WorkerInfo(**{**info.__dict__, "training": tuple(sorted(training[info.name]))}) for info in workers]


def _run_folders(root: Path) -> list[Path]:
    try:
        return [p for p in Path(root).iterdir() if p.is_dir() and (p / CONFIG).is_file()]
    except OSError:
        return []


_APPS: dict[tuple[int, str], object] = {}  # per process: a forked child never shares its parent's sockets


def _sender(url: str):
    from celery import Celery

    key = (os.getpid(), url)
    if key not in _APPS:
        app = Celery("digit_lab_sender", broker=url, set_as_current=False)
        app.conf.update(task_default_queue=QUEUE, broker_connection_timeout=CONNECT_TIMEOUT_S)
        _APPS[key] = app
    return _APPS[key]


class CeleryLauncher:
    """Hands runs to the Celery worker pool at `broker_url` (see the module's docstring)."""

    def __init__(self, broker_url: str):
        self.broker_url = broker_url  # checked by capacity(), which the queue calls before any launch

    def capacity(self, root: Path) -> int:
        """Total concurrency of the live workers; BrokerUnreachableError if the broker does not answer."""
        check_broker(check_broker_url(self.broker_url))
        return sum(info.concurrency for info in live_workers(root))

    def launch(self, files: RunFiles) -> object:
        """Send the run to the pool by task name; the first free worker child trains it."""
        policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
        try:
            return _sender(self.broker_url).send_task(
                TASK_NAME, [str(files.path)], queue=QUEUE, ignore_result=True, retry_policy=policy
            )
        except Exception as error:  # kombu's OperationalError and the socket errors under it
            raise unreachable(self.broker_url, error) from error
