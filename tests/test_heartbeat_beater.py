"""The heartbeat's beater process stops with its training process, and never beats for another one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mnist_core.runs.files import HEARTBEAT
from mnist_core.workers.process import pid_is_worker

ROOT = Path(__file__).resolve().parents[1]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_beater_whose_training_process_died_before_it_started_writes_nothing(tmp_path):
    # its parent is this test, not the pid it was started for: that process is gone, the beater was adopted
    beater = subprocess.Popen(
        [sys.executable, "-m", "mnist_core.runs.heartbeat", str(tmp_path), "w", "0.1", "1"], cwd=ROOT
    )
    assert beater.wait(timeout=60) == 0
    assert not (tmp_path / HEARTBEAT).exists()


def test_a_sigkilled_training_process_s_beater_stops_at_once(tmp_path):
    starts_a_beater = (
        "import sys, time; from pathlib import Path; from mnist_core.runs.heartbeat import Heartbeat; "
        "h = Heartbeat(Path(sys.argv[1]), 'w', 0.1).__enter__(); print(h._process.pid, flush=True); time.sleep(120)"
    )
    trainer = subprocess.Popen(
        [sys.executable, "-c", starts_a_beater, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        beater = int(trainer.stdout.readline())
        beat = tmp_path / HEARTBEAT
        first = beat.read_bytes()
        assert wait_until(lambda: beat.read_bytes() != first, 30), "the beater never beat"
        assert f'"pid": {trainer.pid}' in beat.read_text()
    finally:
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait(timeout=30)
    assert wait_until(lambda: not pid_is_worker(beater), 3), "the beater outlived its training process"
    last = beat.read_bytes()
    time.sleep(0.5)
    assert beat.read_bytes() == last
