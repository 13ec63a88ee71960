"""The class-account pages through AppTest: the sign-in screen's class-code and teacher forms (with OpenID
Connect off, and beside it), the teacher's Class accounts page (a class and its sheet, a new code, two teachers
at once, 10,000 students) and the page when class accounts are off."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest
from test_pages import ROOT
from test_pages_class import AUTH, CLAIMS

from mnist_core import accounts
from mnist_core.accounts.teachers import add_teacher


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DIGIT_LAB_MY_DIGITS_DIR", str(tmp_path / "my_digits"))
    monkeypatch.setenv("DIGIT_LAB_ACCOUNTS_DIR", str(tmp_path / "accounts"))
    monkeypatch.setenv("DIGIT_LAB_CLASS_ACCOUNTS", "1")
    monkeypatch.setenv("DIGIT_LAB_TEACHERS", "tess@school.example")
    return tmp_path / "accounts"


def plain(element) -> str:
    """An element's text without the backslashes escape_markdown put before punctuation."""
    return re.sub(r"\\(.)", r"\1", element.value)


def app(oidc_user: str | None = None, auth: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if auth:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": oidc_user is not None, **(CLAIMS[oidc_user] if oidc_user else {})}
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, class_code: str, code: str) -> AppTest:
    at.text_input(key="class_sign_in_class").input(class_code)
    at.text_input(key="class_sign_in_code").input(code)
    at.button(key="FormSubmitter:class_sign_in_student_form-Sign in with your class code").click().run()
    assert not at.exception, at.exception
    return at


def test_a_student_signs_in_with_codes_and_sees_no_teacher_page(folder):
    info, codes = accounts.create_class(folder, "5B", ["Ann", "Bob"], None)
    at = app()
    assert at.title[0].value == "Digit Lab" and not at.get("page_link")
    sign_in(at, info.code, "2-AAAA-AAAA")
    assert "That is not the code of number 2" in plain(at.error[0])
    sign_in(at, info.code, "2-AAAA-AA€A")
    assert "holds only letters and digits" in plain(at.error[0]) and "'€'" in plain(at.error[0])
    sign_in(at, info.code.lower(), codes[1].code)
    assert any(c.value.endswith("Bob") for c in at.sidebar.caption)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/class_accounts.py").run()


def test_beside_oidc_both_ways_in_are_offered_and_an_operator_made_teacher_signs_in(folder):
    password = add_teacher(folder, "Ms Rivera")
    at = app(auth=True)
    labels = [b.label for b in at.button]
    assert "Sign in" in labels and "Sign in with your class code" in labels and "Sign in as a teacher" in labels
    at.text_input(key="class_sign_in_name").input("Ms Rivera")
    at.text_input(key="class_sign_in_password").input(password)
    at.button(key="FormSubmitter:class_sign_in_teacher_form-Sign in as a teacher").click().run()
    assert any("Ms Rivera · teacher" in c.value for c in at.sidebar.caption)
    at.switch_page("pages/class_accounts.py").run()
    assert not at.exception and at.title[0].value == "Class accounts"


def teacher_page() -> AppTest:
    at = app("tess", auth=True)
    at.switch_page("pages/class_accounts.py").run()
    assert not at.exception, at.exception
    return at


def make_class(at: AppTest, names: str = "", count: int = 0) -> AppTest:
    at.text_input(key="accounts_class_name").input("Year 5")
    at.text_area(key="accounts_names").input(names)
    at.number_input(key="accounts_count").set_value(count)
    at.button(key="FormSubmitter:accounts_new_class-Make the class and its codes").click().run()
    assert not at.exception, at.exception
    return at


def test_a_teacher_makes_a_class_and_gets_its_codes_once_with_a_sheet_to_print(folder):
    at = make_class(teacher_page(), "Ann\nBob\nCy")
    [info] = accounts.list_classes(folder)
    assert f"class code {info.code}" in plain(at.success[0])
    table = at.dataframe[0].value
    assert list(table["Name"]) == ["Ann", "Bob", "Cy"]
    assert all(code.startswith(f"{n}-") for n, code in zip(table["Number"], table["Code"], strict=True))
    assert at.get("download_button")[0].proto.label == "Download the sheet to print"
    accounts.sign_in_student(folder, info.code, table["Code"][0], None)
    at.button(key="accounts_hide").click().run()
    assert "New codes: print them now" not in [h.value for h in at.subheader]


def test_ten_thousand_students_get_a_message_and_no_class(folder):
    at = make_class(teacher_page(), count=10_000)
    assert "at most 100 students; 10,000 were asked for" in plain(at.error[0])
    assert accounts.list_classes(folder) == []


def test_a_new_code_from_the_page_and_a_stale_page_after_another_teacher_removed_the_student(folder):
    info, codes = accounts.create_class(folder, "5B", ["Ann", "Bob"], None)
    at = teacher_page()
    at.button(key=f"accounts_reset_{info.id}").click().run()  # the first student, Ann
    new = at.dataframe[0].value["Code"][0]
    assert new.startswith("1-") and new != codes[0].code
    accounts.remove_student(folder, info.id, 1)  # another teacher, meanwhile
    at.button(key=f"accounts_reset_{info.id}").click().run()
    assert "Number 1 is no longer in the class" in plain(at.error[0]) and "Nothing changed" in plain(at.error[0])
    assert [s.name for s in accounts.load_class(folder, info.id).students] == ["Bob"]


def test_closing_asks_first_then_the_codes_stop_working(folder):
    info, codes = accounts.create_class(folder, "5B", ["Ann"], None)
    at = teacher_page()
    assert at.button(key=f"accounts_close_{info.id}").disabled
    at.checkbox(key=f"accounts_sure_{info.id}").check().run()
    at.button(key=f"accounts_close_{info.id}").click().run()
    assert "its codes no longer work" in plain(at.success[0])
    with pytest.raises(accounts.AccountError, match="closed"):
        accounts.sign_in_student(folder, info.code, codes[0].code, None)


def test_with_class_accounts_off_the_page_says_how_to_switch_them_on(folder, monkeypatch):
    monkeypatch.delenv("DIGIT_LAB_CLASS_ACCOUNTS")
    at = app()  # no sign-in at all: the one-person lab as it was, no sign-in screen, no Class accounts page
    assert at.title[0].value != "Digit Lab" or not at.get("text_input")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/class_accounts.py").run()
    page = AppTest.from_file(str(ROOT / "pages" / "class_accounts.py"), default_timeout=60)
    page.session_state["app_shell"] = True  # reached by its address anyway
    page.run()
    assert "DIGIT_LAB_CLASS_ACCOUNTS=1" in plain(page.info[0])
