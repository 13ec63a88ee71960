"""My digits: the digits people drew and labelled, kept on disk, and their export and import (`archive`).
Here, the store: a small per-server set of labelled drawings.

Each digit is one grey 28x28 PNG, `<id>.png`, whose label and creation time live in the PNG's
text chunks, so one atomic file write adds a digit and there is no index to keep consistent.
The folder is `$DIGIT_LAB_MY_DIGITS_DIR`, else `my_digits/` beside the runs folder (default
`./my_digits`). Images are stored as uint8, so a digit comes back quantised to 1/255 steps.
Imports and exports (zip or npz files) live in `my_digits_archive`, over this store.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from mnist_core.digits import IMAGE_SHAPE, check_unit_image, to_uint8
from mnist_core.people import Person
from mnist_core.storage import atomic_write_bytes

MY_DIGITS_ENV = "DIGIT_LAB_MY_DIGITS_DIR"
MAX_DIGITS = 5000  # per server: plenty for fine-tuning, small enough to load in a blink
SHAPE = IMAGE_SHAPE
_ID_RE = re.compile(r"^[0-9]{13}-[0-9a-f]{6}$")
_id_clock = {"last_ms": 0}  # the newest id's millisecond in this process: ids never repeat or go back
_id_lock = threading.Lock()


class MyDigitsError(ValueError):
    """A digit, a file to import or the My digits folder is unusable; the message says why."""


@dataclass(frozen=True, eq=False)
class Sample:
    """One stored digit."""

    id: str  # e.g. "1732370000123-a1b2c3": creation time in ms, then random hex
    label: int  # 0..9
    created_at: float  # unix seconds
    image: np.ndarray  # float32 (28, 28) in [0, 1], bright ink on black


def my_digits_dir(path: str | Path | None = None) -> Path:
    """The folder: `path`, else $DIGIT_LAB_MY_DIGITS_DIR, else `my_digits/` beside the runs folder."""
    if path or os.environ.get(MY_DIGITS_ENV):
        return Path(path or os.environ[MY_DIGITS_ENV]).expanduser().resolve()
    from mnist_core.runs import runs_dir

    return runs_dir().parent / "my_digits"


def person_folder(person: Person | None) -> Path | None:
    """Where `person`'s digits live: None (the default folder) without sign-in, else a folder of
    their own, `people/<digest of their id>` inside it."""
    return None if person is None else my_digits_dir() / "people" / person.folder_name


def check_pixels(image28: np.ndarray) -> np.ndarray:
    """Validate a float (28, 28) image in [0, 1] with some ink; returns it as uint8 (28, 28)."""
    try:
        image = check_unit_image(image28, "A digit must be a")
    except ValueError as error:
        raise MyDigitsError(str(error)) from None
    if float(image.max()) == 0:
        raise MyDigitsError("This digit is empty (no ink); draw something first.")
    return to_uint8(image)


def check_label(label: object) -> int:
    """A digit label 0..9 (ints and integral numpy numbers; not bools, floats or strings)."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise MyDigitsError(f"A label must be a whole number from 0 to 9; got {label!r}.")
    return int(label)


def add_digit(image28: np.ndarray, label: int, folder: str | Path | None = None) -> str:
    """Store one digit and return its id.

    A page calls ``add_digit(canvas_to_mnist(rgba), label)`` after the user picks the label.
    Raises MyDigitsError for a bad image or label, or when the folder already holds MAX_DIGITS.
    """
    pixels, label = check_pixels(image28), check_label(label)
    root = _ensure_folder(folder)
    if _count(root) >= MAX_DIGITS:
        raise MyDigitsError(f"My digits is full ({MAX_DIGITS:,} digits); delete some before adding more.")
    return _write(root, pixels, label)


def _write(root: Path, pixels: np.ndarray, label: int, created_at: float | None = None) -> str:
    created_at = time.time() if created_at is None else created_at
    sample_id = f"{_id_millisecond(created_at):013d}-{secrets.token_hex(3)}"
    info = PngImagePlugin.PngInfo()
    info.add_text("label", str(label))
    info.add_text("created_at", repr(float(created_at)))
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG", pnginfo=info)
    atomic_write_bytes(root / f"{sample_id}.png", buffer.getvalue())
    return sample_id


def _id_millisecond(created_at: float) -> int:
    """The id's time part: `created_at` in ms, but always after the previous id this process made.

    Ids sort oldest first; two digits kept (or imported) within one millisecond would otherwise
    sort by their random suffix, out of the order they were added.
    """
    with _id_lock:
        ms = max(int(created_at * 1000), _id_clock["last_ms"] + 1)
        _id_clock["last_ms"] = ms
        return ms


def list_digits(folder: str | Path | None = None) -> list[Sample]:
    """Every stored digit, oldest first (unreadable files are skipped). Empty if the folder is missing."""
    root = my_digits_dir(folder)
    if not root.is_dir():
        return []
    samples = (_read(path) for path in sorted(root.glob("*.png")) if _ID_RE.match(path.stem))
    return [sample for sample in samples if sample is not None]


def _read(path: Path) -> Sample | None:
    try:
        with Image.open(path) as image:
            image.load()
            text, pixels = dict(image.text), np.asarray(image.convert("L"), dtype=np.float32) / 255
        label, created_at = int(text["label"]), float(text["created_at"])
    except (OSError, KeyError, ValueError):
        return None
    if pixels.shape != SHAPE or not 0 <= label <= 9:
        return None
    return Sample(path.stem, label, created_at, pixels)


def digit_arrays(folder: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All digits as arrays: float32 (N, 28, 28) images, int64 (N,) labels, and their ids."""
    samples = list_digits(folder)
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0, *SHAPE), np.float32)
    return images, np.array([s.label for s in samples], dtype=np.int64), [s.id for s in samples]


def count_by_label(folder: str | Path | None = None) -> dict[int, int]:
    """How many digits of each label are stored: {0: n0, ..., 9: n9}."""
    return label_counts(list_digits(folder))


def label_counts(samples: list[Sample]) -> dict[int, int]:
    """{0: n0, ..., 9: n9} for digits already read (a page that lists them need not read them twice)."""
    labels = [s.label for s in samples]
    return {digit: labels.count(digit) for digit in range(10)}


def delete_digit(sample_id: str, folder: str | Path | None = None) -> None:
    """Remove one digit; MyDigitsError if there is no digit with that id."""
    path = my_digits_dir(folder) / f"{sample_id}.png"
    if not _ID_RE.match(str(sample_id)) or not path.is_file():
        raise MyDigitsError(f"There is no digit {sample_id!r} in My digits.")
    path.unlink()


def _ensure_folder(folder: str | Path | None) -> Path:
    root = my_digits_dir(folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MyDigitsError(
            f"Cannot create the My digits folder {root}: {error.strerror or error}. "
            f"Point {MY_DIGITS_ENV} at a writable folder."
        ) from error
    return root


def _count(root: Path) -> int:
    return sum(1 for path in root.glob("*.png") if _ID_RE.match(path.stem))


def add_many(images: np.ndarray, labels: np.ndarray, source: str, folder: str | Path | None = None) -> int:
    """Store checked uint8 (N, 28, 28) digits with their labels, all or none; returns N.

    MyDigitsError (naming `source`, e.g. the imported file) if they would exceed MAX_DIGITS.
    """
    root = _ensure_folder(folder)
    if _count(root) + len(labels) > MAX_DIGITS:
        raise MyDigitsError(
            f"{source}: importing {len(labels):,} digits would exceed the limit of "
            f"{MAX_DIGITS:,} (now {_count(root):,}); delete some first."
        )
    for pixels, label in zip(images, labels, strict=True):
        _write(root, pixels, int(label))
    return len(labels)
