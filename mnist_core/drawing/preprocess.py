"""Turn a drawing on a canvas into a digit the way MNIST's digits were made.

MNIST's recipe (LeCun et al.): the digit is scaled to fit a 20x20 box keeping its aspect ratio,
anti-aliased, then placed in a 28x28 image so that its centre of mass is at the centre. Drawings
differ from MNIST mostly in stroke width relative to the digit (a small digit drawn with a thick
brush, a large one with a thin pen), so before fitting the box we redraw strokes that are thinner
or thicker than most MNIST writers' with a width in their usual range. A stray speck far from the
digit (an accidental tap of the pen) is left out before the digit is cropped. Each step is a small
pure function; `canvas_steps` runs them all. Finding the ink (paper colour, specks, the digit's box)
is `mnist_core.drawing.ink`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from mnist_core.drawing.ink import (  # noqa: F401 (ink_distance and ink_mask are part of this module's API too)
    INK_THRESHOLD,
    MIN_CONTRAST,
    check_canvas,
    ink_bbox,
    ink_distance,
    ink_mask,
    scaled_ink,
    without_specks,
)

SIZE = 28  # output side, pixels
BOX = 20  # the digit's longer side after fitting (MNIST's 20x20 box)
CENTRE = 14.0  # where MNIST puts the centre of mass, in pixel-index coordinates (measured: 13.99, 14.01)
WORK_SCALE = 3  # working resolution for stroke-width changes, pixels per box pixel (2..4 score alike)
# Stroke widths in box pixels that drawings are brought into: about the middle half of MNIST's
# (measured with `stroke_width` on its training digits: quartiles 2.14 and 3.03, median 2.55,
# 10th..90th percentile 1.8..3.6). On pen-drawn digits (bench/drawn_digits.py) this beat leaving
# widths alone by 1.5-2.5 points, and both a single width and the 10..90% range by 0.3.
STROKE_RANGE = (2.2, 3.0)
MIN_CHANGE = 0.15  # box pixels; a smaller change of stroke width is not worth making
MAX_THIN = 0.75  # never thin strokes by more than this fraction of their width (keeps thin parts)


@dataclass(frozen=True)
class PreprocessSteps:
    """What `canvas_steps` did to a drawing, step by step (for "what the model sees")."""

    ink: np.ndarray  # float32 (H, W) in [0, 1]: ink coverage of each canvas pixel (stray specks too)
    bbox: tuple[int, int, int, int]  # (top, left, bottom, right) of the digit on the canvas, end-exclusive
    crop: np.ndarray  # float32 (h, w): the digit's ink inside `bbox`, stray specks left out
    stroke_width: float  # estimated stroke width of the drawing, in box pixels (MNIST's median: 2.55)
    target_width: float  # the stroke width it was brought to, in box pixels
    box: np.ndarray  # float32 (bh, bw), max(bh, bw) == 20: the digit fitted to the box, not yet padded
    offset: tuple[int, int]  # (row, col) of the box's top-left corner in `centred`
    centred: np.ndarray  # float32 (28, 28) in [0, 1]: what the model sees
    specks_left_out: bool = False  # whether stray specks away from the digit were left out of `crop`


def canvas_to_mnist(image: np.ndarray) -> np.ndarray | None:
    """Preprocess a drawing into an MNIST-like digit.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 image of any size: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA. Ink may be light on
        dark, dark on light, or opaque on a transparent canvas, in any colour.

    Returns
    -------
    numpy.ndarray or None
        float32 (28, 28) in [0, 1], bright ink on black, digit in the central 20x20 box with its
        centre of mass at pixel (14, 14); None when the canvas has no ink.

    Raises
    ------
    ValueError
        If `image` is not a non-empty uint8 array of one of the shapes above.
    """
    steps = _run_steps(image, "canvas_to_mnist", keep_ink=False)
    return None if steps is None else steps.centred


def canvas_steps(image: np.ndarray) -> PreprocessSteps | None:
    """Preprocess a drawing and keep every intermediate image.

    Parameters
    ----------
    image : numpy.ndarray
        As for `canvas_to_mnist`.

    Returns
    -------
    PreprocessSteps or None
        The steps; `.centred` is what `canvas_to_mnist` returns. None when the canvas has no ink.

    Raises
    ------
    ValueError
        If `image` is not a non-empty uint8 array of shape (H, W), (H, W, 3) or (H, W, 4).
    """
    return _run_steps(image, "canvas_steps", keep_ink=True)


def _run_steps(image: np.ndarray, caller: str, keep_ink: bool) -> PreprocessSteps | None:
    """The one preprocessing path behind both public functions.

    The canvas is handled as uint8 until the digit is cropped: a 280x280 float copy of the
    whole canvas cost about a fifth of its time (the full `ink` is made only for `canvas_steps`).
    """
    distance = ink_distance(check_canvas(image, caller))
    peak = int(distance.max())
    if peak < MIN_CONTRAST:
        return None
    level = int(INK_THRESHOLD * peak)  # an int: the same test on uint8 ink, without a float copy of the canvas
    digit = without_specks(distance, level)
    bbox = ink_bbox(digit, level)
    top, left, bottom, right = bbox
    crop = digit[top:bottom, left:right].astype(np.float32) * np.float32(1.0 / peak)
    work = to_working(crop)
    width = stroke_width(work) / WORK_SCALE
    target = target_width(width)
    work = change_stroke_width(work, (target - width) * WORK_SCALE)
    box = fit_box(work)
    centred, offset = centre_by_mass(box)
    ink = scaled_ink(distance) if keep_ink else crop  # canvas_to_mnist returns only `centred`
    return PreprocessSteps(ink, bbox, crop, width, target, box, offset, centred, digit is not distance)


def to_working(crop: np.ndarray) -> np.ndarray:
    """float32 (h, w) -> float32 with longer side BOX * WORK_SCALE (area-averaged when shrinking)."""
    return _resize(crop, BOX * WORK_SCALE)


def _resize(image: np.ndarray, long_side: int) -> np.ndarray:
    """float32 (h, w) -> float32 with the given longer side, aspect kept (at least 1 px)."""
    h, w = image.shape
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image, mode="F").resize(size, method), dtype=np.float32)


def stroke_width(image: np.ndarray) -> float:
    """float32 (h, w) ink -> mean stroke width in pixels, as twice the area over the outline length.

    The outline is counted along rows and columns (too long by 4/pi on average for curves), so it
    is scaled by pi/4. Pixels are counted as ink above half of the strongest ink, so very thin,
    faint strokes still have an outline.
    """
    mask = image > 0.5 * float(image.max())
    inner = np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
    edges = sum(np.count_nonzero(side) for side in (mask[0], mask[-1], mask[:, 0], mask[:, -1]))
    outline = inner + edges
    if outline == 0:
        return 0.0
    return float(2.0 * np.count_nonzero(mask) / (outline * np.pi / 4))


def target_width(width: float) -> float:
    """Stroke width in box pixels -> the width to redraw it with: the nearest in STROKE_RANGE."""
    target = float(np.clip(width, *STROKE_RANGE))
    if abs(target - width) < MIN_CHANGE:
        return width
    return max(target, (1 - MAX_THIN) * width)


def change_stroke_width(image: np.ndarray, delta: float) -> np.ndarray:
    """float32 (h, w) ink -> float32 (h + 2p, w + 2p): strokes `delta` pixels wider (narrower if < 0).

    Grows or shrinks the ink's outline by delta/2 with a Euclidean distance transform, anti-aliased
    to one pixel. The image is padded by p = ceil(delta/2) + 1 so thicker strokes fit; `fit_box`
    crops it again.
    """
    if delta == 0:
        return image
    from scipy import ndimage  # deferred: its import takes ~0.4 s, paid on the first drawing instead

    pad = int(np.ceil(max(delta, 0) / 2)) + 1
    mask = np.zeros((image.shape[0] + 2 * pad, image.shape[1] + 2 * pad), bool)
    mask[pad:-pad, pad:-pad] = image > 0.5 * float(image.max())
    if delta > 0:
        outside = ndimage.distance_transform_edt(~mask)
        return np.clip(delta / 2 + 1 - outside, 0, 1).astype(np.float32)
    inside = ndimage.distance_transform_edt(mask)
    return np.clip(inside + delta / 2, 0, 1).astype(np.float32)


def fit_box(image: np.ndarray) -> np.ndarray:
    """float32 (h, w) ink -> float32 (bh, bw) in [0, 1] with max(bh, bw) == 20, aspect kept.

    Crops to the ink first, then area-averages (anti-aliases) into the box. A tall thin "1"
    stays tall and thin: MNIST never stretches a digit to fill the box's width.
    """
    bbox = ink_bbox(image)
    if bbox is not None:
        top, left, bottom, right = bbox
        image = image[top:bottom, left:right]
    box = _resize(image, BOX)
    return np.clip(box / max(float(box.max()), 1e-6), 0, 1).astype(np.float32)


def centre_by_mass(box: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """float32 (bh, bw) -> (float32 (28, 28), (row, col) offset): box pasted with its centre of mass
    nearest to pixel (14, 14), shifted by whole pixels (as MNIST) and clipped to stay inside."""
    h, w = box.shape
    total = float(box.sum())
    if total <= 0:
        com_y, com_x = (h - 1) / 2, (w - 1) / 2
    else:
        com_y = float(box.sum(axis=1) @ np.arange(h)) / total
        com_x = float(box.sum(axis=0) @ np.arange(w)) / total
    row = int(np.clip(np.floor(CENTRE - com_y + 0.5), 0, SIZE - h))
    col = int(np.clip(np.floor(CENTRE - com_x + 0.5), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[row : row + h, col : col + w] = box
    return out, (row, col)
