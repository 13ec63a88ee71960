"""The Lessons page and the Train page under a lesson (AppTest): every built-in lesson's steps are shown and
followed, hidden controls are not drawn, locked ones cannot change (not by the form, not by the URL), and a run
started there names the lesson."""

from __future__ import annotations

import pytest
from queue_utils import RecordingLauncher, use_launcher
from test_pages import embedded_data, open_app, runs_root  # noqa: F401 (fixtures)

from mnist_core import runs
from mnist_core.lessons.files import builtin_names, load_lesson
from mnist_core.runs import queue as run_queue
from ui.share import config_to_query

pytestmark = pytest.mark.usefixtures("runs_root", "embedded_data")


@pytest.fixture
def launcher(monkeypatch):
    monkeypatch.delenv(run_queue.PER_PERSON_ENV, raising=False)
    return use_launcher(monkeypatch, RecordingLauncher(slots=1))


def open_lesson(name: str):
    at = open_app()
    at.switch_page("pages/lessons.py")
    at.query_params["lesson"] = name
    at.run()
    assert not at.exception, at.exception
    return at


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_lessons_page_lists_every_built_in_lesson():
    at = open_app("lessons")
    for name in builtin_names():
        assert load_lesson(name).title in markdown(at)
    assert len([b for b in at.button if b.key.startswith("lesson_open_")]) == len(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_each_built_in_lessons_steps_are_shown_and_gates_hold(name, launcher):
    lesson = load_lesson(name)
    at = open_lesson(name)
    for number, step in enumerate(lesson.steps):
        assert f"Step {number + 1}: {step.title}" in markdown(at)
        if step.gate:  # nothing done yet: the engine finds the gate closed and the step stays
            at.button(key="lesson_next").click().run()
            assert any("Not yet:" in w.value for w in at.warning)
            assert f"Step {number + 1}: {step.title}" in markdown(at)
            break
        at.button(key="lesson_next").click().run()
        assert not at.exception, at.exception
    else:
        assert any("You finished this lesson" in s.value for s in at.success)


def test_the_train_page_shows_only_what_the_lesson_allows(launcher):
    at = open_lesson("seed001")  # locks the optimizer and the architecture, hides batch norm
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert any("Lesson **Normalisation and batch size as experiments**" in i.value for i in at.info)
    assert not [s for s in at.selectbox if s.key == "train_preset"]  # the lesson is the starting point
    assert at.selectbox(key="train_optimizer").disabled and at.selectbox(key="train_optimizer").value == "rmsprop"
    assert not [t for t in at.toggle if t.key == "train_batch_norm"]  # hidden
    assert not at.select_slider(key="train_batch_size").disabled  # shown: the student's to change
    at.select_slider(key="train_batch_size").set_value(32).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    (handle,) = runs.list_runs()
    assert handle.meta()["lesson"] == "seed001"
    assert (handle.config.optimizer, handle.config.batch_size, handle.config.seed) == ("rmsprop", 32, 1337)


def test_a_link_cannot_change_what_the_lesson_locks(launcher):
    at = open_lesson("seed001")
    at.switch_page("pages/train.py")
    link = config_to_query(load_lesson("seed001").config().replace(optimizer="adam", batch_size=64))
    for name, value in link.items():  # a shared link's settings, or the URL edited by hand
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    assert any("The lesson fixes optimizer: the value from the link was not applied." in w.value for w in at.warning)
    assert at.selectbox(key="train_optimizer").value == "rmsprop"
    at.button(key="train_start").click().run()
    (handle,) = runs.list_runs()
    assert (handle.config.optimizer, handle.config.batch_size) == ("rmsprop", 64)  # the unlocked one is taken


def test_closing_the_lesson_gives_every_control_back():
    at = open_lesson("seed001")
    at.button(key="lesson_close").click().run()
    at.switch_page("pages/train.py").run()
    assert [s for s in at.selectbox if s.key == "train_preset"]
    assert not at.selectbox(key="train_optimizer").disabled
