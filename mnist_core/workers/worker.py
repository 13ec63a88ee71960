"""Entry point of a training worker process: `python -m mnist_core.workers.worker RUN_DIR`.

It claims the run (so nothing trains twice), records its pid and starts its heartbeat before importing
TensorFlow, so the app can tell a live run from a dead one at once, turns SIGTERM/SIGINT into a stop
request so the run still ends cleanly, and when the run ends hands the next waiting run of the queue
to a worker (`runs.dispatch`), so the queue moves on with no page open. It trains
at a lower CPU priority than the app's server, so drawings keep getting fast answers while a model
trains; on an otherwise idle machine that costs the training nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path

from mnist_core.runs import heartbeat
from mnist_core.runs.files import RunFiles
from mnist_core.workers.priority import lower_priority


def _request_stop(files: RunFiles):
    def handler(signum, frame):
        files.request_stop()

    return handler


def run(run_dir: Path) -> str:
    """Train or fine-tune the run in `run_dir`, as its config.json says; returns the final state."""
    if RunFiles(run_dir).finetune_spec() is not None:
        from mnist_core.training.finetune import finetune_run as body
    else:
        from mnist_core.training import train as body
    return body(Path(run_dir))


def serve(run_dir: Path, worker: str | None = None) -> str | None:
    """Claim the queued run in `run_dir`, train it here with a heartbeat, then hand out the next waiting run.

    Returns the run's final state, or None when there was nothing to do (the run was cancelled, or another
    process claimed it). `worker` names this worker in status.json (default "host:pid").
    """
    files = RunFiles(Path(run_dir))
    worker = worker or heartbeat.local_worker_name()
    status = files.read_status()
    if status is None or status.state != "queued" or not files.claim(worker):
        print(f"{files.path.name}: not waiting to start (cancelled, or taken by another worker); nothing to do.")
        return None
    try:
        if files.stop_flag.exists():  # stopped after the hand-out, before a worker took it: never train it
            message = "Stopped before it started training; nothing was trained."
            return files.update_status(state="stopped", ended_at=time.time(), worker=worker, message=message).state
        with heartbeat.Heartbeat(files.path, worker):
            files.update_status(
                pid=os.getpid(), host=heartbeat.HOST, worker=worker, message="Starting the training process…"
            )
            return run(files.path)
    finally:
        _hand_out_next(files.path.parent)


def _hand_out_next(root: Path) -> None:
    from mnist_core import runs

    try:
        runs.dispatch(root)
    except Exception:  # a queue setting gone bad: the app says so on its next page; the log keeps it
        traceback.print_exc()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mnist_core.workers.worker RUN_DIR", file=sys.stderr)
        return 2
    files = RunFiles(Path(argv[0]))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _request_stop(files))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    lower_priority()
    try:
        state = serve(files.path)
    except Exception:
        traceback.print_exc()  # into worker.log; status.json already says what failed
        return 1
    return 0 if state in ("completed", "stopped", None) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
