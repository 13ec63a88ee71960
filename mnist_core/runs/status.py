"""What status.json says about a run: its state, its message and the times and places of its life."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mnist_core.runs.names import ACTIVE_STATES


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
    queued_at: float | None = None  # when Start was pressed: the queue's order
    handed_at: float | None = None  # when the queue handed it to a worker; None while it waits
    worker: str = ""  # which worker trains it ("host:pid", or a Celery worker's name)
    host: str = ""  # the machine of `pid`

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_waiting(self) -> bool:
        """Queued and not handed to a worker yet (an older run folder with a pid was already handed)."""
        return self.state == "queued" and self.handed_at is None and self.pid is None

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
