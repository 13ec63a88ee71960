"""Train page extras: Watch it learn (guesses on 100 fixed test digits, epoch by epoch) and Share
(settings in the URL, runs as zip files)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from mnist_core import explain_charts, runs, transfers
from mnist_core.config import TrainingConfig
from mnist_core.sharing import MAX_ZIP_BYTES, RunImportError, config_from_query, config_to_query, import_run_zip
from mnist_core.ui_helpers import file_version
from mnist_core.watch import WATCH_NAME, load_watch

KEY = "train_"
OWN_PARAMS = {"page", "embed", "embed_options"}  # query parameters that are not settings
URLS_REMEMBERED = 100  # settings URLs a session remembers as its own (a slider dragged end to end: ~60)


# ---------------------------------------------------------------- Watch it learn
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
    row = len(watch.epochs) - 1
    if not live and len(watch.epochs) > 1:
        epoch = st.select_slider(
            "Replay: guesses after epoch",
            watch.epochs,
            value=watch.epochs[-1],
            key=f"{KEY}{where}_watch_epoch",
            help="Epoch 0 is the untrained model.",
        )
        row = watch.epochs.index(epoch)
    grid_col, curve_col = st.columns([3, 2], vertical_alignment="center")
    right = int((watch.guesses[row] == watch.labels).sum())
    grid_col.plotly_chart(
        explain_charts.watch_grid(watch.images, watch.labels, watch.guesses[row], watch.confidence[row]),
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
        explain_charts.accuracy_steps(watch.epochs[: row + 1], watch.accuracy[: row + 1]),
        key=f"{KEY}{where}_watch_curve",
        config={"displayModeBar": False},
    )


# ---------------------------------------------------------------- Share: settings in the URL
def restore_from_url(fill_form: Callable[[TrainingConfig], None]) -> None:
    """Opened with settings in the URL (or the URL changed): fill every control from it once, and
    show what was ignored.

    A URL this session wrote itself is never read back: while a slider moves, a rerun can arrive
    with the URL of an earlier value still in the browser, and reading it would move the slider back.
    """
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in OWN_PARAMS}
    if not params or params in _urls_seen():
        return
    shared = config_from_query(params)
    fill_form(shared.config)
    _remember_url(params)
    st.session_state[KEY + "url_warnings"] = shared.warnings


def show_url_warnings() -> None:
    for warning in st.session_state.pop(KEY + "url_warnings", ()):
        st.warning(f"From the link: {warning}", icon=":material/link_off:")


def sync_url(config: TrainingConfig | None) -> None:
    """Keep the page's URL equal to the settings, so copying it shares them."""
    if config is None:
        return
    wanted = config_to_query(config)
    if wanted != {k: v for k, v in st.query_params.to_dict().items() if k not in OWN_PARAMS}:
        st.query_params.from_dict(wanted)
    _remember_url(wanted)


def _urls_seen() -> list[dict]:
    """The settings URLs this session wrote or already applied, newest last."""
    return st.session_state.setdefault(KEY + "urls_seen", [])


def _remember_url(params: dict) -> None:
    seen = _urls_seen()
    if params in seen:
        seen.remove(params)
    seen.append(params)
    del seen[:-URLS_REMEMBERED]


# ---------------------------------------------------------------- Share: runs as zip files
def export_button(handle: runs.RunHandle, where: str) -> None:
    st.download_button(
        "Export as zip",
        functools.partial(transfers.run_zip, handle.id),
        file_name=f"{handle.id}.zip",
        mime="application/zip",
        icon=":material/ios_share:",
        on_click="ignore",
        key=f"{KEY}{where}_export",
        help="The run's settings, curves, models and evaluation in one file; import it on the Train "
        "page of any Digit Lab.",
    )


def import_uploader() -> None:
    """Import a run zip once per uploaded file; the run appears in the history, or the error says why."""
    upload = st.file_uploader(
        "Import a run (.zip)", type=["zip"], key=KEY + "import_run", help="A zip made with Export as zip."
    )
    if upload is None or st.session_state.get(KEY + "imported_run") == upload.file_id:
        return
    st.session_state[KEY + "imported_run"] = upload.file_id
    try:
        handle = transfers.import_bytes(upload.getvalue(), upload.name, import_run_zip, MAX_ZIP_BYTES, "run zips")
    except (ValueError, RunImportError) as error:
        st.error(str(error), icon=":material/error:")
    else:
        st.session_state[KEY + "run_id"] = handle.id
        st.success(f"Imported **{handle.name}**.", icon=":material/check_circle:")
