"""The app's pages, and a page opened by its URL on a fresh server going through app.py's shell first."""

from __future__ import annotations

import streamlit as st

from mnist_core.accounts.store import class_accounts_on


def app_pages(teacher: bool = True) -> dict[str, st.Page]:
    """Digit Lab's pages by URL path ("" is Home); Class and (when on) Class accounts only for teachers."""
    pages = {
        "": st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        "train": st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        "draw": st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
        "my_digits": st.Page("pages/my_digits.py", title="My digits", icon=":material/collections_bookmark:"),
        "diagnostics": st.Page("pages/diagnostics.py", title="Diagnostics", icon=":material/troubleshoot:"),
        "lessons": st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
        "my_data": st.Page("pages/my_data.py", title="My data", icon=":material/shield_person:"),
        "class": st.Page("pages/class_view.py", title="Class", icon=":material/groups:"),
        "class_accounts": st.Page("pages/class_accounts.py", title="Class accounts", icon=":material/badge:"),
    }
    if not teacher or not class_accounts_on():  # the one-person lab's menu stays as it was
        pages.pop("class_accounts")
    if not teacher:
        pages.pop("class")
    return pages


def ensure_app_shell() -> None:
    """Make sure app.py (navigation, sign-in, sidebar) runs around this page.

    Until the server's first `st.navigation` call, Streamlit runs a file in pages/ directly when its URL is
    opened (the older multipage mode, on because the folder is named pages/). Calling `st.navigation` with
    the app's pages turns that mode off for the whole server, and the rerun goes through app.py, which
    shows this page with its query parameters (a shared Train link's settings).
    """
    if "app_shell" in st.session_state:
        return
    st.navigation(list(app_pages().values()), position="sidebar")
    st.rerun()
