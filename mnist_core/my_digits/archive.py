"""My digits in and out as one file: a zip of PNGs with labels.csv, or an npz with images and labels.

Exports read the store (`mnist_core.my_digits`); an import is validated and decoded in memory
before anything is written, then added to the store all at once. Files are never extracted: a zip
member's name is only used to look it up (zip-slip safe).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from mnist_core.checks.zip_safety import ARCHIVE_ERRORS, UnsafeZipError, is_safe_name, open_zip, read_member
from mnist_core.digits import to_uint8
from mnist_core.my_digits import MAX_DIGITS, SHAPE, MyDigitsError, add_many, digit_arrays, list_digits
from mnist_core.storage import atomic_path

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # an import file above 20 MB is refused before it is read
MAX_MEMBER_BYTES = 1024 * 1024  # one zip member (a PNG, labels.csv, an npz array) may unpack to 1 MB...
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # ...and a whole import to 64 MB (zip-bomb guard)
LABELS_CSV = "labels.csv"

_FORMATS = "a .zip of 28x28 PNGs with a labels.csv (file,label), or an .npz with 'images' and 'labels'"


def export_npz(path: str | Path, folder: str | Path | None = None) -> int:
    """Write every digit to `path` as .npz (images uint8 (N, 28, 28), labels uint8, ids); returns N."""
    images, labels, ids = digit_arrays(folder)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            images=to_uint8(images),
            labels=labels.astype(np.uint8),
            ids=np.array(ids, dtype=str),
        )
    return len(labels)


def export_zip(path: str | Path, folder: str | Path | None = None) -> int:
    """Write every digit to `path` as a zip: `<id>.png` files plus `labels.csv` (file,label); returns N."""
    samples = list_digits(folder)
    with atomic_path(path, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(["file", "label"])
        for sample in samples:
            buffer = io.BytesIO()
            Image.fromarray(to_uint8(sample.image), mode="L").save(buffer, format="PNG")
            archive.writestr(f"{sample.id}.png", buffer.getvalue())
            writer.writerow([f"{sample.id}.png", sample.label])
        archive.writestr(LABELS_CSV, rows.getvalue())
    return len(samples)


def import_file(path: str | Path, folder: str | Path | None = None) -> int:
    """Add the digits of a .zip or .npz file (see the module docstring); returns how many were added.

    A page saves the upload to a temporary file and calls ``import_file(tmp_path)``. Everything is
    checked before anything is written, so a bad file adds nothing; MyDigitsError says what is wrong.
    Files are never extracted: a zip member's name is only used to look it up (zip-slip safe).
    """
    path = Path(path)
    images, labels = read_import(path)
    return add_many(images, labels, path.name, folder)


def read_import(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A file to import -> uint8 (N, 28, 28) images and int64 (N,) labels, all checked."""
    suffix = path.suffix.lower()
    if suffix not in (".zip", ".npz"):
        raise MyDigitsError(f"{path.name}: unsupported file type {suffix or '(none)'}; import {_FORMATS}.")
    try:
        with open_zip(path, MAX_IMPORT_BYTES, MAX_UNPACKED_BYTES, MAX_DIGITS + 10) as archive:
            images, labels = _read_zip(path.name, archive) if suffix == ".zip" else _read_npz(path.name, archive)
    except UnsafeZipError as error:
        raise MyDigitsError(str(error)) from error
    if not len(labels):
        raise MyDigitsError(f"{path.name} holds no digits.")
    return images, labels


def _read_zip(name: str, archive: zipfile.ZipFile) -> tuple[np.ndarray, np.ndarray]:
    names = set(archive.namelist())
    csv_names = sorted(n for n in names if PurePosixPath(n).name == LABELS_CSV)
    if len(csv_names) != 1:
        found = "no" if not csv_names else f"{len(csv_names)}"
        raise MyDigitsError(
            f"{name}: found {found} {LABELS_CSV}; a zip needs exactly one, with a 'file,label' row per PNG."
        )
    base = PurePosixPath(csv_names[0]).parent
    rows = _csv_rows(name, read_member(archive, csv_names[0], MAX_MEMBER_BYTES))
    images, labels = [], []
    for line, (file, label) in rows:
        where = f"{name}, {LABELS_CSV} line {line}"
        member = str(base / file) if str(base) != "." else file
        if not is_safe_name(file) or member not in names:
            raise MyDigitsError(f"{where}: no file {file!r} in the zip (names are relative to {LABELS_CSV}).")
        images.append(_decode_png(where, file, read_member(archive, member, MAX_MEMBER_BYTES)))
        labels.append(_parse_label(where, label))
    return np.stack(images) if images else np.zeros((0, *SHAPE), np.uint8), np.array(labels, dtype=np.int64)


def _csv_rows(name: str, data: bytes) -> list[tuple[int, tuple[str, str]]]:
    """(line number, (file, label)) for each data row; a 'file,label' header is skipped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MyDigitsError(f"{name}: {LABELS_CSV} is not UTF-8 text.") from error
    rows = []
    try:
        for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):  # stops at the limit
            cells = [cell.strip() for cell in row]
            if not any(cells) or (line == 1 and [c.lower() for c in cells[:2]] == ["file", "label"]):
                continue
            if len(cells) != 2:
                raise MyDigitsError(
                    f"{name}, {LABELS_CSV} line {line}: expected 2 columns (file,label); got {len(cells)}."
                )
            rows.append((line, (cells[0], cells[1])))
            if len(rows) > MAX_DIGITS:
                raise MyDigitsError(
                    f"{name}: {LABELS_CSV} lists more than {MAX_DIGITS:,} digits, the most My digits keeps; "
                    "import them in smaller zips."
                )
    except csv.Error as error:  # a field over csv's 128 KB limit, a NUL byte
        raise MyDigitsError(
            f"{name}: {LABELS_CSV} is not a readable 'file,label' list ({error}); "
            "each line holds a PNG name and a digit."
        ) from error
    return rows


def _parse_label(where: str, text: str) -> int:
    if text not in tuple("0123456789"):
        raise MyDigitsError(f"{where}: label {text!r} is not a digit 0-9.")
    return int(text)


def _decode_png(where: str, file: str, data: bytes) -> np.ndarray:
    """PNG bytes -> uint8 (28, 28), bright ink on black, or MyDigitsError."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise MyDigitsError(f"{where}: {file} is {image.format or 'not an image'}; use PNG files.")
            if image.size != SHAPE:
                raise MyDigitsError(
                    f"{where}: {file} is {image.size[0]}x{image.size[1]} pixels; digits must "
                    "be 28x28 (bright ink on black, as MNIST)."
                )
            pixels = np.asarray(image.convert("L"), dtype=np.uint8)
    except MyDigitsError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise MyDigitsError(f"{where}: {file} is not a readable PNG ({error}).") from error
    if not pixels.any():
        raise MyDigitsError(f"{where}: {file} is blank (no ink).")
    return pixels


def _read_npz(name: str, archive: zipfile.ZipFile) -> tuple[np.ndarray, np.ndarray]:
    keys = {n.removesuffix(".npy") for n in archive.namelist()}
    if not {"images", "labels"} <= keys:
        raise MyDigitsError(
            f"{name}: an .npz needs arrays 'images' and 'labels'; it has {', '.join(sorted(keys)) or 'none'}."
        )
    try:
        with np.load(io.BytesIO(_npz_bytes(name, archive)), allow_pickle=False) as arrays:
            images, labels = arrays["images"], arrays["labels"]
    except MyDigitsError:
        raise
    except ARCHIVE_ERRORS as error:
        raise MyDigitsError(f"{name}: could not read the arrays ({str(error)[:120]}).") from error
    return _check_images(name, images), _check_labels(name, labels, len(images))


def _npz_bytes(name: str, archive: zipfile.ZipFile) -> bytes:
    """Re-pack only 'images' and 'labels' (size-checked) so np.load never sees anything else."""
    names = set(archive.namelist())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for key in ("images", "labels"):
            # Np.savez names members images.npy; a hand-made zip may say just "images"
            member = f"{key}.npy" if f"{key}.npy" in names else key
            data = read_member(archive, member, MAX_UNPACKED_BYTES)
            _check_npy_header(name, key, data)
            out.writestr(f"{key}.npy", data)
    return buffer.getvalue()


def _check_npy_header(name: str, key: str, data: bytes) -> None:
    """An .npy header may claim 10^12 elements; numpy would try to allocate them. Refuse any
    array whose header does not match the bytes that follow it."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)  # the header only, no data
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as error:
        raise MyDigitsError(f"{name}: '{key}' is not a readable .npy array ({error}).") from error
    if dtype.hasobject:
        return  # pickled objects: np.load(allow_pickle=False) refuses them before reading any data
    claimed = math.prod(shape) * dtype.itemsize
    held = len(data) - stream.tell()
    if claimed != held:
        raise MyDigitsError(
            f"{name}: '{key}' claims shape {shape} ({claimed:,} bytes) but holds {held:,} bytes; "
            "save the arrays again with np.savez."
        )


def _check_images(name: str, images: np.ndarray) -> np.ndarray:
    if images.ndim != 3 or images.shape[1:] != SHAPE:
        raise MyDigitsError(f"{name}: 'images' must have shape (N, 28, 28); got {images.shape}.")
    if images.dtype == np.uint8:
        pixels = images
    elif np.issubdtype(images.dtype, np.floating):
        if not np.all(np.isfinite(images)):
            raise MyDigitsError(f"{name}: 'images' contains NaN or infinite values.")
        if images.size and (images.min() < 0 or images.max() > 1):
            raise MyDigitsError(
                f"{name}: float 'images' must be in [0, 1]; got [{images.min():.4g}, {images.max():.4g}]."
            )
        pixels = to_uint8(images)
    else:
        raise MyDigitsError(f"{name}: 'images' must be uint8 (0-255) or float in [0, 1]; got {images.dtype}.")
    blank = np.flatnonzero(pixels.reshape(len(pixels), 784).max(axis=1) == 0)
    if blank.size:
        raise MyDigitsError(f"{name}: images[{blank[0]}] is blank (no ink).")
    return pixels


def _check_labels(name: str, labels: np.ndarray, n: int) -> np.ndarray:
    if labels.shape != (n,):
        raise MyDigitsError(f"{name}: 'labels' must have shape ({n},) to match 'images'; got {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise MyDigitsError(f"{name}: 'labels' must be whole numbers 0-9; got dtype {labels.dtype}.")
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise MyDigitsError(f"{name}: labels[{bad[0]}] is {labels[bad[0]]}; labels must be 0-9.")
    return labels.astype(np.int64)
