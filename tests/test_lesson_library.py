"""Teachers' lessons: made from the Train form as it stands, kept with a class code, opened by name or code,
edited and retired by their author only; and the class view's rows, built from progress and run folders."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_lessons import ANN, BEN, finish, launcher  # noqa: F401 - fixture

from mnist_core import runs
from mnist_core.lessons import library
from mnist_core.lessons.class_view import class_rows
from mnist_core.lessons.files import LessonError, load_lesson
from mnist_core.lessons.library import find_lesson, lesson_from_form, made_lessons, save_lesson, set_retired
from mnist_core.lessons.locks import LessonLockError
from mnist_core.lessons.progress import advance, join
from mnist_core.people import Person
from mnist_core.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]

TEACHER = Person("https://idp|tess", "tess@school.example", "Tess", is_teacher=True)
OTHER_TEACHER = Person("https://idp|olga", "olga@school.example", "Olga", is_teacher=True)
STEPS = [
    {"title": "Train it", "text": "Press **Start** and watch the curves.", "do": "start_run",
     "gate": {"kind": "run_accuracy", "min_accuracy": 0.5}},
    {"title": "Look", "text": "Open the confusion matrix.", "look_at": "diagnostics", "question": "Which digit?"},
]  # fmt: skip


def cnn_lesson(name: str = "cnn-week-1"):
    config = PRESETS["quick"].config.replace(epochs=2, batch_size=64)
    controls = {"architecture": "locked", "optimizer": "hidden", "dropout": "shown"}
    return lesson_from_form(name, "CNN, week 1", "Year 10", "quick", config, controls, STEPS)


def test_a_lesson_made_from_the_form_keeps_only_what_differs_and_the_controls_it_fixes() -> None:
    lesson = cnn_lesson()
    assert lesson.overrides == {"epochs": 2, "batch_size": 64}
    assert lesson.controls == {"architecture": "locked", "optimizer": "hidden"}  # shown is the default
    assert lesson.config() == PRESETS["quick"].config.replace(epochs=2, batch_size=64)
    assert lesson.steps[0].gate.min_accuracy == 0.5 and lesson.steps[1].question == "Which digit?"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Has Spaces"}, "name: String should match pattern"),
        ({"steps": [{"title": "x", "text": "see [this](https://evil.example)"}]}, "holds a link"),
        ({"steps": []}, "steps: List should have at least 1 item"),
        ({"controls": {"warp_drive": "hidden"}}, "warp_drive: not Train controls"),
        ({"title": "<script>alert(1)</script>"}, "holds HTML"),
        ({"preset": "nope"}, "There is no preset 'nope'"),
    ],
)
def test_a_bad_lesson_from_the_form_says_what_is_wrong(change: dict, message: str) -> None:
    args = {"name": "ok", "title": "T", "audience": "A", "preset": "quick", "config": PRESETS["quick"].config,
            "controls": {}, "steps": STEPS, **change}  # fmt: skip
    with pytest.raises(LessonError, match=message):
        lesson_from_form(**args)


def test_saved_lessons_open_by_name_or_class_code_and_keep_their_code_when_edited(tmp_path: Path) -> None:
    made = save_lesson(tmp_path, cnn_lesson(), TEACHER)
    assert len(made.code) == library.CODE_LENGTH and set(made.code) <= set(library.CODE_ALPHABET)
    assert made.link == "?lesson=cnn-week-1" and made.author == "Tess"
    assert find_lesson(tmp_path, "cnn-week-1") == made.lesson
    assert find_lesson(tmp_path, f" {made.code[:3].lower()}-{made.code[3:]} ") == made.lesson  # as a child types it
    assert load_lesson(tmp_path / "lessons" / "made" / "cnn-week-1.json") == made.lesson  # a plain lesson file
    edited = save_lesson(tmp_path, cnn_lesson().model_copy(update={"title": "CNN, week 1 (v2)"}), TEACHER)
    assert edited.code == made.code and find_lesson(tmp_path, made.code).title == "CNN, week 1 (v2)"
    assert [m.lesson.name for m in made_lessons(tmp_path)] == ["cnn-week-1"]
    assert find_lesson(tmp_path, "seed000") == load_lesson("seed000")  # built-ins too
    with pytest.raises(LessonError, match="no lesson or class code 'ZZZZZZ'"):
        find_lesson(tmp_path, "ZZZZZZ")


def test_only_its_author_edits_or_retires_a_lesson_and_a_retired_one_does_not_open(tmp_path: Path) -> None:
    save_lesson(tmp_path, cnn_lesson(), TEACHER)
    with pytest.raises(LessonError, match="is Tess's lesson; give yours another name"):
        save_lesson(tmp_path, cnn_lesson(), OTHER_TEACHER)
    with pytest.raises(LessonError, match="only they can retire it"):
        set_retired(tmp_path, "cnn-week-1", True, OTHER_TEACHER)
    with pytest.raises(LessonError, match="built-in lesson's name"):
        save_lesson(tmp_path, cnn_lesson("seed000"), TEACHER)
    set_retired(tmp_path, "cnn-week-1", True, TEACHER)
    with pytest.raises(LessonError, match="has been retired by its teacher"):
        find_lesson(tmp_path, "cnn-week-1")
    assert made_lessons(tmp_path, include_retired=False) == []
    set_retired(tmp_path, "cnn-week-1", False, TEACHER)
    assert find_lesson(tmp_path, "cnn-week-1").name == "cnn-week-1"


def test_a_damaged_made_lesson_is_named_never_half_used(tmp_path: Path) -> None:
    save_lesson(tmp_path, cnn_lesson(), TEACHER)
    path = tmp_path / "lessons" / "made" / "cnn-week-1.json"
    raw = json.loads(path.read_text())
    raw["controls"]["architecture"] = "invisible"
    path.write_text(json.dumps(raw))
    assert made_lessons(tmp_path) == []
    with pytest.raises(LessonError, match="cannot be read; ask your teacher to save it again"):
        find_lesson(tmp_path, "cnn-week-1")


def test_class_codes_stay_unique_when_many_teachers_save_at_once(tmp_path: Path) -> None:
    teachers = [Person(f"https://idp|t{i}", name=f"T{i}", is_teacher=True) for i in range(40)]
    threads = [threading.Thread(target=save_lesson, args=(tmp_path, cnn_lesson(f"l-{i}"), t)) for i, t in
               enumerate(teachers)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [made.code for made in made_lessons(tmp_path)]
    assert len(codes) == 40 and len(set(codes)) == 40


HOLD_THE_LOCK = """import sys, time
from pathlib import Path
from mnist_core.lessons.library import SAVING_LOCK
from mnist_core.runs.queue import queue_lock
with queue_lock(Path(sys.argv[1]), name=SAVING_LOCK):
    print("held", flush=True)
    time.sleep(1.0)
"""


def test_a_save_waits_while_another_replica_saves_then_says_what_to_do_if_it_never_ends(tmp_path, monkeypatch):
    """Replicas of the app share the runs folder, not memory: Olga's save on the other server holds the lock."""
    folder = library.made_folder(tmp_path)
    folder.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(folder)], cwd=ROOT, stdout=subprocess.PIPE)
    assert other.stdout.readline() == b"held\n"
    start = time.monotonic()
    save_lesson(tmp_path, cnn_lesson("olga-and-tess"), TEACHER)
    assert time.monotonic() - start > 0.5 and other.wait(timeout=10) == 0  # it waited for the other server's save
    (folder / library.SAVING_LOCK).touch()  # a save elsewhere that is still going on
    monkeypatch.setattr(library, "SAVING_WAIT_S", 0.2)
    with pytest.raises(LessonError, match="Another teacher is saving a lesson right now; press Save again"):
        save_lesson(tmp_path, cnn_lesson("tess-2"), TEACHER)
    assert [made.lesson.name for made in made_lessons(tmp_path)] == ["olga-and-tess"]


def test_the_engine_keeps_a_made_lessons_locks(tmp_path: Path, launcher) -> None:  # noqa: F811
    lesson = save_lesson(tmp_path, cnn_lesson(), TEACHER).lesson
    with pytest.raises(LessonLockError, match="architecture stays cnn"):
        runs.start_run(lesson.config().replace(architecture="mlp"), runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
    assert runs.list_runs(tmp_path) == []


def test_the_class_view_has_a_row_per_student_with_step_runs_best_and_who_is_stuck(tmp_path, launcher) -> None:  # noqa: F811
    lesson = save_lesson(tmp_path, cnn_lesson(), TEACHER).lesson
    join(tmp_path, ANN, lesson)
    join(tmp_path, BEN, lesson)
    ann_run = runs.start_run(lesson.config(), runs_dir_path=tmp_path, lesson=lesson, owner=ANN)
    finish(ann_run, 0.8)
    ben_run = runs.start_run(lesson.config(), runs_dir_path=tmp_path, lesson=lesson, owner=BEN)
    ben_run.files.update_status(state="failed", ended_at=time.time(), message="NaN loss")
    runs.start_run(PRESETS["quick"].config, runs_dir_path=tmp_path, owner=BEN)  # not under the lesson
    advance(tmp_path, ANN, lesson, runs.list_runs(tmp_path, viewer=ANN) and [ann_run])
    rows = {
        row.name: row for row in class_rows(tmp_path, lesson, runs.list_runs(tmp_path, viewer=TEACHER), time.time())
    }
    assert set(rows) == {"Ann", "Ben"}
    ann, ben = rows["Ann"], rows["Ben"]
    assert (ann.step, ann.done, ann.steps, ann.finished, ann.failed) == (2, 1, 2, 1, 0)
    assert ann.best_accuracy == pytest.approx(0.8) and ann.stuck is None and ann.run_ids == (ann_run.id,)
    assert (ben.step, ben.finished, ben.failed, ben.best_accuracy) == (1, 0, 1, None)
    assert ben.stuck == "their last run failed"
    later = class_rows(tmp_path, lesson, runs.list_runs(tmp_path, viewer=TEACHER), time.time() + 3600)
    assert {row.name: row.stuck for row in later}["Ann"] == "no step or run for 60 min"
