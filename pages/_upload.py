"""The model uploader shared by Draw and Diagnostics: the file is saved once, under a generated name."""

import re
from pathlib import Path

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.predict import MAX_MODEL_BYTES
from mnist_core.uploads import accept_model_upload  # issue 13: refused uploads removed, old ones cleaned up

UPLOAD = "upload"  # the model pickers' option for "Upload a .keras file…"


def uploaded_model_path(key: str) -> str | None:
    """The saved path of the file in the uploader `key` (saved once per upload), or None.

    Raises ValueError (empty, too large or refused: the file is removed then; the message is escaped for
    Markdown) or OSError (cannot be saved) with a message for the page.
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
    if saved is None or saved[0] != upload.file_id or not Path(saved[1]).is_file():  # cleaned up: save it again
        refused = st.session_state.get(key + "_refused")
        if refused is not None and refused[0] == upload.file_id:
            raise ValueError(refused[1])  # checked once per upload, not on every rerun
        try:
            path = accept_model_upload(upload.getvalue(), runs.runs_dir(), MAX_MODEL_BYTES)
        except ValueError as error:  # issue 13: shown as text, with the name the user uploaded
            message = escape_markdown(re.sub(r"upload-[0-9a-f]{16}\.keras", lambda _: upload.name, str(error)))
            st.session_state[key + "_refused"] = (upload.file_id, message)
            raise ValueError(message) from error
        saved = (upload.file_id, str(path), upload.name)
        st.session_state[key + "_saved"] = saved
    return saved[1]


def in_user_terms(message: str, key: str) -> str:
    """`message` with the saved file's generated name replaced by the name the user uploaded, as Markdown text."""
    saved = st.session_state.get(key + "_saved")
    return escape_markdown(message.replace(Path(saved[1]).name, saved[2]) if saved else message)  # issue 13
