"""Share a run as one zip file: export a finished run, import one as a new run.

A zip comes from anyone, so reading it never trusts it: it is size-capped, checked member by member
and never extracted under its own names (zip-slip safe). Nothing here imports TensorFlow.
(A config as URL query parameters is the app's business: ui/share.py.)
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from mnist_core.checks.zip_safety import UnsafeZipError, open_zip, read_member
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.people import Person
from mnist_core.runs import RunError, RunHandle, RunNotFoundError, writable_runs_dir
from mnist_core.runs import files as run_files
from mnist_core.runs.files import ACTIVE_STATES, CONFIG, EXPORTED, STATES, STATUS, create_run
from mnist_core.storage import atomic_path

REQUIRED_FILES = (CONFIG, STATUS)
MANIFEST = "digit_lab_run.json"
MAX_ZIP_BYTES = 200 * 1024 * 1024  # a run zip above 200 MB is refused before it is opened
MAX_FILE_BYTES = 100 * 1024 * 1024  # one file inside may unpack to 100 MB...
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # ...and all of them to 400 MB


class RunImportError(RunError):
    """A run zip that cannot be imported; the message says why."""


def export_run_zip(run: RunHandle | str | Path, path: str | Path) -> Path:
    """Write a finished run's files (config, status, metrics, models, evaluation, fine-tune report,
    watch) into a zip at `path`; returns `path`. A page writes to a temporary file and offers it
    with st.download_button. Raises RunError while the run is still training.
    """
    handle = run if isinstance(run, RunHandle) else RunHandle(Path(run))
    if not handle.files.config_file.is_file():
        raise RunNotFoundError(f"{handle.path} is not a run folder (it has no config.json).")
    if handle.status().is_active:
        raise RunError(f"Run {handle.name!r} is still training; export it when it has finished.")
    manifest = {"format": "digit-lab-run", "version": 1, "run_id": handle.id, "exported_at": time.time()}
    with atomic_path(path, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name in EXPORTED:
            if (handle.path / name).is_file():
                archive.write(handle.path / name, name)
    return Path(path)


def import_run_zip(path: str | Path, runs_dir_path: str | Path | None = None, owner: Person | None = None) -> RunHandle:
    """Add the run in a zip (as `export_run_zip` writes it) to the runs folder under a new id, as `owner`'s.

    Everything is checked before anything is written: the zip's size, every member's name and
    size, config.json (a valid TrainingConfig) and status.json (a known state) must be there, JSON
    files must parse and model files must be zip archives (Keras checks them again, in safe mode,
    when they are loaded). A run that was training when it was exported becomes "interrupted".
    Raises RunImportError with the reason.
    """
    path = Path(path)
    try:
        with open_zip(path, MAX_ZIP_BYTES, MAX_UNPACKED_BYTES, max_members=100) as archive:
            contents = _read_run_files(path.name, archive)
    except UnsafeZipError as error:
        raise RunImportError(str(error)) from error
    meta, status = _check_meta(path.name, contents), _check_status(path.name, contents)
    root = writable_runs_dir(runs_dir_path)
    rest = {file: data for file, data in contents.items() if file not in REQUIRED_FILES}
    try:
        config = TrainingConfig.from_dict(meta["config"])
        files = create_run(root, meta["name"], config, status, None, rest, owner=owner and owner.owner_record())
    except OSError as error:
        raise RunImportError(f"Could not write the imported run into {root}: {error}.") from error
    damage = files.damage() or _model_damage(files.path)  # every file against the schema pages read it with
    if damage is not None:
        shutil.rmtree(files.path, ignore_errors=True)
        raise RunImportError(f"{path.name} cannot be imported: {damage} Export the run again with its Share button.")
    return RunHandle(files.path, owner)


def _model_damage(folder: Path) -> str | None:
    """The run's models are readable zips whose weights declare no more than a model within the budget
    can have (the rest of the checks, and Keras', come when a page loads one), or the reason they are not."""
    from mnist_core.checks.model_files import ModelLoadError, check_model_archive

    for file in (run_files.MODEL_BEST, run_files.MODEL_FINAL):
        path = folder / file
        if path.is_file():
            try:
                check_model_archive(path)
            except ModelLoadError as error:
                return str(error)  # it names the file
    return None


def _read_run_files(name: str, archive: zipfile.ZipFile) -> dict[str, bytes]:
    """The known run files of the zip, at its top level or in its one top-level folder."""
    names = [n for n in archive.namelist() if not n.endswith("/")]
    configs = [n for n in names if PurePosixPath(n).name == CONFIG and len(PurePosixPath(n).parts) <= 2]
    if len(configs) != 1:
        raise RunImportError(
            f"{name} is not a Digit Lab run: it needs exactly one config.json "
            f"(found {len(configs)}). Export runs with the Share button."
        )
    base = PurePosixPath(configs[0]).parent
    member = {file: str(base / file) if str(base) != "." else file for file in EXPORTED}
    missing = [file for file in REQUIRED_FILES if member[file] not in names]
    if missing:
        raise RunImportError(f"{name} is not a Digit Lab run: it has no {', '.join(missing)}.")
    from mnist_core.runs.schema import import_cap  # each file capped at what a real one needs

    caps = {file: min(MAX_FILE_BYTES, import_cap(file)) for file in EXPORTED}
    return {file: read_member(archive, member[file], caps[file]) for file in EXPORTED if member[file] in names}


def _json(name: str, contents: dict[str, bytes], file: str) -> object:
    try:
        return json.loads(contents[file].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # RecursionError for deep nesting
        raise RunImportError(f"{name}: {file} is not valid JSON ({error}).") from error


def _check_meta(name: str, contents: dict[str, bytes]) -> dict:
    meta = _json(name, contents, CONFIG)
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise RunImportError(f'{name}: config.json has no "config" settings.')
    try:
        config = TrainingConfig.from_dict(meta["config"])
    except (ConfigError, TypeError) as error:
        raise RunImportError(f"{name}: config.json has settings this version cannot use: {error}") from error
    for file in (run_files.EVALUATION, run_files.FINETUNE_REPORT, run_files.WATCH):
        if file in contents:
            _json(name, contents, file)
    for file in (run_files.MODEL_BEST, run_files.MODEL_FINAL, run_files.EVALUATION_ARRAYS):
        if file in contents and not zipfile.is_zipfile(io.BytesIO(contents[file])):
            raise RunImportError(f"{name}: {file} is damaged (not a zip archive).")
    return {"config": config.to_dict(), "name": _imported_name(meta.get("name")), "data_dir": None}


def _imported_name(name: object) -> str:
    """The exported display name, marked as imported: only the characters of a run name (plus the ':'
    of default names), so a crafted zip cannot smuggle a path, HTML or a Markdown link/image onto a page."""
    clean = re.sub(r"[^\w .,:()+=#@-]", "", str(name or ""))[:49].strip()
    return f"{clean or 'run'} (imported)"


def _check_status(name: str, contents: dict[str, bytes]) -> dict:
    status = _json(name, contents, STATUS)
    if not isinstance(status, dict) or status.get("state") not in STATES:
        state = status.get("state") if isinstance(status, dict) else None
        raise RunImportError(f"{name}: status.json has state {state!r}; expected one of {', '.join(STATES)}.")
    if status["state"] in ACTIVE_STATES:
        status.update(
            state="interrupted",
            ended_at=status.get("ended_at") or time.time(),
            message="It was still training when it was exported; its last checkpoint is kept.",
        )
    status["pid"] = None
    return status
