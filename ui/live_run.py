"""A run in training, shown live: re-read from its folder while the worker writes it.

Train and My digits show the whole panel (progress, Stop, curves) every second; Home a small card every
2 s. When the run ends the whole page reruns, so it can show the outcome.
"""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from ui.chart_view import show_chart
from ui.formatting import format_duration, progress_text
from ui.sign_in import current_person


def live_run(run_id: str, key: str, *, compact: bool = False, watch: bool = False) -> None:
    """The run `run_id` while it trains: the full panel (with Watch it learn when `watch`), or a compact card
    linking to the Train page. `key` prefixes the widget keys (the page's own prefix)."""
    if compact:
        _card(run_id)
    else:
        _panel(run_id, key, watch)


def _active(run_id: str) -> runs.RunHandle:
    """The run, if it is still training; else the page reruns to show what happened."""
    handle = runs.load_run(run_id, viewer=current_person())
    if not handle.status().is_active:
        st.rerun()
    return handle


def _progress(handle: runs.RunHandle) -> runs.Progress | None:
    progress = handle.progress()
    if progress is None:
        st.progress(0.0, text="Starting: loading the model and the data…")
    else:
        st.progress(progress.fraction, text=progress_text(progress))
    return progress


@st.fragment(run_every=2)
def _card(run_id: str) -> None:
    handle = _active(run_id)
    with st.container(border=True):
        st.markdown(f"**:material/model_training: Training now: {escape_markdown(handle.name)}**")
        _progress(handle)
        st.page_link("pages/train.py", label="Watch it on the Train page", icon=":material/arrow_forward:")


@st.fragment(run_every=1)
def _panel(run_id: str, key: str, watch: bool) -> None:
    from ui import charts  # here, not above: Home's card imports this module and must not load NumPy
    from ui.watch_it_learn import watch_it_learn

    handle = _active(run_id)
    status = handle.status()
    title_col, stop_col = st.columns([4, 1], vertical_alignment="center")
    title_col.markdown(
        f"#### :material/model_training: {escape_markdown(handle.name)}\n{escape_markdown(status.message)}"
    )
    stopping = st.session_state.get(key + "stopping") == run_id
    stop_col.button(
        "Stopping…" if stopping else "Stop",
        icon=":material/stop:",
        key=key + "stop",
        disabled=stopping,
        width="stretch",
        on_click=_request_stop,
        args=(run_id, key),
    )
    progress = _progress(handle)
    metrics = handle.metrics()
    figure = charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=status.epochs)
    show_chart(figure, key + "live_curves")
    st.caption(
        f"{len(metrics.batches)} batch points · {len(metrics.epochs)} epochs done · "
        f"running for {format_duration(progress.elapsed_s if progress else 0)}"
    )
    if watch:
        watch_it_learn(handle, "live", live=True)


def _request_stop(run_id: str, key: str) -> None:
    try:
        runs.load_run(run_id, viewer=current_person()).stop()
    except runs.RunError as error:  # someone else's shared run, or it is gone
        st.toast(escape_markdown(error), icon=":material/error:")
        return
    st.session_state[key + "stopping"] = run_id
    st.toast("Stopping after the current batch; the best weights are kept.", icon=":material/stop_circle:")
