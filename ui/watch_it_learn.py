"""Watch it learn: the guesses on 100 fixed test digits, epoch by epoch, live or replayed after the run."""

from __future__ import annotations

import streamlit as st

from mnist_core import runs
from mnist_core.training.watch import WATCH_NAME, load_watch
from ui import charts, image_charts
from ui.chart_view import show_chart
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
    summary, table = _guesses_as_text(watch, row)
    show_chart(
        image_charts.watch_grid(watch.images, watch.labels, watch.guesses[row], watch.confidence[row]),
        f"{KEY}{where}_watch",
        container=grid_col,
        summary=summary,
        rows=table,
        config={"displayModeBar": False},
    )
    curve_col.metric(
        f"Right after epoch {watch.epochs[row]}",
        f"{right} of {len(watch.labels)}",
        border=True,
        delta=int(right - (watch.guesses[row - 1] == watch.labels).sum()) if row else None,
    )
    show_chart(
        charts.accuracy_steps(watch.epochs[: row + 1], watch.accuracy[: row + 1]),
        f"{KEY}{where}_watch_curve",
        container=curve_col,
        config={"displayModeBar": False},
    )


def _guesses_as_text(watch, row: int) -> tuple[list[str], list[dict]]:
    """The grid in words: how many of each digit it got right after that epoch, and every wrong guess."""
    labels, guesses = watch.labels, watch.guesses[row]
    wrong = [f"a {int(t)} taken for {int(g)}" for t, g in zip(labels, guesses, strict=True) if t != g]
    lines = [f"After epoch {watch.epochs[row]}: {len(labels) - len(wrong)} of {len(labels)} guessed right."]
    if wrong:
        lines.append("Wrong: " + ", ".join(wrong) + ".")
    table = [
        {"digit": str(d), "right": int(((labels == d) & (guesses == d)).sum()), "shown": int((labels == d).sum())}
        for d in range(10)
    ]
    return lines, table


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
