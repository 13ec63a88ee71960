"""A finished run -> an nbformat v4 notebook (or a py:percent script with the same cells), from its config.json.

Refused with an `ExportError` that says what to do: a run that is unknown, damaged, still training, written
by a version whose settings this one cannot read, or a fine-tune (its base model is not part of the run).
"""

from __future__ import annotations

import dataclasses
from importlib.metadata import version
from pathlib import Path

from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.notebook.cells import notebook_cells
from mnist_core.runs.files import RunStatus
from mnist_core.runs.handle import RunHandle
from mnist_core.storage import atomic_write_bytes


class ExportError(ValueError):
    """A run that cannot be exported as a notebook; the message says why and what to do."""


def exportable_config(handle: RunHandle) -> TrainingConfig:
    """The settings the notebook is written from, or `ExportError` saying why this run has no notebook."""
    return _checked(handle)[0]


def run_notebook(handle: RunHandle):
    """The run's notebook (an nbformat NotebookNode), or `ExportError`."""
    import nbformat

    config, status, name = _checked(handle)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        digit_lab={"run": handle.id, "config": config.to_dict()},
    )
    for kind_of_cell, source in notebook_cells(config, name, status.data_source, version("keras")):
        make = nbformat.v4.new_markdown_cell if kind_of_cell == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source))
    nbformat.validate(notebook)
    return notebook


def _checked(handle: RunHandle) -> tuple[TrainingConfig, RunStatus, str]:
    """The run's settings, status and name, each read once, or `ExportError`."""
    damage = handle.damage()
    if damage is not None:
        raise ExportError(f"Run {handle.id!r} is damaged ({damage}); it cannot be exported. Delete it or train again.")
    meta, status = handle.meta(), handle.status()
    name = str(meta.get("name") or handle.id)
    if status.is_active:
        raise ExportError(f"Run {name!r} is still {status.state}; export it once it has finished.")
    if meta.get("finetune"):
        raise ExportError(
            f"Run {name!r} fine-tunes another model on your digits; only runs trained from scratch export "
            "as notebooks for now. Export the base run instead."
        )
    return _config(meta.get("config"), name), status, name


def _config(raw: object, name: str) -> TrainingConfig:
    """The run's settings, all of them written by this version (defaults filled in would not reproduce it)."""
    try:
        config = TrainingConfig.from_dict(raw)
    except (ConfigError, TypeError) as error:
        raise ExportError(
            f"Run {name!r} has settings this version of Digit Lab cannot read ({error}); it cannot be "
            "exported. Open it with the version that trained it."
        ) from error
    missing = sorted({field.name for field in dataclasses.fields(TrainingConfig)} - set(raw))
    if missing:
        raise ExportError(
            f"Run {name!r} was trained by an older Digit Lab that did not record {', '.join(missing)}; a "
            "notebook would have to guess them and would not train the same model. Train it again from its "
            "settings (Train → the run → Use its settings) and export the new run."
        )
    return config


def export_notebook(handle: RunHandle, out: Path | None = None, py: Path | None = None) -> list[Path]:
    """Write the run's notebook to `out` (.ipynb) and/or its py:percent script to `py`; returns the paths written."""
    import jupytext
    import nbformat

    if out is None and py is None:
        raise ExportError("Say where to write the notebook: --out FILE.ipynb and/or --py FILE.py.")
    notebook = run_notebook(handle)
    written = []
    for path, text in ((out, lambda: nbformat.writes(notebook)), (py, lambda: jupytext.writes(notebook, "py:percent"))):
        if path is not None:
            atomic_write_bytes(Path(path), text().encode("utf-8"))
            written.append(Path(path))
    return written
