"""Uploads, each handled once per file: the model uploader of Draw and Diagnostics (the file is saved under a
generated name), and the importers of run zips (Train) and digits (My digits).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from mnist_core import runs
from mnist_core.predict import MAX_MODEL_BYTES
from mnist_core.runs import RunError
from ui.files import import_bytes

T = TypeVar("T")
UPLOADS_FOLDER = "uploads"  # inside the runs folder: never listed as a run (it has no config.json)


def uploads_dir(runs_root: Path) -> Path:
    """Where uploaded models are kept: a folder in the runs folder, per server."""
    return Path(runs_root) / UPLOADS_FOLDER


def save_upload(data: bytes, runs_root: Path, max_bytes: int) -> Path:
    """Store uploaded model bytes under a generated name (never the user's file name); return the path.

    The name is the content's hash, so uploading the same file twice reuses one file (and one cached
    predictor). Raises ValueError when the file is empty or larger than `max_bytes`.
    """
    from mnist_core.storage import atomic_write_bytes

    if not data:
        raise ValueError("The uploaded file is empty. Upload a Keras model saved with model.save('x.keras').")
    if len(data) > max_bytes:
        raise ValueError(
            f"The uploaded file is {len(data) / 1e6:.1f} MB; models up to {max_bytes / 1e6:.0f} MB are accepted."
        )
    folder = uploads_dir(runs_root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{hashlib.sha256(data).hexdigest()[:16]}.keras"
    if not path.is_file():
        atomic_write_bytes(path, data)
    return path


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
        st.error(str(error), icon=":material/error:")
        return None
