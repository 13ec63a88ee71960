"""Class accounts in real browsers: a real Streamlit server, a real OpenID Connect provider for the teacher
(oidc-provider-mock) and Chromium. Tess makes a class of three and downloads its sheet; Ann signs in with her
code, starts a run and stays signed in after a reload; Bob cannot reach Ann's run; twenty wrong codes lock the
class out; a new code works and the old one does not; a forged cookie is refused; a closed class's codes fail."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser_utils import chromium_path, free_port, open_page, streamlit_server, until_visible, wait_for_idle
from test_sign_in_browser import PEOPLE, provider, write_secrets  # noqa: F401 - fixture

from mnist_core import accounts, runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TINY = "train?architecture=mlp&hidden_units=8&epochs=1&train_limit=100"


@pytest.fixture
def app(provider, tmp_path):  # noqa: F811 - a fresh server and folders per try
    if chromium_path() is None:
        pytest.fail("Chromium is not installed: scripts/setup-tests.sh installs it")
    port = free_port()
    secrets = write_secrets(tmp_path, port, provider[0])
    env = {"DIGIT_LAB_TEACHERS": "tess@school.example", "DIGIT_LAB_MY_DIGITS_DIR": str(tmp_path / "my_digits"),
           "DIGIT_LAB_CLASS_ACCOUNTS": "1", "DIGIT_LAB_ACCOUNTS_DIR": str(tmp_path / "accounts")}  # fmt: skip
    args = ["--secrets.files", str(secrets)]
    with streamlit_server(tmp_path / "runs", env=env, log=tmp_path / "streamlit.log", args=args, port=port) as url:
        yield url, tmp_path


def new_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(page, url)
    return page


def teacher(browser, url: str):
    page = new_page(browser, url)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="tess", exact=True).click()  # the provider's predefined-user button
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.get_by_text("Tess Teacher · teacher").first.wait_for(timeout=60_000)
    open_page(page, url, "class_accounts")
    return page


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()
    wait_for_idle(page)


def sheet_codes(page, tmp: Path) -> dict[str, str]:
    """The codes on the sheet the page offers, by student name."""
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the sheet to print").click()
    path = tmp / download.value.suggested_filename
    download.value.save_as(path)
    cards = re.findall(r'class="name">([^<]+)</div>.*?Your code</div><div class="code">([^<]+)<', path.read_text())
    return dict(cards)


def make_class(page, tmp: Path, name: str, students: str):
    """The teacher makes a class on the Class accounts page; (the class, its codes by student name)."""
    page.get_by_label("Class name").fill(name)
    page.get_by_label("Students' names, one a line (or leave empty and give a number)").fill(students)
    click(page, "Make the class and its codes")
    codes = sheet_codes(page, tmp)
    [info] = accounts.list_classes(tmp / "accounts")
    return info, codes


def signed_in_as(page, name: str) -> None:
    """Wait for the sidebar's "signed in as"."""
    page.get_by_test_id("stSidebar").get_by_text(name).first.wait_for(timeout=30_000)


def signed_in(page, class_code: str, code: str, name: str) -> None:
    """Sign in with codes, and wait for the sidebar and the cookie a reload or a new page needs."""
    student(page, class_code, code)
    signed_in_as(page, name)
    deadline = time.monotonic() + 15
    while not any(c["name"] == "digit_lab_sign_in" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the sign-in cookie was not written"
        time.sleep(0.1)


def student(page, class_code: str, code: str) -> None:
    page.get_by_label("Class code", exact=True).fill(class_code)
    page.get_by_label("Your code", exact=True).fill(code)
    click(page, "Sign in with your class code")


def close_the_class(page, folder: Path, class_id: str) -> None:
    """Tick "Yes", press Close, until the class is closed (under load a click during a rerun is lost)."""
    sure = page.get_by_role("checkbox", name="Yes, close this class")
    for _ in range(4):
        if not sure.is_checked():
            page.get_by_text("Yes, close this class").click()
            wait_for_idle(page)
            continue
        click(page, "Close the class")
        deadline = time.monotonic() + 5
        while not accounts.load_class(folder, class_id).closed and time.monotonic() < deadline:
            time.sleep(0.2)
        if accounts.load_class(folder, class_id).closed:
            return
    pytest.fail("the class did not close")


def test_a_class_signs_in_with_codes_and_the_teacher_resets_and_closes(app, browser):
    url, tmp = app
    tess = teacher(browser, url)
    info, codes = make_class(tess, tmp, "Year 5", "Ann\nBob\nCy")
    assert sorted(codes) == ["Ann", "Bob", "Cy"]

    ann = new_page(browser, url)
    signed_in(ann, info.code, codes["Ann"], "Ann")
    open_page(ann, url, TINY)
    click(ann, "Start training")
    deadline = time.monotonic() + 30
    while not runs.list_runs(tmp / "runs") and time.monotonic() < deadline:
        time.sleep(0.2)
    [run] = runs.list_runs(tmp / "runs")
    assert run.owner.id == f"class:{info.id}|s1"
    ann.reload(wait_until="domcontentloaded")  # the cookie keeps her signed in
    wait_for_idle(ann)
    assert ann.get_by_role("button", name="Sign in with your class code").count() == 0
    signed_in_as(ann, "Ann")

    bob = new_page(browser, url)
    signed_in(bob, info.code, codes["Bob"], "Bob")
    open_page(bob, url, "train")
    signed_in_as(bob, "Bob")
    assert bob.get_by_text(run.name).count() == 0  # Ann's run is not in his history
    bob_person = accounts.sign_in_student(tmp / "accounts", info.code, codes["Bob"], "192.0.2.1").person
    with pytest.raises(runs.RunNotFoundError):
        runs.load_run(run.id, tmp / "runs", viewer=bob_person)

    cy = new_page(browser, url)
    for _ in range(20):
        student(cy, info.code, "3-AAAA-AAAA")
    cy.get_by_text("Too many wrong codes for this class").wait_for(timeout=10_000)

    open_page(tess, url, "class_accounts")
    cy_option = tess.get_by_role("option", name="3. Cy")
    box = tess.get_by_test_id("stSelectbox").filter(has_text="Student").get_by_role("combobox")
    until_visible(box.click, cy_option, timeout=5_000)  # a click during a rerun is lost: a person clicks again
    cy_option.click()
    wait_for_idle(tess)
    click(tess, "New code for this student")
    new_code = sheet_codes(tess, tmp)["Cy"]
    click(tess, "Let the class try again now")
    student(cy, info.code, codes["Cy"])
    cy.get_by_text("That is not the code of number 3").wait_for(timeout=10_000)
    signed_in(cy, info.code, new_code, "Cy")

    forged = new_page(browser, url)
    forged.context.add_cookies([{"name": "digit_lab_sign_in", "value": "eyJrIjoidGVhY2hlciJ9.Zm9v.YmFy", "url": url}])
    open_page(forged, url)
    forged.get_by_text("changed or made elsewhere").wait_for(timeout=10_000)

    close_the_class(tess, tmp / "accounts", info.id)
    bob.reload(wait_until="domcontentloaded")
    wait_for_idle(bob)
    bob.get_by_text("was closed by your teacher").wait_for(timeout=10_000)
    student(bob, info.code, codes["Bob"])
    bob.get_by_text("is closed, so its codes no longer work").wait_for(timeout=10_000)
    for page in (tess, ann, bob, cy, forged):
        page.context.close()


def folder_of(tmp: Path, person) -> Path:
    """A person's My digits folder on the server under test (mnist_core.my_digits.person_folder's layout)."""
    return tmp / "my_digits" / "people" / person.folder_name


def test_a_student_deletes_all_her_data_and_no_file_of_hers_is_left(app, browser):
    """Issue 31: "Delete all my data" in the browser, then the folders walked: nothing names her or holds her id."""
    import numpy as np

    from mnist_core import my_digits

    url, tmp = app
    tess = teacher(browser, url)
    info, codes = make_class(tess, tmp, "Year 6", "Ann\nBob")
    ann = new_page(browser, url)
    signed_in(ann, info.code, codes["Ann"], "Ann")
    open_page(ann, url, TINY)
    click(ann, "Start training")
    deadline = time.monotonic() + 30
    while not runs.list_runs(tmp / "runs") and time.monotonic() < deadline:
        time.sleep(0.2)
    her = accounts.sign_in_student(tmp / "accounts", info.code, codes["Ann"], "192.0.2.1").person
    bob = accounts.sign_in_student(tmp / "accounts", info.code, codes["Bob"], "192.0.2.1").person
    for person in (her, bob):  # a kept drawing each (what Draw's Keep does)
        my_digits.add_digit(np.full((28, 28), 0.5, np.float32), 7, folder=folder_of(tmp, person))

    open_page(ann, url, "my_data")
    sure = ann.get_by_text(re.compile(r"Yes, remove all 2 items above for good"))  # her run and her drawings
    sure.wait_for(timeout=30_000)
    until_visible(sure.click, ann.get_by_role("button", name="Delete all my data", disabled=False), timeout=5_000)
    click(ann, "Delete all my data")
    ann.get_by_text(re.compile("Deleted all of your data")).wait_for(timeout=60_000)

    left = [p for folder in (tmp / "runs", tmp / "my_digits") for p in folder.rglob("*")
            if her.folder_name in str(p) or (p.is_file() and her.id.encode() in p.read_bytes())]  # fmt: skip
    assert left == [], left
    assert any(folder_of(tmp, bob).rglob("*.png"))  # Bob's drawing stays
    tess.context.close()
    ann.context.close()
