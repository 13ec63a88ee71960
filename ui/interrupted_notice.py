"""Tells a person that one of their runs was interrupted: a worker died or the server restarted.

The Train page used to show the next run as the current one, so an interrupted run vanished without a word.
Each of the person's runs interrupted in the last `RECENT_S` is named once per session, with why and what to
do, until they dismiss it.
"""

from __future__ import annotations

import time

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.runs.files import RunStatus
from ui.train_form import fill_form

RECENT_S = 15 * 60  # older interruptions are the run list's business, not news


def recent_interruptions(
    handles: list[runs.RunHandle], now: float, dismissed: set[str]
) -> list[tuple[runs.RunHandle, RunStatus]]:
    """The runs in `handles` interrupted within `RECENT_S` of `now` and not dismissed, with their status."""
    found = []
    for handle in handles:
        if handle.id in dismissed:
            continue
        status = handle.status()
        if status.state == "interrupted" and now - (status.ended_at or status.created_at) <= RECENT_S:
            found.append((handle, status))
    return found


def interrupted_notice(handles: list[runs.RunHandle], key: str) -> None:
    """A warning per recently interrupted run of the viewer's, each with Dismiss."""
    dismissed: set[str] = st.session_state.setdefault(key + "dismissed_interruptions", set())
    for handle, status in recent_interruptions(handles, time.time(), dismissed):
        why = status.message or "Its worker stopped before it finished."
        text_col, reuse_col, dismiss_col = st.columns([5, 1.4, 1], vertical_alignment="center")
        text_col.warning(
            f"Your run **{escape_markdown(handle.name)}** was interrupted: {escape_markdown(why)} "
            "What it learned so far stays in **Run history**. To run it again, use its settings and press "
            "**Start training**.",
            icon=":material/warning:",
        )
        reuse_col.button(
            "Use its settings",
            key=f"{key}reuse_interrupted_{handle.id}",
            width="stretch",
            on_click=_reuse,  # a callback: the form's widgets above are already drawn in this run
            args=(handle, dismissed),
        )
        dismiss_col.button(
            "Dismiss", key=f"{key}dismiss_{handle.id}", width="stretch", on_click=dismissed.add, args=(handle.id,)
        )


def _reuse(handle: runs.RunHandle, dismissed: set[str]) -> None:
    fill_form(handle.config)
    dismissed.add(handle.id)
