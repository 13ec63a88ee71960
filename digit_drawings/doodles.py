"""More TRAINING non-digits for the detector: scribbles of many kinds, marks, doodles, letters, shapes.

Each kind makes strokes in a unit box (y down), like `digit_drawings.nondigits`' kinds, which adds
them to its TRAIN_KINDS. Nothing here draws a held-out kind or a shape that is a digit when drawn
(no D, no round polygons: drawn by hand they are 0s).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Rng = np.random.Generator
Strokes = list[list[tuple[float, float]]]

# Letters (capital and small) that no digit looks like, in a unit box; curves as key points.
MORE_LETTERS: dict[str, Strokes] = {
    "P": [[(0.15, 1.0), (0.15, 0.0), (0.7, 0.02), (0.9, 0.25), (0.7, 0.48), (0.15, 0.5)]],
    "U": [[(0.1, 0.0), (0.1, 0.7), (0.3, 0.98), (0.7, 0.98), (0.9, 0.7), (0.9, 0.0)]],
    "V": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]],
    "m": [
        [(0.0, 1.0), (0.0, 0.3), (0.1, 0.05), (0.3, 0.05), (0.45, 0.3), (0.5, 1.0), (0.5, 0.3)]
        + [(0.6, 0.05), (0.8, 0.05), (0.95, 0.3), (1.0, 1.0)]
    ],
    "n": [[(0.1, 1.0), (0.1, 0.3), (0.3, 0.02), (0.7, 0.02), (0.9, 0.3), (0.9, 1.0)]],
    "e": [[(0.1, 0.55), (0.9, 0.55), (0.85, 0.2), (0.5, 0.02), (0.15, 0.2), (0.05, 0.6), (0.3, 0.95), (0.9, 0.85)]],
    "r": [[(0.2, 1.0), (0.2, 0.1)], [(0.2, 0.4), (0.4, 0.1), (0.7, 0.0), (0.9, 0.1)]],
}


def _walk(rng: Rng, n: int, step: float, turn: float, start=(0.5, 0.5)) -> list[tuple[float, float]]:
    """A random walk with momentum inside the unit box."""
    angle, pos, pts = rng.uniform(0, 2 * np.pi), np.array(start, np.float64), []
    for _ in range(n):
        angle += rng.normal(0, turn)
        pos = np.clip(pos + step * np.array([np.cos(angle), np.sin(angle)]), 0, 1)
        pts.append((float(pos[0]), float(pos[1])))
    return pts


def dense_scribble(rng: Rng) -> Strokes:
    """A tangle: many short turning steps in one stroke, or a few tangles side by side."""
    return [_walk(rng, int(rng.integers(30, 90)), rng.uniform(0.08, 0.2), rng.uniform(0.6, 1.6))]


def sparse_scribble(rng: Rng) -> Strokes:
    """Two to five loose random strokes, each a short walk, scattered over the box."""
    return [
        _walk(rng, int(rng.integers(3, 12)), rng.uniform(0.15, 0.35), 1.0, rng.uniform(0.1, 0.9, 2))
        for _ in range(int(rng.integers(2, 6)))
    ]


def coil(rng: Rng) -> Strokes:
    """Loops rolling along a line, like a spring or a child's 'llll' writing."""
    loops, t = rng.uniform(2.5, 6), np.linspace(0, 1, 120)
    r, slope = rng.uniform(0.12, 0.25), rng.uniform(-0.3, 0.3)
    x = 0.1 + 0.8 * t + r * np.cos(2 * np.pi * loops * t + np.pi)
    y = 0.5 + slope * (t - 0.5) + r * rng.uniform(0.8, 2.0) * np.sin(2 * np.pi * loops * t)
    return [list(zip(x, y, strict=True))]


def hatching(rng: Rng) -> Strokes:
    """Parallel lines at an angle: separate strokes or one back-and-forth stroke."""
    n, angle = int(rng.integers(3, 10)), rng.uniform(0, np.pi)
    d, u = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    offsets = np.linspace(-0.45, 0.45, n) + rng.normal(0, 0.02, n)
    lines = [[tuple(0.5 + o * u - 0.5 * d), tuple(0.5 + o * u + 0.5 * d)] for o in offsets]
    lines = [line if k % 2 == 0 else line[::-1] for k, line in enumerate(lines)]
    return [[p for line in lines for p in line]] if rng.random() < 0.5 else lines


def cross_hatching(rng: Rng) -> Strokes:
    return hatching(rng) + hatching(rng)


def scribbled_out(rng: Rng) -> Strokes:
    """A word or mark scribbled out: a tight back-and-forth over a wide patch, maybe struck through again."""
    n, wide = int(rng.integers(6, 18)), rng.uniform(0.15, 0.5)
    xs = np.linspace(0, 1, n) + rng.normal(0, 0.02, n)
    ys = 0.5 + np.where(np.arange(n) % 2 == 0, -wide, wide) + rng.normal(0, 0.05, n)
    strokes = [list(zip(xs, ys, strict=True))]
    if rng.random() < 0.5:
        strokes.append([(0.0, 0.5 + rng.uniform(-0.1, 0.1)), (1.0, 0.5 + rng.uniform(-0.1, 0.1))])
    return strokes


def doodle(rng: Rng) -> Strokes:
    """Three to six random marks, arcs and dots, placed anywhere (no lone line: that is a 1)."""
    marks = []
    for _ in range(int(rng.integers(3, 7))):
        c, r = rng.uniform(0.15, 0.85, 2), rng.uniform(0.05, 0.3)
        if rng.random() < 0.75:
            a = rng.uniform(0, 2 * np.pi) + np.linspace(0, rng.uniform(1, 4), 12)
            marks.append([(c[0] + r * np.cos(b), c[1] + r * np.sin(b)) for b in a])
        else:
            marks.append([(c[0], c[1])])
    return marks


def stick_figure(rng: Rng) -> Strokes:
    """A head, a body, two arms and two legs."""
    head = rng.uniform(0.1, 0.16)
    t = np.linspace(0, 2 * np.pi, 16)
    ring = list(zip(0.5 + head * np.cos(t), head + head * np.sin(t), strict=True))
    neck, hip, arm = 2 * head, rng.uniform(0.6, 0.7), rng.uniform(0.3, 0.45)
    return [
        ring,
        [(0.5, neck), (0.5, hip)],
        [(0.15, arm + rng.uniform(-0.1, 0.1)), (0.5, arm), (0.85, arm + rng.uniform(-0.1, 0.1))],
        [(0.25, 1.0), (0.5, hip), (0.75, 1.0)],
    ]


def fish(rng: Rng) -> Strokes:
    """A body of two arcs crossing into a tail, and an eye."""
    t = np.linspace(0, np.pi, 12)
    top = [(0.05 + 0.7 * (1 - np.cos(a)) / 2, 0.5 - 0.25 * np.sin(a)) for a in t]
    bottom = [(0.05 + 0.7 * (1 - np.cos(a)) / 2, 0.5 + 0.25 * np.sin(a)) for a in t]
    tail = [(0.75, 0.5), (1.0, 0.25), (1.0, 0.75), (0.75, 0.5)]
    return [top + tail, bottom, [(0.25, 0.42)]]


def _letter(name: str) -> Callable[[Rng], Strokes]:
    return lambda rng: [list(s) for s in MORE_LETTERS[name]]


KINDS: dict[str, Callable[[Rng], Strokes]] = {
    **{f"letter {k}": _letter(k) for k in MORE_LETTERS},
    "dense scribble": dense_scribble,
    "sparse scribble": sparse_scribble,
    "coil": coil,
    "hatching": hatching,
    "cross-hatching": cross_hatching,
    "scribbled out": scribbled_out,
    "doodle": doodle,
    "stick figure": stick_figure,
    "fish": fish,
}
