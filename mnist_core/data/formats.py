"""Strict readers for the MNIST file formats: IDX (gzipped or raw), Keras mnist.npz and CSV.

Every reader returns checked arrays (images uint8 (N, 28, 28), labels int64 (N,) in 0..9) or
raises DataError naming the file, what is wrong and what to do. No I/O beyond reading the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np

from mnist_core.checks.zip_safety import ARCHIVE_ERRORS
from mnist_core.digits import NUM_CLASSES

SIDE = 28  # MNIST digits are 28x28 pixels
PIXELS = SIDE * SIDE
IMAGES_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_PREFIX = b"\x00\x00\x08"  # every IDX file of unsigned bytes starts like this
_REDOWNLOAD = "Re-download it."


class DataError(ValueError):
    """A data file or folder is missing, malformed or not MNIST; the message says what to do."""


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the content is gzip (whatever its name says)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}). Check the path and permissions.") from exc
    if not data:
        raise DataError(f"{path}: empty file (0 bytes). {_REDOWNLOAD}")
    if data[:2] == _GZIP_MAGIC:
        return _gunzip(data, path)
    if path.suffix == ".gz" and not data.startswith(_IDX_PREFIX) and path.suffixes[-2:-1] != [".csv"]:
        raise DataError(f"{path}: named .gz but is not gzip-compressed (and not a raw IDX file either). {_REDOWNLOAD}")
    return data


def _gunzip(data: bytes, path: Path) -> bytes:
    """Decompress gzip bytes, turning every zlib/gzip failure into a DataError."""
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise DataError(f"{path}: truncated gzip file (the compressed data stops early). {_REDOWNLOAD}") from exc
    except (OSError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip file ({exc}). {_REDOWNLOAD}") from exc


def _header(buf: bytes, path: Path, magic: int, ndim: int) -> tuple[int, ...]:
    """Check the IDX magic number and return the declared dimensions."""
    size = 4 * (1 + ndim)
    if len(buf) < 4:
        raise DataError(f"{path}: only {len(buf)} bytes, too short for an IDX header. {_REDOWNLOAD}")
    found = int.from_bytes(buf[:4], "big")
    if found != magic:
        what = "images" if magic == IMAGES_MAGIC else "labels"
        hint = {IMAGES_MAGIC: " (that is an images file)", LABELS_MAGIC: " (that is a labels file)"}
        raise DataError(
            f"{path}: wrong magic number {found}{hint.get(found, '')}; an MNIST {what} file starts "
            f"with {magic}. Check the file names or re-download it."
        )
    if len(buf) < size:
        raise DataError(f"{path}: truncated header ({len(buf)} of {size} bytes). {_REDOWNLOAD}")
    return tuple(int.from_bytes(buf[4 * i : 4 * i + 4], "big") for i in range(1, 1 + ndim))


def _check_length(buf: bytes, path: Path, header: int, count: int, item: str) -> None:
    """The body must hold exactly what the header declares: no less, no more."""
    expected = header + count * _item_bytes(item)
    if len(buf) < expected:
        raise DataError(
            f"{path}: truncated: header says {count} {item} ({expected - header:,} bytes) but the file "
            f"holds {len(buf) - header:,}. {_REDOWNLOAD}"
        )
    if len(buf) > expected:
        raise DataError(
            f"{path}: {len(buf) - expected:,} bytes of trailing junk after the {count} {item} "
            f"the header declares. {_REDOWNLOAD}"
        )


def _item_bytes(item: str) -> int:
    return PIXELS if item.startswith("images") else 1


def parse_idx_images(buf: bytes, path: Path) -> np.ndarray:
    """Decode an IDX images file: uint8 (N, 28, 28), read-only view of buf."""
    count, rows, cols = _header(buf, path, IMAGES_MAGIC, 3)
    if (rows, cols) != (SIDE, SIDE):
        raise DataError(f"{path}: images are {rows}x{cols}; MNIST digits are {SIDE}x{SIDE}. Use the MNIST files.")
    _check_length(buf, path, 16, count, f"images of {SIDE}x{SIDE}")
    return np.frombuffer(buf, np.uint8, offset=16).reshape(count, SIDE, SIDE)


def parse_idx_labels(buf: bytes, path: Path) -> np.ndarray:
    """Decode an IDX labels file: int64 (N,) in 0..9."""
    (count,) = _header(buf, path, LABELS_MAGIC, 1)
    _check_length(buf, path, 8, count, "labels")
    return check_labels(np.frombuffer(buf, np.uint8, offset=8), str(path))


def read_idx_images(path: Path) -> np.ndarray:
    """Read an IDX images file (gzipped or raw): uint8 (N, 28, 28)."""
    return check_images(parse_idx_images(read_bytes(path), path), str(path))


def read_idx_labels(path: Path) -> np.ndarray:
    """Read an IDX labels file (gzipped or raw): int64 (N,)."""
    return parse_idx_labels(read_bytes(path), path)


def check_images(x: np.ndarray, where: str) -> np.ndarray:
    """Validate pixels: (N, 28, 28) or (N, 784) whole numbers 0..255 -> uint8 (N, 28, 28)."""
    if x.ndim == 2 and x.shape[1] == PIXELS:
        x = x.reshape(-1, SIDE, SIDE)
    if x.ndim != 3 or x.shape[1:] != (SIDE, SIDE):
        raise DataError(f"{where}: images have shape {x.shape}; expected (N, {SIDE}, {SIDE}).")
    if len(x) == 0:
        raise DataError(f"{where}: holds no images.")
    if x.dtype.kind not in "ui":
        raise DataError(f"{where}: pixels have dtype {x.dtype}; expected whole numbers 0..255 (uint8).")
    if x.dtype != np.uint8:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: pixel values range {lo}..{hi}; expected 0..255.")
    return np.ascontiguousarray(x, dtype=np.uint8)


def check_labels(y: np.ndarray, where: str) -> np.ndarray:
    """Validate labels: (N,) whole numbers 0..9 -> int64 (N,)."""
    if y.ndim != 1:
        raise DataError(f"{where}: labels have shape {y.shape}; expected (N,).")
    if y.dtype.kind not in "ui":
        raise DataError(f"{where}: labels have dtype {y.dtype}; expected whole numbers 0..9.")
    bad = np.flatnonzero((y < 0) | (y >= NUM_CLASSES))
    if bad.size:
        raise DataError(
            f"{where}: labels range {int(y.min())}..{int(y.max())} (first bad one at index {bad[0]}: "
            f"{int(y[bad[0]])}); MNIST labels are digits 0..9. Use the MNIST label files."
        )
    return y.astype(np.int64)


def check_pair(x: np.ndarray, y: np.ndarray, where: str) -> None:
    """Images and labels must come in equal numbers."""
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x):,} images but {len(y):,} labels; they must match. {_REDOWNLOAD}")


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read a Keras-style mnist.npz: the four arrays of NPZ_KEYS, checked."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: missing key(s) {', '.join(missing)} (it has: {', '.join(npz.files) or 'none'})."
                    f" A Keras-style mnist.npz holds {', '.join(NPZ_KEYS)}."
                )
            arrays = {key: npz[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except ARCHIVE_ERRORS as exc:
        raise DataError(f"{path}: not a readable .npz file ({str(exc)[:120]}). {_REDOWNLOAD}") from exc
    for split in ("train", "test"):
        x = check_images(arrays[f"x_{split}"], f"{path} x_{split}")
        y = check_labels(arrays[f"y_{split}"], f"{path} y_{split}")
        check_pair(x, y, f"{path} ({split})")
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    return arrays


def read_csv(path: Path, label_column: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Read digits from CSV rows of a label and 784 pixels (header optional): (uint8 images, int64 labels)."""
    lines = read_bytes(path).decode("utf-8", errors="replace").splitlines()
    skip = 1 if lines and not _is_int(lines[0].split(",")[0]) else 0
    if not any(line.strip() for line in lines[skip:]):
        raise DataError(f"{path}: no digit rows. Each row should be: label, then {PIXELS} pixels.")
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=np.int64, skiprows=skip, ndmin=2)
    except ValueError as exc:
        raise _csv_row_error(path, lines, skip) or DataError(f"{path}: not readable as CSV ({exc}).") from exc
    if table.shape[1] != PIXELS + 1:
        raise DataError(
            f"{path}: rows have {table.shape[1]} columns; expected {PIXELS + 1} (label, then {PIXELS} pixels)."
        )
    labels = table[:, label_column]
    pixels = np.delete(table, label_column % table.shape[1], axis=1)
    bad = np.argwhere((pixels < 0) | (pixels > 255))
    if bad.size:
        row, col = bad[0]
        line = _line_number(lines, skip, row)
        raise DataError(f"{path}: line {line}: pixel value {pixels[row, col]} is outside 0..255.")
    y = check_labels(labels, str(path))
    return check_images(pixels.astype(np.uint8), str(path)), y


def _is_int(text: str) -> bool:
    try:
        int(text.strip())
    except ValueError:
        return False
    return True


def _csv_row_error(path: Path, lines: list[str], skip: int) -> DataError | None:
    """Find the first malformed row so the message can name its line and column."""
    width = None
    for number, line in enumerate(lines[skip:], start=skip + 1):
        if not line.strip():
            continue
        fields = line.split(",")
        width = width or len(fields)
        if len(fields) != width:
            return DataError(f"{path}: line {number} has {len(fields)} values but earlier rows have {width}.")
        for column, field in enumerate(fields, start=1):
            if not _is_int(field):
                return DataError(f"{path}: line {number}, column {column}: {field.strip()!r} is not a whole number.")
    return None


def _line_number(lines: list[str], skip: int, row: int) -> int:
    """1-based line number in the file of data row `row` (blank lines are skipped by the parser)."""
    seen = -1
    for number, line in enumerate(lines[skip:], start=skip + 1):
        seen += bool(line.strip())
        if seen == row:
            return number
    return skip + row + 1
