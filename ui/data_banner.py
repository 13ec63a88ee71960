"""Home's banner: which MNIST the app trains on, and how to get the full set when it is the small sample."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app_security.text import escape_markdown


@dataclass(frozen=True)
class DataInfo:
    """Which MNIST the app trains on, for banners."""

    kind: str  # "full", "custom", "embedded" or "error"
    source: str  # load_mnist's description, or the DataError message
    n_train: int
    n_test: int

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"


def data_info() -> DataInfo:
    """Describe the dataset load_mnist() finds (loads it once; the result is cached by data)."""
    from mnist_core.data import DataError, load_mnist

    try:
        data = load_mnist()
    except DataError as error:
        return DataInfo("error", str(error), 0, 0)
    return DataInfo(data.kind, data.source, len(data.y_train), len(data.y_test))


@st.cache_data(show_spinner="Looking for MNIST…")
def cached_data_info() -> DataInfo:
    """data_info(), once per server until a download clears st.cache_data (Home and Train use it)."""
    return data_info()


def data_banner(slot) -> DataInfo:
    """Fill `slot` (an st.empty()) with what data_info() finds: full MNIST, or the embedded sample with the
    Get full MNIST button under it, or an error."""
    from ui.get_mnist import get_full_mnist_button, show_download_done  # here: it loads NumPy, after the page shows

    info = cached_data_info()
    if info.kind == "error":
        slot.error(f"**No MNIST data could be loaded.** {escape_markdown(info.source)}", icon=":material/error:")
        return info
    banner = slot.container()  # the banner, then the download button or a download's success message under it
    if info.is_embedded:
        banner.warning(
            f"**Using the small embedded sample** ({info.n_train:,} training and {info.n_test:,} test digits), "
            "so accuracy will be lower than on full MNIST. For the full 70,000 digits, set `MNIST_DATA_DIR` to "
            "a folder with the four MNIST IDX files (or a Keras `mnist.npz`) and restart the app:\n\n"
            "`MNIST_DATA_DIR=/path/to/mnist streamlit run app.py`",
            icon=":material/database:",
        )
        with banner:
            get_full_mnist_button()
    else:
        banner.success(f"**Data:** {escape_markdown(info.source)}", icon=":material/database:")
        with banner:
            show_download_done()
    return info
