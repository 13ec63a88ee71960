"""The names in a run folder's contract (see docs/DESIGN.md): its files and the states a run can be in.

Kept apart from files.py so that the schema (schema.py), which files.py uses to validate its
reads, can name the files without importing run_files back.
"""

CONFIG = "config.json"  # {"config": TrainingConfig.to_dict(), "name", "data_dir"[, "finetune"]}
STATUS = "status.json"  # RunStatus
METRICS = "metrics.jsonl"  # batch and epoch rows, append-only
MODEL_BEST, MODEL_FINAL = "model_best.keras", "model_final.keras"
EVALUATION, EVALUATION_ARRAYS = "evaluation.json", "evaluation.npz"
WATCH = "watch.json"  # Watch it learn: guesses on fixed digits per epoch
FINETUNE_REPORT = "finetune.json"  # a fine-tune's before/after numbers
FINETUNE_DIGITS = "my_digits.npz"  # a fine-tune's snapshot of My digits
STOP_REQUEST = "stop.request"  # exists once someone asked the run to stop
WORKER_LOG = "worker.log"  # the worker process's stdout and stderr
HEARTBEAT = "heartbeat.json"  # the training process's "still alive", every few seconds (heartbeat.py)
CLAIM = "worker.claim"  # created (exclusively) by the one process that trains the run: nothing trains twice
TENSORBOARD = "tensorboard"  # a folder: TensorBoard event files, derived from metrics.jsonl (tensorboard_log)
# What a run zip carries (sharing): the results, not the request flag, the log or the private snapshot.
EXPORTED = (CONFIG, STATUS, METRICS, MODEL_BEST, MODEL_FINAL, EVALUATION, EVALUATION_ARRAYS, FINETUNE_REPORT, WATCH)
NAMES = (*EXPORTED, FINETUNE_DIGITS, STOP_REQUEST, WORKER_LOG, HEARTBEAT, CLAIM)  # every file a run folder may hold

STATES = ("queued", "running", "completed", "stopped", "failed", "interrupted")
ACTIVE_STATES = ("queued", "running")
QUEUED_MESSAGE = "Waiting in the training queue…"  # a run waiting for a slot (again, after a failed hand-out)


class DamagedRunFile(ValueError):
    """A run file that does not match its schema (runs/schema.py); the message names the file and what is wrong.

    Defined here, with the names, so that code which only catches it need not import pydantic."""
