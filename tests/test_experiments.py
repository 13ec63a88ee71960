"""Experiments (issue 15): plan, queue as one place, compare, stop as a whole, export; the Train page shows them.

The queue's hand-outs are recorded (tests/queue_utils.py); the last test runs a 2 × 2 experiment with real
worker processes."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from queue_utils import RecordingLauncher, stop_everything, use_launcher
from streamlit.testing.v1 import AppTest

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import Person
from mnist_core.runs import experiments
from mnist_core.runs import queue as run_queue
from mnist_core.runs.evaluation import save_evaluation
from mnist_core.storage import append_jsonl

ROOT = Path(__file__).resolve().parent.parent
TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=200, batch_size=50)
NOTEBOOK = {"batch_size": ["10", "128"], "epochs": ["2", "5"]}  # seed notebook 002's lesson
ANN = Person("https://idp|ann", "ann@school.example", "Ann")


@pytest.fixture
def launcher(monkeypatch):
    monkeypatch.delenv(run_queue.PER_PERSON_ENV, raising=False)
    return use_launcher(monkeypatch, RecordingLauncher(slots=1))


def test_plan_is_every_combination_applied_to_the_base():
    planned = experiments.plan(TINY, NOTEBOOK)
    assert [values for values, _ in planned] == [
        {"batch_size": "10", "epochs": "2"},
        {"batch_size": "10", "epochs": "5"},
        {"batch_size": "128", "epochs": "2"},
        {"batch_size": "128", "epochs": "5"},
    ]
    assert [(c.batch_size, c.epochs, c.hidden_units) for _, c in planned] == [
        (10, 2, (8,)), (10, 5, (8,)), (128, 2, (8,)), (128, 5, (8,))
    ]  # fmt: skip
    hidden = experiments.plan(TINY, {"hidden_units": ["32", "64", "512", "784"]})
    assert [c.hidden_units for _, c in hidden] == [(32,), (64,), (512,), (784,)]


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({}, "Pick one or two knobs"),
        ({"a": ["1", "2"], "b": ["1", "2"], "c": ["1", "2"]}, "Pick one or two knobs"),
        ({"data_dir": ["1", "2"]}, "'data_dir' cannot be varied"),
        ({"epochs": ["5"]}, r"between 2 and 6 different values \(it has 1\)"),
        ({"epochs": ["5", "5 ", ""]}, r"it has 1\)"),
        ({"epochs": ["two", "5"]}, "epochs='two'"),
        ({"dropout": ["0.2", "1.5"]}, "dropout=1.5"),
        ({"epochs": [str(i) for i in range(1, 6)], "seed": [str(i) for i in range(5)]}, "25 runs; an experiment"),
    ],
)
def test_a_bad_plan_says_what_to_change(knobs, message):
    with pytest.raises(experiments.ExperimentError, match=message):
        experiments.plan(TINY, knobs)


def test_an_experiment_queues_its_runs_as_one_place(tmp_path, launcher, monkeypatch):
    monkeypatch.setenv(run_queue.PER_PERSON_ENV, "1")
    experiment = experiments.start_experiment(TINY, NOTEBOOK, "batch x epochs", tmp_path, owner=ANN)
    assert len(experiment.runs) == 4 and launcher.launched == [experiment.runs[0].id]
    names = [h.name for h in experiment.runs]
    assert names[0] == "batch x epochs (batch_size=10, epochs=2)"
    entry = json.loads((experiment.runs[3].path / "config.json").read_text())["experiment"]
    assert entry == {"id": experiment.id, "name": "batch x epochs", "knobs": ["batch_size", "epochs"],
                     "values": {"batch_size": "128", "epochs": "5"}}  # fmt: skip
    with pytest.raises(runs.RunQueueFullError):  # the experiment holds Ann's one place
        runs.start_run(TINY, "one more", tmp_path, owner=ANN)
    assert [e.id for e in experiments.list_experiments(tmp_path, ANN)] == [experiment.id]
    assert experiments.list_experiments(tmp_path, Person("https://idp|bob")) == []


def test_stopping_an_experiment_stops_every_run(tmp_path, launcher):
    experiment = experiments.start_experiment(TINY, NOTEBOOK, "stop me", tmp_path, owner=ANN)
    experiments.load_experiment(experiment.id, tmp_path, ANN).stop()
    states = [h.status().state for h in experiment.runs]
    assert states[1:] == ["stopped"] * 3  # the waiting ones are cancelled
    assert (experiment.runs[0].path / "stop.request").exists()  # the one handed out is asked to stop
    bob = Person("https://idp|bob")
    experiment.share()
    with pytest.raises(runs.RunPermissionError):
        experiments.load_experiment(experiment.id, tmp_path, bob).stop()


def finish(handle: runs.RunHandle, accuracy_shift: float) -> None:
    from test_pages import fake_evaluation

    evaluation = fake_evaluation(seed=int(accuracy_shift * 100))
    save_evaluation(handle.path, evaluation)
    append_jsonl(handle.files.metrics, [{"kind": "epoch", "epoch": 1, "t": 1.0, "loss": 0.5, "accuracy": 0.9,
                                         "val_loss": 0.6, "val_accuracy": 0.88, "lr": 1e-3}])  # fmt: skip
    now = time.time()
    handle.files.update_status(state="completed", started_at=now - 12, ended_at=now, epoch=1, message="Completed.")


def test_the_train_page_compares_the_four_runs(tmp_path, launcher, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path))
    st.cache_data.clear()
    experiment = experiments.start_experiment(TINY, NOTEBOOK, "batch x epochs", tmp_path)
    for i, handle in enumerate(experiment.runs):
        finish(handle, i / 10)
    cells = experiments.load_experiment(experiment.id, tmp_path).cells()
    assert [c.state for c in cells] == ["completed"] * 4 and all(0 < c.accuracy <= 1 for c in cells)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert any("4 of 4 runs finished" in m.value for m in at.markdown)
    table = next(d.value for d in at.dataframe if "batch_size" in d.value.columns)
    assert list(table.columns[:2]) == ["batch_size", "epochs"] and len(table) == 4
    assert list(table["accuracy"]) == [f"{c.accuracy:.2%}" for c in cells]
    chart = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("exp_chart")).proto.spec)
    heatmap = chart["data"][0]
    assert heatmap["type"] == "heatmap" and heatmap["x"] == ["2", "5"] and heatmap["y"] == ["10", "128"]
    assert heatmap["z"] == [[cells[0].accuracy, cells[1].accuracy], [cells[2].accuracy, cells[3].accuracy]]
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert not buttons["Export as notebook"].disabled  # the grid as one notebook (tests/test_notebook_experiment.py)
    import nbformat

    from ui.experiment_panel import experiment_notebook_bytes  # what the button gives, made only when pressed

    nbformat.validate(nbformat.reads(experiment_notebook_bytes(experiment).decode(), as_version=4))
    exported = tmp_path / "experiment.zip"
    experiments.export_experiment_zip(experiment, exported)
    with zipfile.ZipFile(exported) as archive:
        assert sorted(archive.namelist()) == sorted(f"{h.id}.zip" for h in experiment.runs)


@pytest.mark.slow
def test_a_two_by_two_experiment_trains_with_real_workers(tmp_path, monkeypatch, request):
    monkeypatch.setenv(run_queue.SLOTS_ENV, "2")
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-cache"))  # the embedded sample: a fast evaluation
    knobs = {"hidden_units": ["8", "16"], "batch_size": ["50", "100"]}
    experiment = experiments.start_experiment(TINY, knobs, "real", tmp_path / "runs")
    request.addfinalizer(lambda: stop_everything(tmp_path / "runs"))  # a failed test leaves no worker behind
    deadline = time.monotonic() + 480  # ~1 min on an idle 2-core machine
    while experiment.is_active and time.monotonic() < deadline:
        runs.dispatch(tmp_path / "runs")
        time.sleep(0.5)
    cells = experiment.cells()
    logs = [
        (h.path / "worker.log").read_text(errors="replace")[-1500:]
        for h in experiment.runs
        if (h.path / "worker.log").exists()
    ]
    assert [c.state for c in cells] == ["completed"] * 4, logs
    assert [c.accuracy for c in cells] == [h.evaluation().accuracy for h in experiment.runs]  # each its test score
    assert all(0.0 < c.accuracy <= 1.0 for c in cells)
    workers = [h.status().worker for h in experiment.runs]
    assert all(workers) and len(set(workers)) <= 2  # two slots: warm workers train the four runs in turn
