"""The training queue as people see it: each waiting run's place and an estimate of when it starts.

The estimate plays the fair order forward: the slots free up as the runs training now end (their own
ETA, else a typical run's length) and each run ahead takes a typical run's length, the median of the
last finished runs here (60 s before there are any).
"""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass
from pathlib import Path

from mnist_core import run_queue, runs

TYPICAL_S = 60.0  # a quick-preset run on full MNIST takes about this long on a shared 2-core machine
RECENT = 20


@dataclass(frozen=True)
class Place:
    """Where a waiting run stands."""

    place: int  # 1 = next to start
    waiting: int  # runs waiting in all
    eta_s: float  # seconds until it is expected to start
    training: int  # runs training now
    slots: int


def queue_places(runs_dir_path: str | Path | None = None) -> dict[str, Place]:
    """Every waiting run's Place, by run id (all people's runs: the order is shared)."""
    handles = runs.list_runs(runs_dir_path)
    statuses = {h.id: h.status() for h in handles}
    training = [h for h in handles if statuses[h.id].is_active and not statuses[h.id].is_waiting]
    waiting = [h for h in handles if statuses[h.id].is_waiting]
    if not waiting:
        return {}
    try:
        slots = run_queue.current_launcher().capacity(runs.runs_dir(runs_dir_path))
    except (run_queue.QueueSettingError, OSError):
        slots = 1
    typical = _typical_s([statuses[h.id] for h in handles])
    last_handed: dict[str, float] = {}
    for handle in handles:
        handed = statuses[handle.id].handed_at
        if handed is not None:
            last_handed[handle.owner.id or ""] = max(handed, last_handed.get(handle.owner.id or "", handed))
    entries = [
        run_queue.Waiting(h.id, h.owner.id or "", statuses[h.id].queued_at or statuses[h.id].created_at)
        for h in waiting
    ]
    order = run_queue.fair_order(entries, last_handed)
    free_at = _slot_free_times([_remaining_s(h, typical) for h in training], max(1, slots))
    places = {}
    for index, entry in enumerate(order):
        start = heapq.heappop(free_at)
        places[entry.run_id] = Place(index + 1, len(order), start, len(training), slots)
        heapq.heappush(free_at, start + typical)
    return places


def _typical_s(statuses: list) -> float:
    done = [s.duration_s for s in statuses if s.state == "completed" and s.started_at and s.ended_at]
    return statistics.median(done[-RECENT:]) if done else TYPICAL_S


def _remaining_s(handle: runs.RunHandle, typical: float) -> float:
    try:
        progress = handle.progress()
    except (OSError, ValueError, KeyError, TypeError):
        progress = None
    if progress is not None and progress.eta_s is not None:
        return progress.eta_s
    return typical * (1 - progress.fraction) if progress is not None else typical


def _slot_free_times(remaining: list[float], slots: int) -> list[float]:
    """When each slot frees up: the runs training now in their slots, the other slots free at once."""
    times = sorted(remaining)[:slots] + [0.0] * max(0, slots - len(remaining))
    heapq.heapify(times)
    return times
