"""Digits drawn the way a person draws them on the Draw page's canvas.

`render_strokes` paints pen strokes (lists of (x, y) canvas points) with a round brush, anti-aliased,
into an RGBA canvas like the one streamlit-drawable-canvas returns. `digit_strokes` turns an MNIST
digit into such strokes (its skeleton traced into polylines), and `TEMPLATES` are hand-written
strokes for the ten digits, including regional variants. Pure and deterministic given a seed; used
by the drawn-digit benchmark, the browser tests and fine-tuning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]  # (x, y) in canvas pixels, y down
Stroke = list[Point]  # one pen-down ... pen-up path
Colour = tuple[int, int, int, int]  # RGBA, 0..255

SUPERSAMPLE = 4  # strokes are drawn this many times larger, then area-averaged (anti-aliasing)
SKELETON_SCALE = 4  # an MNIST digit is upsampled this much before it is skeletonised
WHITE: Colour = (255, 255, 255, 255)
BLACK: Colour = (0, 0, 0, 255)
TRANSPARENT: Colour = (0, 0, 0, 0)


def render_strokes(
    strokes: Sequence[Sequence[Point]],
    size: int = 280,
    brush: float = 20,
    ink: Colour = WHITE,
    paper: Colour = TRANSPARENT,
) -> np.ndarray:
    """Paint strokes with a round brush onto a square canvas.

    Parameters
    ----------
    strokes : sequence of sequences of (x, y)
        Pen paths in canvas pixels (pixel centres at integers, y down). A one-point stroke is a dot.
    size : int
        Canvas side in pixels.
    brush : float
        Brush diameter in pixels (round caps and joins).
    ink, paper : tuple of 4 ints
        RGBA colours of the ink and the paper. Paper alpha 0 gives a transparent canvas, as
        streamlit-drawable-canvas returns it: RGB under alpha 0 is the paper's RGB.

    Returns
    -------
    numpy.ndarray
        uint8 (size, size, 4) RGBA, ink composited over paper with its anti-aliased coverage.
    """
    if size < 1 or brush <= 0:
        raise ValueError(f"render_strokes needs size >= 1 and brush > 0; got size={size}, brush={brush}")
    return _composite(stroke_coverage(strokes, size, brush), ink, paper)


def stroke_coverage(strokes: Sequence[Sequence[Point]], size: int, brush: float) -> np.ndarray:
    """Strokes -> float32 (size, size) in [0, 1]: the fraction of each pixel the brush covers."""
    s = SUPERSAMPLE
    image = Image.new("L", (size * s, size * s), 0)
    draw = ImageDraw.Draw(image)
    radius = brush * s / 2
    for stroke in strokes:
        points = [(x * s + (s - 1) / 2, y * s + (s - 1) / 2) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(brush * s)), joint="curve")
        for x, y in points:  # round caps (and smooth joins at sharp corners)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    small = image.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255


def _composite(coverage: np.ndarray, ink: Colour, paper: Colour) -> np.ndarray:
    """float32 (H, W) coverage -> uint8 (H, W, 4): ink over paper ("over" with straight alpha)."""
    a = coverage[..., None]
    ink_rgba, paper_rgba = np.asarray(ink, np.float32), np.asarray(paper, np.float32)
    ink_w, paper_w = a * ink_rgba[3], (1 - a) * paper_rgba[3]
    alpha = ink_w + paper_w
    rgb = (ink_w * ink_rgba[:3] + paper_w * paper_rgba[:3]) / np.maximum(alpha, 1e-6)
    rgb = np.where(alpha > 0, rgb, paper_rgba[:3])
    return np.round(np.concatenate([rgb, alpha], axis=2)).astype(np.uint8)


def place_strokes(
    strokes: Sequence[Sequence[Point]],
    height: float,
    centre: Point,
    slant: float = 0.0,
    aspect: float = 1.0,
) -> list[Stroke]:
    """Scale strokes so their pen path is `height` pixels tall, centred on `centre`.

    `slant` shears x by -slant * (y - middle), so a positive slant leans the top to the right, like
    italics; `aspect` stretches the width. Returns new strokes in canvas pixels.
    """
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)
    middle = (low + high) / 2
    scale = height / max(high[1] - low[1], (high[0] - low[0]) / 2, 1e-9)
    placed = []
    for stroke in strokes:
        xy = (np.asarray(stroke, np.float64).reshape(-1, 2) - middle) * scale
        xy[:, 0] = xy[:, 0] * aspect - slant * xy[:, 1]
        placed.append([(float(x), float(y)) for x, y in xy + np.asarray(centre)])
    return placed


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


@dataclass(frozen=True)
class Template:
    """Hand-written strokes for one digit in a unit box (x right, y down, pen path 1 tall).

    Each stroke is a sequence of pieces; a piece is a smooth curve through its key points, and
    consecutive pieces meet at a corner (the last point of one is the first of the next).
    """

    digit: int
    strokes: tuple[tuple[tuple[Point, ...], ...], ...]


def _template(digit: int, *strokes: list) -> Template:
    return Template(digit, tuple(tuple(tuple(piece) for piece in stroke) for stroke in strokes))


_ZERO = [(0.5, 0), (0.2, 0.15), (0.1, 0.5), (0.2, 0.85), (0.5, 1), (0.8, 0.85), (0.9, 0.5), (0.8, 0.15), (0.5, 0)]
_TWO_NECK = [(0.15, 0.25), (0.35, 0.03), (0.65, 0.03), (0.82, 0.25), (0.7, 0.5), (0.15, 1)]
_SIX = [(0.72, 0.04), (0.45, 0.12), (0.25, 0.42), (0.2, 0.75), (0.45, 1), (0.75, 0.85), (0.72, 0.6),
        (0.45, 0.52), (0.22, 0.68)]  # fmt: skip
_THREE = [[(0.15, 0.12), (0.45, 0), (0.75, 0.1), (0.75, 0.32), (0.45, 0.47)],
          [(0.45, 0.47), (0.8, 0.62), (0.8, 0.88), (0.5, 1), (0.15, 0.9)]]  # fmt: skip
_FIVE_BOWL = [(0.2, 0.45), (0.5, 0.38), (0.8, 0.55), (0.8, 0.82), (0.5, 1), (0.15, 0.9)]
_EIGHT = [(0.72, 0.12), (0.5, 0), (0.27, 0.12), (0.3, 0.33), (0.5, 0.47), (0.75, 0.65), (0.75, 0.9),
          (0.5, 1), (0.25, 0.9), (0.25, 0.65), (0.5, 0.47), (0.7, 0.33), (0.72, 0.12)]  # fmt: skip
_NINE_LOOP = [(0.75, 0.22), (0.5, 0.02), (0.25, 0.18), (0.25, 0.4), (0.5, 0.5), (0.75, 0.35), (0.75, 0.22)]
_SEVEN = [[(0.1, 0), (0.9, 0)], [(0.9, 0), (0.4, 1)]]

# Variants people draw: European 1 (long flag, with or without a base), 7 with a bar, open 4, ...
TEMPLATES: dict[str, Template] = {
    "0": _template(0, [_ZERO]),
    "0 narrow": _template(0, [[(x * 0.6 + 0.2, y) for x, y in _ZERO]]),
    "1": _template(1, [[(0.5, 0), (0.5, 1)]]),
    "1 flag": _template(1, [[(0.15, 0.4), (0.5, 0)], [(0.5, 0), (0.5, 1)]]),
    "1 flag base": _template(1, [[(0.25, 0.3), (0.5, 0)], [(0.5, 0), (0.5, 1)]], [[(0.2, 1), (0.8, 1)]]),
    "2": _template(2, [_TWO_NECK, [(0.15, 1), (0.88, 1)]]),
    "3": _template(3, _THREE),
    "4": _template(4, [[(0.6, 0), (0.1, 0.65)], [(0.1, 0.65), (0.9, 0.65)]], [[(0.65, 0.3), (0.65, 1)]]),
    "4 open": _template(4, [[(0.2, 0), (0.15, 0.6)], [(0.15, 0.6), (0.85, 0.6)]], [[(0.68, 0), (0.68, 1)]]),
    "5": _template(5, [[(0.8, 0), (0.25, 0)], [(0.25, 0), (0.2, 0.45)], _FIVE_BOWL]),
    "5 cap last": _template(5, [[(0.25, 0), (0.2, 0.45)], _FIVE_BOWL], [[(0.25, 0), (0.8, 0)]]),
    "6": _template(6, [_SIX]),
    "7": _template(7, _SEVEN),
    "7 bar": _template(7, _SEVEN, [[(0.38, 0.52), (0.85, 0.52)]]),
    "8": _template(8, [_EIGHT]),
    "9": _template(9, [_NINE_LOOP, [(0.75, 0.22), (0.72, 1)]]),
    "9 curved": _template(9, [_NINE_LOOP, [(0.75, 0.22), (0.76, 0.7), (0.6, 0.97), (0.35, 0.95)]]),
}


def template_strokes(
    name: str,
    height: float,
    centre: Point,
    slant: float = 0.0,
    aspect: float = 1.0,
    jitter: float = 0.0,
    seed: int | None = None,
) -> list[Stroke]:
    """Strokes of a hand-written template, randomly jittered, placed on a canvas.

    Parameters
    ----------
    name : str
        A key of `TEMPLATES`, e.g. "7 bar".
    height, centre, slant, aspect
        As for `place_strokes`.
    jitter : float
        Standard deviation of the random move of each key point, as a fraction of the height
        (0.03 is a steady hand, 0.08 a hurried one).
    seed : int or None
        Seed for the jitter; the same seed gives the same strokes.

    Returns
    -------
    list of list of (x, y)
        Strokes for `render_strokes`.
    """
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; choose one of {sorted(TEMPLATES)}")
    rng = np.random.default_rng(seed)
    moves: dict[Point, np.ndarray] = {}  # a key point shared by two pieces moves once
    strokes = []
    for stroke in TEMPLATES[name].strokes:
        path: list[Point] = []
        for piece in stroke:
            keys = np.array([p + moves.setdefault(p, rng.normal(0, jitter, 2)) for p in piece])
            path.extend(map(tuple, _catmull_rom(keys)[1 if path else 0 :]))
        strokes.append(path)
    return place_strokes(strokes, height, centre, slant, aspect)


def _catmull_rom(keys: np.ndarray, samples: int = 8) -> np.ndarray:
    """float (k, 2) key points -> float (m, 2): a smooth curve through them (Catmull-Rom)."""
    if len(keys) < 3:
        return keys
    p = np.concatenate([keys[:1], keys, keys[-1:]])
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    parts = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        parts.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                            + (3 * p1 - p0 - 3 * p2 + p3) * t**3))  # fmt: skip
    return np.concatenate([*parts, keys[-1:]])
