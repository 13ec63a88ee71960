"""evaluation.npz checked against its run's evaluation.json: shapes, dtypes, labels 0-9,
probabilities in [0, 1] and predictions that add up to the confusion matrix. Every array's header is
checked before numpy allocates anything."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mnist_core.runs.names import EVALUATION_ARRAYS
from mnist_core.runs.schema import MAX_BYTES, DamagedRunFile, EvaluationSummary


def check_evaluation_arrays(path: Path, summary: EvaluationSummary, images: bool = True) -> dict[str, np.ndarray]:
    """evaluation.npz's arrays once they agree with evaluation.json (shapes, dtypes, labels 0-9, probabilities,
    confusion); DamagedRunFile if they do not. With `images=False` the images' header and size are checked
    but their pixels (most of the file) are not unpacked."""
    n = summary.n
    shapes = {"probabilities": (n, 10), "labels": (n,), "images": (n, 28, 28)}
    arrays = _npz_arrays(path, shapes, load=set(shapes) if images else {"probabilities", "labels"})
    probabilities, labels, kinds = arrays["probabilities"], arrays["labels"], arrays["dtypes"]
    if kinds["probabilities"].kind != "f" or kinds["labels"].kind not in "iu" or kinds["images"] != np.uint8:
        raise DamagedRunFile("evaluation.npz: probabilities must be floats, labels integers and images uint8.")
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 or probabilities.max() > 1:
        raise DamagedRunFile("evaluation.npz: probabilities must be finite numbers in [0, 1].")
    if labels.min() < 0 or labels.max() > 9:
        raise DamagedRunFile(f"evaluation.npz: labels must be digits 0-9; one is {int(labels.max())}.")
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels.astype(np.int64), probabilities.argmax(axis=1)), 1)
    if confusion.tolist() != summary.confusion:
        raise DamagedRunFile("evaluation.npz: the predictions do not match evaluation.json's confusion matrix.")
    return arrays


def _npz_arrays(path: Path, shapes: dict[str, tuple[int, ...]], load: set[str]) -> dict:
    """The arrays in `load` of an .npz, and "dtypes": each array's dtype; every header is checked (shape, no
    objects, as many bytes as the shape needs) before anything is unpacked."""
    from mnist_core.checks.zip_safety import ARCHIVE_ERRORS, UnsafeZipError, open_zip

    cap = MAX_BYTES[EVALUATION_ARRAYS]
    out: dict = {"dtypes": {}}
    try:
        with open_zip(Path(path), cap, 4 * cap, max_members=10) as archive:
            for key, shape in shapes.items():
                info = archive.getinfo(f"{key}.npy")
                with archive.open(info) as stream:  # reads at most info.file_size bytes (open_zip capped it)
                    found, fortran, dtype = _header(stream)
                    if found != shape or dtype.hasobject:
                        raise DamagedRunFile(f"evaluation.npz: {key} has shape {str(found)[:60]}; expected {shape}.")
                    if math.prod(found) * dtype.itemsize != info.file_size - stream.tell():
                        raise DamagedRunFile(f"evaluation.npz: {key} holds fewer bytes than its shape needs.")
                    out["dtypes"][key] = dtype
                    if key in load:
                        data = np.frombuffer(bytearray(stream.read()), dtype=dtype)  # writable, as np.load gives
                        out[key] = data.reshape(found, order="F" if fortran else "C")
    except UnsafeZipError as error:  # it names the file and the entry
        raise DamagedRunFile(str(error)) from None
    except (KeyError, SyntaxError, *ARCHIVE_ERRORS) as error:
        if isinstance(error, DamagedRunFile):
            raise
        raise DamagedRunFile(f"evaluation.npz is damaged ({str(error)[:120]}).") from None
    return out


def _header(stream) -> tuple[tuple[int, ...], bool, np.dtype]:
    """An .npy header: (shape, fortran order, dtype); ValueError if it is not one."""
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(stream)
