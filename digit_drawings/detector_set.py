"""The digit detector's own pen digits: the training generator's digits painted by `pen_variety`'s pen.

Half the detector's non-digits are painted by that pen (`nondigits.PEN_SHARE`); digits painted by it
too keep the detector from learning the pen instead of the shape. MNIST *training* writers the pen
set did not use (`training_set.build_digits`' "mnist_used"), and the parametric styles, with seeds of
their own; a disjoint part of them is held out for the threshold. Cached like `training_set`.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np

from digit_drawings import pen_styles, training_set
from digit_drawings.pen_variety import pen_canvas
from mnist_core.drawing.preprocess import canvas_to_mnist

Rng = np.random.Generator
SEED_OFFSET = 7_000  # seeds apart from training_set's (seed + 1 ... seed + 5)


def _drawing(item, rng: Rng) -> tuple[np.ndarray | None, int]:
    """A parametric style's name or an (MNIST image, label) -> (canvas painted by the tablet-like pen, label)."""
    if isinstance(item, str):
        return pen_styles.style_drawing(item, rng, pen=pen_canvas), pen_styles.STYLES[item][0]
    image28, label = item
    return pen_styles.mnist_drawing(image28, label, rng, pen=pen_canvas), label


def _job(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    items, seed = args
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for item in items:
        canvas, label = _drawing(item, rng)
        out = None if canvas is None else canvas_to_mnist(canvas)
        if out is not None:
            images.append(out)
            labels.append(label)
    return np.asarray(images, np.float32).reshape(-1, 28, 28), np.asarray(labels, np.int64)


def build(x_train, y_train, unused: np.ndarray, n_train: int, n_cal: int, seed: int, workers: int) -> dict:
    """n_train pen-painted digits {"x", "y"} (2/3 MNIST writers from `unused`, 1/3 styles) and n_cal held-out
    ones {"x_cal", "y_cal"} (other writers, other seeds), with those writers' indices {"writers_cal"}."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    order = rng.permutation(unused)
    styles = list(pen_styles.STYLES)
    out = {}
    for part, n, writers in (("", n_train, order[: n_train * 2 // 3]), ("_cal", n_cal, order[-(n_cal * 2 // 3) :])):
        items = [(x_train[i], int(y_train[i])) for i in writers]
        items += [styles[k % len(styles)] for k in range(n - len(writers))]
        jobs = [(items[i : i + 250], seed + SEED_OFFSET + len(part) * 1_000 + i) for i in range(0, len(items), 250)]
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_job, jobs)
        out[f"x{part}"], out[f"y{part}"] = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    out["writers_cal"] = np.sort(order[-(n_cal * 2 // 3) :])  # the threshold's writers: no training set may hold them
    return out


def load_or_build(cache: Path, x_train, y_train, unused, n_train: int, n_cal: int, seed: int, workers: int) -> dict:
    """`build`, cached in `cache` by sizes and seed."""
    path = cache / f"detector_pen_digits_{len(unused)}_{n_train}_{n_cal}_s{seed}.npz"
    return training_set._cached(path, lambda: build(x_train, y_train, unused, n_train, n_cal, seed, workers))
