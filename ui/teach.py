"""Teach it, on the Draw page: one click under the answer keeps a drawing in My digits with its right label."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import my_digits
from ui.sign_in import my_digits_folder

KEY = "draw_"
KEPT = KEY + "kept"  # what the last click kept (or why it could not), shown on the rerun after it


def teach(image: np.ndarray, predicted: int, is_digit: bool = True) -> None:
    """'That's wrong, it's a …': the other digits as one-click choices, each keeping the drawing with that label;
    and, when the answer is right, a button that keeps it as it was read."""
    # The key follows the answer, so every new answer starts with nothing picked.
    key = f"{KEY}wrong_{predicted if is_digit else 'none'}"
    options = [d for d in range(10) if d != predicted or not is_digit]
    st.pills(
        "That's wrong, it's a" if is_digit else "It's a",
        options,
        key=key,
        on_change=_keep_picked,
        args=(image, key),
        help="One click keeps this drawing in My digits with the digit you pick: My digits can fine-tune "
        "a model on what you keep.",
    )
    if is_digit and st.button(f"Right: keep it as a {predicted}", icon=":material/bookmark_add:", key=KEY + "keep"):
        _keep(image, predicted)
    _show_kept()


def _keep_picked(image: np.ndarray, key: str) -> None:
    label = st.session_state.get(key)
    if label is not None:
        _keep(image, int(label))
        st.session_state[key] = None  # ready for the next correction of the same answer


def _keep(image: np.ndarray, label: int) -> None:
    try:
        my_digits.add_digit(image, label, my_digits_folder())
    except my_digits.MyDigitsError as error:
        st.session_state[KEPT] = ("error", escape_markdown(error))
    else:
        total = sum(my_digits.count_by_label(my_digits_folder()).values())
        st.session_state[KEPT] = ("kept", f"Kept as a {label}: {total} in My digits.")


def _show_kept() -> None:
    kind, text = st.session_state.pop(KEPT, (None, None))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind == "kept":
        st.toast(text, icon=":material/check_circle:")
