"""TRAINING drawings from real writers' pen trajectories: every brush, size, place and colour mode the canvas
allows, with the styles real sets lack added to some of them.

A real writer's strokes are kept as written (slant, proportions, where the pen lifted); the painter
only varies what the Draw page varies (brush width, how large and where on the canvas, the colours),
smooths the tablet's sampled points half the time, and paints a fifth with the tablet-like pressure pen
(`digit_drawings.pen_variety`). To some 0s a slash is added (Ø, at many angles and lengths), to some 7s
a bar and to some 1s a flag (`pen_styles.add_style`), since Turkish tablet writers of 1998 rarely
wrote them and many people do. Nothing here is used to score a model.
"""

from __future__ import annotations

import numpy as np

from digit_drawings import pen_styles, pen_variety
from digit_drawings.render import BLACK, TRANSPARENT, WHITE, Colour, Stroke, place_strokes, render_strokes

CANVAS = pen_styles.CANVAS
HEIGHT_FRACTION = (0.3, 0.9)  # pen path height / canvas side
SLANT = 0.12  # a little more lean either way than the writer gave it
SLASHED_ZEROS = 0.35  # share of 0s given a slash
STYLED = 0.5  # share of 7s and 1s offered to pen_styles.add_style (which adds a bar or flag to half of them)
PRESSURE_PEN = 0.2  # share painted by the pressure pen instead of the round brush
Rng = np.random.Generator


def slash(strokes: list[Stroke], rng: Rng) -> list[Stroke]:
    """A 0's strokes with a slash through its middle: mostly '/', a few '\\', short of or past the ring."""
    points = np.concatenate([np.asarray(s).reshape(-1, 2) for s in strokes])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) + rng.normal(0, 0.04, 2) * (y1 - y0)
    angle = np.radians(rng.uniform(45, 80) if rng.random() < 0.85 else rng.uniform(100, 135))
    half = 0.5 * np.hypot(x1 - x0, y1 - y0) * rng.uniform(0.75, 1.35)
    direction = np.array([np.cos(angle), -np.sin(angle)])  # y down: '/' rises to the right
    ends = [centre - half * direction, centre + half * direction]
    line = [tuple(map(float, p)) for p in (ends if rng.random() < 0.7 else ends[::-1])]
    return [*strokes, line]


def styled(strokes: list[Stroke], label: int, rng: Rng) -> list[Stroke]:
    """Maybe a style added where the real writer left it out: a slash through a 0, a bar on a 7, a flag on a 1."""
    if label == 0 and rng.random() < SLASHED_ZEROS:
        return slash(strokes, rng)
    if label in (1, 7) and rng.random() < STYLED:
        return pen_styles.add_style(strokes, label, rng)
    return strokes


def colours(rng: Rng) -> tuple[Colour, Colour]:
    """The canvas's three colour modes: white on black, black on white, any colour on a transparent canvas."""
    mode = int(rng.integers(3))
    if mode == 2:
        return (*(int(v) for v in rng.integers(0, 256, 3)), 255), TRANSPARENT
    return (WHITE, BLACK) if mode == 0 else (BLACK, WHITE)


def real_drawing(strokes, label: int, rng: Rng, canvas: int = CANVAS) -> np.ndarray:
    """A real writer's unit-box strokes -> uint8 (canvas, canvas, 4) RGBA, as someone might draw them on the page."""
    paths = [[(float(x), float(y)) for x, y in np.asarray(s).reshape(-1, 2)] for s in strokes]
    if rng.random() < 0.5:
        paths = [pen_styles.smooth(p, samples=3) for p in paths]
    paths = styled(paths, label, rng)
    height = canvas * rng.uniform(*HEIGHT_FRACTION)
    brush = canvas * rng.uniform(*pen_styles.BRUSH_FRACTION)
    placed = place_strokes(paths, height, (0.0, 0.0), rng.uniform(-SLANT, SLANT), rng.uniform(0.85, 1.15))
    placed = pen_styles.elastic(placed, rng, rng.uniform(0.0, 0.03))
    placed = _somewhere(placed, brush, canvas, rng)
    if rng.random() < PRESSURE_PEN:
        return pen_variety.pen_canvas(placed, rng, canvas, brush)
    ink, paper = colours(rng)
    return render_strokes(placed, canvas, brush, ink=ink, paper=paper)


def _somewhere(placed: list[Stroke], brush: float, canvas: int, rng: Rng) -> list[Stroke]:
    """Strokes around (0, 0) -> moved to a random place where the brush stays on the canvas (centred if it cannot)."""
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in placed])
    low, high = points.min(axis=0) - brush / 2, points.max(axis=0) + brush / 2
    shift = [rng.uniform(-low[d], max(canvas - high[d], -low[d])) for d in (0, 1)]
    return [[(x + shift[0], y + shift[1]) for x, y in p] for p in placed]
