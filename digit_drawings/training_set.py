"""The arrays the pen-style starter and the digit detector are trained on, made in parallel and cached.

Every drawing goes through `canvas_to_mnist`, exactly as the Draw page's do. MNIST indices are
split once: the first part is re-drawn for training, a disjoint part for the detector's threshold.
"""

from __future__ import annotations

import multiprocessing
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digit_drawings import nondigits, pen_styles, real_training
from mnist_core.drawing.preprocess import canvas_to_mnist


@dataclass(frozen=True)
class SetSizes:
    """How many drawings of each source (defaults: ~4 minutes of one core)."""

    mnist_pen: int = 8_000  # MNIST training digits re-drawn through their skeletons (+ styles added)
    styles: int = 4_000  # parametric style digits, spread evenly over pen_styles.STYLES
    nondigits: int = 8_000  # spread evenly over nondigits.TRAIN_KINDS
    calibration: int = 2_000  # pen digits from other MNIST training digits (2/3) and styles (1/3)


def _job(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of drawings: (kind of source, items, seed) -> (float32 (n, 28, 28), int labels; -1 = not a digit)."""
    source, items, seed = args
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for item in items:
        if source == "mnist":
            image28, label = item
            canvas = pen_styles.mnist_drawing(image28, label, rng)
        elif source == "style":
            label, canvas = pen_styles.STYLES[item][0], pen_styles.style_drawing(item, rng)
        elif source == "real":
            strokes, label = item
            canvas = real_training.real_drawing(strokes, label, rng)
        else:
            label, canvas = -1, nondigits.nondigit_drawing(item, rng)
        out = None if canvas is None else canvas_to_mnist(canvas)
        if out is not None:
            images.append(out)
            labels.append(label)
    return np.asarray(images, np.float32).reshape(-1, 28, 28), np.asarray(labels, np.int64)


def _chunks(source: str, items: list, seed: int, size: int = 250) -> list[tuple]:
    return [(source, items[i : i + size], seed * 10_000 + i) for i in range(0, len(items), size)]


def _run(jobs: list[tuple], workers: int) -> tuple[np.ndarray, np.ndarray]:
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_job, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def build_digits(x_train: np.ndarray, y_train: np.ndarray, sizes: SetSizes, seed: int, workers: int = 2) -> dict:
    """Pen digits for training and for calibration: {"x", "y", "x_cal", "y_cal", "mnist_used"}."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))
    n_cal_mnist = sizes.calibration * 2 // 3
    pen_idx, cal_idx = order[: sizes.mnist_pen], order[sizes.mnist_pen : sizes.mnist_pen + n_cal_mnist]
    styles = list(pen_styles.STYLES)
    weighted = [name for name in styles for _ in range(pen_styles.TRAINING_SHARE.get(name, 1))]  # training only
    train_jobs = _chunks("mnist", [(x_train[i], int(y_train[i])) for i in pen_idx], seed + 1) + _chunks(
        "style", [weighted[k % len(weighted)] for k in range(sizes.styles)], seed + 2
    )
    cal_jobs = _chunks("mnist", [(x_train[i], int(y_train[i])) for i in cal_idx], seed + 4) + _chunks(
        "style", [styles[k % len(styles)] for k in range(sizes.calibration - n_cal_mnist)], seed + 5
    )
    x, y = _run(train_jobs, workers)
    x_cal, y_cal = _run(cal_jobs, workers)
    return {"x": x, "y": y, "x_cal": x_cal, "y_cal": y_cal, "mnist_used": np.sort(order[: len(pen_idx) + len(cal_idx)])}


def build_nondigits(sizes: SetSizes, seed: int, workers: int = 2) -> dict:
    """Non-digit drawings, spread evenly over nondigits.TRAIN_KINDS: {"x_other"}."""
    kinds = list(nondigits.TRAIN_KINDS)
    x, _ = _run(_chunks("nondigit", [kinds[k % len(kinds)] for k in range(sizes.nondigits)], seed + 3), workers)
    return {"x_other": x}


def build(x_train: np.ndarray, y_train: np.ndarray, sizes: SetSizes, seed: int, workers: int = 2) -> dict:
    """Training drawings (non-digits labelled -1) and calibration drawings: {"x", "y", "x_cal", "y_cal", ...}."""
    return _merged(build_digits(x_train, y_train, sizes, seed, workers), build_nondigits(sizes, seed, workers))


def _merged(digits: dict, others: dict) -> dict:
    x = np.concatenate([digits["x"], others["x_other"]])
    y = np.concatenate([digits["y"], np.full(len(others["x_other"]), -1, np.int64)])
    return {**digits, "x": x, "y": y}


def load_or_build(cache: Path, x_train, y_train, sizes: SetSizes, seed: int, workers: int = 2) -> dict:
    """`build`, cached in `cache`: digits by sizes and seed, non-digits also by the kinds they are drawn from."""
    kinds = zlib.crc32(" ".join(sorted(nondigits.TRAIN_KINDS)).encode())
    digits = _cached(
        cache / f"pen_digits_{_sizes_key(sizes)}_{_styles_key()}_s{seed}.npz",
        lambda: build_digits(x_train, y_train, sizes, seed, workers),
    )
    others = _cached(
        cache / f"nondigits_{sizes.nondigits}_{kinds:08x}_s{seed}.npz", lambda: build_nondigits(sizes, seed, workers)
    )
    return _merged(digits, others)


def load_or_build_digits(cache: Path, x_train, y_train, sizes: SetSizes, seed: int, workers: int, tag: str) -> dict:
    """`build_digits`, cached in `cache` under `tag` (say which MNIST digits x_train is: a subset has its own tag)."""
    path = cache / f"pen_digits_{tag}_{len(x_train)}_{_sizes_key(sizes)}_{_styles_key()}_s{seed}.npz"
    return _cached(path, lambda: build_digits(x_train, y_train, sizes, seed, workers))


def load_or_build_real(cache: Path, digits: list, renders: int, seed: int, workers: int, tag: str) -> dict:
    """Real writers' digits (`digit_drawings.pendigits.PenDigit`), each painted `renders` times by
    `real_training.real_drawing`, cached in `cache` under `tag` (say which writers they are): {"x", "y"}."""
    items = [(d.strokes, d.label) for d in digits for _ in range(renders)]
    key = zlib.crc32(repr([(d.writer, d.label, len(d.strokes)) for d in digits]).encode())
    path = cache / f"real_{tag}_{len(digits)}x{renders}_{key:08x}_s{seed}.npz"

    def make() -> dict:
        x, y = _run(_chunks("real", items, seed + 6), workers)
        return {"x": x, "y": y}

    return _cached(path, make)


def _sizes_key(sizes: SetSizes) -> str:
    return f"{sizes.mnist_pen}_{sizes.styles}_{sizes.calibration}"


def _styles_key() -> str:
    """A digest of the parametric styles' names and training shares: a cache made before a style was added or
    reweighted is not reused."""
    names = " ".join(f"{name}*{pen_styles.TRAINING_SHARE.get(name, 1)}" for name in sorted(pen_styles.STYLES))
    return f"{zlib.crc32(names.encode()):08x}"


def _cached(path: Path, make) -> dict:
    if path.exists():
        with np.load(path) as data:
            return dict(data)
    arrays = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")  # written whole, then renamed: a reader never sees half a file
    np.savez_compressed(partial, **arrays)
    os.replace(partial, path)
    return arrays
