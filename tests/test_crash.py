"""Kill the training worker with SIGKILL at 24 moments and check that nothing is lost or half-written.

The moments are spread over a run's life (just spawned, starting, loading data, importing Keras,
mid-epoch, while a checkpoint is being written, right after one, while watch.json is written,
while the final model is written, during and while saving the evaluation, just before the end) and
their delays come from a fixed seed. Each kill ends its own tiny run (a 16-unit MLP, batches of 8,
4 epochs of 1,200 digits, so checkpoints come every ~0.2 s), in two runs folders side by side. After each:
every JSON file of every run parses, metrics.jsonl has at most a torn last line (which the reader
skips), models and evaluations are whole, no temp file is left, the killed run says `interrupted`,
its model_best.keras loads with load_predictor and predicts, and no earlier run changed a byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.runs import RunHandle, list_runs, load_run, start_run
from mnist_core.runs.files import RunFiles
from mnist_core.workers.process import pid_is_worker

SEED = 20240611
KILLS = 24  # at least 20 must land while the worker is alive (a few may come after the run ended)
CONFIG = TrainingConfig(hidden_units=(16,), batch_size=8, epochs=4, train_limit=1200, learning_rate=3e-3)
POLL_S = 0.001
LANES = 2  # runs folders killed in side by side


@dataclass(frozen=True)
class Seen:
    """One look at a run folder while its worker runs."""

    names: frozenset[str]  # files in the folder
    state: str
    message: str
    pid: int | None
    epoch: int
    batch_rows: int

    def temp(self, target: str) -> bool:
        return any(name.startswith(f".{target}.") for name in self.names)


def look(path: Path) -> Seen:
    names = frozenset(os.listdir(path))
    try:
        status = json.loads((path / "status.json").read_text())
    except (OSError, ValueError):  # never expected (atomic), but the kill must not wait on it
        status = {}
    metrics = (path / "metrics.jsonl").read_bytes() if "metrics.jsonl" in names else b""
    return Seen(
        names,
        status.get("state", ""),
        status.get("message", ""),
        status.get("pid"),
        int(status.get("epoch", 0)),
        metrics.count(b'"kind":"batch"'),
    )


# kind -> (when it is reached, longest extra delay in s). Events that last milliseconds (a temp file
# exists) fall back to the moment just after them, so a kill never waits for a moment that has passed.
MOMENTS = {
    "just-spawned": (lambda s: True, 0.03),
    "starting": (lambda s: s.pid is not None, 0.2),
    "loading-data": (lambda s: s.state == "running", 0.0),
    "importing-keras": (lambda s: s.message.startswith("Training on"), 1.5),  # 4 s outlived a run on a quiet machine
    "mid-epoch": (lambda s: s.batch_rows >= 1, 1.0),
    "writing-checkpoint": (lambda s: s.temp("model_best.keras") or "model_best.keras" in s.names, 0.02),
    "after-checkpoint": (lambda s: s.epoch >= 2, 0.0),
    "writing-watch": (lambda s: s.temp("watch.json") or s.epoch >= 3, 0.0),
    "writing-final-model": (lambda s: s.temp("model_final.keras") or "model_final.keras" in s.names, 0.02),
    "evaluating": (lambda s: s.message.startswith("Evaluating"), 0.05),  # 0.1 s after it the run was done
    "writing-evaluation": (lambda s: s.temp("evaluation.npz") or "evaluation.npz" in s.names, 0.0),
    "finishing": (lambda s: "evaluation.json" in s.names, 0.0),
}


def schedule() -> list[tuple[str, float]]:
    """KILLS moments: every kind twice, each with a seeded delay."""
    rng = np.random.default_rng(SEED)
    kinds = [list(MOMENTS)[i % len(MOMENTS)] for i in range(KILLS)]
    return [(kind, float(rng.uniform(0, MOMENTS[kind][1]))) for kind in kinds]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """1,200 train and 500 test digits of whatever MNIST is here, as an npz (loads in milliseconds)."""
    data = load_mnist()
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(
        path,
        x_train=data.x_train[:1200],
        y_train=data.y_train[:1200],
        x_test=data.x_test[:500],
        y_test=data.y_test[:500],
    )
    return path


def kill_at(handle: RunHandle, kind: str, delay: float, timeout: float = 180.0) -> tuple[bool, Seen]:
    """SIGKILL the run's worker at the moment `kind` (+ delay); (whether it was still alive, last look)."""
    process = handle.process
    reached, _ = MOMENTS[kind]
    deadline = time.monotonic() + timeout
    seen = look(handle.path)
    while not reached(seen) and process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{kind}: never reached in {timeout:.0f} s; last look {seen}")
        time.sleep(POLL_S)
        seen = look(handle.path)
    if delay:
        time.sleep(delay)
        seen = look(handle.path)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # its heartbeat's beater (a process of its own) notices within heartbeat.PARENT_CHECK_S and stops;
    # until then it may write one last beat, so the folder is not final before it is gone
    deadline = time.monotonic() + 10
    while beaters(handle.path):
        if time.monotonic() > deadline:
            pytest.fail(f"{kind}: the heartbeat's beater outlived the killed worker by 10 s")
        time.sleep(0.02)
    return alive and process.returncode == -signal.SIGKILL, seen


def beaters(run_path: Path) -> list[int]:
    """The live heartbeat beater processes of the run in `run_path`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0") if proc.name.isdigit() else []
        except OSError:
            continue
        if (
            b"mnist_core.runs.heartbeat" in command
            and str(run_path).encode() in command
            and pid_is_worker(int(proc.name))
        ):
            found.append(int(proc.name))
    return found


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def check_folder(handle: RunHandle) -> None:
    """Every file of a finished run folder is whole and readable."""
    names = sorted(p.name for p in handle.path.iterdir())
    assert not [n for n in names if n.startswith(".")], f"{handle.id}: temp files left: {names}"
    for name in names:
        path = handle.path / name
        if name.endswith(".json"):
            json.loads(path.read_text())  # raises if torn
        elif name.endswith((".keras", ".npz")):
            with zipfile.ZipFile(path) as archive:
                assert archive.testzip() is None, f"{handle.id}/{name} is damaged"
    text = (handle.path / "metrics.jsonl").read_text() if "metrics.jsonl" in names else ""
    lines = text.split("\n")
    whole, tail = lines[:-1], lines[-1]  # tail: "" or a torn last line (no newline yet)
    for line in whole:
        json.loads(line)
    metrics = handle.metrics()  # the reader: whole lines only, a torn tail skipped
    assert len(metrics.batches) + len(metrics.epochs) == len(whole), (handle.id, tail)
    if "evaluation.json" in names:
        assert handle.evaluation() is not None
    handle.config  # noqa: B018 - config.json must give a valid TrainingConfig


def check_model(handle: RunHandle, digits: np.ndarray) -> None:
    from mnist_core.drawing.predict import load_predictor

    path = handle.model_path("best")
    if path is not None:
        probabilities = load_predictor(path).probabilities(digits)
        assert probabilities.shape == (len(digits), 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def settle_unstarted(handle: RunHandle, monkeypatch: pytest.MonkeyPatch) -> str:
    """A worker killed before it recorded its pid looks queued for 30 s; then it is interrupted."""
    assert handle.status().state == "queued"
    real = time.time
    with monkeypatch.context() as mp:
        mp.setattr(runs.time, "time", lambda: real() + 31)
        return handle.status().state


@dataclass(frozen=True)
class Kill:
    number: int
    kind: str
    delay: float
    handle: RunHandle
    alive: bool  # the worker was still running when the SIGKILL came
    seen: Seen  # the folder just before the kill
    state: str  # what load_run(...).status() said afterwards
    digest: dict[str, str]  # the folder's bytes right after its checks

    def __str__(self) -> str:
        temp = "temp file open" if any(n.startswith(".") for n in self.seen.names) else ""
        return (
            f"{self.number:2d} {self.kind:20s} +{self.delay:.3f}s alive={self.alive!s:5s} -> {self.state:11s} "
            f"epoch {self.seen.epoch} {temp:14s} {self.seen.message[:32]!r}"
        )


def kill_one(root: Path, data: Path, number: int, kind: str, delay: float, settle=None) -> Kill:
    """Start a run, kill its worker at the moment, check its folder; the Kill it was."""
    handle = start_run(CONFIG, name=f"kill {number:02d} {kind}", runs_dir_path=root, data_dir=data)
    alive, seen = kill_at(handle, kind, delay)
    state = load_run(handle.id, root).status().state
    if state == "queued" and seen.pid is None and settle is not None:
        state = settle(handle)
    if alive:
        assert state in ("interrupted", "completed"), f"{kind}: {state}"
    if state == "interrupted":
        assert handle.status().message.startswith("The training process ended unexpectedly")
    for other in list_runs(root):  # every run folder of this runs folder, the new one included
        check_folder(other)
    return Kill(number, kind, delay, handle, alive, seen, state, digest(handle.path))


def lane(root: Path, data: Path, moments: list[tuple[int, str, float]], done: queue.Queue) -> None:
    """Kill runs one after another in one runs folder (one run trains at a time per folder)."""
    for number, kind, delay in moments:
        done.put(kill_one(root, data, number, kind, delay))


@pytest.mark.slow
def test_sigkill_at_24_moments_loses_nothing(tmp_path: Path, small_data: Path, monkeypatch) -> None:
    """Two lanes of kills run side by side (each worker spends seconds importing Keras); the
    just-spawned kills go first, alone, because they need a simulated clock."""
    digits = np.load(small_data)["x_test"][:8].astype(np.float32) / 255.0
    moments = [(n, kind, delay) for n, (kind, delay) in enumerate(schedule(), start=1)]
    first = [m for m in moments if m[1] == "just-spawned"]
    rest = [m for m in moments if m[1] != "just-spawned"]
    kills = [
        kill_one(tmp_path / "lane0", small_data, *m, settle=lambda h: settle_unstarted(h, monkeypatch)) for m in first
    ]  # killed before Keras: no model to check
    done: queue.Queue = queue.Queue()
    with ThreadPoolExecutor(LANES) as pool:
        lanes = [pool.submit(lane, tmp_path / f"lane{i}", small_data, rest[i::LANES], done) for i in range(LANES)]
        while not all(f.done() for f in lanes) or not done.empty():
            try:
                kill = done.get(timeout=0.5)
            except queue.Empty:
                continue
            check_model(kill.handle, digits)  # Keras in this thread only, while the lanes kill on
            kills.append(kill)
        for future in lanes:
            future.result()  # re-raise a lane's failure
    for kill in kills:
        assert digest(kill.handle.path) == kill.digest, f"{kill.handle.id} changed after later kills"
    report = "\n".join(str(k) for k in sorted(kills, key=lambda k: k.number))
    print("\n" + report)
    landed = sum(k.alive and k.state == "interrupted" for k in kills)
    assert len(kills) == KILLS and landed >= 20, report
    assert all(runs.active_run(tmp_path / f"lane{i}") is None for i in range(LANES))


def test_a_dead_runs_temp_files_are_removed_when_it_is_found(tmp_path: Path) -> None:
    """What a worker killed mid-write leaves: hidden temp files beside whole real files."""
    files = RunFiles(tmp_path / "20240101-000000-dead")
    files.path.mkdir()
    files.write_meta(CONFIG, "dead", None)
    files.update_status(state="running", created_at=time.time() - 60, pid=2**22 + 12345, epoch=1, epochs=4)
    files.model_file("best").write_bytes(b"whole model")
    leftovers = [".model_best.keras.k2j3h4.keras", ".status.json.a1b2c3.tmp", ".evaluation.npz.x9y8.npz"]
    for name in leftovers + [".config.json.q1w2.tmp"]:  # the last one: an app rename in flight
        (files.path / name).write_bytes(b"half")
    status = RunHandle(files.path).status()
    assert status.state == "interrupted" and "its last checkpoint (epoch 1) is kept" in status.message
    assert sorted(p.name for p in files.path.iterdir()) == [
        ".config.json.q1w2.tmp",
        "config.json",
        "model_best.keras",
        "status.json",
    ]


def test_a_worker_just_started_is_alive_even_while_the_kernel_is_still_inside_exec() -> None:
    """Popen returns when close-on-exec runs, before the new program's arguments are mapped: for that
    instant /proc/PID/cmdline is empty (2 of 300 spawns on this VM). A run read then was marked
    interrupted 4 ms after its hand-out; pid_is_worker waits the exec out."""
    import subprocess
    import sys

    for _ in range(150):
        process = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(5)", "mnist_core.workers.worker"], start_new_session=True
        )
        try:
            assert pid_is_worker(process.pid)
        finally:
            process.kill()
            process.wait()
    assert not pid_is_worker(process.pid)
