"""Import TensorFlow and load the starter model in the background as soon as the server runs app.py.

Both take seconds (TensorFlow's import alone is 4-9 s on a busy 2-core machine). Done on the first
page view of the server, in a thread, the Draw page finds the model loaded instead of loading it while
a person waits; the page shows its canvas at once either way and says when the model is still loading.
"""

from __future__ import annotations

import threading

import streamlit as st

from mnist_core.predict import ModelLoadError


@st.cache_resource(show_spinner=False)
def warm_start() -> threading.Thread:
    """Start loading the starter model in a daemon thread, once per server; returns the thread."""
    thread = threading.Thread(target=_load_starter, name="digit-lab-warm-start", daemon=True)
    thread.start()
    return thread


def starter_loading() -> bool:
    """Whether the background load is still under way (so the next `load_model(None)` would wait)."""
    return warm_start().is_alive()


def _load_starter() -> None:
    from ui.files import starter_available
    from ui.model_picker import load_model

    if not starter_available():
        return
    try:
        load_model(None)  # the same cache entry the pages use: they wait for it instead of loading twice
    except ModelLoadError:
        pass  # the page that needs the starter loads it again and shows the error where it is wanted
