"""Finding the ink on a canvas: how far each pixel is from the paper, the digit's box, stray specks.

The first steps of `mnist_core.drawing.preprocess`; each is a small pure function on uint8 arrays.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

INK_THRESHOLD = 0.2  # ink level that counts towards the digit's bounding box
MIN_CONTRAST = 16  # grey levels between paper and ink below which a canvas counts as empty
# A stray speck (an accidental tap of the pen, a dot left over from an earlier drawing) is a separate,
# roundish piece of ink smaller than SPECK_AREA of the largest piece and farther than SPECK_GAP of the
# digit's longer side from it; it is left out of the digit's box. Kept, a dot in a corner shrinks the digit
# into a corner of the 20x20 box (bench/drawn_digits.py, one dot not touching the digit: 87% instead of 97%).
SPECK_AREA = 0.25
SPECK_GAP = 0.15
SPECK_ROUNDNESS = 2.5  # ...and round: its box's longer side squared at most this times its area (a disc: 1.3)
SPECK_GRID = 56  # specks are looked for on a grid of blocks of the canvas, about this many a side


def check_canvas(image: np.ndarray, caller: str = "canvas_to_mnist") -> np.ndarray:
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
    return scaled_ink(ink_distance(image))


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


def scaled_ink(distance: np.ndarray) -> np.ndarray:
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
