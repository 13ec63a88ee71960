"""See why, on the Draw page: which pixels pushed the model to its answer, and what its first layer looks for."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import image_charts
from ui.files import file_version

KEY = "draw_"
CNN_COLS = 8


@st.cache_data(show_spinner=False, max_entries=64)
def _saliency(_predictor, model_key: str, image: np.ndarray, target: int) -> np.ndarray:
    from mnist_core.drawing.explain import saliency

    return saliency(_predictor, image, target)


@st.cache_data(show_spinner=False, max_entries=8)
def _filters(_predictor, model_key: str) -> np.ndarray | None:
    from mnist_core.drawing.explain import first_layer_filters

    try:
        return first_layer_filters(_predictor)
    except ValueError:
        return None


@st.cache_data(show_spinner=False, max_entries=32)
def _activations(_predictor, model_key: str, image: np.ndarray) -> np.ndarray | None:
    from mnist_core.drawing.explain import activation_maps

    try:
        return activation_maps(_predictor, image)
    except ValueError:
        return None


def see_why(predictor, image: np.ndarray, predicted: int) -> None:
    """Saliency for the answer and a chosen digit, and what the first layer looks for (computed when open)."""
    with st.expander("See why", icon=":material/psychology:", key=KEY + "why", on_change="rerun") as why:
        if not why.open:
            return
        if getattr(predictor, "model", None) is None:  # the starter's NumPy copy, while TensorFlow loads
            from ui.model_picker import load_model  # the cache entry the background load fills: this waits for it

            with st.spinner("Loading TensorFlow for See why (once per server)…"):
                predictor = load_model(None)
        model_key = f"{predictor.path}:{file_version(predictor.path)}"
        try:
            _explain(predictor, model_key, image, predicted)
        except (ValueError, TypeError) as error:
            st.warning(f"No explanation for this model: {error}", icon=":material/info:")


def _explain(predictor, model_key: str, image: np.ndarray, predicted: int) -> None:
    st.caption(
        "Red pixels pushed the model **towards** the digit, blue ones **away** from it (gradient × input "
        "on the score before softmax); only ink counts, so empty paper stays white."
    )
    other = st.selectbox("Compare with digit", range(10), index=(predicted + 1) % 10, key=KEY + "why_other", width=200)
    left, right = st.columns(2)
    left.plotly_chart(
        image_charts.saliency_figure(image, _saliency(predictor, model_key, image, predicted), f"Why {predicted}"),
        key=KEY + "why_main",
        config={"displayModeBar": False},
    )
    right.plotly_chart(
        image_charts.saliency_figure(image, _saliency(predictor, model_key, image, other), f"Why (not) {other}"),
        key=KEY + "why_other_chart",
        config={"displayModeBar": False},
    )
    _first_layer(predictor, model_key, image)


def _first_layer(predictor, model_key: str, image: np.ndarray) -> None:
    """An MLP's first-layer weights as pictures; a CNN's filters and what each finds in the drawing."""
    filters = _filters(predictor, model_key)
    if filters is None:
        return
    if filters.shape[1:] == (28, 28):  # an MLP: each first-layer unit's weights over the 28x28 pixels
        st.markdown(
            f"**First layer: what {min(len(filters), image_charts.MAX_TILES)} of its "
            f"{len(filters)} units look for** (red: ink here raises the unit, blue: lowers it)"
        )
        st.plotly_chart(
            image_charts.tiles_figure(filters, cols=8, height=460),
            key=KEY + "why_units",
            config={"displayModeBar": False},
        )
        return
    shown = min(len(filters), image_charts.MAX_TILES)
    filters_col, maps_col = st.columns([1, 2])
    filters_col.markdown(f"**First-layer filters** ({shown} of {len(filters)})")
    filters_col.plotly_chart(
        image_charts.tiles_figure(filters, cols=CNN_COLS, height=220),
        key=KEY + "why_filters",
        config={"displayModeBar": False},
    )
    maps = _activations(predictor, model_key, image)
    if maps is not None:
        maps_col.markdown("**What each filter finds in your drawing** (same order; bright: strong response)")
        maps_col.plotly_chart(
            image_charts.tiles_figure(maps, cols=CNN_COLS, diverging=False, height=320, normalise_each=True),
            key=KEY + "why_maps",
            config={"displayModeBar": False},
        )
