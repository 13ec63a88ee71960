"""The teachers' view of the training pool (ui/worker_pool.py, issue 16), rendered by Streamlit's AppTest."""

from __future__ import annotations

import time

from queue_utils import RecordingLauncher, use_launcher
from streamlit.testing.v1 import AppTest

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.workers.celery_launcher import WorkerInfo, register
from ui.worker_pool import pool_rows


def widget() -> None:
    from ui.worker_pool import show_worker_pool

    show_worker_pool()


def test_pool_rows_say_what_each_worker_trains():
    now = time.time()
    workers = [WorkerInfo("w1", "gpu-1", 10, 2, now, now - 125, ("r1",)), WorkerInfo("w2", "cpu-1", 11, 1, now, now)]
    rows = pool_rows(workers, {"r1": "wide MLP"}, now)
    assert [r["trains"] for r in rows] == ["wide MLP", "nothing (free)"]
    assert [r["free slots"] for r in rows] == ["1 of 2", "1 of 1"] and rows[0]["machine"] == "gpu-1"


def test_the_pool_table_shows_live_workers_and_their_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path))
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    handle = runs.start_run(TrainingConfig(hidden_units=(8,), epochs=1), name="wide MLP", runs_dir_path=tmp_path)
    handle.files.update_status(state="running", worker="w1", started_at=time.time())
    register(tmp_path, "w1", 2, started_at=time.time())
    monkeypatch.setenv("DIGIT_LAB_BROKER", "redis://127.0.0.1:1/0")  # the table reads files only
    at = AppTest.from_function(widget).run()
    table = at.dataframe[0].value
    assert list(table["worker"]) == ["w1"] and list(table["trains"]) == ["wide MLP"]
    assert "1 worker(s), 2 runs at once" in at.caption[0].value


def test_no_worker_says_how_to_start_one_and_no_broker_shows_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("DIGIT_LAB_BROKER", "redis://127.0.0.1:1/0")
    at = AppTest.from_function(widget).run()
    assert "python -m mnist_core worker" in at.warning[0].value
    monkeypatch.delenv("DIGIT_LAB_BROKER")
    at = AppTest.from_function(widget).run()
    assert not at.warning and not at.dataframe and not at.exception


def test_a_student_waiting_on_a_broken_queue_is_told_what_happens_to_their_run_not_the_operators_advice():
    """Issue 32: waiting students saw "start Redis or unset DIGIT_LAB_BROKER"."""
    from mnist_core import runs
    from mnist_core.people import Person
    from ui.queue_panel import queue_trouble

    down = runs.QueueUnavailableError(
        "Cannot reach the broker at redis://x:1/0: refused; start Redis or unset DIGIT_LAB_BROKER"
    )
    student, teacher = Person("iss|s", "s@school.test", "Sam"), Person("iss|t", "t@school.test", "Tia", is_teacher=True)
    assert "start Redis" in queue_trouble(down, teacher) and "start Redis" in queue_trouble(down, None)
    waiting, starting = queue_trouble(down, student), queue_trouble(down, student, waiting=False)
    assert "Redis" not in waiting + starting and "DIGIT_LAB" not in waiting + starting
    assert "keeps its place" in waiting and "was not started; press Start again" in starting
    full = runs.RunQueueFullError("You already have 3 runs waiting; wait for one to start or cancel one.")
    assert queue_trouble(full, student) == queue_trouble(full, teacher)  # the student's own limit: said as it is


def panel() -> None:
    from ui.worker_pool import worker_pool_panel

    worker_pool_panel()


def test_the_train_pages_pool_panel_follows_the_runs_as_they_move(tmp_path, monkeypatch):
    """Issue 32: the pool table stood still while the queue panel moved; it is now its own timed fragment."""
    from ui.worker_pool import REFRESH_S

    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path))
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    handle = runs.start_run(TrainingConfig(hidden_units=(8,), epochs=1), name="wide MLP", runs_dir_path=tmp_path)
    register(tmp_path, "w1", 1, started_at=time.time())
    monkeypatch.setenv("DIGIT_LAB_BROKER", "redis://127.0.0.1:1/0")
    at = AppTest.from_function(panel).run()
    assert list(at.dataframe[0].value["trains"]) == ["nothing (free)"] and not at.exception
    handle.files.update_status(state="running", worker="w1", started_at=time.time())
    at.run()
    assert list(at.dataframe[0].value["trains"]) == ["wide MLP"] and 1 <= REFRESH_S <= 5


def test_a_teacher_without_runs_of_their_own_reads_the_class_activity_not_no_runs_yet(tmp_path, monkeypatch):
    """Issue 32: a teacher's Current run said "No runs yet" while the class trained."""
    from mnist_core.people import Person
    from ui.class_overview import class_activity

    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path))
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    teacher = Person("iss|t", "t@school.test", "Tia", is_teacher=True)
    assert "nobody in the class is training" in class_activity(teacher)
    ana, ben = (Person(f"iss|{n}", f"{n}@school.test", n.title()) for n in ("ana", "ben"))
    first = runs.start_run(TrainingConfig(hidden_units=(8,), epochs=1), owner=ana, runs_dir_path=tmp_path)
    runs.start_run(TrainingConfig(hidden_units=(8,), epochs=1), owner=ben, runs_dir_path=tmp_path)
    first.files.update_status(state="running", worker="w1", started_at=time.time())
    text = class_activity(teacher)
    assert "**1** training and **1** waiting" in text and "Everyone's training" in text
