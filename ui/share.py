"""Share on the Train page: the settings in the URL (copy it to share them), runs as zip files.

Query parameters come from anyone, so reading them never trusts them: a bad value falls back to its
default with a warning, never an exception.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.config_text import format_field, parse_field
from mnist_core.notebook.export import ExportError, exportable_config, is_finetune
from mnist_core.runs.sharing import MAX_ZIP_BYTES, import_run_zip
from ui import files
from ui.sign_in import current_person
from ui.train_form import KEY, form_adjustments  # the Train page's prefix: these widgets live on it
from ui.uploads import import_once

OWN_PARAMS = {"page", "embed", "embed_options", "lesson"}  # query parameters that are not settings
URLS_REMEMBERED = 100  # settings URLs a session remembers as its own (a slider dragged end to end: ~60)
MAX_VALUE_CHARS = 200  # a longer query value is ignored
MAX_PARAMS = 100  # more query parameters than this are ignored
WARNINGS_SHOWN = 6  # a link's ignored parameters listed in its one warning; the rest are counted


# ---------------------------------------------------------------- Share: settings in the URL
@dataclass(frozen=True)
class SharedConfig:
    """What a shared link gives: the config to use, and what was ignored on the way."""

    config: TrainingConfig
    warnings: tuple[str, ...]  # one sentence per ignored parameter; empty when all were used


def config_to_query(config: TrainingConfig) -> dict[str, str]:
    """Every field as a string: tuples as "512,512", booleans as "true"/"false".

    A page calls ``st.query_params.from_dict(config_to_query(config))`` to make a shareable link.
    """
    return {name: format_field(value) for name, value in config.to_dict().items()}


def config_from_query(params: Mapping[str, object], ignore: Iterable[str] = ()) -> SharedConfig:
    """Read a config from query parameters; never raises.

    `params` maps names to strings (or lists of strings: the last one counts), e.g.
    ``st.query_params.to_dict()``. Missing fields keep their defaults; an unknown name or a bad value
    is skipped with a warning. Names in `ignore` (a page's own parameters) are skipped silently.
    A page calls ``shared = config_from_query(st.query_params.to_dict(), ignore={"run"})``, shows
    each of ``shared.warnings`` with st.warning and fills the form from ``shared.config``.
    """
    fields = {f.name: f for f in dataclasses.fields(TrainingConfig)}
    skip = set(ignore)
    items = [(str(k), v) for k, v in params.items() if str(k) not in skip]
    warnings = (
        [f"Ignored {len(items) - MAX_PARAMS} parameters beyond the first {MAX_PARAMS}."]
        if len(items) > MAX_PARAMS
        else []
    )
    values = dict(items[:MAX_PARAMS])
    warnings += [f"Ignored unknown setting {name[:40]!r}." for name in values if name not in fields]
    config = TrainingConfig()
    for name in fields:  # field order: architecture is set before conv_filters is checked against it
        if name not in values:
            continue
        text = _last(values[name])
        try:
            config = config.replace(**{name: _parse(name, text)})
        except (ConfigError, ValueError, TypeError) as error:
            shown = text if len(text) <= 40 else text[:40] + "…"
            reason = str(error).rstrip(".")
            warnings.append(f"Ignored {name}={shown!r} ({reason}); using {format_field(getattr(config, name))}.")
    return SharedConfig(config, tuple(warnings))


def _last(value: object) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value).strip()


def _parse(name: str, text: str) -> object:
    """A query string value -> the field's type; ValueError if it is too long or does not parse."""
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError(f"longer than {MAX_VALUE_CHARS} characters")
    return parse_field(name, text)


def restore_from_url(fill_form: Callable[[TrainingConfig], None]) -> None:
    """Opened with settings in the URL (or the URL changed): fill every control from it once, and
    show what was ignored.

    A URL this session wrote itself is never read back: while a slider moves, a rerun can arrive
    with the URL of an earlier value still in the browser, and reading it would move the slider back.
    """
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in OWN_PARAMS}
    if not params or params in _urls_seen():
        return
    shared = config_from_query(params)
    fill_form(shared.config)
    _remember_url(params)
    st.session_state[KEY + "url_warnings"] = shared.warnings + form_adjustments(shared.config)


def show_url_warnings() -> None:
    """What the link could not use as written, in one box however many (the first few, then a count)."""
    warnings = st.session_state.pop(KEY + "url_warnings", ())
    if len(warnings) == 1:
        st.warning(f"From the link: {escape_markdown(warnings[0])}", icon=":material/link_off:")
    elif warnings:
        shown = "".join(f"\n- {escape_markdown(w)}" for w in warnings[:WARNINGS_SHOWN])
        more = f"\n\n…and {len(warnings) - WARNINGS_SHOWN} more." if len(warnings) > WARNINGS_SHOWN else ""
        st.warning(
            f"From the link: {len(warnings)} settings were not used as written; the form shows what is used."
            f"{shown}{more}",
            icon=":material/link_off:",
        )


def sync_url(config: TrainingConfig | None, lesson=None) -> None:
    """Keep the page's URL equal to the settings, and naming the open lesson, so copying it shares them and a
    refresh keeps the lesson open."""
    if config is None:
        return
    wanted = config_to_query(config)
    shown = st.query_params.to_dict()
    if wanted != {k: v for k, v in shown.items() if k not in OWN_PARAMS} or shown.get("lesson") != (
        lesson and lesson.name
    ):
        st.query_params.from_dict({**wanted, **({"lesson": lesson.name} if lesson else {})})
    _remember_url(wanted)


def _urls_seen() -> list[dict]:
    """The settings URLs this session wrote or already applied, newest last."""
    return st.session_state.setdefault(KEY + "urls_seen", [])


def _remember_url(params: dict) -> None:
    seen = _urls_seen()
    if params in seen:
        seen.remove(params)
    seen.append(params)
    del seen[:-URLS_REMEMBERED]


# ---------------------------------------------------------------- Share: runs as zip files
def export_button(handle: runs.RunHandle, where: str, key: str = KEY) -> None:
    """Take the run away: a zip for another Digit Lab, a notebook and a script for Jupyter or Colab."""
    zip_col, notebook_col, script_col = st.columns(3)
    zip_col.download_button(
        "Export as zip",
        functools.partial(files.run_zip, handle.id),
        file_name=f"{handle.id}.zip",
        mime="application/zip",
        icon=":material/ios_share:",
        on_click="ignore",
        key=f"{key}{where}_export",
        help="The run's settings, curves, models and evaluation in one file; import it on the Train "
        "page of any Digit Lab.",
        width="stretch",
    )
    try:
        exportable_config(handle)
        refused = None
    except ExportError as error:
        refused = str(error)
    if is_finetune(handle):  # its notebook needs the base model and the drawings beside it: one zip
        notebook_col.download_button(
            "Export as notebook (zip)",
            functools.partial(files.run_notebook_zip, handle.id),
            file_name=f"{handle.id}-notebook.zip",
            mime="application/zip",
            icon=":material/code_blocks:",
            on_click="ignore",
            key=f"{key}{where}_export_notebook_zip",
            disabled=refused is not None,
            help=refused
            or "This fine-tune as a Jupyter notebook and a script, with the model it started from and your "
            "drawings beside them: unzip, open the notebook, run it (Keras alone, no Digit Lab needed).",
            width="stretch",
        )
        return
    for col, suffix, label, icon, what in (
        (notebook_col, ".ipynb", "Export as notebook", ":material/code_blocks:", "a Jupyter notebook"),
        (script_col, ".py", "Export as script", ":material/terminal:", "a Python script (py:percent cells)"),
    ):
        col.download_button(
            label,
            functools.partial(files.run_notebook_file, handle.id, suffix),
            file_name=f"{handle.id}{suffix}",
            mime="application/x-ipynb+json" if suffix == ".ipynb" else "text/x-python",
            icon=icon,
            on_click="ignore",
            key=f"{key}{where}_export{suffix}",
            disabled=refused is not None,
            help=refused
            or f"This run as {what} that trains the same model with Keras alone (no Digit Lab needed): "
            "read it, run it, change it.",
            width="stretch",
        )


def import_uploader() -> runs.RunHandle | None:
    """Import a run zip once per uploaded file; returns the new run (it joins the history), or None."""
    imported = import_once(
        "Import a run (.zip)",
        KEY + "import_run",
        functools.partial(import_run_zip, owner=current_person()),  # the importer's run
        types=["zip"],
        max_bytes=MAX_ZIP_BYTES,
        what="run zips",
        help="A zip made with Export as zip.",
    )
    if imported is None:
        return None
    handle = imported[1]
    st.success(f"Imported **{escape_markdown(handle.name)}**.", icon=":material/check_circle:")
    return handle
