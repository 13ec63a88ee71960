"""An HDF5 file's declared storage checked before anything reads its data.

A 30 KB `.keras` can hold a chunked dataset that declares 2^28 floats and writes none of them; Keras
allocates the whole declared array when it loads the weights (+4 GB for one upload). h5py reads each
dataset's shape, type and layout from its header without touching the data, so the declared sizes are
summed here first. It never imports Keras or TensorFlow.
"""

from __future__ import annotations

import math
from typing import IO

from mnist_core.checks.model_load_error import ModelLoadError

MAX_OBJECTS = 20_000  # groups and datasets; a Keras model's weights file has a few hundred
MAX_RANK = 8
_NUMERIC = "fiub"  # float, signed and unsigned integer, bool


def check_hdf5_storage(source: str | IO[bytes], name: str, max_bytes: int) -> int:
    """The bytes every dataset in `source` (a path or a seekable binary file) declares; a `ModelLoadError`
    that says so when the sum is over `max_bytes`, a dataset is not a plain numeric array, or the file
    holds more than `MAX_OBJECTS` objects or is not readable HDF5."""
    import h5py  # a fraction of a second, where TensorFlow takes seconds

    found = {"bytes": 0, "objects": 0}

    def visit(path: str, item: object) -> None:
        found["objects"] += 1
        if found["objects"] > MAX_OBJECTS:
            raise ModelLoadError(
                f"{name}: the weights file holds more than {MAX_OBJECTS:,} groups and arrays, which no Keras model "
                "needs; refusing it."
            )
        if not isinstance(item, h5py.Dataset):
            return
        shape, dtype = item.shape or (), item.dtype
        if len(shape) > MAX_RANK or dtype.kind not in _NUMERIC or dtype.itemsize > 16:
            raise ModelLoadError(
                f"{name}: weight {path[:80]!r} is not a plain numeric array (type {str(dtype)[:40]}, "
                f"{len(shape)} dimensions); Keras weights are. Save the model again with model.save('model.keras')."
            )
        found["bytes"] += math.prod(shape) * dtype.itemsize
        if found["bytes"] > max_bytes:
            raise ModelLoadError(
                f"{name}: its weights declare more than {max_bytes / 2**20:,.0f} MB (weight {path[:80]!r} alone "
                f"{math.prod(shape) * dtype.itemsize / 2**20:,.1f} MB), more than a model within Digit Lab's budget "
                "can have; refusing it before reading them. Use a smaller model (fewer or narrower layers)."
            )

    try:
        with h5py.File(source, "r") as h5:
            h5.visititems(visit)
    except ModelLoadError:
        raise
    except Exception as error:  # h5py raises OSError, KeyError, ValueError, RuntimeError... for a damaged file
        raise ModelLoadError(
            f"{name}: its weights file is damaged ({type(error).__name__}: {str(error)[:120]}). Save the model again."
        ) from None
    return found["bytes"]
