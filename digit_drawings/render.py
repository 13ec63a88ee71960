"""Paint pen strokes (lists of (x, y) canvas points) with a round brush, anti-aliased, into an RGBA
canvas like the one streamlit-drawable-canvas returns; place strokes on a canvas."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]  # (x, y) in canvas pixels, y down
Stroke = list[Point]  # one pen-down ... pen-up path
Colour = tuple[int, int, int, int]  # RGBA, 0..255

SUPERSAMPLE = 4  # strokes are drawn this many times larger, then area-averaged (anti-aliasing)
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
