"""Class accounts in the engine (mnist_core.accounts): codes hashed, never kept in clear; sign-in with a class
code and a student's code is the Person the engine uses; lock-out per class and per address; a new code, a
removed student and a closed class end sign-ins at once; forged and expired tokens; two teachers at once."""

from __future__ import annotations

import base64
import json
import re
import threading

import pytest

from mnist_core import accounts
from mnist_core.accounts import codes, lockout, tokens
from mnist_core.accounts.sheet import sheet_html
from mnist_core.accounts.teachers import add_teacher, remove_teacher, reset_teacher
from mnist_core.cli import main
from mnist_core.people import person_from_claims


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "accounts"


@pytest.fixture
def made(folder):
    """A class of three and their codes, as the teacher's sheet shows them."""
    return accounts.create_class(folder, "Year 5 Birch", ["Ann", "Bob", "Cy"], None)


def test_the_code_space_is_the_one_stated():
    assert len(set(codes.ALPHABET)) == 31 and not set("0O1IL") & set(codes.ALPHABET)
    assert f"{31**codes.SECRET_LENGTH:.1e}" == "8.5e+11"


def test_codes_are_kept_only_as_argon2_hashes(folder, made):
    info, shown = made
    text = next((folder / "classes").glob("*.json")).read_text()
    assert text.count("$argon2id$") == 3
    for new in shown:
        secret = new.code.split("-", 1)[1].replace("-", "")
        assert secret not in text and new.code not in text
    assert [(c.seat, c.name) for c in shown] == [(1, "Ann"), (2, "Bob"), (3, "Cy")]
    assert re.fullmatch(r"\d-[A-Z2-9]{4}-[A-Z2-9]{4}", shown[0].code)


def test_a_student_signs_in_as_their_own_person_in_a_namespace_of_its_own(folder, made):
    info, shown = made
    signed = accounts.sign_in_student(folder, info.code.lower(), " " + shown[1].code.lower() + " ", None)
    assert signed.person.id == f"class:{info.id}|s2" and signed.person.name == "Bob"
    assert not signed.person.is_teacher
    assert accounts.person_from_token(folder, signed.token) == signed.person
    with pytest.raises(ValueError, match="not a web address"):
        person_from_claims({"iss": f"class:{info.id}", "sub": "s2"})


@pytest.mark.parametrize(
    ("class_code", "code", "message"),
    [
        ("K7PQ<M", "1-AAAA-AAAA", "holds only letters and digits"),
        ("K7PQRM", "1-AAAA-AAÄA", "holds only letters and digits"),
        ("K7PQRM", "1-AAAA-AA0A", "never use O/0"),
        ("K7PQRM", "AAAA-AAAA", "starts with your number"),
        ("K7PQ", "1-AAAA-AAAA", "has 6 letters and digits; that one has 4"),
        ("K7PQRM", "1" * 60, "much shorter"),
        ("K7PQRM", "1-AAAA-AAAA", "No class has the code K7PQRM"),
    ],
)
def test_odd_codes_get_a_message(folder, made, class_code, code, message):
    with pytest.raises(accounts.AccountError, match=re.escape(message)):
        accounts.sign_in_student(folder, class_code, code, None)


def test_wrong_codes_lock_the_class_out_with_the_minutes_to_wait_and_a_teacher_lifts_it(folder, made):
    info, shown = made
    for _ in range(lockout.MAX_FAILURES):
        with pytest.raises(accounts.AccountError, match="not the code of number 1"):
            accounts.sign_in_student(folder, info.code, "1-AAAA-AAAA", "10.0.0.1")
    with pytest.raises(accounts.LockedOut, match="for this class .* Try again in 15 minutes") as locked:
        accounts.sign_in_student(folder, info.code, shown[0].code, "10.0.0.2")  # the right code, another address
    assert 14 * 60 < locked.value.wait_s <= 15 * 60
    later = __import__("time").time() + lockout.WINDOW_S + 1
    lockout.check_allowed(folder, info.id, "10.0.0.2", now=later)  # the window passed: allowed again
    assert accounts.let_try_again(folder, info.id) == lockout.MAX_FAILURES
    accounts.sign_in_student(folder, info.code, shown[0].code, "10.0.0.2")


def test_one_address_guessing_across_classes_is_locked_out_too(folder, made):
    other, _ = accounts.create_class(folder, "Other", ["Dee"], None)
    for class_code in [made[0].code, other.code] * (lockout.MAX_FAILURES // 2):
        with pytest.raises(accounts.AccountError):
            accounts.sign_in_student(folder, class_code, "1-AAAA-AAAA", "10.9.9.9")
    with pytest.raises(accounts.LockedOut, match="for this network address"):
        accounts.sign_in_student(folder, made[0].code, made[1][0].code, "10.9.9.9")
    assert "10.9.9.9" not in (folder / "attempts.json").read_text()  # kept as a digest only


def test_a_new_code_works_and_the_old_code_and_its_sign_ins_do_not(folder, made):
    info, shown = made
    old = accounts.sign_in_student(folder, info.code, shown[0].code, None)
    new = accounts.reset_code(folder, info.id, 1)
    assert new.code != shown[0].code
    with pytest.raises(accounts.AccountError, match="not the code"):
        accounts.sign_in_student(folder, info.code, shown[0].code, None)
    with pytest.raises(accounts.TokenError, match="new code"):
        accounts.person_from_token(folder, old.token)
    assert accounts.sign_in_student(folder, info.code, new.code, None).person == old.person  # same runs, same digits


def test_a_removed_student_and_a_closed_class_are_signed_out(folder, made):
    info, shown = made
    bob, cy = (accounts.sign_in_student(folder, info.code, shown[n].code, None) for n in (1, 2))
    accounts.remove_student(folder, info.id, 2)
    with pytest.raises(accounts.TokenError, match="no longer in this class"):
        accounts.person_from_token(folder, bob.token)
    with pytest.raises(accounts.AccountError, match="Number 2 is no longer in the class"):
        accounts.reset_code(folder, info.id, 2)
    accounts.close_class(folder, info.id)
    with pytest.raises(accounts.TokenError, match="was closed"):
        accounts.person_from_token(folder, cy.token)
    with pytest.raises(accounts.AccountError, match="is closed, so its codes no longer work"):
        accounts.sign_in_student(folder, info.code, shown[2].code, None)
    with pytest.raises(accounts.AccountError, match="is closed, so it cannot change"):
        accounts.add_students(folder, info.id, 1)
    seats = [s.seat for s in accounts.load_class(folder, info.id).students]
    assert seats == [1, 3]


def test_forged_and_expired_tokens_are_refused_with_a_message(folder, made):
    info, shown = made
    token = accounts.sign_in_student(folder, info.code, shown[0].code, None).token
    payload, rest = token.split(".", 1)
    claims = {"k": "student", "c": info.id, "s": 2, "v": 1}  # Bob, with Ann's signature
    as_bob = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + rest
    assert accounts.person_from_token(folder, token).name == "Ann"
    # One signature character changed: not the last, whose low bits are padding (A-D decode alike there)
    tampered = rest[:-5] + ("A" if rest[-5] != "A" else "B") + rest[-4:]
    for bad in (as_bob, payload + "." + tampered, "x" * 2000, ""):
        with pytest.raises(accounts.TokenError, match="Sign in again"):
            accounts.person_from_token(folder, bad)
    other = tokens.URLSafeTimedSerializer("another-server", salt="digit-lab-sign-in").dumps({"k": "student"})
    with pytest.raises(accounts.TokenError, match="changed or made elsewhere"):
        accounts.person_from_token(folder, other)
    with pytest.raises(accounts.TokenError, match="expired"):
        tokens.read_token(folder, token, max_age_s=-1)


def test_two_teachers_editing_one_class_at_once_both_keep_their_change(folder, made):
    info, _ = made
    start, errors = threading.Barrier(6), []

    def add(n: int) -> None:
        start.wait()
        try:
            accounts.add_students(folder, info.id, names=f"New {n}")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    def reset() -> None:
        start.wait()
        accounts.reset_code(folder, info.id, 1)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(5)] + [threading.Thread(target=reset)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = accounts.load_class(folder, info.id)
    assert not errors
    assert sorted(s.name for s in after.students[3:]) == [f"New {n}" for n in range(5)]
    assert sorted(s.seat for s in after.students) == list(range(1, 9)) and after.students[0].version == 2


def test_a_sheet_for_ten_thousand_students_is_refused_with_a_message(folder, made):
    with pytest.raises(accounts.AccountError, match="at most 100 students; 10,000 were asked for"):
        accounts.student_names(10_000)
    with pytest.raises(accounts.AccountError, match="3 students and holds at most 100; 98 more do not fit"):
        accounts.add_students(folder, made[0].id, 98)


def test_the_sheet_is_print_ready_html_with_names_as_text(folder):
    info, shown = accounts.create_class(folder, "<b>5B</b>", ["<script>x</script>"], None)
    page = sheet_html(info, shown, "http://lab.example")
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert shown[0].code in page and info.code in page and "@media print" in page


def test_operator_made_teachers_sign_in_and_a_new_password_ends_the_old(folder, capsys):
    assert main(["accounts", "--accounts-dir", str(folder), "add-teacher", "Ms Rivera"]) == 0
    password = re.search(r"password ([A-Z2-9]{12})", capsys.readouterr().out).group(1)
    assert password not in (folder / "teachers.json").read_text()
    signed = accounts.sign_in_teacher(folder, "ms  rivera", password.lower(), None)
    assert signed.person.is_teacher and signed.person.id.startswith("teacher:")
    with pytest.raises(accounts.AccountError, match="do not match"):
        accounts.sign_in_teacher(folder, "Ms Rivera", "WRONG", None)
    reset_teacher(folder, "Ms Rivera")
    with pytest.raises(accounts.TokenError, match="new password"):
        accounts.person_from_token(folder, signed.token)
    with pytest.raises(accounts.AccountError, match="already a teacher"):
        add_teacher(folder, "MS RIVERA")
    remove_teacher(folder, "Ms Rivera")
    assert main(["accounts", "--accounts-dir", str(folder), "teachers"]) == 0
    assert "No teacher accounts yet" in capsys.readouterr().out
