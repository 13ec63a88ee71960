"""The queue's start estimates (mnist_core/runs/queue_view.py): each run ahead counts for the measured length of runs
with its settings, not one typical length for all (issue 32)."""

from __future__ import annotations

import time

from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.runs.queue_view import TYPICAL_S, queue_places

QUICK = TrainingConfig(hidden_units=(8,), epochs=1)
LONG = TrainingConfig(hidden_units=(64,), epochs=20)


def finished(root, config: TrainingConfig, seconds: float, seed: int) -> None:
    handle = runs.start_run(config.replace(seed=seed), runs_dir_path=root)
    now = time.time()
    handle.files.update_status(state="completed", started_at=now - seconds, ended_at=now, message="Completed.")


def test_a_queue_of_short_runs_is_estimated_from_their_own_measured_length(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_QUEUE_PER_PERSON", "10")
    use_launcher(monkeypatch, RecordingLauncher(slots=0))
    for seed in range(3):
        finished(tmp_path, QUICK, 6.0, seed)
    finished(tmp_path, LONG, 600.0, 0)
    finished(tmp_path, LONG, 600.0, 1)  # the median of all five finished runs would be 6 s, of these 600 s
    waiting = [runs.start_run(c, runs_dir_path=tmp_path) for c in (QUICK, QUICK, LONG, QUICK)]
    places = queue_places(tmp_path)
    assert [places[h.id].place for h in waiting] == [1, 2, 3, 4]
    assert [round(places[h.id].eta_s) for h in waiting] == [0, 6, 12, 612]


def test_settings_never_finished_here_take_the_typical_length_and_none_finished_take_a_minute(tmp_path, monkeypatch):
    use_launcher(monkeypatch, RecordingLauncher(slots=0))
    first, second = (runs.start_run(QUICK, runs_dir_path=tmp_path) for _ in range(2))
    assert round(queue_places(tmp_path)[second.id].eta_s) == round(TYPICAL_S)
    finished(tmp_path, LONG, 30.0, 0)
    places = queue_places(tmp_path)
    assert round(places[first.id].eta_s) == 0 and round(places[second.id].eta_s) == 30
