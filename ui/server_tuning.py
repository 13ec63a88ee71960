"""What Streamlit does after every script run that a Digit Lab server must not pay for, undone once per server.

After each run (every stroke on Draw, every auto-refresh of a live run) Streamlit calls
`keras.backend.clear_session()` whenever Keras is imported (`script_runner._clean_problem_modules`). That
resets Keras' global state, clears TensorFlow's kernel cache, so the next prediction makes its kernels
again, and runs one more full garbage collection: 13% of the server's CPU with 20 people drawing (py-spy,
bench/sessions.py). The server never builds models (training runs in worker processes); it only loads
predictors, once, and keeps them, so there is no Keras state to clear. Figures of matplotlib, the other
module Streamlit cleans up, are still closed.
"""

from __future__ import annotations

import sys

import streamlit as st


def _close_matplotlib_figures_only() -> None:
    """Streamlit's cleanup without its Keras part."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:  # noqa: BLE001, S110 - as Streamlit's own: a cleanup never stops a page
            pass


@st.cache_resource(show_spinner=False)
def keep_keras_state() -> bool:
    """Stop Streamlit clearing Keras' session after each script run (once per server); False when this
    Streamlit has no such step (then there is nothing to undo)."""
    from streamlit.runtime.scriptrunner import script_runner

    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        return False
    script_runner._clean_problem_modules = _close_matplotlib_figures_only
    return True
