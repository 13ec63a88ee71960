"""mnist_core.runs: real training runs in worker processes, and everything a user does with them.

The runs here are tiny (a 32-unit MLP on a few hundred digits) so each costs seconds, most of it
the worker importing TensorFlow.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.runs import (
    RunError,
    RunHandle,
    RunNotFoundError,
    active_run,
    list_runs,
    load_run,
    start_run,
    validate_name,
)
from mnist_core.runs.files import RunFiles
from mnist_core.workers import priority
from mnist_core.workers import process as worker_process

TINY = TrainingConfig(hidden_units=(32,), epochs=2, train_limit=500, batch_size=32, learning_rate=3e-3, seed=7)
LONG = TrainingConfig(hidden_units=(32,), epochs=200, train_limit=2000, batch_size=32, seed=1)
RUN_FILES = {"config.json", "status.json", "metrics.jsonl", "model_best.keras", "model_final.keras",
             "evaluation.json", "evaluation.npz"}  # fmt: skip
BAD_NAMES = [
    ("../evil", "Run name '../evil' is not allowed"),
    ("a/b", "Run name 'a/b' is not allowed"),
    ("a\\b", "Run name 'a\\\\b' is not allowed"),
    ("", "Run name '' is not allowed"),
    ("   ", "Run name '' is not allowed"),
    ("x" * 61, f"Run name '{'x' * 61}' is not allowed"),
    ("tab\there", "Run name 'tab\\there' is not allowed"),
]


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def worker_log(handle: RunHandle) -> str:
    log = handle.path / "worker.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no worker.log)"


def reap(handle: RunHandle) -> None:
    """Collect the worker this test process started, so it leaves no zombie behind."""
    process = getattr(handle, "process", None)
    if process is not None:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runs.RUNS_DIR_ENV, raising=False)


# --- three real runs, started together so their TensorFlow start-ups overlap ------------------


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path):
    """A run to finish, one to stop and one to kill, each in its own runs folder."""
    handles = {
        "finished": start_run(TINY, name="tiny mlp", runs_dir_path=tmp_path_factory.mktemp("finished"),
                              data_dir=mnist_dir),
        "to_stop": start_run(LONG, name="long", runs_dir_path=tmp_path_factory.mktemp("to-stop"), data_dir=mnist_dir),
        "to_kill": start_run(LONG, runs_dir_path=tmp_path_factory.mktemp("to-kill"), data_dir=mnist_dir),
    }  # fmt: skip
    yield handles
    for handle in handles.values():  # whatever a failed test left running
        handle.stop()
    for handle in handles.values():
        reap(handle)


@pytest.fixture(scope="module")
def finished(started: dict[str, RunHandle]) -> RunHandle:
    """A 2-epoch run on 500 real MNIST digits, evaluated on the full test set."""
    handle = started["finished"]
    status = handle.wait(timeout=240)
    assert status.state == "completed", f"{status.message}\n{worker_log(handle)}"
    return handle


# --- a run that is training: busy, delete refused, stop; a run whose worker is killed ---------------


@pytest.mark.slow
def test_stop_while_training(started: dict[str, RunHandle], mnist_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("DIGIT_LAB_TRAINING_SLOTS", "1")
    handle = started["to_stop"]
    root = handle.path.parent
    try:
        wait_for(lambda: handle.status().state == "running" and handle.metrics().batches, 120, "a batch row")
        assert active_run(root).id == handle.id
        worker_nice = os.getpriority(os.PRIO_PROCESS, handle.status().pid)
        assert worker_nice == min(19, os.nice(0) + priority.NICENESS), "the worker trains at a lower priority"
        autogroup = Path(f"/proc/{handle.status().pid}/autogroup")
        if autogroup.exists():  # Linux shares the CPU between sessions first: the worker's session is niced too
            assert autogroup.read_text().split()[-1] == str(priority.NICENESS)
        waiting = start_run(TINY, runs_dir_path=root, data_dir=mnist_dir)  # one slot: it waits its turn
        assert waiting.status().is_waiting and waiting.process is None
        waiting.stop()  # cancelled while it waits: it never starts
        assert waiting.status().state == "stopped" and "never started" in waiting.status().message
        waiting.delete()
        with pytest.raises(RunError, match=r"^Run 'long' is still training; stop it first, then delete it\.$"):
            handle.delete()
        assert len(list_runs(root)) == 1
        progress = handle.progress()
        # ceil(1,800 / 32): 200 of the 2,000 digits are held out for validation
        assert progress.epochs == 200 and 0 < progress.fraction < 0.5 and progress.batches == 57

        asked = time.monotonic()
        handle.stop()
        status = handle.wait(timeout=60)
        took = time.monotonic() - asked
    finally:
        handle.stop()
        reap(handle)
    assert status.state == "stopped", f"{status.message}\n{worker_log(handle)}"
    assert took < 20, f"stopping took {took:.1f} s"
    assert status.message.startswith("Stopped on request; kept the ")
    assert status.epoch < 200 and len(handle.metrics().epochs) < 200
    assert handle.model_path("best") is not None and handle.model_path("final") is not None
    evaluation = handle.evaluation()
    assert evaluation is not None and evaluation.confusion.sum() == 10_000
    assert active_run(root) is None
    handle.delete()
    assert not handle.path.exists() and list_runs(root) == []


@pytest.mark.slow
def test_killed_worker_is_interrupted_and_keeps_its_checkpoint(started: dict[str, RunHandle], mnist_dir: Path):
    keras = pytest.importorskip("keras")
    handle = started["to_kill"]
    try:
        wait_for(lambda: handle.status().epoch >= 1, 180, "the first epoch's checkpoint")
        pid = json.loads((handle.path / "status.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: handle.status().state == "interrupted", 10, "the run to be seen as interrupted")
    finally:
        reap(handle)
    status = handle.status()
    assert re.fullmatch(r"The training process ended unexpectedly \(it was killed or ran out of memory, or the "
                        r"server restarted\); "
                        r"its last checkpoint \(epoch \d+\) is kept\.", status.message)  # fmt: skip
    assert status.ended_at is not None and status.pid is None and status.is_finished
    assert json.loads((handle.path / "status.json").read_text())["state"] == "interrupted"
    assert active_run(handle.path.parent) is None
    model = keras.saving.load_model(handle.model_path("best"), safe_mode=True)
    digits = load_mnist(mnist_dir).x_test[:200].astype(np.float32) / 255.0
    probabilities = model.predict(digits, verbose=0)
    assert probabilities.shape == (200, 10)
    assert np.mean(probabilities.argmax(axis=1) == load_mnist(mnist_dir).y_test[:200]) > 0.5


# --- the completed run and its folder -----------------------------------------------------


@pytest.mark.slow
def test_completed_run_folder_has_every_file(finished: RunHandle) -> None:
    names = {path.name for path in finished.path.iterdir()}
    assert RUN_FILES <= names
    assert not [name for name in names if name.startswith(".")], "temporary files left behind"
    assert "stop.request" not in names


@pytest.mark.slow
def test_config_json_records_what_was_asked(finished: RunHandle, mnist_dir: Path) -> None:
    meta = json.loads((finished.path / "config.json").read_text())
    assert meta == {"config": json.loads(TINY.to_json()), "name": "tiny mlp", "data_dir": str(mnist_dir.resolve())}
    assert finished.config == TINY and finished.name == "tiny mlp"
    assert re.fullmatch(r"\d{8}-\d{6}-tiny-mlp", finished.id)


@pytest.mark.slow
def test_status_json_says_completed_with_message_and_timings(finished: RunHandle) -> None:
    status = finished.status()
    assert status.state == "completed" and status.is_finished and not status.is_active
    assert re.fullmatch(r"Completed 2 epochs; kept the best weights from epoch [12]: test accuracy \d+\.\d\d%\.",
                        status.message)  # fmt: skip
    assert status.created_at <= status.started_at <= status.ended_at <= time.time()
    assert 0 < status.duration_s < 240
    assert (status.epoch, status.epochs) == (2, 2)
    assert "60,000 train, 10,000 test" in status.data_source
    accuracy = json.loads((finished.path / "evaluation.json").read_text())["accuracy"]
    assert f"test accuracy {accuracy:.2%}" in status.message


@pytest.mark.slow
def test_metrics_have_one_row_per_epoch_and_batch_rows(finished: RunHandle) -> None:
    metrics = finished.metrics()
    assert [row["epoch"] for row in metrics.epochs] == [1, 2]
    for row in metrics.epochs:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "t"} <= set(row)
        assert np.isfinite(row["loss"]) and 0 <= row["val_accuracy"] <= 1
        assert row["lr"] == pytest.approx(TINY.learning_rate)
    assert metrics.batches, "no batch rows: the live curve would stay empty"
    for row in metrics.batches:
        assert {"epoch", "batch", "step", "loss", "accuracy", "samples_per_s", "seen", "t"} <= set(row)
        assert row["batches"] == 15 and 1 <= row["batch"] <= 15  # ceil(450 / 32): 50 of 500 held out
    steps = metrics.column("batch", "step")
    assert steps == sorted(steps) and metrics.batches[0]["step"] == 1
    times = [row["t"] for row in sorted(metrics.batches + metrics.epochs, key=lambda r: r["t"])]
    assert times[-1] == metrics.epochs[-1]["t"]
    assert metrics.column("epoch", "epoch") == [1, 2]


@pytest.mark.slow
def test_progress_of_a_completed_run_is_full(finished: RunHandle) -> None:
    progress = finished.progress()
    assert progress.fraction == 1.0 and progress.epochs == 2 and progress.eta_s is None


@pytest.mark.slow
def test_evaluation_covers_the_whole_test_set(finished: RunHandle, mnist_dir: Path) -> None:
    evaluation = finished.evaluation()
    data = load_mnist(mnist_dir)
    assert evaluation.confusion.shape == (10, 10) and evaluation.confusion.sum() == 10_000
    np.testing.assert_array_equal(evaluation.confusion.sum(axis=1), np.bincount(data.y_test, minlength=10))
    assert evaluation.accuracy == pytest.approx(np.trace(evaluation.confusion) / 10_000)
    assert [row["digit"] for row in evaluation.per_class] == list(range(10))
    assert sum(row["support"] for row in evaluation.per_class) == 10_000
    np.testing.assert_array_equal(evaluation.labels, data.y_test)
    np.testing.assert_array_equal(evaluation.images, data.x_test)
    assert evaluation.probabilities.shape == (10_000, 10)
    stored = json.loads((finished.path / "evaluation.json").read_text())
    assert stored["n"] == 10_000 and len(stored["per_class"]) == 10 and len(stored["confusion"]) == 10
    assert evaluation.accuracy > 0.5  # 2 epochs on 500 digits: well above chance


@pytest.mark.slow
@pytest.mark.parametrize("which", ["best", "final"])
def test_models_load_safely_and_predict(finished: RunHandle, mnist_dir: Path, which: str) -> None:
    keras = pytest.importorskip("keras")
    model = keras.saving.load_model(finished.model_path(which), safe_mode=True)
    data = load_mnist(mnist_dir)
    probabilities = model.predict(data.x_test.astype(np.float32) / 255.0, batch_size=2000, verbose=0)
    assert probabilities.shape == (10_000, 10)
    if which == "best":  # the evaluation is the best model's
        accuracy = float(np.mean(probabilities.argmax(axis=1) == data.y_test))
        assert accuracy == pytest.approx(finished.evaluation().accuracy, abs=2e-4)


@pytest.mark.slow
def test_same_config_and_seed_train_the_same(finished: RunHandle, tmp_path: Path, mnist_dir: Path) -> None:
    """A second run of the same config (in this process, not a worker) gives the same numbers."""
    pytest.importorskip("keras")
    from mnist_core.training import train

    twin = tmp_path / "20200101-000000-twin"
    twin.mkdir()
    files = RunFiles(twin)
    files.write_meta(TINY, "twin", str(mnist_dir))
    files.update_status(state="queued", created_at=time.time(), epochs=TINY.epochs)
    assert train(twin) == "completed"
    mine, theirs = RunHandle(twin).metrics().epochs, finished.metrics().epochs
    assert len(mine) == len(theirs) == 2
    for a, b in zip(mine, theirs, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
    assert RunHandle(twin).evaluation().accuracy == finished.evaluation().accuracy


@pytest.mark.slow
def test_list_load_and_active(finished: RunHandle) -> None:
    root = finished.path.parent
    assert [handle.id for handle in list_runs(root)] == [finished.id]
    assert load_run(finished.id, root).path == finished.path
    assert active_run(root) is None


@pytest.mark.slow
@pytest.mark.parametrize(("bad", "message"), BAD_NAMES, ids=["dotdot", "slash", "backslash", "empty", "blank",
                                                            "61-chars", "tab"])  # fmt: skip
def test_rename_refuses_bad_names(finished: RunHandle, bad: str, message: str) -> None:
    with pytest.raises(RunError, match=re.escape(message)):
        finished.rename(bad)
    assert finished.name == "tiny mlp"
    assert [p.name for p in finished.path.parent.iterdir() if p.is_dir()] == [finished.id]


@pytest.mark.slow
def test_rename_changes_only_the_display_name(finished: RunHandle) -> None:
    finished.rename("  Première (v2) #1 @home  ")
    assert finished.name == "Première (v2) #1 @home"
    assert load_run(finished.id, finished.path.parent).name == "Première (v2) #1 @home"
    assert finished.config == TINY
    finished.rename("x" * 60)
    assert finished.name == "x" * 60
    finished.rename("tiny mlp")


# --- runs that never train: names, unwritable folders, dead workers ---------------------------------


@pytest.mark.parametrize(("bad", "message"), BAD_NAMES[:3], ids=["dotdot", "slash", "backslash"])
def test_start_with_bad_name_creates_nothing(tmp_path: Path, bad: str, message: str) -> None:
    with pytest.raises(RunError, match=re.escape(message)):
        start_run(TINY, name=bad, runs_dir_path=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_failing_prepare_leaves_no_run_and_starts_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spawned = use_launcher(monkeypatch, RecordingLauncher()).launched

    def disk_full(handle: RunHandle) -> None:
        (handle.path / "snapshot.npz").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        start_run(TINY, name="fine-tune", runs_dir_path=tmp_path, prepare=disk_full)
    assert spawned == [] and list_runs(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    handle = start_run(TINY, name="fine-tune", runs_dir_path=tmp_path, prepare=lambda h: None)
    assert spawned == [handle.id]  # the lock was released: the next start works


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "blocker").write_text("a file, not a folder")
    return tmp_path / "blocker" / "runs"


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "runs").write_text("a file, not a folder")
    return tmp_path / "runs"


@pytest.mark.parametrize(
    ("make_root", "reason"), [(_under_a_file, "Not a directory"), (_a_file, "File exists")], ids=["under-file", "file"]
)
def test_start_in_unwritable_runs_dir_says_what_to_do(tmp_path: Path, make_root, reason: str) -> None:
    root = make_root(tmp_path)
    with pytest.raises(RunError) as caught:
        start_run(TINY, runs_dir_path=root)
    assert str(caught.value) == (
        f"Cannot write to the runs folder {root}: {reason}. "
        "Make it writable or point DIGIT_LAB_RUNS_DIR at a writable folder."
    )


def test_start_in_read_only_runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod does not stop root, so simulate the refusal the OS gives a normal user."""

    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    with pytest.raises(RunError, match=re.escape(f"Cannot write to the runs folder {tmp_path}: Permission denied.")):
        start_run(TINY, runs_dir_path=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("run_id", "message"),
    [("20990101-000000-nope", "No run '20990101-000000-nope' in"), ("../etc", "No run '../etc' in"),
     ("", "No run '' in")],
    ids=["unknown", "path", "empty"],
)  # fmt: skip
def test_load_run_unknown_id(tmp_path: Path, run_id: str, message: str) -> None:
    with pytest.raises(RunNotFoundError, match=re.escape(message)) as caught:
        load_run(run_id, tmp_path)
    assert "`python -m mnist_core runs` lists the runs." in str(caught.value)


def test_runs_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert runs.runs_dir() == tmp_path / "runs"
    monkeypatch.setenv(runs.RUNS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert runs.runs_dir() == tmp_path / "elsewhere"
    assert runs.runs_dir("given") == tmp_path / "given"
    assert list_runs() == []


def test_validate_name_accepts_the_documented_characters() -> None:
    assert validate_name(" a-b_c.d,e (f)+g=h#i@j ") == "a-b_c.d,e (f)+g=h#i@j"
    assert validate_name("x" * 60) == "x" * 60


def test_same_second_runs_with_long_names_can_be_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20240101-120000")  # both in the same second
    name = "a very long experiment name that fills the slug"
    first = runs._create_run_folder(tmp_path, TINY, name, None)
    second = runs._create_run_folder(tmp_path, TINY, name, None)
    assert second.id == first.id + "-2"
    for handle in (first, second):
        assert load_run(handle.id, tmp_path).path == handle.path


def test_runs_named_for_the_same_second_get_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 32: two people pressing Start in the same second both got "mlp 12:00:00"."""
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20240101-120000")
    names = [runs._create_run_folder(tmp_path, TINY, None, None).name for _ in range(3)]
    assert names == ["mlp 12:00:00", "mlp 12:00:00 (2)", "mlp 12:00:00 (3)"]
    assert runs._create_run_folder(tmp_path, TINY, "mine", None).name == "mine"  # a name given is kept as given


def test_relative_data_dir_is_stored_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs in another folder, so `--data-dir mnist` must mean the caller's ./mnist."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    handle = runs._create_run_folder(tmp_path / "runs", TINY, None, "mnist")
    assert handle.files.data_dir() == str(tmp_path / "mnist")


def _fake_run(root: Path, run_id: str, **status) -> RunHandle:
    path = root / run_id
    path.mkdir(parents=True)
    files = RunFiles(path)
    files.write_meta(TINY, run_id, None)
    files.update_status(**{"message": "Training…", "epochs": 2, **status})
    return RunHandle(path)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def stranger():
    """A live process that is not a Digit Lab worker (a pid reused after a reboot)."""
    process = subprocess.Popen(["sleep", "60"])
    yield process.pid
    process.kill()
    process.wait()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"state": "running", "pid": "dead", "epoch": 1}, "interrupted"),
        ({"state": "running", "pid": "stranger"}, "interrupted"),
        ({"state": "queued", "pid": None, "age": 120, "handed": True}, "interrupted"),
        ({"state": "queued", "pid": None, "age": 0, "handed": True}, "queued"),
        ({"state": "queued", "pid": None, "age": 120}, "queued"),
        ({"state": "completed", "pid": "dead"}, "completed"),
    ],
    ids=["running-dead-pid", "running-foreign-pid", "handed-never-started", "handed-just-now", "waiting", "completed"],
)
def test_runs_whose_worker_is_gone_are_interrupted(tmp_path: Path, stranger: int, status: dict, expected: str):
    pid = {"dead": _dead_pid(), "stranger": stranger, None: None}[status["pid"]]
    created = time.time() - status.get("age", 60)
    fields = {k: v for k, v in status.items() if k not in ("pid", "age", "handed")}
    if status.get("handed"):  # handed to a worker (that never started); without it the run waits its turn
        fields["handed_at"] = created
    handle = _fake_run(tmp_path, "20200101-000000-fake", pid=pid, created_at=created, **fields)
    assert [h.status().state for h in list_runs(tmp_path)] == [expected]
    stored = json.loads((handle.path / "status.json").read_text())
    assert stored["state"] == expected  # written back, so every reader agrees
    if expected == "interrupted":
        assert handle.status().message.startswith("The training process ended unexpectedly")
        assert "no checkpoint was saved yet" in handle.status().message
        assert active_run(tmp_path) is None


@pytest.mark.slow
def test_batch_larger_than_the_embedded_data_fails_clearly(tmp_path: Path, monkeypatch) -> None:
    """Marked embedded: data_dir=None and no MNIST_DATA_DIR or Keras cache, so the 5k sample is used."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    handle = start_run(TrainingConfig(batch_size=5000, epochs=1), runs_dir_path=tmp_path / "runs")
    status = handle.wait(timeout=120)
    reap(handle)
    assert status.state == "failed"
    assert status.message == (
        "Training failed: batch_size 5000 is larger than the 3,600 training digits "
        "(4,000 less the 400 held out for validation); choose a batch size of at most 3,600."
    )
    assert status.ended_at is not None and handle.evaluation() is None and handle.model_path() is None
    handle.delete()
    assert list_runs(tmp_path / "runs") == []


def test_a_worker_that_dies_while_starting_shows_as_interrupted_at_once(tmp_path: Path, monkeypatch) -> None:
    """The launcher records the worker's pid, so a run is not left 'queued' for 30 s by a dead worker."""
    monkeypatch.setattr(
        worker_process.sys, "executable", "/bin/sh"
    )  # `sh -m mnist_core.workers.worker DIR`: exits at once
    handle = start_run(TINY, name="dies at start", runs_dir_path=tmp_path)
    reap(handle)
    assert json.loads((handle.path / "status.json").read_text())["pid"] == handle.process.pid
    status = handle.status()
    assert status.state == "interrupted" and time.time() - status.created_at < 25
    assert status.message.startswith("The training process ended unexpectedly")
