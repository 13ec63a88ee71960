"""EVALUATION drawings: hand-made templates of every handwriting style, drawn by their own code path.

Kept apart from the training generator (`digit_drawings.pen_styles`) on purpose, so that a model
is never scored on its own generator's drawings: the styles here are hand-written key points (not
random ranges), joined by Catmull-Rom curves with real corners between pieces (not B-splines),
drawn by a "writer" with a hand tremor and strokes that miss each other a little (not an elastic
field), on the Draw page's 280-pixel canvas with its brush range in three colour modes (not on a
140-pixel white-on-black canvas).
"""

from __future__ import annotations

import numpy as np

from digit_drawings.render import BLACK, TRANSPARENT, WHITE, Colour, Stroke, place_strokes, render_strokes
from digit_drawings.templates import TEMPLATES, Template, _catmull_rom, _template

CANVAS = 280
BRUSH = (6.0, 36.0)  # pixels
HEIGHT = (0.35, 0.85)  # pen path height / canvas side
_OVAL = [(0.5, 0.0), (0.15, 0.2), (0.1, 0.55), (0.3, 0.95), (0.6, 0.98), (0.88, 0.7), (0.85, 0.25), (0.5, 0.0)]
_LOOP9 = [(0.78, 0.2), (0.5, 0.0), (0.22, 0.15), (0.22, 0.38), (0.48, 0.5), (0.76, 0.36), (0.78, 0.2)]
_TWO_TOP = [(0.15, 0.25), (0.35, 0.03), (0.65, 0.03), (0.82, 0.25), (0.7, 0.5)]

# Hand-made styles; the plain ones are the bench's templates (digit_drawings.templates).
STYLE_TEMPLATES: dict[str, Template] = {
    "0 plain": TEMPLATES["0"],
    "0 narrow": TEMPLATES["0 narrow"],
    "0 slashed": _template(0, [_OVAL], [[(0.9, 0.02), (0.1, 0.98)]]),
    "1 stick": TEMPLATES["1"],
    "1 flag": TEMPLATES["1 flag"],
    "1 flag base": TEMPLATES["1 flag base"],
    "1 long flag": _template(1, [[(0.05, 0.42), (0.55, 0.0)], [(0.55, 0.0), (0.5, 1.0)]]),
    "2 plain": TEMPLATES["2"],
    "2 loop": _template(
        2, [_TWO_TOP + [(0.3, 0.82), (0.14, 0.97), (0.06, 0.88), (0.22, 0.82), (0.5, 0.95), (0.92, 0.95)]]
    ),
    "3 round": TEMPLATES["3"],
    "3 flat top": _template(
        3,
        [
            [(0.15, 0.0), (0.8, 0.0)],
            [(0.8, 0.0), (0.4, 0.38)],
            [(0.4, 0.38), (0.78, 0.5), (0.82, 0.78), (0.52, 1.0), (0.15, 0.9)],
        ],
    ),
    "4 closed": TEMPLATES["4"],
    "4 closed, stem from the top": _template(
        4, [[(0.62, 0.0), (0.08, 0.66)], [(0.08, 0.66), (0.92, 0.66)]], [[(0.62, 0.0), (0.62, 1.0)]]
    ),
    "4 open": TEMPLATES["4 open"],
    "4 one stroke": _template(
        4,
        [
            [(0.3, 0.0), (0.1, 0.62)],
            [(0.1, 0.62), (0.92, 0.62)],
            [(0.92, 0.62), (0.68, 0.42)],
            [(0.68, 0.42), (0.7, 1.0)],
        ],
    ),
    "5": TEMPLATES["5"],
    "5 cap last": TEMPLATES["5 cap last"],
    "6": TEMPLATES["6"],
    "7 plain": TEMPLATES["7"],
    "7 bar": TEMPLATES["7 bar"],
    "7 bar, curved stem": _template(
        7, [[(0.08, 0.06), (0.92, 0.0)], [(0.92, 0.0), (0.6, 0.45), (0.45, 1.0)]], [[(0.42, 0.5), (0.9, 0.46)]]
    ),
    "7 bar, hooked top": _template(
        7,
        [[(0.05, 0.18), (0.1, 0.0)], [(0.1, 0.0), (0.9, 0.02)], [(0.9, 0.02), (0.35, 1.0)]],
        [[(0.2, 0.56), (0.82, 0.52)]],
    ),
    "8": TEMPLATES["8"],
    "8 two loops": _template(
        8,
        [[(0.5, 0.45), (0.25, 0.25), (0.5, 0.0), (0.75, 0.25), (0.5, 0.45)]],
        [[(0.5, 0.45), (0.2, 0.72), (0.5, 1.0), (0.8, 0.72), (0.5, 0.45)]],
    ),
    "9 plain": TEMPLATES["9"],
    "9 straight tail": _template(9, [_LOOP9], [[(0.78, 0.2), (0.7, 1.0)]]),
    "9 small loop, long tail": _template(
        9, [[(0.8, 0.15), (0.55, 0.0), (0.3, 0.12), (0.4, 0.32), (0.8, 0.15)]], [[(0.8, 0.15), (0.6, 1.0)]]
    ),
    "9 hooked tail": _template(9, [_LOOP9, [(0.78, 0.2), (0.76, 0.85), (0.6, 1.0), (0.42, 0.92)]]),
    "9 curled tail": TEMPLATES["9 curved"],
}


def tremor(stroke: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """float (k, 2) path -> the same path resampled every ~2% and moved by smooth noise (a hand's tremor)."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    length = float(seg.sum())
    if length == 0:
        return stroke
    along = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, length, max(2, int(length / 0.02)))
    path = np.stack([np.interp(t, along, stroke[:, k]) for k in (0, 1)], axis=1)
    noise = np.cumsum(rng.normal(0, amount, path.shape), axis=0)
    noise -= np.linspace(0, 1, len(path))[:, None] * noise[-1]  # pinned at both ends: the pen lands where aimed
    return path + noise


def written(template: Template, rng: np.random.Generator) -> list[Stroke]:
    """A template as one writer draws it: key points moved, each stroke a little off, with tremor (unit box)."""
    strokes = []
    for stroke in template.strokes:
        offset = rng.normal(0, 0.025, 2)
        path: list[np.ndarray] = []
        for piece in stroke:
            keys = np.asarray(piece, np.float64) + rng.normal(0, 0.03, (len(piece), 2)) + offset
            curve = _catmull_rom(keys)
            path.append(curve[1:] if path else curve)
        strokes.append(tremor(np.concatenate(path), rng, 0.002).tolist())
    return [[(float(x), float(y)) for x, y in s] for s in strokes]


def draw(strokes: list[Stroke], rng: np.random.Generator) -> np.ndarray:
    """Unit-box strokes -> uint8 (280, 280, 4) canvas: random size, slant, place, brush and colour mode."""
    brush, height = rng.uniform(*BRUSH), rng.uniform(*HEIGHT) * CANVAS
    placed = place_strokes(strokes, height, (0, 0), rng.uniform(-0.25, 0.25), rng.uniform(0.85, 1.15))
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in placed])
    low, high = points.min(axis=0) - brush / 2, points.max(axis=0) + brush / 2
    shift = [rng.uniform(-low[d], max(CANVAS - high[d], -low[d])) for d in (0, 1)]
    placed = [[(x + shift[0], y + shift[1]) for x, y in p] for p in placed]
    return render_strokes(placed, CANVAS, brush, *_colours(rng))


def _colours(rng: np.random.Generator) -> tuple[Colour, Colour]:
    mode = int(rng.integers(3))
    if mode == 0:
        return WHITE, BLACK
    if mode == 1:
        return BLACK, WHITE
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return (r, g, b, 255), TRANSPARENT


def style_canvas(name: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing of style `name` (a key of STYLE_TEMPLATES) -> uint8 (280, 280, 4) RGBA."""
    return draw(written(STYLE_TEMPLATES[name], rng), rng)


def shape_canvas(make, rng: np.random.Generator) -> np.ndarray:
    """One drawing of a non-digit kind (a maker from digit_drawings.nondigits) by this path -> uint8 RGBA."""
    strokes = [tremor(np.asarray(s, np.float64) + rng.normal(0, 0.02, 2), rng, 0.002).tolist() for s in make(rng)]
    return draw([[(float(x), float(y)) for x, y in s] for s in strokes], rng)
