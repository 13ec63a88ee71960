"""The run-file schema (issue 13, item 1): real files pass; damaged ones raise DamagedRunFile and nothing else."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_core.config import TrainingConfig
from mnist_core.runs.arrays import check_evaluation_arrays
from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation
from mnist_core.runs.files import RunFiles
from mnist_core.runs.schema import (
    MAX_BYTES,
    DamagedRunFile,
    read_evaluation_summary,
    read_meta,
    read_metrics,
    read_status,
    read_watch,
)
from mnist_core.training.watch import DigitWatcher

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BATCH = {"kind": "batch", "epoch": 1, "batch": 10, "batches": 469, "step": 10, "seen": 1280,
         "samples_per_s": 3400.5, "t": 1.25, "loss": 0.8, "accuracy": 0.71}  # fmt: skip
EPOCH = {"kind": "epoch", "epoch": 1, "t": 9.5, "epoch_s": 9.4, "loss": 0.3, "accuracy": 0.91,
         "val_loss": 0.25, "val_accuracy": 0.93, "lr": 0.001}  # fmt: skip


def real_run(folder: Path) -> RunFiles:
    """A run folder written by Digit Lab's own writers."""
    files = RunFiles(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files.write_meta(TrainingConfig(), "cnn 12:00:00", None)
    times = {"created_at": 1.7e9, "started_at": 1.7e9 + 1, "ended_at": 1.7e9 + 60}
    files.update_status(state="completed", message="Completed 5 epochs.", epoch=5, epochs=5, pid=None, **times)
    files.metrics.write_text("\n".join(json.dumps(row) for row in (BATCH, EPOCH)) + "\n")
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), 50).astype(np.float32)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    save_evaluation(folder, evaluate_probabilities(probabilities, np.arange(50) % 10, images))
    watcher = DigitWatcher(folder / "watch.json", images[:20] / 255.0, np.arange(20) % 10)
    watcher.record(0, probabilities[:20], 0.01)
    watcher.record(1, probabilities[20:40], 0.01)
    return files


def test_files_digit_lab_writes_pass(tmp_path: Path) -> None:
    real_run(tmp_path / "run")
    run = tmp_path / "run"
    assert read_status(run / "status.json").state == "completed"
    assert read_meta(run / "config.json").name == "cnn 12:00:00"
    metrics = read_metrics(run / "metrics.jsonl")
    assert (len(metrics.batches), len(metrics.epochs), metrics.skipped, metrics.truncated) == (1, 1, 0, False)
    summary = read_evaluation_summary(run / "evaluation.json")
    check_evaluation_arrays(run / "evaluation.npz", summary)
    assert len(read_watch(run / "watch.json").rows) == 2


# ---------------------------------------------------------------- the examples, spelled out
def edited(path: Path, **changes) -> Path:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return path


@pytest.mark.parametrize(
    ("file", "changes", "message"),
    [
        ("evaluation.json", {"accuracy": "abc"}, "evaluation.json: accuracy: Input should be a valid number."),
        ("status.json", {"created_at": "yesterday"}, "status.json: created_at: Input should be a valid number."),
        (
            "status.json",
            {"ended_at": 1e300},
            "status.json: ended_at: Input should be less than or equal to 4000000000.",
        ),
        ("status.json", {"epoch": [1, 2]}, "status.json: epoch: Input should be a valid integer."),
        ("status.json", {"state": "exploded"}, "status.json: state: Input should be 'queued', 'running', 'completed',"),
        ("config.json", {"config": {"epochs": "5"}}, "config.json: config: Value error, not a valid training config"),
        ("watch.json", {"labels": [99]}, "watch.json: labels.0: Input should be less than or equal to 9"),
    ],
)
def test_damaged_values_name_the_file_and_field(tmp_path: Path, file: str, changes: dict, message: str) -> None:
    real_run(tmp_path / "run")
    path = edited(tmp_path / "run" / file, **changes)
    reader = {"status.json": read_status, "config.json": read_meta, "evaluation.json": read_evaluation_summary,
              "watch.json": read_watch}[file]  # fmt: skip
    with pytest.raises(DamagedRunFile) as error:
        reader(path)
    assert str(error.value).startswith(message)


def test_metrics_rows_of_the_wrong_types_or_bytes_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    bad = [{**EPOCH, "loss": "abc"}, {**EPOCH, "epoch": 1.5}, {**BATCH, "seen": -1}, {"kind": "nonsense"}, [1, 2], 7]
    lines = [json.dumps(row).encode() for row in (BATCH, *bad, EPOCH)] + [b"\xff\xfe not utf-8", b"{torn", b"[" * 5000]
    path.write_bytes(b"\n".join(lines) + b"\n")
    metrics = read_metrics(path)
    assert (len(metrics.batches), len(metrics.epochs), metrics.skipped) == (1, 1, 9)


def test_a_huge_metrics_file_is_read_only_so_far(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(MAX_BYTES, "metrics.jsonl", 10_000)
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({**EPOCH, "epoch": i}) + "\n" for i in range(1, 1_001)))
    metrics = read_metrics(path)
    assert metrics.truncated and metrics.skipped == 0 and 0 < len(metrics.epochs) < 1_000
    assert metrics.epochs[-1].epoch == 1_000  # the latest rows are the ones kept


def test_an_oversized_or_deep_file_is_damaged(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text(" " * (MAX_BYTES["status.json"] + 1))
    with pytest.raises(DamagedRunFile, match="larger than 16,384 bytes"):
        read_status(tmp_path / "status.json")
    (tmp_path / "status.json").write_text("[" * 5_000 + "]" * 5_000)
    with pytest.raises(DamagedRunFile, match="nested more than 8 levels deep"):
        read_status(tmp_path / "status.json")


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (dict(labels=np.full(50, 99)), "labels must be digits 0-9; one is 99"),
        (dict(labels=np.arange(49) % 10), "labels has shape (49,); expected (50,)"),
        (dict(probabilities=np.full((50, 10), np.nan, np.float32)), "probabilities must be finite numbers in [0, 1]"),
        (dict(images=np.zeros((50, 28, 28), np.float32)), "images uint8"),
        (dict(labels=(np.arange(50) + 1) % 10), "do not match evaluation.json's confusion matrix"),
    ],
)
def test_evaluation_arrays_that_disagree_are_damaged(tmp_path: Path, arrays: dict, message: str) -> None:
    run = tmp_path / "run"
    real_run(run)
    with np.load(run / "evaluation.npz") as stored:
        np.savez(run / "evaluation.npz", **{**dict(stored), **arrays})
    with pytest.raises(DamagedRunFile, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        check_evaluation_arrays(run / "evaluation.npz", read_evaluation_summary(run / "evaluation.json"))


# ---------------------------------------------------------------- property: nothing but DamagedRunFile
DAMAGED = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(),
    st.sampled_from([1e300, -1e300, math.inf, -math.inf, math.nan, -0.0, 2**63]),
    st.text(max_size=30), st.binary(max_size=10).map(lambda b: b.decode("latin-1")),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=2), max_leaves=20),
)  # fmt: skip


def damaged_file(valid: dict) -> st.SearchStrategy[bytes]:
    """A valid file's JSON with one field replaced by a damaged value, one field removed, or junk bytes."""
    keys = sorted(valid)
    replaced = st.tuples(st.sampled_from(keys), DAMAGED).map(lambda kv: {**valid, kv[0]: kv[1]})
    removed = st.sampled_from(keys).map(lambda k: {key: v for key, v in valid.items() if key != k})
    as_json = st.one_of(replaced, removed).map(lambda value: json.dumps(value).encode())
    junk = st.one_of(st.binary(max_size=200), DAMAGED.map(lambda v: json.dumps(v).encode()))
    return st.one_of(as_json, junk)


def valid_files(folder: Path) -> dict[str, dict]:
    real_run(folder)
    return {name: json.loads((folder / name).read_text()) for name in READERS}


READERS = {"status.json": read_status, "config.json": read_meta, "evaluation.json": read_evaluation_summary,
           "watch.json": read_watch}  # fmt: skip
VALID = valid_files(Path(__import__("tempfile").mkdtemp()) / "run")


@pytest.mark.parametrize("file", sorted(READERS))
def test_damaged_json_files_raise_only_damaged_run_file(tmp_path: Path, file: str) -> None:
    @EXAMPLES
    @given(data=damaged_file(VALID[file]))
    def check(data: bytes) -> None:
        path = tmp_path / file
        path.write_bytes(data)
        try:
            READERS[file](path)
        except DamagedRunFile:
            pass

    check()


@EXAMPLES
@given(row=st.sampled_from([BATCH, EPOCH]).flatmap(lambda valid: damaged_file(valid)), tail=st.binary(max_size=50))
def test_damaged_metrics_rows_are_skipped_never_raised(tmp_path: Path, row: bytes, tail: bytes) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(json.dumps(EPOCH).encode() + b"\n" + row.replace(b"\n", b" ") + b"\n" + tail)
    metrics = read_metrics(path)
    assert metrics.epochs[0].epoch == 1  # the good row before the damaged one survives
