"""A person's runs waiting in the training queue: place, expected start, Cancel.

Refreshed every 2 s; each refresh also nudges the queue (`runs.dispatch`), so a slot freed by a run that
ended or died is used even if no worker reported it. When one of the runs starts the page reruns to show
it training.
"""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.people import Person
from mnist_core.runs.queue_view import queue_places
from ui.formatting import format_duration


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@st.fragment(run_every=2)
def queue_panel(run_ids: tuple[str, ...], person: Person | None, key: str) -> None:
    """The waiting runs `run_ids` of `person`, one row each."""
    try:
        runs.dispatch(blocking=False)
    except runs.RunError as error:  # a queue setting is wrong or the broker is down: the runs keep waiting
        st.error(queue_trouble(error, person), icon=":material/error:")
    places = queue_places()
    if any(run_id not in places for run_id in run_ids):
        st.rerun()  # one of them started (or was cancelled elsewhere): show it
    for run_id in run_ids:
        handle, place = runs.load_run(run_id, viewer=person), places[run_id]
        text_col, cancel_col = st.columns([4, 1], vertical_alignment="center")
        start = "next" if place.eta_s < 1 else f"in about {format_duration(place.eta_s)}"
        text_col.markdown(
            f":material/hourglass_top: **{escape_markdown(handle.name)}** waits in the training queue: "
            f"**{ordinal(place.place)}** of {place.waiting}, starts {start} "
            f"({place.training} training now on {place.slots} slot{'s' if place.slots != 1 else ''})."
        )
        cancel_col.button(
            "Cancel",
            key=f"{key}cancel_{run_id}",
            icon=":material/cancel:",
            width="stretch",
            on_click=_cancel,
            args=(run_id, person),
        )


def queue_trouble(error: runs.RunError, person: Person | None, waiting: bool = True) -> str:
    """A run error as whoever sees it can act on it: the queue's trouble (a setting, the broker) in the
    operator's words for the operator and teachers; for a student, what happens to their run instead."""
    if not isinstance(error, runs.QueueUnavailableError) or person is None or person.is_teacher:
        return escape_markdown(error)
    then = (
        "Your run keeps its place and starts by itself once the queue works again"
        if waiting
        else "Your run was not started; press Start again in a minute"
    )
    return (
        "The training queue cannot hand out runs right now: the server needs its operator. "
        f"{then}; tell your teacher if this lasts."
    )


def _cancel(run_id: str, person: Person | None) -> None:
    try:
        runs.load_run(run_id, viewer=person).stop()
    except runs.RunError as error:
        st.toast(escape_markdown(error), icon=":material/error:")
    else:
        st.toast("Cancelled: it will not start.", icon=":material/cancel:")
