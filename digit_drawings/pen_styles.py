"""TRAINING drawings: MNIST training digits re-drawn as pen strokes with the handwriting styles MNIST lacks.

Two sources, both jittered and elastically distorted, then painted with a random brush:
- an MNIST *training* digit's skeleton, with a style added to its strokes where the digit allows
  (a bar across a 7's stem, a flag and a base on a 1, a slash through a 0);
- parametric strokes of the styles a skeleton cannot give (the one-stroke 4, 9s with straight,
  hooked and curled tails, a 2 with a loop, open and closed 4s, European 1 and 7), their key points
  drawn at random inside ranges.

The evaluation drawings (`digit_drawings.style_eval`) are made by a separate code path from
hand-made templates; nothing here is used to score a model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digit_drawings.render import Stroke, place_strokes, render_strokes
from digit_drawings.skeleton import digit_strokes

CANVAS = 140  # training canvases are half the Draw page's side: 3x faster to paint, same preprocessing
BRUSH_FRACTION = (0.04, 0.16)  # brush diameter / canvas side (the Draw page: 4-40 px of 280)
HEIGHT_FRACTION = (0.35, 0.85)  # pen path height / canvas side
ELASTIC = (0.0, 0.05)  # amplitude of the smooth random displacement, fraction of the height
Rng = np.random.Generator
Pen = Callable[[list[Stroke], Rng, int, float], np.ndarray]  # (placed strokes, rng, canvas, brush) -> RGBA


def _u(rng: Rng, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _nine(rng: Rng, tail: str) -> list[list[tuple[float, float]]]:
    """A 9: a loop (drawn anticlockwise from its right side; small or large, a third left open) and a straight,
    hooked or curled tail."""
    r, top = _u(rng, 0.13, 0.3), _u(rng, 0.0, 0.05)
    cx, cy = 0.5, top + r
    opening = _u(rng, 0.3, 1.0) if rng.random() < 0.33 else 0.0  # radians the loop stops short of the stem
    angles = np.linspace(0, 2 * np.pi - opening, 16) + np.pi * 0.1
    loop = [(cx + r * np.cos(a), cy - r * np.sin(a) * _u(rng, 0.9, 1.1)) for a in angles]
    x0 = cx + r * np.cos(np.pi * 0.1)
    lean = _u(rng, -0.2, 0.05)
    if tail == "straight":
        return [loop, [(x0, cy), (x0 + lean, 1.0)]]
    if tail == "hooked":
        hook = _u(rng, 0.1, 0.3)
        return [loop, [(x0, cy), (x0 + lean, 0.85), (x0 + lean - hook * 0.5, 1.0), (x0 + lean - hook, 0.93)]]
    bend = _u(rng, 0.15, 0.35)
    return [loop, [(x0, cy), (x0 + 0.05, 0.6), (x0 - bend * 0.4, 0.93), (x0 - bend, 1.0), (x0 - bend - 0.1, 0.9)]]


def _four(rng: Rng, kind: str) -> list[list[tuple[float, float]]]:
    """A 4: closed (diagonal to the stem's top), open (two downstrokes) or one stroke with a short stem."""
    bar, stem_x = _u(rng, 0.55, 0.7), _u(rng, 0.6, 0.72)
    if kind == "one stroke":  # down, across, then a short stem up and back down through the bar
        above = bar - _u(rng, 0.06, 0.3)
        across = _u(rng, 0.8, 0.95) if rng.random() < 0.6 else stem_x + _u(rng, 0.0, 0.1)
        return [
            [
                (_u(rng, 0.15, 0.35), 0.0),
                (_u(rng, 0.0, 0.15), bar),
                (across, bar),
                (stem_x, above),
                (stem_x + _u(rng, -0.05, 0.05), 1.0),
            ]
        ]
    if kind == "open":
        return [
            [(_u(rng, 0.1, 0.3), 0.0), (_u(rng, 0.05, 0.2), bar), (_u(rng, 0.8, 0.95), bar)],
            [(stem_x, 0.0), (stem_x, 1.0)],
        ]
    return [[(stem_x, 0.0), (_u(rng, 0.0, 0.15), bar), (_u(rng, 0.8, 0.95), bar)], [(stem_x, 0.0), (stem_x, 1.0)]]


def _two_loop(rng: Rng) -> list[list[tuple[float, float]]]:
    """A 2 whose neck ends in a small loop before the base."""
    loop = _u(rng, 0.08, 0.16)
    return [
        [
            (0.12, 0.25),
            (0.3, 0.02),
            (0.62, 0.0),
            (0.8, 0.2),
            (0.7, 0.45),
            (0.35, 0.8),
            (0.2 + loop, 1.0 - loop * 1.5),
            (0.15 + loop, 1.0),
            (0.15, 0.92),
            (0.3, 0.88),
            (0.6, 0.97),
            (0.9, 0.95),
        ]
    ]


def _seven(rng: Rng) -> list[list[tuple[float, float]]]:
    """A European 7: top, stem (straight or bowed), and a bar across the stem, from the middle to low down."""
    tx, bx, y = _u(rng, 0.75, 0.95), _u(rng, 0.25, 0.5), _u(rng, 0.35, 0.72)
    sx = tx + (bx - tx) * y
    half = _u(rng, 0.1, 0.3)
    top = [(0.05, _u(rng, 0.0, 0.1)), (tx, 0.0), (bx, 1.0)]
    if rng.random() < 0.4:
        top.insert(2, ((tx + bx) / 2 + _u(rng, -0.12, 0.08), 0.5))
    return [top, [(sx - half, y + _u(rng, -0.04, 0.04)), (sx + half, y + _u(rng, -0.04, 0.04))]]


def _one(rng: Rng) -> list[list[tuple[float, float]]]:
    """A European 1: a long flag, sometimes a base."""
    x = 0.5
    strokes = [[(x - _u(rng, 0.1, 0.5), _u(rng, 0.08, 0.45)), (x, 0.0), (x + _u(rng, -0.05, 0.05), 1.0)]]
    if rng.random() < 0.5:
        strokes.append([(x - _u(rng, 0.15, 0.3), 1.0), (x + _u(rng, 0.15, 0.3), 1.0)])
    return strokes


def _long_flag_one(rng: Rng) -> list[list[tuple[float, float]]]:
    """A 1 whose flag is long (a third to over half the height) and goes down at 20-65 degrees, sometimes
    bowed, sometimes with a base: the Swiss and German 1. Flatter than 20 degrees it would be a 7 with an upright
    stem (a 7's top is about level), so the generator stays steeper than that."""
    x, length, angle = 0.5, _u(rng, 0.3, 0.6), np.radians(_u(rng, 20, 65))
    flag = (x - length * np.cos(angle), length * np.sin(angle))
    top = (x, 0.0)
    head = [flag, ((flag[0] + x) / 2, flag[1] / 2 - _u(rng, 0.0, 0.06)), top] if rng.random() < 0.3 else [flag, top]
    strokes = [[*head, (x + _u(rng, -0.05, 0.05), 1.0)]]
    if rng.random() < 0.3:
        strokes.append([(x - _u(rng, 0.15, 0.3), 1.0), (x + _u(rng, 0.15, 0.3), 1.0)])
    return strokes


# Parametric styles by label: each makes unit-box strokes (y down, about 1 tall).
STYLES: dict[str, tuple[int, Callable[[Rng], list]]] = {
    "1 flag": (1, _one),
    "1 long flag": (1, _long_flag_one),
    "2 loop": (2, _two_loop),
    "4 closed": (4, lambda rng: _four(rng, "closed")),
    "4 open": (4, lambda rng: _four(rng, "open")),
    "4 one stroke": (4, lambda rng: _four(rng, "one stroke")),
    "7 bar": (7, _seven),
    "9 straight": (9, lambda rng: _nine(rng, "straight")),
    "9 hooked": (9, lambda rng: _nine(rng, "hooked")),
    "9 curled": (9, lambda rng: _nine(rng, "curled")),
}

# How many times a style's turn comes round among the training drawings (others: once). The validation
# drawings keep every style once. The long-flag 1 is the style the models learn slowest (the sixth run).
TRAINING_SHARE: dict[str, int] = {"1 long flag": 3}


def smooth(points: list[tuple[float, float]], samples: int = 6) -> Stroke:
    """Key points -> a denser polyline through them (quadratic B-spline corners, ends kept)."""
    p = np.asarray(points, np.float64)
    if len(p) < 3:
        return [tuple(q) for q in p]
    out = [p[0]]
    for i in range(1, len(p) - 1):
        a, b, c = (p[i - 1] + p[i]) / 2, p[i], (p[i] + p[i + 1]) / 2
        for t in np.linspace(0, 1, samples)[1:]:
            out.append((1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c)
    out.append(p[-1])
    return [(float(x), float(y)) for x, y in out]


def elastic(strokes: list[Stroke], rng: Rng, amplitude: float) -> list[Stroke]:
    """Move every point by a smooth random field (two random sine waves per axis), `amplitude` of the height."""
    pts = np.concatenate([np.asarray(s).reshape(-1, 2) for s in strokes])
    low, high = pts.min(axis=0), pts.max(axis=0)
    size = max(float((high - low).max()), 1e-6)
    waves = [(rng.uniform(1, 3, 2), rng.uniform(0, 2 * np.pi, 2)) for _ in range(4)]

    def move(xy: np.ndarray) -> np.ndarray:
        u = (xy - low) / size
        shift = np.zeros_like(xy)
        for k, (freq, phase) in enumerate(waves):
            shift[:, k % 2] += np.sin(np.pi * (u @ freq) + phase[0]) * amplitude * size / 2
        return xy + shift

    return [[tuple(q) for q in move(np.asarray(s, np.float64).reshape(-1, 2))] for s in strokes]


def add_style(strokes: list[Stroke], label: int, rng: Rng) -> list[Stroke]:
    """A skeleton's strokes with a style added where MNIST's writer left it out (7 bar, 1 flag/base, 0 slash)."""
    pts = np.concatenate([np.asarray(s).reshape(-1, 2) for s in strokes])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    h = max(y1 - y0, 1e-6)
    if label == 7 and rng.random() < 0.5:
        y = y0 + h * _u(rng, 0.35, 0.7)
        near = pts[np.abs(pts[:, 1] - y) < 0.08 * h]
        xc = float(np.median(near[:, 0])) if len(near) else (x0 + x1) / 2
        half = h * _u(rng, 0.12, 0.25)
        return [*strokes, [(xc - half, y + h * _u(rng, -0.03, 0.03)), (xc + half, y + h * _u(rng, -0.03, 0.03))]]
    if label == 1 and rng.random() < 0.5:
        top = tuple(pts[pts[:, 1].argmin()])
        flag = [(top[0] - h * _u(rng, 0.15, 0.35), top[1] + h * _u(rng, 0.12, 0.35)), top]
        base = [[(x0 - h * _u(rng, 0.1, 0.25), y1), (x1 + h * _u(rng, 0.1, 0.25), y1)]] if rng.random() < 0.4 else []
        return [*strokes, flag, *base]
    if label == 0 and rng.random() < 0.25:
        return [*strokes, [(x1 + 0.1 * h, y0 - 0.05 * h), (x0 - 0.1 * h, y1 + 0.05 * h)]]
    return strokes


def paint(strokes: list[Stroke], rng: Rng, canvas: int = CANVAS, pen: Pen | None = None) -> np.ndarray:
    """Unit-box strokes -> uint8 (canvas, canvas, 4): placed at a random size, slant and place, random brush.

    `pen(placed_strokes, rng, canvas, brush)` paints them (default: `render_strokes`, white on black)."""
    height = canvas * _u(rng, *HEIGHT_FRACTION)
    brush = canvas * _u(rng, *BRUSH_FRACTION)
    placed = place_strokes(strokes, height, (canvas / 2, canvas / 2), _u(rng, -0.25, 0.25), _u(rng, 0.8, 1.2))
    placed = elastic(placed, rng, _u(rng, *ELASTIC))
    if pen is not None:
        return pen(placed, rng, canvas, brush)
    return render_strokes(placed, canvas, brush, ink=(255, 255, 255, 255), paper=(0, 0, 0, 255))


def style_strokes(name: str, rng: Rng) -> list[Stroke]:
    """Unit-box strokes of a random drawing of parametric style `name` (a key of STYLES), jittered and smoothed."""
    _, make = STYLES[name]
    jitter = _u(rng, 0.0, 0.04)
    return [smooth([(x + rng.normal(0, jitter), y + rng.normal(0, jitter)) for x, y in s]) for s in make(rng)]


def style_drawing(name: str, rng: Rng, pen: Pen | None = None) -> np.ndarray:
    """A random drawing of parametric style `name` (a key of STYLES) -> uint8 RGBA canvas."""
    return paint(style_strokes(name, rng), rng, pen=pen)


def mnist_drawing(image28: np.ndarray, label: int, rng: Rng, pen: Pen | None = None) -> np.ndarray | None:
    """An MNIST digit re-drawn through its skeleton with a style maybe added -> uint8 RGBA canvas (None: no ink)."""
    strokes = digit_strokes(image28, 1.0, (0.0, 0.0))
    if not strokes:
        return None
    return paint(add_style(strokes, label, rng), rng, pen=pen)
