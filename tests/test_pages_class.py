"""The pages with sign-in on (issue 15), through AppTest's own user and secrets: the sign-in screen, each
person's runs, shared runs read-only, the queue panel with Cancel, the teacher's overview, My digits per person."""

from __future__ import annotations

import time

import pytest
from queue_utils import RecordingLauncher, use_launcher
from streamlit.testing.v1 import AppTest
from test_pages import ROOT, make_run

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import person_from_claims
from mnist_core.runs import queue as run_queue

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-secret",
    "client_id": "digit-lab",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration",
}
CLAIMS = {
    who: {"sub": who, "iss": "https://idp.example", "email": f"{who}@school.example", "name": who.title()}
    for who in ("ann", "bob", "tess")
}


@pytest.fixture
def root(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DIGIT_LAB_MY_DIGITS_DIR", str(tmp_path / "my_digits"))
    monkeypatch.setenv("DIGIT_LAB_TEACHERS", "tess@school.example")
    monkeypatch.delenv(run_queue.PER_PERSON_ENV, raising=False)
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    st.cache_data.clear()
    return tmp_path / "runs"


def person(who: str):
    return person_from_claims(CLAIMS[who])


def open_as(who: str | None, page: str | None = None, auth: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = auth or AUTH
    at.user = {"is_logged_in": who is not None, **(CLAIMS[who] if who else {})}
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def owned_run(root, slug: str, who: str, shared: bool = False, **kwargs):
    files = make_run(root, slug, **kwargs)
    files.update_meta(owner=person(who).owner_record(), shared=shared)
    return files


def test_sign_in_comes_first_and_shows_nothing_else(root):
    at = open_as(None)
    assert at.title[0].value == "Digit Lab"
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("page_link")


def test_an_incomplete_auth_section_says_what_it_lacks(root):
    at = open_as(None, auth={"redirect_uri": AUTH["redirect_uri"]})
    assert "lacks `cookie_secret`, `client_id`, `client_secret`, `server_metadata_url`" in at.error[0].value
    assert not at.button


def test_each_person_sees_their_runs_and_shared_ones_read_only(root):
    owned_run(root, "mine", "ann", name="anns run")
    owned_run(root, "private", "bob", name="bobs secret")
    owned_run(root, "shared", "bob", shared=True, name="bobs shared")
    at = open_as("ann", "train")
    table = at.dataframe(key="train_history").value
    assert sorted(zip(table["name"], table["by"], strict=True)) == [("anns run", "you"), ("bobs shared", "Bob")]
    assert any(c.value.endswith("Ann") for c in open_as("ann").sidebar.caption)  # "signed in as"
    assert "bobs secret" not in str(table)  # (the read-only view of a shared run: test_sign_in_browser.py)


def test_a_waiting_run_shows_its_place_and_cancel_cancels_it(root):
    trains = runs.start_run(TrainingConfig(epochs=1), "bobs first", root, owner=person("bob"))
    trains.files.update_status(state="running", started_at=time.time(), pid=None)
    waiting = runs.start_run(TrainingConfig(epochs=1), "anns wait", root, owner=person("ann"))
    at = open_as("ann", "train")
    text = " ".join(m.value for m in at.markdown)
    assert "**anns wait** waits in the training queue: **1st** of 1, starts in about" in text
    at.button(key=f"train_cancel_{waiting.id}").click().run()
    assert waiting.status().state == "stopped"
    assert "bobs first" not in " ".join(m.value for m in at.markdown)  # Bob's run is not Ann's to see


def test_a_teacher_sees_everyones_training_and_can_stop_it(root):
    trains = runs.start_run(TrainingConfig(epochs=1), "bobs run", root, owner=person("bob"))
    at = open_as("tess", "train")
    assert any("Everyone's training" in h.value for h in at.subheader)
    assert any("**Bob** · bobs run" in m.value for m in at.markdown)
    at.button(key=f"train_class_stop_{trains.id}").click().run()
    assert (trains.path / "stop.request").exists()
    assert not open_as("ann", "train").get("subheader") or all(
        "Everyone" not in h.value for h in open_as("ann", "train").subheader
    )


def test_my_digits_is_one_folder_per_person(root, tmp_path):
    import numpy as np

    from mnist_core import my_digits

    anns = my_digits.person_folder(person("ann"))

    digit = np.zeros((28, 28), np.float32)
    digit[8:20, 12:16] = 1.0
    my_digits.add_digit(digit, 1, anns)
    assert anns.parent == tmp_path / "my_digits" / "people"
    ann_page, bob_page = open_as("ann", "my_digits"), open_as("bob", "my_digits")
    assert any("1 digit" in m.value for m in ann_page.markdown)
    assert any("No digits yet" in i.value for i in bob_page.info)


def test_someone_elses_shared_run_is_in_the_history_not_the_current_run(root):
    owned_run(root, "shared", "bob", shared=True, name="bobs shared")
    at = open_as("ann", "train")
    assert any("No runs yet" in i.value for i in at.info)  # Ann's current run: she has none
    assert list(at.dataframe(key="train_history").value["name"]) == ["bobs shared"]


def test_a_student_is_told_their_run_was_interrupted_and_can_run_it_again_in_one_click(root):
    """Issue 32: the next run took the Current run's place and the interrupted one vanished without a word."""
    owned_run(root, "lost", "ann", state="interrupted", config=TrainingConfig(hidden_units=(48,), epochs=4))
    owned_run(root, "bobs", "bob", state="interrupted")
    at = open_as("ann", "train")
    notices = [w.value for w in at.warning if "was interrupted" in w.value]
    assert len(notices) == 1 and "**lost**" in notices[0] and "interrupted for a test" in notices[0]
    next(b for b in at.button if "reuse_interrupted_" in b.key).click().run()
    assert not at.exception and not [w for w in at.warning if "was interrupted" in w.value]
    assert at.session_state["train_epochs"] == 4
    assert not [w for w in open_as("tess", "train").warning if "was interrupted" in w.value]  # others' runs: not news
