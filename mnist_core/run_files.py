"""The files of one run folder, read and written in one place (see docs/DESIGN.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_core.config import TrainingConfig
from mnist_core.storage import atomic_save, atomic_write_json, read_json

STATES = ("queued", "running", "completed", "stopped", "failed", "interrupted")
ACTIVE_STATES = ("queued", "running")


@dataclass(frozen=True)
class RunStatus:
    """What status.json says about a run."""

    state: str  # one of STATES
    message: str  # a sentence for people
    created_at: float  # unix seconds
    started_at: float | None = None
    ended_at: float | None = None
    epoch: int = 0  # epochs finished
    epochs: int = 0  # epochs planned
    pid: int | None = None  # the worker process while it trains
    data_source: str = ""

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_finished(self) -> bool:
        return not self.is_active

    @property
    def duration_s(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.time()) - self.started_at

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunStatus:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in raw.items() if k in known})


class RunFiles:
    """Paths and atomic reads/writes of one run folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_file = self.path / "config.json"
        self.status_file = self.path / "status.json"
        self.metrics = self.path / "metrics.jsonl"
        self.stop_flag = self.path / "stop.request"

    def model_file(self, which: str = "best") -> Path:
        if which not in ("best", "final"):
            raise ValueError(f"which must be 'best' or 'final', got {which!r}")
        return self.path / f"model_{which}.keras"

    def read_meta(self) -> dict[str, Any]:
        """config.json as stored: the TrainingConfig fields plus name and data_dir."""
        meta = read_json(self.config_file)
        if not isinstance(meta, dict):
            raise FileNotFoundError(f"{self.config_file} is missing or unreadable")
        return meta

    def read_config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.read_meta()["config"])

    def data_dir(self) -> str | None:
        return self.read_meta().get("data_dir")

    def finetune_spec(self) -> dict | None:
        """config.json's "finetune" entry (a fine-tune run, see mnist_core.finetune), else None."""
        spec = self.read_meta().get("finetune")
        return spec if isinstance(spec, dict) else None

    def write_meta(self, config: TrainingConfig, name: str, data_dir: str | None) -> None:
        atomic_write_json(self.config_file, {"config": config.to_dict(), "name": name, "data_dir": data_dir})

    def read_status(self) -> RunStatus | None:
        raw = read_json(self.status_file)
        return RunStatus.from_dict(raw) if isinstance(raw, dict) and "state" in raw else None

    def update_status(self, **changes: Any) -> RunStatus:
        """Merge `changes` into status.json (atomic)."""
        raw = read_json(self.status_file)
        raw = raw if isinstance(raw, dict) else {"created_at": time.time(), "state": "queued", "message": ""}
        raw.update(changes)
        atomic_write_json(self.status_file, raw)
        return RunStatus.from_dict(raw)

    def save_model(self, model: Any, which: str) -> None:
        """model.save to a temp .keras file beside the target, then rename."""
        atomic_save(self.model_file(which), lambda tmp: model.save(tmp), suffix=".keras")

    def read_evaluation_accuracy(self) -> float | None:
        summary = read_json(self.path / "evaluation.json")
        return float(summary["accuracy"]) if isinstance(summary, dict) and "accuracy" in summary else None
