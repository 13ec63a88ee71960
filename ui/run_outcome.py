"""How a run ended, as one banner: green when it completed, amber when stopped, red otherwise."""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from ui.formatting import format_duration

STATE_ICONS = {
    "completed": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}


def run_outcome(handle: runs.RunHandle, *, duration: bool = True) -> runs.RunStatus:
    """The banner of a finished run: its name, its last message and (with `duration`) how long it took.
    Returns the status it read."""
    status = handle.status()
    show = {"completed": st.success, "stopped": st.warning}.get(status.state, st.error)
    took = f" ({format_duration(status.duration_s)})" if duration else ""
    show(
        f"**{escape_markdown(handle.name)}**: {escape_markdown(status.message)}{took}",
        icon=STATE_ICONS.get(status.state, ":material/info:"),
    )
    return status
