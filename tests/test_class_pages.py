"""Teaching with sign-in on (AppTest): a teacher makes a lesson on the Train page, students open it by its class
code and see only what it allows, the Class page shows each student's step, runs and accuracy, and a student
cannot open the Class page."""

from __future__ import annotations

import pandas as pd
import pytest
from test_lessons import finish
from test_pages_class import open_as, person, root  # noqa: F401 - fixture

from mnist_core import runs
from mnist_core.lessons.library import made_lessons
from mnist_core.lessons.progress import read_progress


def make_lesson(at, name: str = "cnn-week-1") -> None:
    """Fill the Train page's lesson maker: lock the architecture, hide the optimizer, one gated step."""
    at.toggle(key="maker_open").set_value(True).run()
    at.text_input(key="maker_name").input(name)
    at.text_input(key="maker_title").input("CNN, week 1")
    at.text_input(key="maker_audience").input("Year 10")
    at.multiselect(key="maker_locked").select("architecture")
    at.multiselect(key="maker_hidden").select("optimizer")
    at.run()
    at.button(key="maker_save").click().run()
    assert not at.exception, at.exception


def test_a_teacher_makes_a_lesson_and_a_student_opens_it_by_its_code(root):  # noqa: F811
    at = open_as("tess", "train")
    make_lesson(at)
    [made] = made_lessons(root)
    assert any(made.code in s.value for s in at.success), [s.value for s in at.success]
    assert made.lesson.controls == {"architecture": "locked", "optimizer": "hidden"}
    assert made.lesson.steps[0].gate.min_accuracy == pytest.approx(0.9)

    student = open_as("ann", "lessons")
    student.text_input(key="lesson_code").input(made.code.lower())
    student.button(key="FormSubmitter:lesson_code_form-Open").click().run()
    assert not student.exception, student.exception
    assert any("Step 1: Train a first model" in m.value for m in student.markdown)
    assert read_progress(root, person("ann"), made.lesson).updated_at > 0  # the class view lists Ann now
    student.switch_page("pages/train.py").run()
    assert student.button_group(key="train_architecture").disabled  # locked: shown, cannot change
    assert not [s for s in student.selectbox if s.key == "train_optimizer"]  # hidden: not drawn


def test_a_wrong_class_code_says_what_to_do(root):  # noqa: F811
    at = open_as("ann", "lessons")
    at.text_input(key="lesson_code").input("NOPE42")
    at.button(key="FormSubmitter:lesson_code_form-Open").click().run()
    assert not at.exception
    assert any("check the code your teacher gave you" in e.value for e in at.error)


def test_a_bad_lesson_is_not_saved_and_says_why(root):  # noqa: F811
    at = open_as("tess", "train")
    make_lesson(at, name="Not A Name")
    assert made_lessons(root) == []
    assert any("The lesson was not saved" in e.value and "name" in e.value for e in at.error)


def test_the_class_page_shows_each_students_step_runs_and_accuracy(root):  # noqa: F811
    teacher = open_as("tess", "train")
    make_lesson(teacher)
    [made] = made_lessons(root)
    for who in ("ann", "bob"):
        student = open_as(who, "lessons")
        student.query_params["lesson"] = made.lesson.name
        student.run()
        assert not student.exception
    anns = runs.start_run(made.lesson.config(), "anns run", root, owner=person("ann"), lesson=made.lesson)
    finish(anns, 0.93)

    at = open_as("tess", "class_view")
    assert made.code in "\n".join(m.value for m in at.markdown)
    rows = at.table[0].value
    assert isinstance(rows, pd.DataFrame)
    assert set(rows.index) == {"Ann", "Bob"}
    assert rows.loc["Ann", "Done"] == 1 and rows.loc["Ann", "Best test accuracy"] == "93.00%"
    assert rows.loc["Bob", "Step"] == "1 of 1" and rows.loc["Bob", "Best test accuracy"] == "—"
    assert any("2 students · 0 finished · step 1: 2" in c.value for c in at.caption)
    at.selectbox(key="class_student").set_value("Ann").run()
    assert not at.exception
    assert any("anns run" in c.value and "read-only" in c.value for c in at.caption)


def test_a_student_cannot_open_the_class_page(root):  # noqa: F811
    from streamlit.testing.v1 import AppTest
    from test_pages_class import AUTH, CLAIMS

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_as("ann", "class_view")  # not in a student's navigation
    at = AppTest.from_file("../pages/class_view.py", default_timeout=60)  # and if reached anyway, by its address
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, **CLAIMS["ann"]}
    at.session_state["app_shell"] = True
    at.run()
    assert not at.exception
    assert any("This page is for teachers" in i.value for i in at.info)
    assert not at.table


def test_a_lesson_stays_open_on_a_refresh_and_a_tampered_link_cannot_change_its_locks(root):  # noqa: F811
    teacher = open_as("tess", "train")
    make_lesson(teacher)
    [made] = made_lessons(root)
    assert made.lesson.config().architecture == "cnn"
    at = open_as("ann")  # a new session, as after a refresh or on another device
    at.query_params.update({"lesson": made.lesson.name, "architecture": "mlp", "epochs": "3"})
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert any("The lesson fixes architecture" in w.value for w in at.warning)
    assert at.session_state["train_architecture"] == "cnn" and at.session_state["train_epochs"] == 3  # shown: taken
    assert at.query_params["lesson"] == made.lesson.name  # the URL keeps naming the lesson


def test_a_control_both_locked_and_hidden_is_named_and_the_lesson_cannot_be_saved(root):  # noqa: F811
    at = open_as("tess", "train")
    at.toggle(key="maker_open").set_value(True).run()
    at.multiselect(key="maker_locked").select("batch_size")
    at.multiselect(key="maker_hidden").select("batch_size").select("optimizer")
    at.run()
    assert any("batch size" in w.value and "not both" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="maker_save").disabled
    assert at.multiselect(key="maker_hidden").value == ["batch_size", "optimizer"]  # the choice stays
