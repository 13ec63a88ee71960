"""Watch it learn: the guesses on 100 fixed test digits, epoch by epoch, live or replayed after the run."""

from __future__ import annotations

import streamlit as st

from mnist_core import runs
from mnist_core.training.watch import WATCH_NAME, load_watch
from ui import charts, image_charts
from ui.files import file_version
from ui.train_form import KEY  # the Train page's prefix: these widgets live on it


@st.cache_data(show_spinner=False, max_entries=16)
def _watch(run_path: str, version: float):
    return load_watch(run_path)


def watch_it_learn(handle: runs.RunHandle, where: str, live: bool = False) -> None:
    """The 100 watched digits with the latest guesses (live) or any epoch's (a slider, afterwards)."""
    watch = _watch(str(handle.path), file_version(handle.path / WATCH_NAME))
    if watch is None or not watch.epochs:
        if live:
            st.caption(
                ":material/visibility: Watch it learn: the guesses on 100 test digits appear when training starts."
            )
        return
    st.markdown(
        "**:material/visibility: Watch it learn** · 10 test digits of each kind, with the model's guess "
        "in the corner: :green[green] right, :red[red] wrong"
    )
    row = len(watch.epochs) - 1 if live else _replayed(watch.epochs, where)
    grid_col, curve_col = st.columns([3, 2], vertical_alignment="center")
    right = int((watch.guesses[row] == watch.labels).sum())
    grid_col.plotly_chart(
        image_charts.watch_grid(watch.images, watch.labels, watch.guesses[row], watch.confidence[row]),
        key=f"{KEY}{where}_watch",
        config={"displayModeBar": False},
    )
    curve_col.metric(
        f"Right after epoch {watch.epochs[row]}",
        f"{right} of {len(watch.labels)}",
        border=True,
        delta=int(right - (watch.guesses[row - 1] == watch.labels).sum()) if row else None,
    )
    curve_col.plotly_chart(
        charts.accuracy_steps(watch.epochs[: row + 1], watch.accuracy[: row + 1]),
        key=f"{KEY}{where}_watch_curve",
        config={"displayModeBar": False},
    )


def _replayed(epochs: list[int], where: str) -> int:
    """The row of the epoch the replay slider picks (the last one when there is only one)."""
    if len(epochs) == 1:
        return 0
    epoch = st.select_slider(
        "Replay: guesses after epoch",
        epochs,
        value=epochs[-1],
        key=f"{KEY}{where}_watch_epoch",
        help="Epoch 0 is the untrained model.",
    )
    return epochs.index(epoch)
