"""A finished run -> an nbformat v4 notebook (or a py:percent script with the same cells), from its config.json.

A fine-tune's notebook needs the model it started from and the drawings it learned from: `export_zip` packs
them beside the notebook and its script. Refused with an `ExportError` that says what to do: a run that is
unknown, damaged, still training, written by a version whose settings this one cannot read, or a fine-tune
whose base model is gone.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from importlib.metadata import version
from pathlib import Path

from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.notebook.cells import notebook_cells
from mnist_core.notebook.experiment_cells import experiment_cells
from mnist_core.notebook.finetune_cells import BASE_MODEL, MY_DIGITS, finetune_cells
from mnist_core.runs.files import FINETUNE_DIGITS, RunStatus
from mnist_core.runs.handle import RunHandle
from mnist_core.storage import atomic_write_bytes


class ExportError(ValueError):
    """A run that cannot be exported as a notebook; the message says why and what to do."""


def exportable_config(handle: RunHandle) -> TrainingConfig:
    """The settings the notebook is written from, or `ExportError` saying why this run has no notebook."""
    return _checked(handle)[0]


def is_finetune(handle: RunHandle) -> bool:
    """A fine-tune exports as a zip: its notebook needs the base model and the drawings beside it."""
    return bool(handle.meta().get("finetune"))


def run_notebook(handle: RunHandle):
    """The run's notebook (an nbformat NotebookNode), or `ExportError`."""
    import nbformat

    config, status, name, spec = _checked(handle)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        digit_lab={"run": handle.id, "config": config.to_dict(), **({"finetune": True} if spec else {})},
    )
    if spec:
        digits = _digit_count(handle)
        cells = finetune_cells(config, name, status.data_source, version("keras"), spec, digits)
    else:
        cells = notebook_cells(config, name, status.data_source, version("keras"))
    for kind_of_cell, source in cells:
        make = nbformat.v4.new_markdown_cell if kind_of_cell == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source))
    nbformat.validate(notebook)
    return notebook


def _checked(handle: RunHandle) -> tuple[TrainingConfig, RunStatus, str, dict | None]:
    """The run's settings, status, name and fine-tune entry, each read once, or `ExportError`."""
    damage = handle.damage()
    if damage is not None:
        raise ExportError(f"Run {handle.id!r} is damaged ({damage}); it cannot be exported. Delete it or train again.")
    meta, status = handle.meta(), handle.status()
    name = str(meta.get("name") or handle.id)
    if status.is_active:
        raise ExportError(f"Run {name!r} is still {status.state}; export it once it has finished.")
    spec = meta.get("finetune") if isinstance(meta.get("finetune"), dict) else None
    if spec is not None:
        base_model(handle, spec, name)  # refused here, before any page offers a download
    return _config(meta.get("config"), name), status, name, spec


def base_model(handle: RunHandle, spec: dict, name: str) -> Path:
    """The model file a fine-tune started from: the starter, or a model inside the runs folder that still
    passes the model-file checks (a run folder names it; it is never any other file of the server)."""
    from mnist_core.checks.model_files import ModelLoadError, check_model_file
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    path = Path(str(spec.get("base_model", ""))).resolve()
    allowed = [STARTER_MODEL_PATH.resolve().parent, handle.path.resolve().parent]
    if not any(path.is_relative_to(folder) for folder in allowed) or path.suffix != ".keras":
        raise ExportError(f"Run {name!r} names a base model outside Digit Lab's folders; it cannot be exported.")
    if not path.is_file():
        raise ExportError(
            f"Run {name!r} fine-tuned {path.name}, which is no longer here (its run was deleted?); the notebook "
            "cannot be exported without the model it started from."
        )
    try:
        check_model_file(path, path.stat().st_size)
    except ModelLoadError as error:
        raise ExportError(f"Run {name!r}: its base model cannot be exported ({error}).") from None
    return path


def _digit_count(handle: RunHandle) -> int:
    import numpy as np

    try:
        with np.load(handle.files.file(FINETUNE_DIGITS), allow_pickle=False) as mine:
            return int(len(mine["labels"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ExportError(f"Run {handle.id!r}: its drawings ({FINETUNE_DIGITS}) cannot be read ({error}).") from None


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


def export_zip(handle: RunHandle, out: Path) -> Path:
    """One zip to take home: the run's notebook and script, and for a fine-tune the model it started from and
    the drawings it learned from, named as the notebook reads them."""
    import jupytext
    import nbformat

    notebook = run_notebook(handle)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{handle.id}.ipynb", nbformat.writes(notebook))
        archive.writestr(f"{handle.id}.py", jupytext.writes(notebook, "py:percent"))
        spec = handle.meta().get("finetune")
        if isinstance(spec, dict):
            archive.write(base_model(handle, spec, handle.id), BASE_MODEL)
            archive.write(handle.files.file(FINETUNE_DIGITS), MY_DIGITS)
    atomic_write_bytes(Path(out), buffer.getvalue())
    return Path(out)


def exportable_experiment(experiment) -> tuple[TrainingConfig, list[dict], str]:
    """(the first run's settings, each run's knob values, the data source) the experiment's notebook is written
    from, or `ExportError` saying why it has none. Reads only the runs' settings and status: cheap enough for
    every page view, where the notebook itself is made only when it is downloaded."""
    checked = [_checked(handle) for handle in experiment.runs]
    if not checked:
        raise ExportError(f"The experiment {experiment.name!r} has no runs left to export.")
    configs = [config for config, _, _, _ in checked]
    grid = [{knob: getattr(config, knob) for knob in experiment.knobs} for config in configs]
    base = configs[0]
    if any(config != base.replace(**values) for config, values in zip(configs, grid, strict=True)):
        knobs = ", ".join(experiment.knobs)
        raise ExportError(f"The runs of {experiment.name!r} differ in more than {knobs}; export them one by one.")
    return base, grid, next((status.data_source for _, status, _, _ in checked if status.data_source), "")


def experiment_notebook(experiment):
    """An experiment's runs as one notebook with the knob grid as a loop, or `ExportError`."""
    import nbformat

    base, grid, source = exportable_experiment(experiment)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        digit_lab={"experiment": experiment.id, "runs": [handle.id for handle in experiment.runs]},
    )
    for kind_of_cell, text in experiment_cells(experiment.name, experiment.knobs, base, grid, source, version("keras")):
        make = nbformat.v4.new_markdown_cell if kind_of_cell == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(text))
    nbformat.validate(notebook)
    return notebook


def export_experiment_notebook(experiment, out: Path | None = None, py: Path | None = None) -> list[Path]:
    """Write an experiment's notebook to `out` (.ipynb) and/or its py:percent script to `py`."""
    return _write(experiment_notebook(experiment), out, py)


def _write(notebook, out: Path | None, py: Path | None) -> list[Path]:
    import jupytext
    import nbformat

    written = []
    for path, text in ((out, lambda: nbformat.writes(notebook)), (py, lambda: jupytext.writes(notebook, "py:percent"))):
        if path is not None:
            atomic_write_bytes(Path(path), text().encode("utf-8"))
            written.append(Path(path))
    return written


def export_notebook(handle: RunHandle, out: Path | None = None, py: Path | None = None) -> list[Path]:
    """Write the run's notebook to `out` (.ipynb) and/or its py:percent script to `py`; returns the paths written."""
    if out is None and py is None:
        raise ExportError("Say where to write the notebook: --out FILE.ipynb and/or --py FILE.py (or --zip FILE.zip).")
    if _checked(handle)[3] is not None:
        raise ExportError(
            "A fine-tune's notebook needs the model it started from and your drawings beside it: export it as "
            "one zip (--zip FILE.zip, or Export as notebook on its page)."
        )
    return _write(run_notebook(handle), out, py)
