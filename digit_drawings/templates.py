"""Hand-written strokes for the ten digits, including regional variants, jittered and placed on a canvas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digit_drawings.render import Point, Stroke, place_strokes


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
