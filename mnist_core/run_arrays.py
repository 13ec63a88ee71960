"""evaluation.npz checked against its run's evaluation.json (issue 13): shapes, dtypes, labels 0-9,
probabilities in [0, 1] and predictions that add up to the confusion matrix. Every array's header is
checked before numpy allocates anything."""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mnist_core.run_names import EVALUATION_ARRAYS
from mnist_core.run_schema import MAX_BYTES, DamagedRunFile, EvaluationSummary


def check_evaluation_arrays(path: Path, summary: EvaluationSummary) -> dict[str, np.ndarray]:
    """evaluation.npz's arrays once they agree with evaluation.json (shapes, dtypes, labels 0-9, probabilities,
    confusion); DamagedRunFile if they do not."""
    arrays = _npz_arrays(
        path, {"probabilities": (summary.n, 10), "labels": (summary.n,), "images": (summary.n, 28, 28)}
    )
    probabilities, labels, images = arrays["probabilities"], arrays["labels"], arrays["images"]
    if probabilities.dtype.kind != "f" or labels.dtype.kind not in "iu" or images.dtype != np.uint8:
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


def _npz_arrays(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The named arrays of an .npz, each header checked (shape, no objects, bytes present) before loading."""
    from mnist_core.zip_safety import UnsafeZipError, open_zip, read_member

    cap = MAX_BYTES[EVALUATION_ARRAYS]
    out = {}
    try:
        with open_zip(Path(path), cap, 4 * cap, max_members=10) as archive:
            for key, shape in shapes.items():
                data = read_member(archive, f"{key}.npy", 4 * cap)
                stream = io.BytesIO(data)
                version = np.lib.format.read_magic(stream)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                found, _, dtype = read(stream)
                if found != shape or dtype.hasobject:
                    raise DamagedRunFile(f"evaluation.npz: {key} has shape {str(found)[:60]}; expected {shape}.")
                if math.prod(found) * dtype.itemsize != len(data) - stream.tell():
                    raise DamagedRunFile(f"evaluation.npz: {key} holds fewer bytes than its shape needs.")
                out[key] = np.load(io.BytesIO(data), allow_pickle=False)
    except (
        UnsafeZipError,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        SyntaxError,
        zipfile.BadZipFile,
        zlib.error,
    ) as error:  # noqa: E501
        if isinstance(error, DamagedRunFile):
            raise
        raise DamagedRunFile(f"evaluation.npz is damaged ({str(error)[:120]}).") from None
    return out
