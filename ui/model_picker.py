"""Which model a page uses: the model picker (runs, the starter model, an upload), the loaded model, its summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.drawing import predict
from mnist_core.drawing.predict import STARTER  # the picker's option for the model that ships with Digit Lab
from ui.files import file_version, starter_available
from ui.formatting import score_label
from ui.uploads import uploaded_model_path

UPLOAD = "upload"  # the picker's option for "Upload a .keras file…"


@dataclass(frozen=True)
class PickedModel:
    """What the user picked: a run id, STARTER or UPLOAD, and the model file (None while none is uploaded)."""

    choice: str
    path: str | None
    run: runs.RunHandle | None  # the run behind the model, if it is one


def model_picker(
    key: str,
    handles: Sequence[runs.RunHandle],
    *,
    label: str = "Model",
    starter_first: bool = True,
    upload_key: str | None = None,
) -> PickedModel | None:
    """A select box of the runs in `handles` (named with their accuracy) and the starter model (when it ships),
    plus "Upload a .keras file…" and its uploader when `upload_key` is given. Returns the pick, or None when
    there is nothing to pick. An upload that cannot be saved is shown as an error and gives path None.
    """
    by_id = {handle.id: handle for handle in handles}
    starter = [STARTER] if starter_available() else []
    options = [*starter, *by_id] if starter_first else [*by_id, *starter]
    options += [UPLOAD] if upload_key else []
    if not options:
        return None
    names = {STARTER: "Starter model (ships with Digit Lab)", UPLOAD: "Upload a .keras file…"}
    choice = st.selectbox(
        label,
        options,
        key=key,
        persist_state="session",
        format_func=lambda c: names.get(c) or score_label(by_id[c]),
    )
    if choice == STARTER:
        return PickedModel(choice, str(predict.STARTER_MODEL_PATH), None)
    if choice in by_id:
        path = by_id[choice].model_path("best")
        return PickedModel(choice, str(path) if path else None, by_id[choice])
    try:
        return PickedModel(choice, uploaded_model_path(upload_key), None)
    except (ValueError, OSError) as error:
        st.error(escape_markdown(error), icon=":material/error:")
        return PickedModel(choice, None, None)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _predictor(path: str | None, version: float) -> predict.Predictor:
    """One loaded model per file version (None: the starter), shared by every session (read-only)."""
    return predict.load_predictor(path)


def load_model(path: str | None) -> predict.Predictor:
    """The model in `path` (None: the starter), loaded once per file version; raises ModelLoadError."""
    if path is not None and Path(path) == predict.STARTER_MODEL_PATH:
        path = None  # one cache entry for the starter, however it is named (the warm start loads it as None)
    return _predictor(path, file_version(path or predict.STARTER_MODEL_PATH))


def model_summary(path: str, key: str, where=st) -> bool:
    """A toggle in `where` (a column, say) that shows the model's Keras summary full width; returns its state."""
    shown = where.toggle("Show the model summary", key=key)
    if shown:  # full width: Keras' table is wide
        st.code(load_model(path).summary(), language=None)
    return shown
