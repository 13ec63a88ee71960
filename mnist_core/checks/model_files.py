"""Safety checks of a model file before Keras opens it: size, format, integrity, no Python code.

Keras' own loader runs in safe mode as well (see `mnist_core.drawing.predict`); these checks come first so
that a bad file gets a message that says what is wrong with it, and an unsafe one is refused
without ever being deserialised.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core.checks.model_budget import BYTES_PER_VALUE, MAX_PARAMETERS
from mnist_core.checks.model_load_error import ModelLoadError  # public here too, as before

if TYPE_CHECKING:
    from mnist_core.checks.model_budget import ModelSize

MAX_MODEL_BYTES = 50 * 1024 * 1024  # uploads and files above 50 MB are refused before parsing
# What the weights of a model within model_budget.MAX_PARAMETERS may declare: float32 weights and two
# optimizer slots each (Adam's, saved with the model), and a megabyte for counters and odd dtypes.
MAX_WEIGHT_BYTES = 3 * BYTES_PER_VALUE * MAX_PARAMETERS + 2**20
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_RESAVE = "Save the model again with model.save('model.keras') and use that file."
_FORBIDDEN_CLASSES = {"Lambda": "a Lambda layer", "__lambda__": "a Python lambda", "TFSMLayer": "a TFSMLayer"}


def check_model_file(path: Path, size: int) -> ModelSize:
    """Refuse folders, oversized, unknown, damaged, code-carrying and over-budget files; raises `ModelLoadError`.

    Returns what the model will cost (`model_budget.ModelSize`)."""
    name = path.name
    if path.is_dir():
        raise ModelLoadError(
            f"{name} is a folder; Digit Lab loads a single .keras file (save one with model.save('model.keras'))."
        )
    if size > MAX_MODEL_BYTES:
        raise ModelLoadError(
            f"{name} is {size / 2**20:.1f} MB; Digit Lab loads models up to "
            f"{MAX_MODEL_BYTES / 2**20:.0f} MB. Use a smaller model (fewer or narrower layers)."
        )
    suffix = path.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelLoadError(
            f"{name}: unsupported file type {suffix!r}. Digit Lab loads Keras models saved with "
            "model.save('model.keras') (legacy .h5 files work too)."
        )
    config = _keras_zip_config(path) if suffix == ".keras" else _h5_config(path)
    _check_config(config, name)
    from mnist_core.checks.model_budget import (
        check_budget,  # what the model will cost, before Keras builds it
    )

    cost = check_budget(config, name)
    _check_weights(path, name, suffix)  # what the weights declare, before Keras allocates it
    return cost


def check_model_archive(path: Path) -> None:
    """The part of `check_model_file` a run zip's models get on import: the zip is whole, no entry
    is encrypted or packed with an unknown method, and the weights declare no more than a model within the
    budget can have. Raises `ModelLoadError`."""
    from mnist_core.checks.zip_safety import ARCHIVE_ERRORS, UnsafeZipError, check_readable

    try:
        with zipfile.ZipFile(path) as archive:
            check_readable(path.name, archive.infolist(), _RESAVE)
    except UnsafeZipError as err:
        raise ModelLoadError(str(err)) from None
    except ARCHIVE_ERRORS as err:
        raise ModelLoadError(f"{path.name} is a damaged .keras file (corrupt zip: {str(err)[:120]}).") from None
    _check_weights(path, path.name, ".keras")


def _check_weights(path: Path, name: str, suffix: str) -> None:
    from mnist_core.checks.hdf5_budget import check_hdf5_storage

    if suffix != ".keras":
        check_hdf5_storage(str(path), name, MAX_WEIGHT_BYTES)
        return
    with zipfile.ZipFile(path) as archive:  # whole and readable: _keras_zip_config checked it
        if "model.weights.h5" in archive.namelist():
            with archive.open("model.weights.h5") as weights:  # seekable; Keras stores it uncompressed
                check_hdf5_storage(weights, name, MAX_WEIGHT_BYTES)


def _keras_zip_config(path: Path) -> dict:
    """The model config inside a .keras zip, after checking that the archive is whole."""
    name = path.name
    with open(path, "rb") as f:
        looks_like_zip = f.read(2) == b"PK"
    if not zipfile.is_zipfile(path):
        what = "the zip archive is truncated or damaged" if looks_like_zip else "it is not a zip archive"
        raise ModelLoadError(
            f"{name} is not a Keras .keras file ({what}). Save the model with "
            "model.save('model.keras') and use that file."
        )
    from mnist_core.checks.zip_safety import ARCHIVE_ERRORS, UnsafeZipError, check_readable

    try:
        with zipfile.ZipFile(path) as archive:
            check_readable(name, archive.infolist(), _RESAVE)  # encrypted entries, unknown methods
            if sum(info.file_size for info in archive.infolist()) > 4 * MAX_MODEL_BYTES:
                raise ModelLoadError(f"{name} unpacks to more than {4 * MAX_MODEL_BYTES // 2**20} MB; refusing it.")
            bad = archive.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"checksum error in {bad}")
            if "config.json" not in archive.namelist():
                raise ModelLoadError(
                    f"{name} is a zip archive but not a Keras model (it has no config.json). "
                    "Save the model with model.save('model.keras')."
                )
            return _parse(archive.read("config.json"), name)
    except UnsafeZipError as err:
        raise ModelLoadError(str(err)) from None
    except ARCHIVE_ERRORS as err:
        if isinstance(err, ModelLoadError):
            raise
        raise ModelLoadError(
            f"{name} is a damaged .keras file (corrupt zip: {err}). Save or download the model again."
        ) from err


def _h5_config(path: Path) -> dict:
    """The model config stored in a legacy HDF5 file's attributes."""
    with open(path, "rb") as f:
        if f.read(8) != _HDF5_SIGNATURE:
            raise ModelLoadError(
                f"{path.name} is not an HDF5 file, so not a legacy Keras .h5 model. "
                "Save the model with model.save('model.keras')."
            )
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            raw = h5.attrs.get("model_config")
    except OSError as err:
        raise ModelLoadError(f"{path.name} is a damaged HDF5 file ({err}). Save the model again.") from err
    if raw is None:
        raise ModelLoadError(
            f"{path.name} holds only weights, not a model. Save the whole model with "
            "model.save('model.keras') (not save_weights)."
        )
    return _parse(raw, path.name)


def _parse(raw: bytes | str, name: str) -> object:
    """JSON with bounded nesting (deep JSON was a RecursionError); see model_budget."""
    from mnist_core.checks.model_budget import parse_config  # imported here: model_budget imports ModelLoadError

    return parse_config(raw, name)


def _check_config(config: object, name: str) -> None:
    """Refuse configs that would run Python code; Keras' safe mode refuses them too (defence in depth)."""
    for node in _walk(config):
        for key in ("class_name", "registered_name"):
            what = _FORBIDDEN_CLASSES.get(str(node.get(key)))
            if what:
                raise ModelLoadError(
                    f"{name}: this model contains {what} (Python code), which Digit Lab "
                    "refuses to load for safety. Rebuild it with standard Keras layers (for "
                    "scaling use layers.Rescaling, not Lambda) and save it again."
                )
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] not in ("keras", "builtins"):
            raise ModelLoadError(
                f"{name}: this model uses code from module {module!r} (a custom layer or "
                "function), which Digit Lab refuses to load for safety. Use standard Keras layers."
            )


def _walk(node: object):
    """Every dict nested anywhere in a JSON value."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
