"""The model uploader shared by Draw and Diagnostics: the file is saved once, under a generated name."""

from pathlib import Path

import streamlit as st

from mnist_core import runs
from mnist_core.predict import MAX_MODEL_BYTES
from ui.formatting import save_upload

UPLOAD = "upload"  # the model pickers' option for "Upload a .keras file…"


def uploaded_model_path(key: str) -> str | None:
    """The saved path of the file in the uploader `key` (saved once per upload), or None.

    Raises ValueError (empty or too large) or OSError (cannot be saved) with a message for the page.
    """
    upload = st.file_uploader(
        "Your model (.keras, up to 50 MB)",
        type=["keras"],
        key=key,
        help="A Keras 3 model saved with model.save('model.keras') that maps a 28×28 grey image to 10 digit scores.",
    )
    if upload is None:
        return None
    saved = st.session_state.get(key + "_saved")
    if saved is None or saved[0] != upload.file_id:
        saved = (upload.file_id, str(save_upload(upload.getvalue(), runs.runs_dir(), MAX_MODEL_BYTES)), upload.name)
        st.session_state[key + "_saved"] = saved
    return saved[1]


def in_user_terms(message: str, key: str) -> str:
    """`message` with the saved file's generated name replaced by the name the user uploaded."""
    saved = st.session_state.get(key + "_saved")
    return message.replace(Path(saved[1]).name, saved[2]) if saved else message
