"""Lessons: the built-in ones, hostile lesson files refused whole, locks the engine enforces, gates it checks
from a person's runs, progress kept per person, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.lessons.files import MAX_BYTES, LessonError, builtin_names, load_lesson, parse_lesson
from mnist_core.lessons.gates import best_accuracy, gate_passed, lesson_runs
from mnist_core.lessons.locks import LessonLockError, lesson_config
from mnist_core.lessons.progress import advance, read_progress
from mnist_core.people import Person
from mnist_core.presets import PRESETS
from mnist_core.runs import experiments
from mnist_core.runs import queue as run_queue
from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation

REPO = Path(__file__).resolve().parents[1]
ANN = Person("https://idp|ann", "ann@school.example", "Ann")
BEN = Person("https://idp|ben", "ben@school.example", "Ben")
BASE = {"version": 1, "name": "mine", "title": "Mine", "audience": "a class", "preset": "seed000"}
STEP = {"title": "Train", "text": "Press **Start**.", "do": "start_run"}


def lesson_bytes(**changes) -> bytes:
    return json.dumps({**BASE, "steps": [STEP], **changes}).encode()


@pytest.fixture
def launcher(monkeypatch):
    monkeypatch.delenv(run_queue.PER_PERSON_ENV, raising=False)
    return use_launcher(monkeypatch, RecordingLauncher(slots=1))


def finish(handle: runs.RunHandle, accuracy: float) -> None:
    """Mark a queued run completed with a test-set evaluation of about `accuracy`."""
    n = 1000
    labels = np.arange(n) % 10
    answers = np.where(np.arange(n) < round(accuracy * n), labels, (labels + 1) % 10)
    probabilities = np.full((n, 10), 0.01)
    probabilities[np.arange(n), answers] = 0.91
    save_evaluation(handle.path, evaluate_probabilities(probabilities, labels, np.zeros((n, 28, 28), np.uint8)))
    now = time.time()
    handle.files.update_status(state="completed", started_at=now - 5, ended_at=now, message="Completed.")


@pytest.mark.parametrize("name", ["seed000", "seed001", "seed002", "seed003", "draw"])
def test_every_built_in_lesson_loads_and_its_gates_are_reachable_on_the_embedded_sample(name: str) -> None:
    assert name in builtin_names()
    lesson = load_lesson(name)
    assert lesson.steps and all(step.text.strip() for step in lesson.steps)
    assert lesson.config() == PRESETS[lesson.preset].config.replace(**lesson.overrides)
    for step in lesson.steps:
        if step.gate and step.gate.kind == "run_accuracy":  # what the preset reaches there, with room to spare
            assert step.gate.min_accuracy <= PRESETS[lesson.preset].expected_embedded - 0.01
    if name.startswith("seed"):
        assert name in lesson.steps[0].text  # cites its preset
        assert any("%" in step.text for step in lesson.steps[:2])  # and the number its notebook got


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lesson_bytes(controls={"warp_drive": "hidden"}), "controls warp_drive [key]: Input should be"),
        (lesson_bytes(controls={"optimizer": "invisible"}), "controls optimizer: Input should be 'shown', 'locked'"),
        (lesson_bytes(overrides={"dropout": 3}), "its starting settings are not a config Digit Lab can train: dropout"),
        (lesson_bytes(overrides={"batch_size": 10**9}), "batch_size is 1000000000; it must be in"),
        (lesson_bytes(preset="seed999"), "preset: Input should be 'seed000'"),
        (lesson_bytes(steps=[{**STEP, "text": "see [here](https://evil.example)"}]), "steps 1 text: holds a link"),
        (lesson_bytes(steps=[{**STEP, "text": "![x](x.png)"}]), "steps 1 text: holds an image"),
        (lesson_bytes(steps=[{**STEP, "text": "<script>alert(1)</script>"}]), "steps 1 text: holds HTML"),
        (lesson_bytes(steps=[{**STEP, "text": "go to javascript:alert(1)"}]), "holds a web address"),
        (lesson_bytes(title="<b>x</b>"), "title: holds HTML"),
        (lesson_bytes(steps=[{**STEP, "text": "x" * 5000}]), "steps 1 text: String should have at most 4000"),
        (lesson_bytes(steps=[]), "steps: List should have at least 1 item"),
        (lesson_bytes(steps=[{**STEP, "gate": {"kind": "run_accuracy"}}]), "a run_accuracy gate needs min_accuracy"),
        (lesson_bytes(steps=[{**STEP, "gate": {"kind": "run_accuracy", "min_accuracy": 97}}]), "less than or equal"),
        (lesson_bytes(version=2), "version: Input should be 1"),
        (lesson_bytes(name="../../etc"), "name: String should match pattern"),
        (lesson_bytes(surprise=1), "surprise: Extra inputs are not permitted"),
        (b"\xff\xfe not text", "not UTF-8 text"),
        (b"x" * (MAX_BYTES + 1), f"a lesson file is at most {MAX_BYTES:,} bytes"),
    ],
    ids=lambda value: None if isinstance(value, bytes) else "",
)
def test_a_bad_lesson_file_is_refused_with_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(LessonError, match=message.replace("[", r"\[").replace("(", r"\(").replace("*", r"\*")):
        parse_lesson(data, json_text=data.startswith(b"{"))


def test_yaml_aliases_and_broken_yaml_are_refused_before_they_expand(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    started = time.perf_counter()
    with pytest.raises(LessonError, match=r"uses YAML aliases"):
        parse_lesson(bomb.encode())
    assert time.perf_counter() - started < 1.0
    with pytest.raises(LessonError, match=r"not valid YAML"):
        parse_lesson(b"title: [unclosed")
    (tmp_path / "big.yaml").write_bytes(b"#" * (10 * 1024 * 1024))
    with pytest.raises(LessonError, match=r"big.yaml: 10,485,760 bytes; a lesson file is at most"):
        load_lesson(tmp_path / "big.yaml")
    with pytest.raises(LessonError, match=r"neither a built-in lesson \(draw, seed000"):
        load_lesson(tmp_path / "missing.yaml")


def test_the_engine_refuses_a_run_that_changes_a_locked_or_hidden_control(tmp_path: Path, launcher) -> None:
    lesson = load_lesson("seed001")  # locks the optimizer, hides batch norm
    for change in ({"optimizer": "adam"}, {"batch_norm": True}):
        with pytest.raises(LessonLockError, match=r"The lesson 'Normalisation .*' fixes these settings: "):
            runs.start_run(lesson.config().replace(**change), runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
        with pytest.raises(LessonLockError):
            lesson_config(lesson, change)
    assert runs.list_runs(tmp_path) == []  # nothing half-made
    allowed = lesson_config(lesson, {"batch_size": 32})  # shown: a student may change it
    handle = runs.start_run(allowed, runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
    assert handle.meta()["lesson"] == "seed001" and handle.config.batch_size == 32


def test_an_experiment_cannot_vary_what_the_lesson_fixes(tmp_path: Path, launcher) -> None:
    lesson = load_lesson("seed001")
    with pytest.raises(LessonLockError, match=r"fixes optimizer: an experiment cannot vary it"):
        experiments.start_experiment(lesson.config(), {"optimizer": ["adam", "sgd"]}, runs_dir=tmp_path, lesson=lesson)
    assert runs.list_runs(tmp_path) == []


def test_gates_are_checked_from_the_persons_own_runs_of_the_lesson(tmp_path: Path, launcher) -> None:
    lesson = load_lesson("seed001")
    gate = lesson.steps[0].gate  # a run reaches 85%
    low = runs.start_run(lesson.config(), runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
    runs.start_run(PRESETS["seed001"].config, runs_dir_path=tmp_path, owner=ANN)  # not under the lesson
    finish(low, 0.80)
    mine = lesson_runs(runs.list_runs(tmp_path, viewer=ANN), lesson)
    assert [run.id for run in mine] == [low.id]
    assert not gate_passed(gate, mine) and best_accuracy(mine) == pytest.approx(0.80)
    high = runs.start_run(lesson.config(), runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
    assert not gate_passed(gate, lesson_runs(runs.list_runs(tmp_path, viewer=ANN), lesson))  # still queued
    finish(high, 0.90)
    assert gate_passed(gate, lesson_runs(runs.list_runs(tmp_path, viewer=ANN), lesson))
    assert not lesson_runs(runs.list_runs(tmp_path, viewer=BEN), lesson)  # Ben's gate is his own


def test_an_experiment_gate_needs_every_run_of_it_finished(tmp_path: Path, launcher) -> None:
    lesson = load_lesson("seed001")
    gate = lesson.steps[1].gate  # an experiment over scaling
    grid = experiments.start_experiment(lesson.config(), {"scaling": ["raw", "unit"]}, runs_dir=tmp_path, lesson=lesson)
    finish(grid.runs[0], 0.9)
    assert not gate_passed(gate, runs.list_runs(tmp_path))
    finish(grid.runs[1], 0.9)
    assert gate_passed(gate, runs.list_runs(tmp_path))
    assert not gate_passed(lesson.steps[2].gate, runs.list_runs(tmp_path))  # batch size: not yet


def test_progress_moves_only_through_passed_gates_and_is_kept_per_person(tmp_path: Path, launcher) -> None:
    lesson = load_lesson("draw")  # steps 1-2 open, step 3 wants 10 kept digits
    assert read_progress(tmp_path, ANN, lesson).step == 0
    assert advance(tmp_path, ANN, lesson, [], kept_digits=0).step == 1
    assert advance(tmp_path, ANN, lesson, [], kept_digits=0).step == 2
    assert advance(tmp_path, ANN, lesson, [], kept_digits=9).step == 2  # the gate holds
    moved = advance(tmp_path, ANN, lesson, [], kept_digits=10)
    assert (moved.step, moved.done) == (3, (0, 1, 2))
    assert read_progress(tmp_path, ANN, lesson) == moved  # a refresh or another device reads the same
    assert read_progress(tmp_path, BEN, lesson).step == 0  # Ben has his own
    path = next((tmp_path / "lessons" / "progress").rglob("draw.json"))
    path.write_text('{"step": "nonsense", "done": [99]}')
    assert read_progress(tmp_path, ANN, lesson).step == 0  # damaged: start again, never a traceback


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mnist_core", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )  # fmt: skip


def test_the_cli_lists_and_shows_lessons_and_train_keeps_their_locks(tmp_path: Path) -> None:
    listed = cli("lesson", "list", cwd=tmp_path)
    assert listed.returncode == 0 and all(name in listed.stdout for name in builtin_names())
    shown = cli("lesson", "show", "seed001", cwd=tmp_path)
    assert shown.returncode == 0
    assert "locked: architecture, hidden_units, optimizer" in shown.stdout
    assert "Next step unlocks when a run reaches at least 85.0% test accuracy." in shown.stdout
    refused = cli("train", "--lesson", "seed001", "--optimizer", "adam", "--runs-dir", "runs", cwd=tmp_path)
    assert refused.returncode == 2 and "optimizer stays rmsprop (asked: adam)" in refused.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    both = cli("train", "--lesson", "seed001", "--preset", "quick", cwd=tmp_path)
    assert both.returncode == 2 and "Give --preset or --lesson, not both" in both.stderr
    (tmp_path / "bad.yaml").write_text("version: 1\nname: bad\n")
    bad = cli("lesson", "show", str(tmp_path / "bad.yaml"), cwd=tmp_path)
    assert bad.returncode == 2 and "bad.yaml: title: Field required" in bad.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seed000", "seed001", "seed002", "seed003"])
def test_a_seed_lesson_runs_end_to_end_on_the_embedded_sample(name: str, tmp_path: Path, monkeypatch) -> None:
    """A student follows the lesson on a fresh install: its first run (a real worker, the embedded sample)
    passes the first gate, and progress moves on by the engine's check alone."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    root, lesson = tmp_path / "runs", load_lesson(name)
    step = next(i for i, step in enumerate(lesson.steps) if step.do == "start_run")
    for _ in range(step):  # the steps before the first run have no gate
        advance(root, ANN, lesson, [])
    handle = runs.start_run(lesson.config(), runs_dir_path=root, owner=ANN, lesson=lesson)
    status = handle.wait(timeout=900)
    assert status.state == "completed", status.message
    assert status.data_source.startswith("Embedded sample")
    mine = lesson_runs(runs.list_runs(root, viewer=ANN), lesson)
    moved = advance(root, ANN, lesson, mine)
    assert moved.step == step + 1, f"{name}: {best_accuracy(mine):.2%} did not pass {lesson.steps[step].gate}"
