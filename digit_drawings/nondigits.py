"""Drawings that are not digits: letters no digit looks like, shapes, marks, scribbles, filled blobs.

Each kind makes strokes in a unit box (y down). `TRAIN_KINDS` are what the digit detector learns
from; `HELD_OUT_KINDS` are never trained on and only measure it (bench/pen_styles.py). Shapes that
*are* digits when drawn (a circle is a 0, a vertical or slanted line a 1, S is 5, Z is 2, O is 0,
B is 8, G or b is 6, q or g is 9, T or a lone hook may be 7) are left out of both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digit_drawings import doodles, symbols
from digit_drawings.pen_styles import CANVAS, _u, elastic
from digit_drawings.pen_variety import pen_canvas
from digit_drawings.render import place_strokes, render_strokes

Rng = np.random.Generator
Strokes = list[list[tuple[float, float]]]

# Capital letters written with straight strokes, in a unit box. None of them is read as a digit by people.
LETTERS: dict[str, Strokes] = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.85, 0.0), (0.1, 0.0), (0.1, 1.0), (0.85, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0.0), (0.15, 0.0), (0.15, 1.0)], [(0.15, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.9, 1.0)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.15, 0.0), (0.15, 1.0)], [(0.85, 0.0), (0.15, 0.55), (0.85, 1.0)]],
    "M": [[(0.0, 1.0), (0.1, 0.0), (0.5, 0.6), (0.9, 0.0), (1.0, 1.0)]],
    "N": [[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]],
    "R": [[(0.15, 1.0), (0.15, 0.0), (0.7, 0.02), (0.85, 0.25), (0.7, 0.48), (0.15, 0.5)], [(0.45, 0.5), (0.9, 1.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.5, 0.5), (1.0, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
    "W": [[(0.0, 0.0), (0.2, 1.0), (0.5, 0.35), (0.8, 1.0), (1.0, 0.0)]],
}
HELD_OUT_LETTERS = ("K", "W")  # letters only the measurement sees
PEN_SHARE = 0.5  # drawings painted by the tablet-like pen of digit_drawings.pen_variety, the rest by a plain brush


def _polygon(rng: Rng, corners: int) -> Strokes:
    start = _u(rng, 0, 2 * np.pi)
    pts = [
        (0.5 + 0.5 * np.cos(start + 2 * np.pi * k / corners), 0.5 + 0.5 * np.sin(start + 2 * np.pi * k / corners))
        for k in range(corners + 1)
    ]
    return [pts]


def _star(rng: Rng) -> Strokes:
    """A five-pointed star in one stroke (every second corner) or as an outline of ten corners."""
    start = -np.pi / 2 + _u(rng, -0.3, 0.3)
    if rng.random() < 0.6:
        return [
            [
                (0.5 + 0.5 * np.cos(start + 4 * np.pi * k / 5), 0.5 + 0.5 * np.sin(start + 4 * np.pi * k / 5))
                for k in range(6)
            ]
        ]
    inner = _u(rng, 0.35, 0.5)
    return [
        [
            (
                0.5 + (0.5 if k % 2 == 0 else 0.5 * inner) * np.cos(start + np.pi * k / 5),
                0.5 + (0.5 if k % 2 == 0 else 0.5 * inner) * np.sin(start + np.pi * k / 5),
            )
            for k in range(11)
        ]
    ]


def _scribble(rng: Rng) -> Strokes:
    """A random walk with momentum: what a child or a bored hand scrawls."""
    n = int(rng.integers(8, 30))
    angle, pos, pts = _u(rng, 0, 2 * np.pi), np.array([0.5, 0.5]), []
    for _ in range(n):
        angle += rng.normal(0, 1.2)
        pos = np.clip(pos + 0.25 * np.array([np.cos(angle), np.sin(angle)]), 0, 1)
        pts.append(tuple(pos))
    return [pts]


def _spiral(rng: Rng) -> Strokes:
    turns = _u(rng, 1.8, 3.5)
    t = np.linspace(0, turns * 2 * np.pi, 60)
    r = 0.5 * t / t[-1]
    sign = 1 if rng.random() < 0.5 else -1
    return [list(zip(0.5 + r * np.cos(sign * t), 0.5 + r * np.sin(sign * t), strict=True))]


def _zigzag(rng: Rng) -> Strokes:
    """Colouring in: a dense zigzag that fills a patch (with a thick brush it is a filled blob)."""
    n = int(rng.integers(4, 12))
    return [[(float(k % 2), k / n + _u(rng, -0.03, 0.03)) for k in range(n + 1)]]


def _wave(rng: Rng) -> Strokes:
    t = np.linspace(0, 1, 40)
    cycles = _u(rng, 1.5, 4)
    return [list(zip(t, 0.5 + 0.15 * np.sin(2 * np.pi * cycles * t), strict=True))]


def _hash(rng: Rng) -> Strokes:
    a, b = _u(rng, 0.25, 0.4), _u(rng, 0.6, 0.75)
    return [[(a, 0), (a - 0.1, 1)], [(b, 0), (b - 0.1, 1)], [(0, a), (1, a)], [(0, b), (1, b)]]


def _arrow(rng: Rng) -> Strokes:
    head = _u(rng, 0.2, 0.35)
    return [[(0.0, 0.5), (1.0, 0.5)], [(1 - head, 0.5 - head), (1.0, 0.5), (1 - head, 0.5 + head)]]


def _smiley(rng: Rng) -> Strokes:
    """A face: a round outline, two eyes (dots or small rings) and a smiling, straight or sad mouth."""
    t = np.linspace(0, 2 * np.pi, 30)
    face = list(zip(0.5 + 0.5 * np.cos(t), 0.5 + 0.5 * np.sin(t) * _u(rng, 0.85, 1.1), strict=True))
    bend = _u(rng, -0.15, 0.25)
    mouth = [(0.5 + 0.25 * np.cos(a), 0.65 + bend * (np.sin(a) - 0.5)) for a in np.linspace(0.4, np.pi - 0.4, 10)]
    ring = _u(rng, 0.0, 0.05)
    eyes = [
        [(x + ring * np.cos(a), 0.35 + ring * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 6 if ring > 0.02 else 2)]
        for x in (0.35, 0.65)
    ]
    return [face, mouth, *eyes]


def _heart(rng: Rng) -> Strokes:
    t = np.linspace(0, 2 * np.pi, 40)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [list(zip(0.5 + x / 34, 0.5 - y / 34, strict=True))]


def _house(rng: Rng) -> Strokes:
    return [[(0.1, 0.45), (0.1, 1.0), (0.9, 1.0), (0.9, 0.45), (0.1, 0.45), (0.5, 0.0), (0.9, 0.45)]]


def _sun(rng: Rng) -> Strokes:
    t = np.linspace(0, 2 * np.pi, 24)
    disc = list(zip(0.5 + 0.22 * np.cos(t), 0.5 + 0.22 * np.sin(t), strict=True))
    rays = [
        [(0.5 + 0.3 * np.cos(a), 0.5 + 0.3 * np.sin(a)), (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a))]
        for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ]
    return [disc, *rays]


def _cloud(rng: Rng) -> Strokes:
    t = np.linspace(0, 2 * np.pi, 80)
    r = 0.5 + 0.08 * np.abs(np.sin(int(rng.integers(4, 7)) * t / 2))
    return [list(zip(0.5 + r * np.cos(t), 0.5 + 0.6 * r * np.sin(t), strict=True))]


def _lightning(rng: Rng) -> Strokes:
    return [[(0.6, 0.0), (0.25, 0.5), (0.6, 0.45), (0.3, 1.0)]]


def _envelope(rng: Rng) -> Strokes:
    return [[(0.0, 0.0), (1.0, 0.0), (1.0, 0.65), (0.0, 0.65), (0.0, 0.0), (0.5, 0.35), (1.0, 0.0)]]


def _letter(name: str) -> Callable[[Rng], Strokes]:
    return lambda rng: [list(s) for s in LETTERS[name]]


TRAIN_KINDS: dict[str, Callable[[Rng], Strokes]] = {
    **{f"letter {k}": _letter(k) for k in LETTERS if k not in HELD_OUT_LETTERS},
    "triangle": lambda rng: _polygon(rng, 3),
    "rectangle": lambda rng: [[(0.0, 0.0), (1.0, 0.0), (1.0, t := _u(rng, 0.4, 1.0)), (0.0, t), (0.0, 0.0)]],
    "star": _star,
    "scribble": _scribble,
    "spiral": _spiral,
    "filled blob": _zigzag,
    "wave": _wave,
    "arrow": _arrow,
    "tick": lambda rng: [[(0.0, 0.55), (0.35, 1.0), (1.0, 0.0)]],
    "dash": lambda rng: [[(0.0, 0.5), (1.0, 0.5 + _u(rng, -0.05, 0.05))]],
    "smiley": _smiley,
    "heart": _heart,
    **doodles.KINDS,  # more scribbles, marks, doodles, letters and shapes (the third detector)
    **symbols.KINDS,  # letters, words, symbols and pictures (the fourth detector)
}
HELD_OUT_KINDS: dict[str, Callable[[Rng], Strokes]] = {
    **{f"letter {k}": _letter(k) for k in HELD_OUT_LETTERS},
    "house": _house,
    "sun": _sun,
    "hash": _hash,
    "cloud": _cloud,
    "lightning": _lightning,
    "envelope": _envelope,
}


def _shaky(stroke: list[tuple[float, float]], rng: Rng, jitter: float) -> list[tuple[float, float]]:
    """Key points moved at random, joined by straight lines: shapes and letters keep their corners."""
    return [(x + float(rng.normal(0, jitter)), y + float(rng.normal(0, jitter))) for x, y in stroke]


def nondigit_drawing(kind: str, rng: Rng, canvas: int = CANVAS) -> np.ndarray:
    """A random drawing of `kind` (a key of TRAIN_KINDS or HELD_OUT_KINDS) -> uint8 (canvas, canvas, 4) RGBA."""
    make = {**TRAIN_KINDS, **HELD_OUT_KINDS}[kind]
    jitter = _u(rng, 0.0, 0.04)
    strokes = [_shaky(s, rng, jitter if len(s) <= 12 else jitter / 4) for s in make(rng)]
    height = canvas * _u(rng, 0.35, 0.85)
    thick = kind == "filled blob" and rng.random() < 0.7
    brush = canvas * (_u(rng, 0.15, 0.3) if thick else _u(rng, 0.04, 0.14))
    placed = place_strokes(strokes, height, (canvas / 2, canvas / 2), _u(rng, -0.2, 0.2), _u(rng, 0.7, 1.3))
    placed = elastic(placed, rng, _u(rng, 0.0, 0.04))
    if rng.random() < PEN_SHARE:
        return pen_canvas(placed, rng, canvas, brush)
    return render_strokes(placed, canvas, brush, ink=(255, 255, 255, 255), paper=(0, 0, 0, 255))
