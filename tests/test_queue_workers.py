"""The training queue with real worker processes (issue 15): fair order, exactly once, a killed worker.

Tiny runs on the embedded sample, one slot: each costs a few seconds, most of it importing TensorFlow.
The rules themselves are tested fast in test_run_queue.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from queue_utils import stop_everything

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import Person
from mnist_core.runs import queue as run_queue

pytestmark = pytest.mark.slow
TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=200, batch_size=50)
LONG = TrainingConfig(hidden_units=(8,), epochs=300, train_limit=1000, batch_size=20)
ANN, BOB = Person("https://idp|ann", name="Ann"), Person("https://idp|bob", name="Bob")


@pytest.fixture(autouse=True)
def one_slot_on_the_sample(monkeypatch, tmp_path):
    monkeypatch.setenv(run_queue.SLOTS_ENV, "1")
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-cache"))  # the embedded sample, evaluated fast
    monkeypatch.delenv(run_queue.BROKER_ENV, raising=False)
    yield
    stop_everything(tmp_path)  # a failed test leaves no worker behind


def wait_all(root: Path, timeout: float) -> list[runs.RunHandle]:
    deadline = time.monotonic() + timeout
    while any(h.status().is_active for h in runs.list_runs(root)):
        if time.monotonic() > deadline:
            states = {h.name: h.status().state for h in runs.list_runs(root)}
            pytest.fail(f"runs still active after {timeout:.0f} s: {states}")
        runs.dispatch(root)  # what a page does; the workers hand out the next run themselves too
        time.sleep(0.3)
    return runs.list_runs(root)


def test_two_people_take_turns_and_every_run_trains_once(tmp_path):
    order = [(ANN, "ann 1"), (ANN, "ann 2"), (BOB, "bob 1"), (BOB, "bob 2")]
    handles = {name: runs.start_run(TINY, name, tmp_path, owner=person) for person, name in order}
    finished = wait_all(tmp_path, 480)
    started = sorted(finished, key=lambda h: h.status().started_at)
    assert [h.name for h in started] == ["ann 1", "bob 1", "ann 2", "bob 2"]  # round-robin, not first come
    for handle in handles.values():
        status = handle.status()
        assert status.state == "completed", (handle.path / "worker.log").read_text()[-2000:]
        assert (handle.path / "worker.claim").read_text() == status.worker  # claimed once, by its worker
        beat = json.loads((handle.path / "heartbeat.json").read_text())
        assert beat["pid"] == status.pid and beat["worker"] == status.worker
    spans = sorted((h.status().started_at, h.status().ended_at) for h in finished)
    overlaps = [(a, b) for (_, a), (b, _) in zip(spans, spans[1:], strict=False) if a > b]
    assert not overlaps, "one slot: one run at a time"


def test_a_killed_worker_is_interrupted_and_the_next_run_starts(tmp_path):
    first = runs.start_run(LONG, "to kill", tmp_path, owner=ANN)
    waiting = runs.start_run(TINY, "next", tmp_path, owner=BOB)
    deadline = time.monotonic() + 300
    while not first.metrics().batches:
        assert time.monotonic() < deadline, (first.path / "worker.log").read_text()[-2000:]
        time.sleep(0.2)
    assert waiting.status().is_waiting
    os.kill(first.status().pid, signal.SIGKILL)
    first.process.wait(timeout=30)  # reap it, as a server would not: pid checks see a zombie as dead anyway
    deadline = time.monotonic() + 30
    while first.status().state != "interrupted":
        assert time.monotonic() < deadline, first.status()
        time.sleep(0.2)
    handed = runs.dispatch(tmp_path)
    assert [h.id for h in handed] == [waiting.id]
    for handle in handed:
        handle.process.wait(timeout=300)
    assert waiting.status().state == "completed"
    assert first.status().message.startswith("The training process ended unexpectedly")
