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

_LEAVING: list[bool] = []  # set by SIGTERM/SIGINT: train no further run


def _request_stop(signum, frame) -> None:
    """SIGTERM/SIGINT: the run training now stops cleanly after its batch, and no other run follows it."""
    _LEAVING.append(True)
    for files in _CURRENT:
        files.request_stop()


def run(run_dir: Path) -> str:
    """Train or fine-tune the run in `run_dir`, as its config.json says; returns the final state."""
    if RunFiles(run_dir).finetune_spec() is not None:
        from mnist_core.training.finetune import finetune_run as body
    else:
        from mnist_core.training import train as body
    return body(Path(run_dir))


_CURRENT: list[RunFiles] = []  # the run this process trains now: where SIGTERM's stop request goes


def serve(run_dir: Path, worker: str | None = None, hand_out: bool = True) -> str | None:
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
    _CURRENT[:] = [files]
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
        _CURRENT.clear()
        if hand_out:
            _hand_out_next(files.path.parent)


def serve_warm(run_dir: Path) -> str | None:
    """The local worker's life: train the run in `run_dir`, then offer this warm process for the next run (it
    may hand that run to itself) and train what it is given, until no run comes within the linger time, it
    has trained `warm.max_runs()` runs, or its private memory passed `warm.max_memory_mb()`. Returns the
    last run's final state."""
    from mnist_core.training.kept_model import keep_models
    from mnist_core.workers import warm

    keep_models()
    root, done = Path(run_dir).parent, 0
    state = _serve_here(run_dir, root)
    while True:
        done += 1
        if _LEAVING or done >= warm.max_runs() or warm.private_memory_mb() > warm.max_memory_mb():
            _hand_out_next(root)  # a fresh process takes the next run
            return state
        made = warm.offer(root)  # at once: a run given now waits only for the clean-up below
        between_runs()
        _hand_out_next(root)  # the next waiting run may come to this very process
        try:
            next_run = warm.wait(made, 0 if _LEAVING else warm.linger_s(), leaving=lambda: bool(_LEAVING))
        except BaseException:  # leave with the offer withdrawn, whatever happened
            warm.withdraw(made)
            raise
        if next_run is None:
            return state
        _log_into(RunFiles(next_run))
        state = _serve_here(next_run, root)


def _serve_here(run_dir: Path, root: Path) -> str | None:
    """`serve` without its hand-out (this process offers itself instead); a run that raised hands out the next
    run to a fresh process before this one leaves, as a single-run worker did."""
    try:
        return serve(run_dir, hand_out=False)
    except BaseException:
        _hand_out_next(root)
        raise


def _log_into(files: RunFiles) -> None:
    """From now on this process's output goes to the run's own worker.log, as a fresh worker's would."""
    try:
        with files.open_log() as log:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
    except OSError:
        pass  # the run folder went away: its claim fails next and says so


def between_runs() -> None:
    """Nothing of one run reaches the next: Keras' graph and layer names, TensorFlow's kernel cache, memory held
    by the last model (but the model `training.kept_model` keeps, whose every variable the next run of its
    settings sets afresh). Seeds and the precision policy are set by every run itself.

    One collection, then what survives it is frozen out of the next ones (`gc.freeze`): TensorFlow's and Keras'
    millions of long-lived objects made every full collection of a warm worker cost ~0.5 s (two of them, with
    Keras' own), each delaying the next run's start; now a collection walks only what the last run made."""
    import gc

    keras = sys.modules.get("keras")
    if keras is not None:
        keras.backend.clear_session(free_memory=False)  # the collection below is the one that frees
        keras.mixed_precision.set_global_policy("float32")
    gc.collect()
    gc.freeze()


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
        signal.signal(signum, _request_stop)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    lower_priority()
    try:
        state = serve_warm(files.path)
    except Exception:
        traceback.print_exc()  # into worker.log; status.json already says what failed
        return 1
    return 0 if state in ("completed", "stopped", None) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
