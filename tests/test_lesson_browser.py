"""Teaching a class in real browsers: a real Streamlit server, a real OpenID Connect provider (oidc-provider-mock)
and Chromium. Tess (a teacher) makes a lesson on the Train page that locks the architecture and hides the
optimizer; Ann opens its link and Bob its class code; both see only what it allows, a link that changes the
locked architecture is refused with a message, both train, pass the gate and move on, and Tess's Class page
shows both students' steps and accuracies as they change, without a reload."""

from __future__ import annotations

import time

import pytest
from browser_utils import chromium_path, free_port, open_page, screenshot, streamlit_server, wait_for_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_sign_in_browser import provider, sign_in, write_secrets  # noqa: F401 - fixture

from mnist_core import runs
from mnist_core.lessons.library import made_lessons

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# A quick MLP that passes the maker's default gate (a run reaches 90%) on 10,000 MNIST digits in seconds.
SETTINGS = "architecture=mlp&hidden_units=128&epochs=3&train_limit=10000&batch_size=64"


@pytest.fixture
def app(provider, tmp_path_factory, mnist_dir):  # noqa: F811 - a fresh server and runs folder per try
    if chromium_path() is None:
        pytest.fail("Chromium is not installed: scripts/setup-tests.sh installs it")
    folder = tmp_path_factory.mktemp("class")
    port = free_port()
    secrets = write_secrets(folder, port, provider[0])
    env = {"DIGIT_LAB_TEACHERS": "tess@school.example", "DIGIT_LAB_MY_DIGITS_DIR": str(folder / "my_digits"),
           "MNIST_DATA_DIR": str(mnist_dir), "DIGIT_LAB_TRAINING_SLOTS": "2"}  # fmt: skip
    args = ["--secrets.files", str(secrets)]
    with streamlit_server(folder / "runs", env=env, log=folder / "streamlit.log", args=args, port=port) as url:
        yield url, folder / "runs"


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the multiselect labelled `label`, and wait for the rerun it starts."""
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_idle(page)
    try:  # the chip shows once the rerun's delta has been drawn, which can trail the idle state under load
        box.get_by_text(option, exact=True).wait_for(timeout=10_000)
    except PlaywrightTimeoutError:
        pytest.fail(f"{option} not chosen in {label}")


def fill(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")  # Streamlit takes a text input's value when it loses focus
    wait_for_idle(page)


def wait_until(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting until {what}")
        time.sleep(0.5)


def test_a_teacher_hands_out_a_lesson_and_watches_two_students_move_on(app, browser) -> None:
    url, root = app
    tess = sign_in(browser, url, "tess")
    open_page(tess, url, f"train?{SETTINGS}")
    tess.get_by_text("Make a lesson from these settings").click()
    fill(tess, "Short name (for its link)", "first-mlp")
    fill(tess, "Title", "A first MLP")
    fill(tess, "For", "Year 10")
    pick(tess, "Locked: shown, cannot change", "architecture")
    pick(tess, "Hidden: not shown at all", "optimizer")
    tess.get_by_role("button", name="Save the lesson").click()
    tess.get_by_text("Saved A first MLP").wait_for(timeout=60_000)
    wait_until(lambda: made_lessons(root), 10, "the lesson is saved")
    [made] = made_lessons(root)
    assert made.lesson.controls == {"architecture": "locked", "optimizer": "hidden"}
    assert made.lesson.config().hidden_units == (128,) and made.lesson.config().train_limit == 10_000
    screenshot(tess, "lesson-maker")

    ann = sign_in(browser, url, "ann")
    open_page(ann, url, f"lessons{made.link}")  # Ann follows the link
    bob = sign_in(browser, url, "bob")
    open_page(bob, url, "lessons")  # Bob types the class code
    fill(bob, "Class code", made.code.lower())
    bob.get_by_role("button", name="Open", exact=True).click()
    for page in (ann, bob):
        page.get_by_text("Step 1: Train a first model").wait_for(timeout=60_000)
    screenshot(ann, "lesson-stepper")

    for page in (ann, bob):
        page.get_by_role("link", name="Go to Train").click()
        page.get_by_text("Lesson A first MLP").first.wait_for(timeout=60_000)  # the lesson's banner
        assert page.get_by_text("Optimizer", exact=True).count() == 0  # hidden
    architecture = ann.get_by_role("radiogroup", name="Architecture")
    assert architecture.get_by_role("radio", name="Dense (MLP)").is_checked()
    assert all(choice.is_disabled() for choice in architecture.get_by_role("radio").all())  # locked

    tampered = SETTINGS.replace("architecture=mlp", "architecture=cnn")  # the lesson's link, one lock changed
    open_page(ann, url, f"train?lesson={made.lesson.name}&{tampered}")
    ann.get_by_text("The lesson fixes architecture: the value from the link was not applied.").wait_for(timeout=60_000)

    for page in (ann, bob):
        page.get_by_role("button", name="Start training").click()
    wait_until(lambda: len(runs.list_runs(root)) == 2, 60, "both runs are queued")
    assert {h.config.architecture for h in runs.list_runs(root)} == {"mlp"}  # the lock held
    assert {h.meta().get("lesson") for h in runs.list_runs(root)} == {"first-mlp"}

    open_page(tess, url, "class_view")
    tess.get_by_text("2 students · 0 finished · step 1: 2").wait_for(timeout=60_000)
    wait_until(lambda: all(h.status().state == "completed" for h in runs.list_runs(root)), 300, "both runs finish")
    main = tess.get_by_test_id("stMain")
    wait_until(lambda: main.inner_text().count("%") >= 2, 30, "the class view shows both accuracies")  # live
    screenshot(tess, "class-view-training")

    for page in (ann, bob):
        page.get_by_role("link", name="Lessons").first.click()
        page.get_by_role("button", name="Check and move on").click()
        page.get_by_text("You finished this lesson.").wait_for(timeout=60_000)
    screenshot(ann, "lesson-finished")
    tess.get_by_text("2 students · 2 finished").wait_for(timeout=30_000)  # no reload: the table refreshes
    assert main.inner_text().count("✓ finished") == 2
    screenshot(tess, "class-view")
    for page in (ann, bob, tess):
        page.context.close()
