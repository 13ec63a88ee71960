"""Damaged runs: each named with what is wrong, with a Delete that works whatever its files hold.

A run folder may come from anyone (an imported zip) or be damaged on disk. Pages list only `usable_runs()`,
so no page reads a damaged run's files; `damaged_runs()` (in the sidebar, on every page) names each damaged
run and offers its Delete. Every other run keeps working.
"""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from ui.sign_in import current_person

KEY = "damaged_"  # session-state prefix


def usable_runs() -> list[runs.RunHandle]:
    """The runs the signed-in person may see whose files pass the run-file schema, newest first."""
    return [handle for handle in runs.list_runs(viewer=current_person()) if handle.damage() is None]


def damaged_runs(where=st.sidebar) -> None:
    """A warning per damaged run in `where`: its name (else its folder), what is wrong, and Delete."""
    viewable = runs.list_runs(viewer=current_person())
    damaged = [(handle, problem) for handle in viewable if (problem := handle.damage()) is not None]
    if not damaged:
        return
    with where:
        error = st.session_state.pop(KEY + "error", None)
        if error:
            st.error(escape_markdown(error), icon=":material/error:")
        for handle, problem in damaged:
            _damaged(handle, problem)


def _damaged(handle: runs.RunHandle, problem: str) -> None:
    named = escape_markdown(handle.name)
    folder = "" if handle.name == handle.id else f" (folder {escape_markdown(handle.id)})"
    st.warning(
        f"**Damaged run: {named}**{folder}. {escape_markdown(problem)} It is left out of every page; "
        "delete it, or import it again from a good copy.",
        icon=":material/broken_image:",
    )
    if st.session_state.get(KEY + "confirm") != handle.id:
        st.button(
            "Delete it", key=f"{KEY}delete_{handle.id}", icon=":material/delete:", on_click=_ask, args=(handle.id,)
        )
        return
    yes_col, no_col = st.columns(2)
    yes_col.button("Yes, delete", key=f"{KEY}yes_{handle.id}", type="primary", on_click=_delete, args=(handle,))
    no_col.button("Cancel", key=f"{KEY}no_{handle.id}", on_click=_ask, args=(None,))


def _ask(run_id: str | None) -> None:
    st.session_state[KEY + "confirm"] = run_id


def _delete(handle: runs.RunHandle) -> None:
    st.session_state.pop(KEY + "confirm", None)
    try:
        handle.delete()  # reads only status.json, as a finished "failed" run when it is damaged
    except runs.RunError as error:
        st.session_state[KEY + "error"] = str(error)
