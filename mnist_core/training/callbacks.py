"""Keras callbacks of a training run: live metrics, stop requests, NaN guard, best weights.

Each hook is a few lines; between batches they cost a clock read or a stat call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import keras


def _floats(logs: dict | None) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items()}


class MetricsLogger(keras.callbacks.Callback):
    """Hand a batch row to `append` (RunFiles.append_metrics) at most every `interval` s and at each epoch's last
    batch (the curve ends where the epoch does), and a row per epoch."""

    def __init__(
        self, append: Callable[[list[dict]], None], steps_per_epoch: int, batch_size: int, interval: float = 0.5
    ):
        super().__init__()
        self.append, self.steps, self.batch_size, self.interval = append, steps_per_epoch, batch_size, interval
        self.start = time.monotonic()
        self.epoch = 0
        self._last_write = -math.inf  # the first batch is always written
        self._epoch_start = self.start

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self._epoch_start = epoch + 1, time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = time.monotonic()
        if now - self._last_write < self.interval and batch + 1 != self.steps:
            return
        self._last_write = now
        seen = (batch + 1) * self.batch_size
        row = {
            "kind": "batch",
            "epoch": self.epoch,
            "batch": batch + 1,
            "batches": self.steps,
            "step": (self.epoch - 1) * self.steps + batch + 1,
            "seen": seen,
            "samples_per_s": seen / max(now - self._epoch_start, 1e-6),
            "t": now - self.start,
        }
        self.append([{**row, **_floats(logs)}])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {
            "kind": "epoch",
            "epoch": epoch + 1,
            "t": time.monotonic() - self.start,
            "epoch_s": time.monotonic() - self._epoch_start,
            **_floats(logs),
        }
        row["lr"] = _current_lr(self.model)
        self.append([row])


def _current_lr(model: keras.Model) -> float:
    optimizer = model.optimizer
    rate = optimizer.learning_rate
    return float(rate(optimizer.iterations) if callable(rate) else rate)


class StopRequest(keras.callbacks.Callback):
    """Stop between batches once `flag` exists (as TerminateOnNaN does: on_train_end still runs)."""

    def __init__(self, flag):
        super().__init__()
        self.flag, self.requested = flag, False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.flag.exists():
            self.requested = True
            self.model.stop_training = True


class NanGuard(keras.callbacks.Callback):
    """End training when the loss becomes NaN or infinite, remembering when."""

    def __init__(self):
        super().__init__()
        self.failed_at: tuple[int, int] | None = None
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.failed_at = (self.epoch, batch + 1)
            self.model.stop_training = True


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the best epoch (by `monitor`, ties broken by the lower `tie_break`), save them,
    and count patience.

    `save(model)` writes the checkpoint (atomically); early stopping is built in so that one
    callback owns "best" and a stopped run still ends with its best weights. The tie-break matters on a
    small validation set: 40 digits score in steps of 2.5%, and an early epoch that happens to get all 40
    right would otherwise beat every later, better-trained epoch that also does.
    """

    def __init__(
        self,
        save: Callable[[keras.Model], None],
        monitor: str = "val_accuracy",
        patience: int = 0,
        on_epoch: Callable[[int], None] | None = None,
        tie_break: str = "val_loss",
    ):
        super().__init__()
        self.save, self.monitor, self.patience, self.on_epoch = save, monitor, patience, on_epoch
        self.tie_break = tie_break
        self.best, self.best_epoch, self.weights, self.wait = (-math.inf, -math.inf), 0, None, 0
        self.early_stopped = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        value = float(logs.get(self.monitor, -math.inf))
        tie = float(logs.get(self.tie_break, math.inf))
        score = (value, -tie if math.isfinite(tie) else -math.inf)
        # A NaN model still scores ~10% (argmax of NaN is 0): never keep it as "best".
        diverged = not math.isfinite(float(logs.get("loss", 0.0)))
        kept = math.isfinite(value) and score > self.best and not diverged
        improved = kept and value > self.best[0]  # patience counts epochs without a better monitor value
        if kept:
            self.best, self.best_epoch = score, epoch + 1
            self.weights = self.model.get_weights()
            self.save(self.model)
        self.wait = 0 if improved else self.wait + 1
        if self.patience and self.wait >= self.patience:
            self.early_stopped = self.model.stop_training = True
        if self.on_epoch:
            self.on_epoch(epoch + 1)

    def restore(self) -> bool:
        """Put the best weights back into the model; False if no epoch finished."""
        if self.weights is None:
            return False
        self.model.set_weights(self.weights)
        return True
