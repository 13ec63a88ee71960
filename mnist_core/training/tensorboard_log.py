"""TensorBoard event files beside a run's metrics: `tensorboard --logdir runs` shows every run's curves.

Written with TensorFlow alone: `tf.summary.scalar` and `keras.callbacks.TensorBoard` need the
`tensorboard` package (TBNotInstalledError without it, and tensorflow-cpu does not install it). Each
scalar is the Event protobuf `tf.summary.scalar` produces (a float tensor with the scalars plugin's
metadata), framed by `tf.io.TFRecordWriter`: 0.025 ms a scalar where an eager `tf.summary.write`
costs 1.6 ms (bench/tensorboard_overhead.py). The layout and tag names are Keras' own (`train/` and
`validation/`, `epoch_loss`, `epoch_accuracy`, `epoch_learning_rate`, `batch_loss`), so the charts
look as in every Keras tutorial, train and validation on one chart.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf
from tensorflow.core.framework.summary_pb2 import Summary, SummaryMetadata
from tensorflow.core.framework.tensor_pb2 import TensorProto
from tensorflow.core.framework.types_pb2 import DT_FLOAT
from tensorflow.core.util.event_pb2 import Event

from mnist_core.runs.files import TENSORBOARD as TENSORBOARD_DIR  # RUN_DIR/tensorboard/{train,validation}/events.*

PARTS = ("train", "validation")  # one event file each, as Keras' TensorBoard callback: one chart shows both
BATCH_INTERVAL_S = 2.0  # batch_loss at most this often: a point every few seconds is a smooth curve
_SCALAR = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
_FILE_NUMBER = itertools.count()  # two files of one process in one second still get distinct names


class EventFile:
    """One TensorBoard event file: Event protobufs in TFRecord framing, as tf.summary's writer makes them."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{time.time():.0f}.{socket.gethostname()}.{os.getpid()}.{next(_FILE_NUMBER)}.v2"
        self.path = folder / name
        self._records = tf.io.TFRecordWriter(str(self.path))
        self._records.write(Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())

    def scalars(self, values: dict[str, float], step: int) -> None:
        """One point per tag at `step`."""
        if values:
            summary = Summary(value=[_scalar(tag, value) for tag, value in values.items()])
            self._records.write(Event(wall_time=time.time(), step=step, summary=summary).SerializeToString())

    def flush(self) -> None:
        self._records.flush()

    def close(self) -> None:
        self._records.close()


def _scalar(tag: str, value: float) -> Summary.Value:
    return Summary.Value(tag=tag, metadata=_SCALAR, tensor=TensorProto(dtype=DT_FLOAT, float_val=[float(value)]))


class TensorBoardLog(keras.callbacks.Callback):
    """Epoch scalars (loss, accuracy, val_*, learning rate) and a throttled batch loss, as event files."""

    def __init__(self, log_dir: str | Path, batch_interval: float | None = BATCH_INTERVAL_S):
        super().__init__()
        self.log_dir, self.batch_interval = Path(log_dir), batch_interval
        self.files: dict[str, EventFile] = {}
        self._step, self._last_batch = 0, 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.files = {part: EventFile(self.log_dir / part) for part in PARTS}

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._step += 1
        now = time.monotonic()
        if self.batch_interval is None or now - self._last_batch < self.batch_interval or not logs:
            return
        self._last_batch = now
        self.files["train"].scalars({f"batch_{key}": value for key, value in logs.items()}, self._step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        logs.setdefault("learning_rate", _learning_rate(self.model))
        train = {f"epoch_{key}": value for key, value in logs.items() if not key.startswith("val_")}
        validation = {f"epoch_{key[4:]}": value for key, value in logs.items() if key.startswith("val_")}
        self.files["train"].scalars(train, epoch + 1)  # epochs count from 1, as in metrics.jsonl
        self.files["validation"].scalars(validation, epoch + 1)
        for file in self.files.values():
            file.flush()  # so a running TensorBoard shows each epoch as it ends

    def on_train_end(self, logs: dict | None = None) -> None:
        for file in self.files.values():
            file.close()
        self.files = {}


def tensorboard_callback(run_dir: Path) -> TensorBoardLog:
    """The callback that writes RUN_DIR/tensorboard/ for one run."""
    return TensorBoardLog(Path(run_dir) / TENSORBOARD_DIR)


def write_from_metrics(run_dir: str | Path) -> bool:
    """Write RUN_DIR/tensorboard/ from its metrics.jsonl (an imported run, or one from before event files);
    False when there is nothing to do. Written beside, then renamed: never a half-written folder."""
    from mnist_core.runs import RunHandle

    run_dir = Path(run_dir)
    target, rows = run_dir / TENSORBOARD_DIR, RunHandle(run_dir).metrics()
    if target.exists() or not rows.epochs:
        return False
    staging = Path(tempfile.mkdtemp(prefix=f".{TENSORBOARD_DIR}.", dir=run_dir))
    try:
        files = {part: EventFile(staging / part) for part in PARTS}
        for row in rows.batches:
            if _is_step(row.get("step")):  # an imported metrics.jsonl is a stranger's: skip what is not a row
                files["train"].scalars(_pick(row, _BATCH_KEYS), row["step"])
        for row in rows.epochs:
            if _is_step(row.get("epoch")):
                files["train"].scalars(_pick(row, _EPOCH_KEYS), row["epoch"])
                files["validation"].scalars(_pick(row, _VALIDATION_KEYS), row["epoch"])
        for file in files.values():
            file.close()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


_BATCH_KEYS = {"loss": "batch_loss", "accuracy": "batch_accuracy"}  # metrics.jsonl key -> tag
_EPOCH_KEYS = {"loss": "epoch_loss", "accuracy": "epoch_accuracy", "lr": "epoch_learning_rate"}
_VALIDATION_KEYS = {"val_loss": "epoch_loss", "val_accuracy": "epoch_accuracy"}


def _pick(row: dict, keys: dict[str, str]) -> dict[str, float]:
    return {tag: row[key] for key, tag in keys.items() if isinstance(row.get(key), (int, float))}


def _is_step(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _learning_rate(model: keras.Model) -> float:
    optimizer = model.optimizer
    rate = optimizer.learning_rate
    return float(rate(optimizer.iterations) if callable(rate) else rate)


def read_scalars(log_dir: str | Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{"train"/"validation": {tag: [(step, value), ...]}} from the event files under `log_dir` (tests, checks)."""
    found: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for path in sorted(Path(log_dir).glob("*/events.out.tfevents.*")):
        part = found.setdefault(path.parent.name, {})
        for record in tf.data.TFRecordDataset(str(path)):
            event = Event.FromString(record.numpy())
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                part.setdefault(value.tag, []).append((event.step, number))
    return found
