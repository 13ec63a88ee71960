"""Home's "Get full MNIST (11 MB)" button: download it with a progress bar, then rerun on the full set.

load_mnist() looks at the Keras cache on every call, so once the file is there every page uses it
without a restart; only what pages cached from the old data must go (Home's data_info, Diagnostics'
evaluation of the starter model on the embedded test set): all of st.cache_data, for every session.
"""

from __future__ import annotations

import streamlit as st

from app_security.text import escape_markdown
from mnist_core.data.download import DownloadError, download_mnist

KEY = "home_get_mnist"
DONE_KEY = "home_get_mnist_done"  # the success message, shown once after the rerun


def get_full_mnist_button() -> None:
    """The button (show it only while the embedded sample is in use); on success clear the caches and rerun."""
    if not st.button("Get full MNIST (11 MB)", key=KEY, icon=":material/download:", type="primary"):
        return
    bar = st.progress(0.0, text="Connecting…")

    def show(done: int, total: int | None) -> None:
        fraction = min(done / total, 1.0) if total else 0.0
        size = f" of {total / 1e6:.1f}" if total else ""
        bar.progress(fraction, text=f"Downloading full MNIST: {done / 1e6:.1f}{size} MB")

    try:
        result = download_mnist(progress=show)
    except DownloadError as error:
        bar.empty()
        st.error(escape_markdown(error), icon=":material/error:")
        return
    st.cache_data.clear()  # every result computed from the embedded sample is stale now
    st.session_state[DONE_KEY] = (
        f"**Full MNIST downloaded** to `{result.path}` (SHA-256 checked): every page now uses its "
        f"{result.n_train:,} training and {result.n_test:,} test digits."
    )
    st.rerun()


def show_download_done() -> None:
    """The success message of a download that just finished (once)."""
    message = st.session_state.pop(DONE_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")
