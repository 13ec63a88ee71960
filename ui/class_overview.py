"""For teachers: every person's runs that train or wait now, with Stop for any of them."""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.people import Person
from mnist_core.runs.files import RunStatus
from mnist_core.runs.queue_view import queue_places
from ui.formatting import format_duration
from ui.queue_panel import ordinal


def active_runs(teacher: Person) -> list[tuple[runs.RunHandle, RunStatus]]:
    """Everyone's runs that train or wait now, newest first, each with its status (read once)."""
    return [(h, s) for h in runs.list_runs(viewer=teacher) if (s := h.status()).is_active]


def class_activity(teacher: Person) -> str:
    """What a teacher with no runs of their own reads under Current run: the class's, and where to find them."""
    active = active_runs(teacher)
    training = sum(1 for _, status in active if status.state == "running")
    waiting = len(active) - training
    if not training and not waiting:
        return (
            "You have no runs of your own, and nobody in the class is training right now. Choose a preset "
            "(**quick** trains in seconds) and press **Start training**, or give the class a lesson."
        )
    return (
        f"You have no runs of your own. The class has **{training}** training and **{waiting}** waiting: "
        "see them, with Stop for each, under **Everyone's training** below."
    )


@st.fragment(run_every=3)
def class_overview(teacher: Person, key: str) -> None:
    """A row per active run of anyone: who, what, where it stands; Stop (or Cancel) for each."""
    active = active_runs(teacher)
    if not active:
        st.caption("Nobody is training or waiting right now.")
        return
    places = queue_places()
    for handle, status in reversed(active):  # oldest first: the order they were started
        place = places.get(handle.id)
        where = (
            f"waits, {ordinal(place.place)} of {place.waiting}"
            if place
            else f"trains on {escape_markdown(status.worker or 'a worker')}, {format_duration(status.duration_s)}"
        )
        text_col, stop_col = st.columns([5, 1], vertical_alignment="center")
        text_col.markdown(f"**{escape_markdown(handle.owner.label)}** · {escape_markdown(handle.name)} · {where}")
        stop_col.button(
            "Cancel" if place else "Stop",
            key=f"{key}class_stop_{handle.id}",
            icon=":material/stop:",
            width="stretch",
            on_click=_stop,
            args=(handle.id, teacher),
        )


def _stop(run_id: str, teacher: Person) -> None:
    try:
        runs.load_run(run_id, viewer=teacher).stop()
    except runs.RunError as error:
        st.toast(escape_markdown(error), icon=":material/error:")
