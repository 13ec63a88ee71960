"""Real pen trajectories of the UCI pendigits writers: read from their UNIPEN file, split by writer.

Each digit is a list of strokes in a unit box (x right, y down, the taller side 1), as the rest of
`digit_drawings` takes them. Splits are by writer, never by digit: a model that has seen a writer's
3s reads that writer's 7s better than a stranger's. Only the training script and the benchmarks read
this file; the app never needs it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE_NAME = "pendigits-orig.tra"
SHA256 = "a66225d68d7d68591e62944df1ad33b3f5aa608e2df2505844b41f5568a80da4"
MAX_BYTES = 16 * 2**20  # the real file is 3.6 MB; anything far larger is not it
HELD_OUT = 6  # writers never trained on: the first half choose among candidates, the second half only report
SPLIT_SEED = 0


@dataclass(frozen=True)
class PenDigit:
    """One real digit: its label, its writer's id (1-30) and its strokes in a unit box, y down."""

    label: int
    writer: int
    strokes: tuple[np.ndarray, ...]  # float64 (n, 2) each


@dataclass(frozen=True)
class WriterSplit:
    """Writer ids: trained on, used to choose (validation), and only reported (never used to choose)."""

    train: tuple[int, ...]
    validation: tuple[int, ...]
    report: tuple[int, ...]

    @property
    def held_out(self) -> tuple[int, ...]:
        return self.validation + self.report


def read_pendigits(folder: Path | str) -> list[PenDigit]:
    """Every digit of `folder`/pendigits-orig.tra; ValueError saying what is wrong for a missing or unreadable file.

    Any UNIPEN file of digits in this layout is read; `is_reference_file` says whether it is the one the
    README's figures were measured on."""
    path = Path(folder) / FILE_NAME
    if not path.is_file():
        raise ValueError(f"no {FILE_NAME} in {folder}: pass the folder of the shared pendigits data")
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size:,} bytes, more than {MAX_BYTES:,}: not a pendigits file")
    try:
        parsed = _parse(path.read_text("ascii"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path} is not UNIPEN text of digits ({error})") from None
    if not parsed or any(not 0 <= label <= 9 or writer < 1 for label, writer, _ in parsed):
        raise ValueError(f"{path} has no digits labelled 0-9 with writer ids: not a pendigits file")
    return [_to_digit(*item) for item in parsed]


def is_reference_file(folder: Path | str) -> bool:
    """Whether `folder`/pendigits-orig.tra is the exact file this project's figures were measured on."""
    path = Path(folder) / FILE_NAME
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == SHA256


def _parse(text: str) -> list[tuple[int, int, list[list[tuple[float, float]]]]]:
    """UNIPEN text -> (label, writer, strokes in tablet points, y up) for each .COMMENT segment."""
    digits: list = []
    strokes: list | None = None
    for line in text.splitlines():
        word = line.split(maxsplit=1)[0] if line.strip() else ""
        if word == ".COMMENT":
            label, writer = (int(v) for v in line.split()[1:3])
            digits.append((label, writer, []))
        elif word == ".PEN_DOWN":
            strokes = []
        elif word == ".PEN_UP":
            if strokes and digits:
                digits[-1][2].append(strokes)
            strokes = None
        elif strokes is not None and word and not word.startswith("."):
            x, y = line.split()[:2]
            strokes.append((float(x), float(y)))
    return [d for d in digits if d[2]]


def _to_digit(label: int, writer: int, strokes: list) -> PenDigit:
    """Tablet points (y up) -> a PenDigit in a unit box, y down, its taller side 1, its corner at (0, 0)."""
    arrays = [np.asarray(s, np.float64).reshape(-1, 2) * (1.0, -1.0) for s in strokes]
    points = np.concatenate(arrays)
    low, size = points.min(axis=0), max(float(np.ptp(points, axis=0).max()), 1e-9)
    return PenDigit(label, writer, tuple((a - low) / size for a in arrays))


def split_writers(writers, held_out: int = HELD_OUT, seed: int = SPLIT_SEED, named: tuple = ()) -> WriterSplit:
    """A seeded split of writer ids: `held_out` of them never trained on, half to choose with, half to report.

    `named` holds out exactly those writers instead (the first half choose): a stress test of a recipe on
    writers picked for being hard."""
    ids = sorted({int(w) for w in writers})
    if named:
        unknown = sorted(set(named) - set(ids))
        if unknown or len(set(named)) != len(named) or len(named) < 2:
            raise ValueError(f"hold out at least two distinct writers of {ids[0]}-{ids[-1]}; got {list(named)}")
        order = list(named) + [w for w in ids if w not in named]
        held_out = len(named)
    else:
        order = [int(w) for w in np.random.default_rng(seed).permutation(ids)]
    half = held_out // 2
    return WriterSplit(
        train=tuple(sorted(order[held_out:])),
        validation=tuple(sorted(order[:half])),
        report=tuple(sorted(order[half:held_out])),
    )


def by_writers(digits: list[PenDigit], writers: tuple[int, ...]) -> list[PenDigit]:
    """The digits written by `writers`, in file order."""
    keep = set(writers)
    return [d for d in digits if d.writer in keep]
