"""The My data page through AppTest, signed in with OpenID Connect: a student sees only their own data and no
picker, a teacher exports and deletes a student's data for them (and nothing of anyone else goes), and a
delete needs its box ticked first."""

from __future__ import annotations

import re

import numpy as np
from test_pages_class import open_as, person, root  # noqa: F401 - root is the fixture these tests use

from mnist_core import my_digits, runs
from mnist_core.config import TrainingConfig

CONFIG = TrainingConfig(hidden_units=(8,), epochs=1)


def belongings(who: str) -> runs.RunHandle:
    """A finished run and two drawings of `who`."""
    owner = person(who)
    handle = runs.start_run(CONFIG, name=f"{who}s run", owner=owner)
    handle.files.update_status(state="completed", message="done")
    for label in (3, 4):
        my_digits.add_digit(np.full((28, 28), 0.5, np.float32), label, folder=my_digits.person_folder(owner))
    return handle


def plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def names_listed(at) -> list[str]:
    return list(at.dataframe[0].value["Name"]) if at.dataframe else []


def test_a_student_sees_only_their_own_data_and_no_picker(root):  # noqa: F811
    belongings("ann")
    belongings("bob")
    at = open_as("ann", "my_data")
    assert not [s for s in at.selectbox if s.label == "Whose data"]
    listed = names_listed(at)
    assert "anns run" in listed and "bobs run" not in listed
    assert [b.label for b in at.button if b.key == "mydata_delete"] == ["Delete all my data"]
    assert at.get("download_button")[0].proto.label == "Export all my data"


def test_a_teacher_deletes_a_students_data_after_ticking_the_box_and_nothing_else_goes(root):  # noqa: F811
    anns = belongings("ann")
    bobs = belongings("bob")
    at = open_as("tess", "my_data")
    whose = at.selectbox(key="mydata_whose")
    assert any("Ann" in option for option in whose.options) and any("Bob" in option for option in whose.options)
    whose.select_index(next(i for i, o in enumerate(whose.options) if "Ann" in o)).run()
    assert "anns run" in names_listed(at) and "bobs run" not in names_listed(at)
    delete = at.button(key="mydata_delete")
    assert delete.disabled  # the box first
    at.checkbox(key="mydata_confirm").check().run()
    at.button(key="mydata_delete").click().run()
    assert not at.exception, at.exception
    assert plain(at.success[0].value).startswith("Deleted all of Ann's data")
    assert not anns.path.exists() and bobs.path.exists()
    assert not any(my_digits.person_folder(person("ann")).glob("*.png"))
    assert any(my_digits.person_folder(person("bob")).rglob("*"))
