"""Teach it, on the Draw page: keep a drawing in My digits with its right label."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import my_digits
from ui.sign_in import my_digits_folder

KEY = "draw_"


def teach(image: np.ndarray, predicted: int) -> None:
    """A label picker pre-filled with the prediction and a button that stores the drawing with it."""
    st.markdown("**:material/school: Teach it**")
    # The key follows the prediction, so a new answer resets the picker to it; the user corrects it.
    label_col, keep_col = st.columns([1, 2], vertical_alignment="bottom")
    label = label_col.selectbox(
        "The right digit",
        range(10),
        index=int(predicted),
        key=f"{KEY}teach_label_{predicted}",
        help="Change it when the model is wrong, then keep the drawing: My digits can "
        "fine-tune a model on what you keep.",
    )
    if keep_col.button(f"Keep in My digits as a {label}", icon=":material/bookmark_add:", key=KEY + "keep"):
        try:
            my_digits.add_digit(image, label, my_digits_folder())
        except my_digits.MyDigitsError as error:
            st.error(escape_markdown(error), icon=":material/error:")
        else:
            total = sum(my_digits.count_by_label(my_digits_folder()).values())
            st.toast(f"Kept as a {label}: {total} in My digits.", icon=":material/check_circle:")
