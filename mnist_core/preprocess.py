"""Turn a drawing on a canvas into a digit the way MNIST's digits were made.

MNIST's recipe (LeCun et al.): the digit is scaled to fit a 20x20 box keeping its aspect ratio,
anti-aliased, then placed in a 28x28 image so that its centre of mass is at the centre. Drawings
differ from MNIST mostly in stroke width relative to the digit (a small digit drawn with a thick
brush, a large one with a thin pen), so before fitting the box we redraw strokes that are thinner
or thicker than most MNIST writers' with a width in their usual range. A stray speck far from the
digit (an accidental tap of the pen) is left out before the digit is cropped. Each step is a small
pure function; `canvas_steps` runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIZE = 28  # output side, pixels
BOX = 20  # the digit's longer side after fitting (MNIST's 20x20 box)
CENTRE = 14.0  # where MNIST puts the centre of mass, in pixel-index coordinates (measured: 13.99, 14.01)
WORK_SCALE = 3  # working resolution for stroke-width changes, pixels per box pixel (2..4 score alike)
INK_THRESHOLD = 0.2  # ink level that counts towards the digit's bounding box
MIN_CONTRAST = 16  # grey levels between paper and ink below which a canvas counts as empty
# Stroke widths in box pixels that drawings are brought into: about the middle half of MNIST's
# (measured with `stroke_width` on its training digits: quartiles 2.14 and 3.03, median 2.55,
# 10th..90th percentile 1.8..3.6). On pen-drawn digits (bench/drawn_digits.py) this beat leaving
# widths alone by 1.5-2.5 points, and both a single width and the 10..90% range by 0.3.
STROKE_RANGE = (2.2, 3.0)
MIN_CHANGE = 0.15  # box pixels; a smaller change of stroke width is not worth making
MAX_THIN = 0.75  # never thin strokes by more than this fraction of their width (keeps thin parts)
# A stray speck (an accidental tap of the pen, a dot left over from an earlier drawing) is a separate,
# roundish piece of ink smaller than SPECK_AREA of the largest piece and farther than SPECK_GAP of the
# digit's longer side from it; it is left out of the digit's box. Kept, a dot in a corner shrinks the digit
# into a corner of the 20x20 box (bench/drawn_digits.py, one dot not touching the digit: 87% instead of 97%).
SPECK_AREA = 0.25
SPECK_GAP = 0.15
SPECK_ROUNDNESS = 2.5  # ...and round: its box's longer side squared at most this times its area (a disc: 1.3)
SPECK_GRID = 56  # specks are looked for on a grid of blocks of the canvas, about this many a side


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
    distance = ink_distance(check_image(image, caller))
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
    ink = _scaled(distance) if keep_ink else crop  # canvas_to_mnist returns only `centred`
    return PreprocessSteps(ink, bbox, crop, width, target, box, offset, centred, digit is not distance)


def check_image(image: np.ndarray, caller: str = "canvas_to_mnist") -> np.ndarray:
    """Return `image` as a uint8 array (H, W[, 3|4]), or raise ValueError saying what was expected."""
    array = np.asarray(image)
    shape_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))
    if array.dtype != np.uint8 or not shape_ok or array.size == 0:
        raise ValueError(
            f"{caller} expects a non-empty uint8 image of shape (H, W), (H, W, 3) or (H, W, 4); "
            f"got {array.dtype} with shape {array.shape}"
        )
    return array


def ink_mask(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W[, C]) -> float32 (H, W) in [0, 1]: how much ink covers each pixel.

    `ink_distance` scaled so the strongest ink is 1; all zeros when the contrast is too low to be ink.
    """
    return _scaled(ink_distance(image))


def ink_distance(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W[, C]) -> uint8 (H, W): each pixel's distance from the paper (0 = paper).

    On a transparent canvas (the border is mostly transparent) ink is the alpha channel, whatever
    colour hides under alpha 0. Otherwise the paper's colour is the median colour of the border,
    and ink is each pixel's distance from it (largest channel difference). Anti-aliased edges, a
    blend of ink and paper, get their coverage.
    """
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        border = _border(alpha)
        if 2 * np.count_nonzero(border < 128) > border.size:
            return np.ascontiguousarray(alpha)  # a copy: max, compares and crops of a strided view cost 2-8x
        image = image[..., :3]
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    distance = np.zeros(image.shape[:2], np.uint8)
    for plane in planes:
        paper = np.uint8(np.median(_border(plane)))
        np.maximum(distance, np.maximum(plane, paper) - np.minimum(plane, paper), out=distance)
    return distance


def _border(image: np.ndarray) -> np.ndarray:
    """(H, W) -> (K,): the pixels on the image's outer frame."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _scaled(distance: np.ndarray) -> np.ndarray:
    """uint8 (H, W) ink distance -> float32 (H, W) in [0, 1]; all zeros when contrast is low."""
    peak = int(distance.max())
    if peak < MIN_CONTRAST:
        return np.zeros(distance.shape, np.float32)
    return distance.astype(np.float32) * np.float32(1.0 / peak)


def ink_bbox(ink: np.ndarray, level: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(H, W) ink -> (top, left, bottom, right), end-exclusive, of the pixels above `level`."""
    mask = ink > level
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def without_specks(distance: np.ndarray, level: int) -> np.ndarray:
    """uint8 (H, W) ink distance -> the same with stray specks set to paper (the array itself if none).

    Pieces of ink above `level` are found on a coarse grid (blocks of the canvas, so that a stroke
    broken by a pixel or two stays one piece). Starting from the largest piece, every piece that is
    large (SPECK_AREA of the largest), line-like rather than round (SPECK_ROUNDNESS), or near the
    ink kept so far (SPECK_GAP of its box's longer side) joins it, until none does; what is left is
    a speck. A "5" whose cap does not touch its body, or a "4" drawn in two separate strokes, keeps
    every part: the parts are near each other, or lines.
    """
    factor = min(15, max(1, -(-max(distance.shape) // SPECK_GRID)))  # 15: see _inked_cells
    specks = _speck_cells(_inked_cells(distance, level, factor))
    if specks is None:
        return distance
    from scipy import ndimage

    specks = ndimage.binary_dilation(specks, np.ones((3, 3), bool))  # their faint anti-aliased rims too
    h, w = distance.shape
    drop = np.repeat(np.repeat(specks, factor, axis=0), factor, axis=1)[:h, :w]
    return np.where(drop, np.uint8(0), distance)


def _inked_cells(distance: np.ndarray, level: int, factor: int) -> np.ndarray:
    """uint8 (H, W) -> bool (ceil(H/f), ceil(W/f)): whether each f x f block has a pixel above `level`.

    PIL box-reduces the 0/255 mask: several times faster here than numpy's any() over blocks. One
    inked pixel in a block of f*f <= 225 pixels still averages to at least 1, so f is at most 15.
    """
    mask = distance > level
    if factor == 1:
        return mask
    return np.asarray(Image.fromarray(mask.view(np.uint8) * np.uint8(255)).reduce(factor)) > 0


def _speck_cells(cells: np.ndarray, max_pieces: int = 16) -> np.ndarray | None:
    """bool (h, w) grid of inked cells -> bool (h, w): the cells of the stray specks (see `without_specks`).

    None when there is nothing to leave out: one piece or none, or more than `max_pieces` (a
    noisy or scribbled canvas, where no piece is a stray speck).
    """
    from scipy import ndimage  # deferred, as in change_stroke_width

    labels, count = ndimage.label(cells, structure=np.ones((3, 3), bool))
    if not 1 < count <= max_pieces:
        return None
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    is_kept = np.zeros(count + 1, bool)
    is_kept[np.argmax(areas[1:]) + 1] = True
    boxes = ndimage.find_objects(labels)
    extents = np.array([0] + [max(rows.stop - rows.start, cols.stop - cols.start) for rows, cols in boxes])
    # large, or a line (a bar drawn apart, a broken stroke) rather than a round tap: never a speck
    belongs = (areas >= SPECK_AREA * areas[1:].max()) | (extents**2 > SPECK_ROUNDNESS * areas)
    while True:
        kept_cells = is_kept[labels]
        rows, cols = np.flatnonzero(kept_cells.any(axis=1)), np.flatnonzero(kept_cells.any(axis=0))
        size = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
        gaps = ndimage.minimum(ndimage.distance_transform_edt(~kept_cells), labels, np.arange(count + 1))
        joins = ~is_kept & (belongs | (np.asarray(gaps) <= SPECK_GAP * size))
        joins[0] = False
        if not joins.any():
            return None if is_kept[1:].all() else ~is_kept[labels] & cells
        is_kept |= joins


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
