"""Import TensorFlow and load the starter model in the background as soon as the server runs app.py.

Both take seconds (TensorFlow's import alone is 4-9 s on a busy 2-core machine). Done on the first
page view of the server, in a thread, the Draw page finds the model loaded instead of loading it while
a person waits. Until it is, the starter's NumPy copy (mnist_core.drawing.numpy_model: no TensorFlow, the same
probabilities) answers, so the first drawing on a fresh server gets its answer within a second or two.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

from ui.files import file_version

# The first page's script runs in about half a second; then the browser spends a second drawing it
# while the server is idle: the light part (SciPy, which preprocessing needs, and the NumPy starter, ~0.3 s
# together) fits there, so the first drawing finds them ready instead of paying for them.
QUICK_START_DELAY_S = 0.5
# TensorFlow's import holds the GIL for seconds: it starts once the first page has had time to render
# (measured under load: the Draw canvas came 3-4 s later when the import ran beside the page's script).
# Until then Draw answers with NumPy.
START_DELAY_S = 2.0

if TYPE_CHECKING:  # app.py imports this module: NumPy and the engine load only when a page needs them
    from mnist_core.drawing.numpy_model import NumpyPredictor


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
    started = time.monotonic()
    time.sleep(QUICK_START_DELAY_S)  # before any import too: imports in this thread hold the GIL the page needs
    from ui.files import starter_available

    if not starter_available():
        return
    _ready_for_the_first_drawing()
    time.sleep(max(0.0, START_DELAY_S - (time.monotonic() - started)))
    from ui.model_picker import load_model  # here, not at the top: model_picker's import would slow app.py

    try:
        load_model(None)  # the same cache entry the pages use: they wait for it instead of loading twice
    except ValueError:  # ModelLoadError: the page that needs the starter loads it again and shows the error there
        return


def _ready_for_the_first_drawing() -> None:
    """Import what preprocessing needs (SciPy: ~0.2-0.4 s on its first use) by running it once on a small
    drawing, and make the starter's NumPy copy, so the first stroke on a fresh server pays for neither."""
    import numpy as np

    from mnist_core.drawing.preprocess import canvas_steps

    drawing = np.zeros((56, 56), np.uint8)
    drawing[10:46, 24:32] = 255  # a "1"
    canvas_steps(drawing)
    _numpy_starter_or_none()


def starter_for_now() -> NumpyPredictor | None:
    """The starter's NumPy copy while the background load is under way; None once it is done (load the
    real model then) or when no copy can be made."""
    return _numpy_starter_or_none() if starter_loading() else None


def _numpy_starter_or_none() -> NumpyPredictor | None:
    """The starter's NumPy copy, made once per file version; None when NumPy cannot copy it (the page then
    loads the real model)."""
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    try:
        return _numpy_starter(file_version(STARTER_MODEL_PATH))
    except (ValueError, OSError):  # ModelLoadError is a ValueError
        return None


@st.cache_resource(show_spinner=False, max_entries=1)
def _numpy_starter(version: float) -> NumpyPredictor:
    from mnist_core.drawing.numpy_model import load_numpy_detector, load_numpy_predictor
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    predictor = load_numpy_predictor(STARTER_MODEL_PATH)
    try:
        predictor.detector = load_numpy_detector()  # "that is not a digit" before TensorFlow is in, too
    except (ValueError, OSError):
        pass  # no detector copy: the first answers say only which digit
    return predictor
