"""An MNIST digit re-drawn as pen strokes: its skeleton, traced into polylines and placed on a canvas."""

from __future__ import annotations

import numpy as np
from PIL import Image

from digit_drawings.render import Point, Stroke, place_strokes

SKELETON_SCALE = 4  # an MNIST digit is upsampled this much before it is skeletonised


def digit_strokes(
    image28: np.ndarray, height: float, centre: Point, slant: float = 0.0, aspect: float = 1.0
) -> list[Stroke]:
    """Re-draw an MNIST digit as pen strokes: its skeleton, traced into polylines and placed.

    Parameters
    ----------
    image28 : numpy.ndarray
        (28, 28) digit, uint8 0..255 or float in [0, 1], bright ink on black.
    height : float
        Height of the pen path on the canvas, in pixels (the ink is `brush` taller).
    centre : (float, float)
        Where the middle of the pen path goes, (x, y) in canvas pixels.
    slant, aspect : float
        Extra slant and width stretch, as in `place_strokes`.

    Returns
    -------
    list of list of (x, y)
        Strokes for `render_strokes`; empty when the digit has no ink.
    """
    paths = trace_skeleton(skeleton(image28))
    if not paths:
        return []
    strokes = [[(float(c), float(r)) for r, c in _smooth(path)] for path in paths]
    return place_strokes(strokes, height, centre, slant, aspect)


def skeleton(image28: np.ndarray) -> np.ndarray:
    """(28, 28) digit -> bool (112, 112): its one-pixel-wide centre lines (skimage skeletonize)."""
    from skimage.morphology import skeletonize  # deferred: heavy import, only drawing needs it

    image = np.asarray(image28, np.float32)
    image = image / max(float(image.max()), 1e-6)
    big = Image.fromarray(image, mode="F").resize((28 * SKELETON_SCALE,) * 2, Image.Resampling.BILINEAR)
    return skeletonize(np.asarray(big) > 0.5)


_ORTHOGONAL = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))


def trace_skeleton(skel: np.ndarray) -> list[np.ndarray]:
    """bool (H, W) skeleton -> polylines, each an int (k, 2) array of (row, col) pixels.

    Paths run between end points and junctions; closed loops become closed paths; an isolated
    pixel becomes a one-point path. A diagonal step is used only where no right-angle step joins
    the same two pixels, so staircases are not mistaken for junctions.
    """
    pixels = {(int(r), int(c)) for r, c in np.argwhere(skel)}
    graph = {p: _neighbours(p, pixels) for p in pixels}
    seen: set[frozenset] = set()
    paths = [np.array([p]) for p in sorted(pixels) if not graph[p]]
    ends_first = sorted(pixels, key=lambda p: (len(graph[p]) == 2, len(graph[p]) != 1, p))
    for start in ends_first:
        for nxt in graph[start]:
            if frozenset((start, nxt)) not in seen:
                paths.append(np.array(_walk(start, nxt, graph, seen)))
    return paths


def _neighbours(p: tuple[int, int], pixels: set) -> list[tuple[int, int]]:
    """The skeleton pixels joined to p (diagonals only where no corner pixel joins them)."""
    r, c = p
    out = [(r + dr, c + dc) for dr, dc in _ORTHOGONAL if (r + dr, c + dc) in pixels]
    for dr, dc in _DIAGONAL:
        if (r + dr, c + dc) in pixels and (r + dr, c) not in pixels and (r, c + dc) not in pixels:
            out.append((r + dr, c + dc))
    return out


def _walk(start, nxt, graph: dict, seen: set) -> list[tuple[int, int]]:
    """Follow the skeleton from start through nxt until an end, a junction or a used edge."""
    path = [start, nxt]
    seen.add(frozenset((start, nxt)))
    while len(graph[nxt]) == 2:
        ahead = [q for q in graph[nxt] if frozenset((nxt, q)) not in seen]
        if not ahead:
            break
        seen.add(frozenset((nxt, ahead[0])))
        nxt = ahead[0]
        path.append(nxt)
    return path


def _smooth(path: np.ndarray, passes: int = 2) -> np.ndarray:
    """int (k, 2) pixel path -> float (k, 2) in 28-pixel units, staircases smoothed, ends kept."""
    xy = path.astype(np.float64)
    for _ in range(passes):
        if len(xy) > 2:
            xy[1:-1] = (xy[:-2] + xy[1:-1] + xy[2:]) / 3
    return (xy + 0.5) / SKELETON_SCALE - 0.5
