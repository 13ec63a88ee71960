"""The training pool for teachers: the live Celery workers and what each trains now.

`pool_rows` is pure (a table from the engine's `pool_status`); `show_worker_pool` is the widget, and
`worker_pool_panel` the Train page's copy of it that refreshes every few seconds with the queue panel
(the table used to stand still while runs moved). Without $DIGIT_LAB_BROKER runs train on this machine and it shows
nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from mnist_core import runs
from mnist_core.runs.queue import BROKER_ENV
from mnist_core.workers.celery_launcher import WorkerInfo, pool_status
from ui.formatting import format_duration


def pool_rows(workers: list[WorkerInfo], names: dict[str, str], now: float) -> list[dict[str, object]]:
    """One row per worker: its name and machine, runs at once, what it trains (run names), how long it is up."""
    return [
        {
            "worker": info.name,
            "machine": info.host,
            "trains": ", ".join(names.get(run_id, run_id) for run_id in info.training) or "nothing (free)",
            "free slots": f"{info.free} of {info.concurrency}",
            "up for": format_duration(max(0.0, now - info.started_at)),
        }
        for info in workers
    ]


REFRESH_S = 3  # reads a few small files per run folder: cheap beside the queue panel's 2 s refresh


@st.fragment(run_every=REFRESH_S)
def worker_pool_panel() -> None:
    """`show_worker_pool`, redrawn every `REFRESH_S` seconds on its own (the rest of the page stays)."""
    show_worker_pool()


def show_worker_pool(runs_dir_path: str | Path | None = None) -> list[WorkerInfo]:
    """The pool as a table (nothing without a broker); returns the live workers."""
    if not os.environ.get(BROKER_ENV, "").strip():
        return []
    root = runs.runs_dir(runs_dir_path)
    workers = pool_status(root)
    if not workers:
        st.warning(
            "No training worker is running, so runs wait in the queue. On a worker machine that mounts the runs "
            "folder, start one with `python -m mnist_core worker`.",
            icon=":material/dns:",
        )
        return workers
    names = {h.id: h.name for h in runs.list_runs(root) if h.id in {r for w in workers for r in w.training}}
    st.caption(f"Training pool: {len(workers)} worker(s), {sum(w.concurrency for w in workers)} runs at once.")
    st.dataframe(pool_rows(workers, names, time.time()), hide_index=True, width="stretch")
    return workers
