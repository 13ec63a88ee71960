"""EVALUATION drawings: every handwriting style as many writers draw it, by a code path of its own.

Kept apart from the training generator (`digit_drawings.pen_styles`) on purpose, so that a model
is never scored on its own generator's drawings. The plain styles are hand-written key points; the
styles issue 14 names (the European 7, 9s with long tails, the one-stroke 4, the flagged 1) are
written by `digit_drawings.eval_writers` with each writer's own proportions, drawn from the issue's
description of real writing. Key points are joined by Catmull-Rom curves with real corners between
pieces (not B-splines), drawn by a "writer" with a hand tremor and strokes that miss each other a
little (not an elastic field), slanted up to 20 degrees either way, wide or narrow, and inked by a
tablet-like pen with pressure (`digit_drawings.eval_pen`) on the Draw page's 280-pixel canvas with
its brush range in three colour modes (not with a fixed brush on a 140-pixel white-on-black canvas).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from digit_drawings import eval_writers
from digit_drawings.eval_pen import render_pen
from digit_drawings.render import BLACK, TRANSPARENT, WHITE, Colour, Stroke, place_strokes
from digit_drawings.templates import TEMPLATES, Template, _catmull_rom, _template

CANVAS = 280
BRUSH = (6.0, 36.0)  # mean pen width, pixels
HEIGHT = (0.3, 0.85)  # pen path height / canvas side
SLANT_DEG = 20.0  # writers lean their digits up to this many degrees either way
ASPECT = (0.75, 1.25)  # width stretch: narrow to wide writers
_OVAL = [(0.5, 0.0), (0.15, 0.2), (0.1, 0.55), (0.3, 0.95), (0.6, 0.98), (0.88, 0.7), (0.85, 0.25), (0.5, 0.0)]
_TWO_TOP = [(0.15, 0.25), (0.35, 0.03), (0.65, 0.03), (0.82, 0.25), (0.7, 0.5)]


@dataclass(frozen=True)
class Style:
    """One handwriting style: its digit and how one writer writes it (rng -> Template in a unit box)."""

    digit: int
    write: Callable[[np.random.Generator], Template]


def _fixed(template: Template) -> Style:
    return Style(template.digit, lambda rng: template)


def _varied(digit: int, make: Callable[[np.random.Generator], list]) -> Style:
    return Style(digit, lambda rng: _template(digit, *make(rng)))


STYLES: dict[str, Style] = {
    "0 plain": _fixed(TEMPLATES["0"]),
    "0 narrow": _fixed(TEMPLATES["0 narrow"]),
    "0 slashed": _fixed(_template(0, [_OVAL], [[(0.9, 0.02), (0.1, 0.98)]])),
    "1 stick": _fixed(TEMPLATES["1"]),
    "1 flag": _varied(1, lambda rng: eval_writers.flagged_one(rng, long=False, base=False)),
    "1 long flag": _varied(1, lambda rng: eval_writers.flagged_one(rng, long=True, base=False)),
    "1 flag base": _varied(1, lambda rng: eval_writers.flagged_one(rng, long=bool(rng.random() < 0.5), base=True)),
    "2 plain": _fixed(TEMPLATES["2"]),
    "2 loop": _fixed(
        _template(2, [_TWO_TOP + [(0.3, 0.82), (0.14, 0.97), (0.06, 0.88), (0.22, 0.82), (0.5, 0.95), (0.92, 0.95)]])
    ),
    "3 round": _fixed(TEMPLATES["3"]),
    "3 flat top": _fixed(
        _template(
            3,
            [
                [(0.15, 0.0), (0.8, 0.0)],
                [(0.8, 0.0), (0.4, 0.38)],
                [(0.4, 0.38), (0.78, 0.5), (0.82, 0.78), (0.52, 1.0), (0.15, 0.9)],
            ],
        )
    ),
    "4 closed": _fixed(TEMPLATES["4"]),
    "4 closed, stem from the top": _fixed(
        _template(4, [[(0.62, 0.0), (0.08, 0.66)], [(0.08, 0.66), (0.92, 0.66)]], [[(0.62, 0.0), (0.62, 1.0)]])
    ),
    "4 open": _fixed(TEMPLATES["4 open"]),
    "4 one stroke, short stem": _varied(4, eval_writers.one_stroke_four),
    "5": _fixed(TEMPLATES["5"]),
    "5 cap last": _fixed(TEMPLATES["5 cap last"]),
    "6": _fixed(TEMPLATES["6"]),
    "7 plain": _fixed(TEMPLATES["7"]),
    "7 bar": _varied(7, lambda rng: eval_writers.european_seven(rng, bar="middle", stem="straight")),
    "7 bar, curved stem": _varied(7, lambda rng: eval_writers.european_seven(rng, bar="middle", stem="curved")),
    "7 bar sits low": _varied(7, lambda rng: eval_writers.european_seven(rng, bar="low", stem="either")),
    "7 bar, hooked top": _varied(7, lambda rng: eval_writers.european_seven(rng, bar="middle", stem="hooked top")),
    "8": _fixed(TEMPLATES["8"]),
    "8 two loops": _fixed(
        _template(
            8,
            [[(0.5, 0.45), (0.25, 0.25), (0.5, 0.0), (0.75, 0.25), (0.5, 0.45)]],
            [[(0.5, 0.45), (0.2, 0.72), (0.5, 1.0), (0.8, 0.72), (0.5, 0.45)]],
        )
    ),
    "9 plain": _fixed(TEMPLATES["9"]),
    "9 straight tail": _varied(9, lambda rng: eval_writers.nine(rng, loop="round", tail="straight")),
    "9 small loop, long tail": _varied(9, lambda rng: eval_writers.nine(rng, loop="small", tail="straight")),
    "9 open loop, long tail": _varied(9, lambda rng: eval_writers.nine(rng, loop="open", tail="either")),
    "9 hooked tail": _varied(9, lambda rng: eval_writers.nine(rng, loop="any", tail="hooked")),
    "9 curled tail": _fixed(TEMPLATES["9 curved"]),
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
    """Unit-box strokes -> uint8 (280, 280, 4) canvas: random size, slant, width, place, pen and colour mode."""
    brush, height = rng.uniform(*BRUSH), rng.uniform(*HEIGHT) * CANVAS
    slant = math.tan(math.radians(rng.uniform(-SLANT_DEG, SLANT_DEG)))
    placed = place_strokes(strokes, height, (0, 0), slant, rng.uniform(*ASPECT))
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in placed])
    low, high = points.min(axis=0) - brush, points.max(axis=0) + brush
    shift = [rng.uniform(-low[d], max(CANVAS - high[d], -low[d])) for d in (0, 1)]
    placed = [[(x + shift[0], y + shift[1]) for x, y in p] for p in placed]
    return render_pen(placed, CANVAS, brush, *_colours(rng), rng)


def _colours(rng: np.random.Generator) -> tuple[Colour, Colour]:
    mode = int(rng.integers(3))
    if mode == 0:
        return WHITE, BLACK
    if mode == 1:
        return BLACK, WHITE
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return (r, g, b, 255), TRANSPARENT


def style_canvas(name: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing of style `name` (a key of STYLES) by a new writer -> uint8 (280, 280, 4) RGBA."""
    return draw(written(STYLES[name].write(rng), rng), rng)


def shape_canvas(make, rng: np.random.Generator) -> np.ndarray:
    """One drawing of a non-digit kind (a maker from digit_drawings.nondigits) by this path -> uint8 RGBA."""
    strokes = [tremor(np.asarray(s, np.float64) + rng.normal(0, 0.02, 2), rng, 0.002).tolist() for s in make(rng)]
    return draw([[(float(x), float(y)) for x, y in s] for s in strokes], rng)
