"""Issue 32: an outside model is evaluated apart from the server (a child process, the lowest priority, one
thread, one at a time, a time limit), so one person's heavy model cannot slow every page."""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_core.checks.model_files import ModelLoadError
from mnist_core.runs import evaluation_apart
from mnist_core.runs.evaluation import evaluate_model_file, stored_evaluation_path
from mnist_core.runs.evaluation_apart import evaluate_apart


@pytest.fixture
def model_and_data(tmp_path: Path) -> tuple[Path, Path]:
    from mnist_core.config import TrainingConfig
    from mnist_core.models import build_model

    model_path = tmp_path / "upload-0123456789abcdef.keras"
    build_model(TrainingConfig(architecture="mlp", hidden_units=(16,))).save(model_path)
    rng = np.random.default_rng(2)
    data_path = tmp_path / "mnist.npz"
    np.savez(
        data_path,
        x_train=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 100),
        x_test=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 300),
    )
    return model_path, data_path


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(autouse=True)
def forget_failures():
    evaluation_apart._FAILED.clear()
    yield
    evaluation_apart._FAILED.clear()


def refuse_to_spawn(*args, **kwargs):
    raise AssertionError("a child process was started")


def test_an_outside_model_is_evaluated_in_a_child_process_with_the_same_result(model_and_data, monkeypatch) -> None:
    model_path, data_path = model_and_data
    server_before, children_before = cpu_s(resource.RUSAGE_SELF), cpu_s(resource.RUSAGE_CHILDREN)
    apart, source = evaluate_apart(model_path, data_path)
    server_s, children_s = (
        cpu_s(resource.RUSAGE_SELF) - server_before,
        cpu_s(resource.RUSAGE_CHILDREN) - children_before,
    )
    assert children_s > 1.0 and server_s < children_s / 4, f"server {server_s:.2f} s, child {children_s:.2f} s of CPU"
    assert "mnist.npz" in source and apart.n == 300
    here, _ = evaluate_model_file(model_path, data_path)  # in this process: the same numbers
    assert np.allclose(apart.probabilities, here.probabilities, atol=1e-5) and apart.accuracy == here.accuracy
    assert stored_evaluation_path(model_path).is_file()

    monkeypatch.setattr(subprocess, "run", refuse_to_spawn)  # the next view reads the stored probabilities
    again, _ = evaluate_apart(model_path, data_path)
    assert np.array_equal(again.probabilities, apart.probabilities)


def test_a_model_that_runs_past_the_time_limit_is_stopped_and_costs_its_time_once(model_and_data, monkeypatch) -> None:
    model_path, data_path = model_and_data
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match=r"took longer than 1 s, so it was stopped") as raised:
        evaluate_apart(model_path, data_path, time_limit_s=1.0)
    assert time.monotonic() - start < 3.0
    assert "python -m mnist_core evaluate" in str(raised.value)
    assert not stored_evaluation_path(model_path).exists()

    monkeypatch.setattr(subprocess, "run", refuse_to_spawn)  # remembered by its digest, under any name
    copy = model_path.with_name("upload-fedcba9876543210.keras")
    copy.write_bytes(model_path.read_bytes())
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match="took longer than"):
        evaluate_apart(copy, data_path)
    assert time.monotonic() - start < 0.5


def test_a_model_the_child_cannot_load_is_refused_with_its_message(model_and_data) -> None:
    _, data_path = model_and_data
    bad = data_path.with_name("upload-1111111111111111.keras")
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelLoadError, match="is not a Keras .keras file") as raised:
        evaluate_apart(bad, data_path)
    assert "Traceback" not in str(raised.value) and "\n" not in str(raised.value)


def test_one_evaluation_at_a_time_and_a_busy_server_is_not_held_against_the_model(model_and_data) -> None:
    model_path, data_path = model_and_data
    assert evaluation_apart._SLOTS.acquire(timeout=5)  # someone else's model is being evaluated
    try:
        with pytest.raises(ModelLoadError, match="busy evaluating other people's models"):
            evaluate_apart(model_path, data_path, time_limit_s=0.3)
    finally:
        evaluation_apart._SLOTS.release()
    results = []
    threads = [threading.Thread(target=lambda: results.append(evaluate_apart(model_path, data_path))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 2  # the second read what the first stored, not a second child's work
    assert np.array_equal(results[0][0].probabilities, results[1][0].probabilities)
