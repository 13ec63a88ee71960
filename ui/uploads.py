"""Uploads, each handled once per file: the model uploader of Draw and Diagnostics (the file is saved under a
generated name), and the importers of run zips (Train) and digits (My digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.drawing.predict import MAX_MODEL_BYTES
from mnist_core.runs import RunError
from mnist_core.runs.uploads import UPLOADS_FOLDER, accept_model_upload  # refused removed, old cleaned
from ui.files import import_bytes

T = TypeVar("T")


def uploads_dir(runs_root: Path) -> Path:
    """Where uploaded models are kept: a folder in the runs folder, per server."""
    return Path(runs_root) / UPLOADS_FOLDER


def uploaded_model_path(key: str) -> str | None:
    """The saved path of the file in the uploader `key` (saved once per upload), or None.

    Raises ValueError (empty, too large or refused: the file is removed then) or OSError (cannot be
    saved) with a message for the page to show as text.
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
        except ValueError as error:  # with the name the user uploaded; the caller shows it as text
            message = re.sub(r"upload-[0-9a-f]{16}\.keras", lambda _: upload.name, str(error))
            st.session_state[key + "_refused"] = (upload.file_id, message)
            raise ValueError(message) from error
        saved = (upload.file_id, str(path), upload.name)
        st.session_state[key + "_saved"] = saved
    return saved[1]


def in_user_terms(message: str, key: str) -> str:
    """`message` with the saved file's generated name replaced by the name the user uploaded, as Markdown text."""
    saved = st.session_state.get(key + "_saved")
    return escape_markdown(message.replace(Path(saved[1]).name, saved[2]) if saved else message)


def import_once(
    label: str, key: str, load: Callable[[Path], T], *, types: list[str], max_bytes: int, what: str, help: str
) -> tuple[str, T] | None:
    """An uploader whose file is imported once (a rerun does not import it again): returns (the file's name,
    what `load(path)` made of it) on the run it is imported, else None. Shows why when it cannot be imported.
    """
    upload = st.file_uploader(label, type=types, key=key, help=help)
    if upload is None or st.session_state.get(key + "_done") == upload.file_id:
        return None
    st.session_state[key + "_done"] = upload.file_id
    try:
        return upload.name, import_bytes(upload.getvalue(), upload.name, load, max_bytes, what)
    except (ValueError, RunError) as error:  # too big or empty; MyDigitsError; RunImportError
        st.error(escape_markdown(error), icon=":material/error:")
        return None
