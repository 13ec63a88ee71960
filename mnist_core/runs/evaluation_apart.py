"""Outside models evaluated apart from the app's server: in a child process, at the lowest priority, on one
thread, one at a time, stopped after a time limit.

A model within the budgets can still cost seconds of CPU for the 10,000 test digits (60 M multiply-adds
per digit is 600 G in all); evaluated on a web server's thread it would slow every page of every person.
Here the child (`python -m mnist_core.runs.evaluation_apart MODEL [DATA_DIR]`) evaluates the file with the
same `evaluate_model_file` as the CLI and stores the probabilities beside it, checked by SHA-256, where
the server reads them without TensorFlow. A file that fails or runs out of time is remembered by its
digest, so a bad file costs its time once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from mnist_core.checks.model_files import ModelLoadError
from mnist_core.runs.evaluation import Evaluation, evaluate_model_file, stored_model_evaluation

TIME_LIMIT_S = 120.0  # ~8x the 15.5 s the heaviest model within the compute budget (58 M MACs) took here, one core
AT_ONCE = 1  # evaluations at a time per server: each child holds TensorFlow (~0.6 GB)
MAX_REMEMBERED = 256
_CHILD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",  # one core: the server's answers keep the others
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",  # the accelerator, if any, is the training workers'
}
_SAYS = "digit-lab-evaluation: "  # the child's message line, apart from TensorFlow's own output
_SLOTS = threading.BoundedSemaphore(AT_ONCE)
_FAILED: dict[str, str] = {}  # file SHA-256 -> the message it got
_FAILED_LOCK = threading.Lock()


def evaluate_apart(
    path: str | Path, data_dir: str | Path | None = None, time_limit_s: float = TIME_LIMIT_S
) -> tuple[Evaluation, str]:
    """The file's evaluation on the test set and the data's source, like `evaluate_model_file`, computed in
    a child process when it is not stored beside the file yet.

    Raises `ModelLoadError` for a refused or failing model, one that took longer than `time_limit_s`, or
    when other models kept the server's evaluation slot busy for that long.
    """
    path = Path(path)
    stored = stored_model_evaluation(path, data_dir)
    if stored is not None:
        return stored
    digest = _sha256(path)
    if (message := _FAILED.get(digest)) is not None:
        raise ModelLoadError(message)
    if not _SLOTS.acquire(timeout=time_limit_s):
        raise ModelLoadError(
            "The server is busy evaluating other people's models; try again in a minute. "
            "Models trained here in Digit Lab open at once."
        )
    try:
        stored = stored_model_evaluation(path, data_dir)  # evaluated meanwhile for someone else
        if stored is None:
            stored = _evaluate_in_child(path, data_dir, time_limit_s)
    except ModelLoadError as error:
        _remember(digest, str(error))
        raise
    finally:
        _SLOTS.release()
    return stored


def _evaluate_in_child(path: Path, data_dir: str | Path | None, time_limit_s: float) -> tuple[Evaluation, str]:
    command = [sys.executable, "-m", "mnist_core.runs.evaluation_apart", str(path)]
    if data_dir is not None:
        command.append(str(data_dir))
    try:
        done = subprocess.run(
            command,
            env={**os.environ, **_CHILD_ENV},
            capture_output=True,
            text=True,
            timeout=time_limit_s,
            start_new_session=True,  # its own scheduling group, niced as a whole (mnist_core.workers.priority)
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        raise ModelLoadError(
            f"{path.name}: evaluating this model on the test digits took longer than {time_limit_s:.0f} s, so it "
            "was stopped. It is too slow for a shared server: use fewer or smaller layers, or evaluate it on "
            "your own computer with `python -m mnist_core evaluate`."
        ) from None
    if done.returncode != 0:
        said = [line[len(_SAYS) :] for line in done.stderr.splitlines() if line.startswith(_SAYS)]
        raise ModelLoadError(said[-1][:2000] if said else f"{path.name}: evaluating the model failed.")
    stored = stored_model_evaluation(path, data_dir)
    if stored is None:
        raise ModelLoadError(f"{path.name}: the evaluation could not be stored beside the model (is the disk full?).")
    return stored


def _remember(digest: str, message: str) -> None:
    with _FAILED_LOCK:  # pages evaluate from many threads
        if len(_FAILED) >= MAX_REMEMBERED:
            _FAILED.pop(next(iter(_FAILED)))
        _FAILED[digest] = message


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def main(argv: list[str]) -> int:
    """The child: evaluate the file at the lowest priority and store its probabilities beside it."""
    from mnist_core.workers.priority import lower_priority

    lower_priority()
    try:
        evaluate_model_file(argv[0], argv[1] if len(argv) > 1 else None, save=True)
    except ModelLoadError as error:
        print(_SAYS + " ".join(str(error).split()), file=sys.stderr)
        return 2
    except Exception as error:  # the one line the person reads; the parent shows it as text
        what = " ".join(f"{type(error).__name__}: {error}".split())
        print(f"{_SAYS}{Path(argv[0]).name}: evaluating the model failed: {what}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
