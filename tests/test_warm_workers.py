"""Warm workers: a local worker that finished a run trains the next ones in the same process (TensorFlow and the
data already loaded), exactly as a fresh process would; it is replaced after `DIGIT_LAB_WORKER_RUNS` runs; a run
that fails, or a worker that is killed while it waits, takes no other run down; and the offer/take handshake
gives one run to one worker however many dispatchers race."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.runs import queue as run_queue
from mnist_core.workers import warm

TINY = TrainingConfig(hidden_units=(16,), epochs=1, train_limit=600, batch_size=64)


# ---------------------------------------------------------------- the handshake, without TensorFlow
def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_offer_is_taken_once_however_many_dispatchers_race(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(warm, "pid_is_worker", alive)  # this test process stands for the worker
    made = warm.offer(tmp_path)
    taken, barrier = [], threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        if (got := warm.take(tmp_path)) is not None:
            taken.append(got)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 1 and taken[0][1] == os.getpid()
    warm.give(taken[0][0], tmp_path / "20260101-000000-run")
    assert warm.wait(made, 1.0) == tmp_path / "20260101-000000-run"
    assert warm.take(tmp_path) is None  # nothing offered any more


def test_an_offer_nobody_takes_is_withdrawn_and_a_dead_workers_is_ignored(tmp_path: Path) -> None:
    made = warm.offer(tmp_path)
    start = time.monotonic()
    assert warm.wait(made, 0.2) is None and 0.2 <= time.monotonic() - start < 2
    assert not (tmp_path / warm.FOLDER).exists()  # the runs folder holds only runs again
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / warm.FOLDER / f"{warm.HOST}-{dead.pid}.idle"
    stale.parent.mkdir()
    stale.write_text(f'{{"pid": {dead.pid}}}')
    assert warm.take(tmp_path) is None and not stale.exists()  # its worker is gone: the offer is dropped


@pytest.mark.parametrize(("value", "expected"), [("abc", 120.0), ("-5", 0.0), ("99999", 3600.0), ("30", 30.0)])
def test_the_linger_setting_is_bounded(monkeypatch, value: str, expected: float) -> None:
    monkeypatch.setenv(warm.LINGER_ENV, value)
    assert warm.linger_s() == expected


# ---------------------------------------------------------------- real workers
@pytest.fixture
def lingering(monkeypatch, tmp_path: Path) -> Path:
    """Workers wait 60 s for a next run; every worker left is killed at the end."""
    monkeypatch.setenv(warm.LINGER_ENV, "60")
    monkeypatch.setenv("DIGIT_LAB_TRAINING_SLOTS", "1")
    yield tmp_path / "runs"
    for offer in (tmp_path / "runs" / warm.FOLDER).glob("*.idle"):
        pid = int(offer.stem.rsplit("-", 1)[1])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def warm_worker_waiting(root: Path, timeout_s: float = 60) -> None:
    """Until a worker that finished its run offers itself (as when a class presses Start a moment later)."""
    deadline = time.monotonic() + timeout_s
    while not list((root / warm.FOLDER).glob("*.idle")):
        assert time.monotonic() < deadline, "no warm worker offered itself"
        time.sleep(0.02)


def finished(handle: runs.RunHandle):
    status = handle.wait(timeout=600)
    assert status.state == "completed", status.message
    return status


@pytest.mark.slow
def test_a_warm_worker_trains_the_next_runs_exactly_as_a_fresh_process(lingering: Path) -> None:
    first = runs.start_run(TINY, name="alone", runs_dir_path=lingering)
    alone = finished(first)
    warm_worker_waiting(lingering)
    other = finished(runs.start_run(TINY.replace(seed=7, hidden_units=(32,)), name="other", runs_dir_path=lingering))
    warm_worker_waiting(lingering)
    again = runs.start_run(TINY, name="again", runs_dir_path=lingering)
    started = time.monotonic()
    while not again.metrics().batches and time.monotonic() - started < 60:
        time.sleep(0.02)
    first_batch_s = time.monotonic() - started
    status = finished(again)
    assert other.pid == alone.pid == status.pid  # one warm process trained all three
    assert again.evaluation().accuracy == first.evaluation().accuracy  # the same seed, the same model
    assert "again" not in (first.path / "worker.log").read_text()  # each run's output in its own log
    # Timed by bench/warm_workers.py, not asserted here: an assert of it failed whenever the cores were shared
    print(f"warm worker: Start -> first batch {first_batch_s:.2f} s")


@pytest.mark.slow
def test_a_worker_is_replaced_after_its_runs_and_a_failed_run_takes_none_down(lingering: Path, monkeypatch) -> None:
    monkeypatch.setenv(warm.RUNS_ENV, "2")
    from test_training import DIVERGES  # the loss becomes NaN: the run fails

    diverges = DIVERGES.replace(train_limit=600, epochs=1)
    handles = [runs.start_run(c, name=f"r{i}", runs_dir_path=lingering) for i, c in enumerate([diverges, TINY, TINY])]
    statuses = [h.wait(timeout=600) for h in handles]
    assert [s.state for s in statuses] == ["failed", "completed", "completed"], [s.message for s in statuses]
    assert statuses[0].pid == statuses[1].pid != statuses[2].pid  # two runs, then a fresh process


@pytest.mark.slow
def test_a_run_given_to_a_worker_that_died_before_reading_it_waits_again_and_trains(
    lingering: Path, monkeypatch
) -> None:
    """The moment between a launcher taking an offer and the worker reading its run: a worker SIGKILLed then
    never started the run, so the run is handed out again (to a fresh process) instead of being interrupted."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    taken = lingering / warm.FOLDER / f"{warm.HOST}-{dead.pid}.taken"

    launches = []

    class GivenToTheDeadFirst(run_queue.LocalLauncher):
        def launch(self, files):
            launches.append(files.path)
            if len(launches) > 1:
                return super().launch(files)
            taken.parent.mkdir(parents=True)
            files.update_status(pid=dead.pid, host=warm.HOST)  # as LocalLauncher.launch does for a warm worker
            warm.give(taken, files.path)
            return None

    monkeypatch.setattr(run_queue, "current_launcher", GivenToTheDeadFirst)
    handle = runs.start_run(TINY, name="given to the dead", runs_dir_path=lingering)
    assert taken.exists() and handle.files.read_status().pid == dead.pid
    assert handle.status().state == "queued"  # taken back and handed out again, not interrupted
    assert not taken.exists()
    status = finished(handle)
    assert status.pid not in (None, dead.pid) and len(launches) == 2


def test_a_waiting_worker_killed_or_stopped_leaves_the_next_run_to_a_fresh_one(lingering: Path) -> None:
    first = finished(runs.start_run(TINY, name="first", runs_dir_path=lingering))
    warm_worker_waiting(lingering)
    os.kill(first.pid, signal.SIGKILL)  # killed while it waits for a run
    second = finished(runs.start_run(TINY, name="second", runs_dir_path=lingering))
    assert second.pid != first.pid
    warm_worker_waiting(lingering)
    os.kill(second.pid, signal.SIGTERM)  # asked to stop while it waits: it leaves
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and list((lingering / warm.FOLDER).glob("*.idle")):  # gone with the folder
        time.sleep(0.1)
    assert not list((lingering / warm.FOLDER).glob("*.idle"))
    third = finished(runs.start_run(TINY, name="third", runs_dir_path=lingering))
    assert third.pid not in (first.pid, second.pid)


def test_between_runs_freezes_what_survives_so_later_collections_walk_only_new_objects() -> None:
    import gc

    from mnist_core.workers.worker import between_runs

    try:
        between_runs()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this is the test process, not a worker
