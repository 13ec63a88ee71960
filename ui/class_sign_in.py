"""Class accounts at sign-in (mnist_core.accounts), beside OpenID Connect: the class-code form, the form for
operator-made teacher accounts, and the signed token the browser keeps in a cookie, so that a refresh stays
signed in. Streamlit reads cookies (st.context.cookies, as the page was opened) but cannot set them, so a small
script (st.html) writes the token once after signing in and clears it on Sign out."""

from __future__ import annotations

import json

import streamlit as st

from app_security.text import escape_markdown
from mnist_core.accounts import (
    AccountError,
    accounts_dir,
    class_accounts_on,
    person_from_token,
    sign_in_student,
    sign_in_teacher,
)
from mnist_core.accounts.tokens import token_hours
from mnist_core.people import Person

COOKIE = "digit_lab_sign_in"
KEY = "class_sign_in_"
_TOKEN, _DROPPED, _WRITE, _PROBLEM = (KEY + name for name in ("token", "dropped", "write", "problem"))


def local_person() -> Person | None:
    """The person a class or teacher account's token names (this session's, else the browser's cookie)."""
    if not class_accounts_on():
        return None
    token = _token()
    if token is None:
        return None
    try:
        return person_from_token(accounts_dir(), token)
    except AccountError as error:  # forged, expired, a new code, a closed class: signed out, with why
        st.session_state[_PROBLEM] = str(error)
        sign_out()
        return None


def _token() -> str | None:
    state = st.session_state
    if _TOKEN in state:
        return state[_TOKEN]
    cookie = st.context.cookies.get(COOKIE)
    return cookie if cookie and cookie != state.get(_DROPPED) else None


def sign_out() -> None:
    """Forget this session's class sign-in and clear the browser's cookie (on the next run)."""
    state = st.session_state
    state[_DROPPED] = st.context.cookies.get(COOKIE)  # the cookie this session was opened with stays unread
    state[_TOKEN], state[_WRITE] = None, ""


def keep_cookie() -> None:
    """Write (or clear) the browser's cookie when a sign-in or Sign out asked for it; once."""
    value = st.session_state.pop(_WRITE, None)
    if value is None:
        return
    age = int(token_hours() * 3600) if value else 0
    cookie = json.dumps(f"{COOKIE}={value}; Max-Age={age}; Path=/; SameSite=Strict")
    st.html(
        f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,  # our own script; the token holds only URL-safe characters
    )


def _signed_in(signed) -> None:
    state = st.session_state
    state[_TOKEN], state[_WRITE] = signed.token, signed.token
    state.pop(_PROBLEM, None)


def _address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:  # no client (a test): the local machine
        return None


def _try_student() -> None:
    state = st.session_state
    try:
        _signed_in(sign_in_student(accounts_dir(), state[KEY + "class"], state[KEY + "code"], _address()))
    except AccountError as error:  # CodeError, LockedOut and a wrong code are all AccountErrors
        state[_PROBLEM] = str(error)


def _try_teacher() -> None:
    state = st.session_state
    try:
        _signed_in(sign_in_teacher(accounts_dir(), state[KEY + "name"], state[KEY + "password"], _address()))
    except AccountError as error:
        state[_PROBLEM] = str(error)


def class_sign_in_forms() -> None:
    """The sign-in screen's part for class accounts: students' codes, then operator-made teachers."""
    if st.session_state.get(_PROBLEM):
        st.error(escape_markdown(st.session_state[_PROBLEM]), icon=":material/lock:")
    with st.form(KEY + "student_form"):
        st.markdown("**Sign in with your class code**: both codes are on the sheet your teacher gave you.")
        st.text_input("Class code", key=KEY + "class", max_chars=40, placeholder="K7PQRM")
        st.text_input("Your code", key=KEY + "code", max_chars=40, placeholder="3-7KXP-QRMT", type="password")
        st.form_submit_button("Sign in with your class code", type="primary", on_click=_try_student)
    with st.expander("Teachers with an account made here"), st.form(KEY + "teacher_form"):
        st.text_input("Your name", key=KEY + "name", max_chars=60)
        st.text_input("Password", key=KEY + "password", max_chars=100, type="password")
        st.form_submit_button("Sign in as a teacher", on_click=_try_teacher)
