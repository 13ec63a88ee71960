"""A Digit Lab worker of a Celery pool: `python -m mnist_core worker` on any machine that mounts
the shared runs folder.

Warm children: TensorFlow is imported inside the first task of a child, never in the parent that forks
the children (TensorFlow is not fork-safe); the child then trains up to `warm.max_runs()` runs in turn, Keras
cleared between them, and is replaced after that or once its memory passes `warm.max_memory_mb()`. The task is
small and keeps its state in the run folder: `worker.serve` claims the run (so a redelivered task never
trains twice, `acks_late`), writes the heartbeat and trains. The parent registers the worker in the runs
folder and hands out waiting runs every few seconds (`runs.dispatch`), so the queue moves on with no
page open, after a worker died and after the broker came back.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from mnist_core.runs import heartbeat
from mnist_core.runs.files import CONFIG
from mnist_core.runs.queue import BROKER_ENV
from mnist_core.workers import celery_launcher, warm
from mnist_core.workers.celery_launcher import NAME_RE, QUEUE, TASK_NAME

VISIBILITY_TIMEOUT_S = 12 * 3600  # a long run's unacked task is not redelivered while it trains


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str  # $DIGIT_LAB_BROKER
    root: Path  # the shared runs folder ($DIGIT_LAB_RUNS_DIR)
    name: str  # names this worker in status.json and in <runs>/.workers/
    concurrency: int  # runs it trains at once (one child each)

    def __post_init__(self):
        if not NAME_RE.match(self.name):
            raise ValueError(
                f"--name {self.name!r} is not a worker name: use 1-60 letters, digits, dots, dashes or underscores."
            )
        if not 1 <= self.concurrency <= 256:
            raise ValueError(f"--concurrency {self.concurrency} is out of range: use a whole number from 1 to 256.")


def make_app(settings: WorkerSettings) -> Celery:
    """The Celery app of this worker, with the one task `digit_lab.train`."""
    app = Celery("digit_lab", broker=settings.broker_url)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # a task of a worker that died is delivered again; worker.claim stops a 2nd training
        worker_prefetch_multiplier=1,  # a worker takes only what it can train now; the rest waits for others
        worker_max_tasks_per_child=warm.max_runs(),  # a warm child trains many runs, then a fresh one comes
        worker_max_memory_per_child=int(warm.max_memory_mb() * 1024),  # KiB: replaced once it grew past this
        task_ignore_result=True,  # results live in the run folder
        worker_send_task_events=True,  # a few small messages a run, so Flower can show the tasks to operators
        worker_cancel_long_running_tasks_on_connection_loss=False,  # a broker restart never stops training
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
    )

    @app.task(name=TASK_NAME)
    def train(run_path: str) -> str | None:
        return serve_run(settings, run_path)

    return app


def serve_run(settings: WorkerSettings, run_path: str) -> str | None:
    """The task's body: train the run named by `run_path` (looked up by its folder name in our runs folder,
    which another machine may mount elsewhere); None if it is not a run there or has nothing to do."""
    folder = settings.root / Path(str(run_path)).name
    if folder.name.startswith(".") or not (folder / CONFIG).is_file():
        print(f"{run_path!r} is not a run in {settings.root}; ignored (is the same runs folder mounted here?).")
        return None
    from mnist_core.training.kept_model import keep_models
    from mnist_core.workers import worker  # imports TensorFlow only when it trains, in this child

    keep_models()  # the child's next run of the same settings trains on this run's traced model
    try:
        return worker.serve(folder, settings.name)
    finally:
        worker.between_runs()  # the child trains the next task warm, with nothing left of this one


class Registration:
    """Keeps this worker's registration fresh and hands out waiting runs, every few seconds, from a thread."""

    def __init__(self, settings: WorkerSettings):
        self.settings, self.started_at = settings, time.time()
        self.every_s = min(heartbeat.EVERY_S, heartbeat.timeout_s() / 3)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="digit-lab-registration", daemon=True)
        self._last_problem = ""

    def start(self, *args, **kwargs) -> None:
        self._tick()
        self._thread.start()

    def stop(self, *args, **kwargs) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.every_s + 5)
        celery_launcher.unregister(self.settings.root, self.settings.name)

    def _loop(self) -> None:
        while not self._stopped.wait(self.every_s):
            self._tick()

    def _tick(self) -> None:
        from mnist_core import runs  # no TensorFlow: the parent stays fork-safe

        problem = ""
        try:
            celery_launcher.register(self.settings.root, self.settings.name, self.settings.concurrency, self.started_at)
            runs.dispatch(self.settings.root, blocking=False)
        except Exception as error:  # the broker is down, the disk is full: say so once, keep trying
            problem = str(error)
        if problem != self._last_problem:
            print(problem or "The training queue works again.", file=sys.stderr, flush=True)
            self._last_problem = problem


def run_worker(settings: WorkerSettings) -> None:
    """Start the Celery worker in this process until it is shut down (Ctrl-C, SIGTERM)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ[BROKER_ENV] = settings.broker_url  # runs.dispatch hands out through the pool
    app = make_app(settings)
    registration = Registration(settings)
    worker_ready.connect(registration.start, weak=False)
    worker_shutdown.connect(registration.stop, weak=False)
    argv = ["worker", "--loglevel=INFO", "--pool=prefork", f"--concurrency={settings.concurrency}"]
    argv += [f"--hostname={settings.name}@{heartbeat.HOST}", f"--queues={QUEUE}"]
    argv += ["--without-gossip", "--without-mingle"]  # no chatter between workers: the runs folder is the state
    app.worker_main(argv)
