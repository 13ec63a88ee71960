"""The training queue as people see it: each waiting run's place and an estimate of when it starts.

The estimate plays the fair order forward: the slots free up as the runs training now end (their own
ETA, else their expected length) and each run ahead takes its expected length: the median of the finished
runs here with the same settings (any seed), else of the last finished runs (60 s before there are any).
So a queue of 6-s quick runs is not estimated at a minute each, nor a long CNN at six seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import statistics
from dataclasses import dataclass
from pathlib import Path

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.runs import queue as run_queue
from mnist_core.runs.files import RunFiles

TYPICAL_S = 60.0  # a quick-preset run on full MNIST takes about this long on a shared 2-core machine
RECENT = 20  # finished runs the typical length is the median of
MEASURED = 200  # finished runs read for lengths by settings (newest first): bounds the reads per refresh


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
    lengths = _Lengths(handles, statuses)
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
    by_id = {h.id: h for h in handles}
    free_at = _slot_free_times([_remaining_s(h, lengths.expected_s(h)) for h in training], max(1, slots))
    places = {}
    for index, entry in enumerate(order):
        start = heapq.heappop(free_at)
        places[entry.run_id] = Place(index + 1, len(order), start, len(training), slots)
        heapq.heappush(free_at, start + lengths.expected_s(by_id[entry.run_id]))
    return places


class _Lengths:
    """How long a run is expected to train, from the finished runs here."""

    def __init__(self, handles: list[runs.RunHandle], statuses: dict) -> None:
        done = [h for h in handles if statuses[h.id].state == "completed" and statuses[h.id].started_at]
        done = [h for h in done if statuses[h.id].ended_at]  # duration_s needs both ends
        done.sort(key=lambda h: statuses[h.id].ended_at, reverse=True)  # newest first
        recent = [statuses[h.id].duration_s for h in done[:RECENT]]
        self.typical_s = statistics.median(recent) if recent else TYPICAL_S
        self._by_settings: dict[TrainingConfig, list[float]] = {}
        for handle in done[:MEASURED]:
            key = _settings(handle)
            if key is not None:
                self._by_settings.setdefault(key, []).append(statuses[handle.id].duration_s)

    def expected_s(self, handle: runs.RunHandle) -> float:
        measured = self._by_settings.get(_settings(handle)) if self._by_settings else None
        return statistics.median(measured[:RECENT]) if measured else self.typical_s


def _settings(handle: runs.RunHandle) -> TrainingConfig | None:
    """The run's config with its seed left out (seeds do not change a run's length); None when unreadable.
    Read once per version of config.json: every waiting person's page asks every 2 s, for up to `MEASURED` runs."""
    try:
        stat = handle.files.config_file.stat()
    except OSError:
        return None
    return _settings_of(handle.path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4 * MEASURED)
def _settings_of(run_path: Path, mtime_ns: int, size: int) -> TrainingConfig | None:
    try:
        return dataclasses.replace(RunFiles(run_path).read_config(), seed=0)
    except (OSError, KeyError, TypeError, ValueError):  # damaged config.json (DamagedRunFile, ConfigError)
        return None


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
