"""`python -m mnist_core worker`: a Celery worker of the training pool on this machine."""

from __future__ import annotations

import argparse
import os

from mnist_core.data import ENV_VAR
from mnist_core.runs import RUNS_DIR_ENV, writable_runs_dir
from mnist_core.runs.heartbeat import HOST
from mnist_core.runs.queue import BROKER_ENV
from mnist_core.workers.celery_launcher import BrokerSettingError, check_broker, check_broker_url, safe_url


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `worker` subcommand and its options."""
    parser = commands.add_parser(
        "worker", help=f"train the queue's runs on this machine as a Celery worker (needs ${BROKER_ENV})"
    )
    parser.add_argument(
        "--concurrency", type=int, default=max(1, (os.cpu_count() or 1) // 2), help="runs trained at once"
    )
    parser.add_argument("--name", default=f"digit-lab-{HOST}", help="this worker's name in run statuses")
    parser.add_argument("--runs-dir", help=f"the shared runs folder (default: ${RUNS_DIR_ENV} or ./runs)")


def cmd_worker(args: argparse.Namespace) -> int:
    broker = os.environ.get(BROKER_ENV, "").strip()
    if not broker:
        raise BrokerSettingError(
            f"{BROKER_ENV} is not set: set it to the broker the app uses (e.g. export "
            f"{BROKER_ENV}=redis://HOST:6379/0), then start the worker again."
        )
    check_broker(check_broker_url(broker))
    from mnist_core.workers.celery_worker import WorkerSettings, run_worker  # imports Celery

    settings = WorkerSettings(broker, writable_runs_dir(args.runs_dir), args.name.strip(), args.concurrency)
    data = os.environ.get(ENV_VAR) or "the embedded sample (set MNIST_DATA_DIR for full MNIST)"
    print(f"Worker {settings.name}: {settings.concurrency} at once, broker {safe_url(broker)}, runs in {settings.root}")
    print(f"Runs without a data folder of their own train on {data}.", flush=True)
    run_worker(settings)
    return 0
