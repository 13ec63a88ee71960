"""Still more TRAINING non-digits for the detector (its fourth run): letters, words, symbols and shapes.

What people draw when they try the "not a digit" answer: letters and short words, maths and
keyboard symbols, arrows every way, and simple pictures. Each kind makes strokes in a unit box
(y down), like `digit_drawings.nondigits`' kinds, which adds them to its TRAIN_KINDS.

Left out, so that the detector does not learn to call a digit "not a digit": shapes that are digits
when drawn (S, Z, O, I, l, b, G, g, q, T, "!", "&", "$", round polygons) and the ones close to them
(J, d, a crescent moon like a bracket, a musical note, a flag on a pole). Left out, so that the
held-out kinds stay a test of kinds never seen: zigzag lines (lightning, W), bumpy outlines
(clouds), rays round a disc (sun; the asterisk is the nearest kind here), grids (hash), a box with a
V or an X in it (envelope), a roof on a box (house), and K and k.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digit_drawings import doodles

Rng = np.random.Generator
Strokes = list[list[tuple[float, float]]]


def _arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 16
) -> list[tuple[float, float]]:
    """Points on an ellipse from angle `start` to `end` (radians; 0 is right, pi/2 is down)."""
    return [(cx + rx * float(np.cos(a)), cy + ry * float(np.sin(a))) for a in np.linspace(start, end, n)]


def _ring(cx: float, cy: float, r: float, n: int = 20) -> list[tuple[float, float]]:
    return _arc(cx, cy, r, r, 0.0, 2 * np.pi, n)


# Letters no digit looks like, in a unit box (curves as key points); K and k are held out (nondigits).
LETTERS: dict[str, Strokes] = {
    "C": [_arc(0.55, 0.5, 0.45, 0.5, 0.3 * np.pi, 1.7 * np.pi)],
    "L": [[(0.2, 0.0), (0.2, 1.0), (0.85, 1.0)]],
    "Q": [_ring(0.5, 0.45, 0.42), [(0.55, 0.7), (0.95, 1.0)]],
    "a": [_arc(0.45, 0.7, 0.35, 0.3, -0.2 * np.pi, 1.8 * np.pi), [(0.8, 0.4), (0.8, 1.0)]],
    "c": [_arc(0.55, 0.7, 0.4, 0.3, 0.25 * np.pi, 1.75 * np.pi)],
    "f": [[(0.85, 0.1), (0.6, 0.0), (0.45, 0.15), (0.45, 1.0)], [(0.15, 0.4), (0.8, 0.4)]],
    "h": [[(0.15, 0.0), (0.15, 1.0)], [(0.15, 0.6), (0.35, 0.42), (0.65, 0.42), (0.8, 0.6), (0.8, 1.0)]],
    "t": [[(0.45, 0.0), (0.45, 0.85), (0.6, 1.0), (0.85, 0.95)], [(0.1, 0.35), (0.85, 0.35)]],
    "x": [[(0.1, 0.4), (0.9, 1.0)], [(0.9, 0.4), (0.1, 1.0)]],
    "y": [[(0.1, 0.3), (0.5, 0.7)], [(0.9, 0.3), (0.3, 1.0)]],
    "pi": [[(0.0, 0.2), (1.0, 0.2)], [(0.3, 0.2), (0.25, 1.0)], [(0.7, 0.2), (0.75, 0.95), (0.9, 1.0)]],
}
# What words are written with: these letters and doodles' (capitals of nondigits.LETTERS would be a circular import).
WORD_LETTERS: dict[str, Strokes] = {
    **{k: LETTERS[k] for k in ("C", "L", "a", "c", "f", "h", "t", "x", "y")},
    **doodles.MORE_LETTERS,
    "o": [_ring(0.5, 0.5, 0.45, 14)],
    "i": [[(0.5, 0.3), (0.5, 1.0)], [(0.5, 0.05)]],
}


def _letter(name: str) -> Callable[[Rng], Strokes]:
    return lambda rng: [list(s) for s in LETTERS[name]]


def word(rng: Rng) -> Strokes:
    """Two to four letters side by side, as in "hi", "cat" or "OK": a word is never one digit."""
    names = list(WORD_LETTERS)
    count = int(rng.integers(2, 5))
    width, gap = 1.0 / count, rng.uniform(0.0, 0.25)
    strokes = []
    for k in range(count):
        letter = WORD_LETTERS[names[int(rng.integers(len(names)))]]
        x0, y0 = k * width, rng.uniform(-0.05, 0.05)
        strokes += [[(x0 + (1 - gap) * width * x, 0.3 + 0.4 * y + y0) for x, y in s] for s in letter]
    return strokes


def plus(rng: Rng) -> Strokes:
    return [[(0.5, 0.0), (0.5, 1.0)], [(0.0, rng.uniform(0.4, 0.6)), (1.0, rng.uniform(0.4, 0.6))]]


def equals(rng: Rng) -> Strokes:
    gap = rng.uniform(0.15, 0.35)
    return [[(0.0, 0.5 - gap), (1.0, 0.5 - gap)], [(0.0, 0.5 + gap), (1.0, 0.5 + gap)]]


def divide(rng: Rng) -> Strokes:
    return [[(0.0, 0.5), (1.0, 0.5)], [(0.5, 0.2)], [(0.5, 0.8)]]


def percent(rng: Rng) -> Strokes:
    return [_ring(0.22, 0.2, 0.16, 12), [(0.9, 0.0), (0.1, 1.0)], _ring(0.78, 0.8, 0.16, 12)]


def at_sign(rng: Rng) -> Strokes:
    """A small a wrapped in a ring that starts at the a's stem."""
    inner = _ring(0.5, 0.5, 0.17, 12)
    outer = [(0.67, 0.35), (0.67, 0.62), (0.8, 0.7)] + _arc(0.5, 0.5, 0.45, 0.45, 0.1 * np.pi, 1.9 * np.pi, 24)
    return [inner, outer]


def angle_bracket(rng: Rng) -> Strokes:
    """< or >: two strokes meeting at a point, opening left or right."""
    tip = (0.0, 0.5) if rng.random() < 0.5 else (1.0, 0.5)
    return [[(1.0 - tip[0], 0.0), tip, (1.0 - tip[0], 1.0)]]


def infinity(rng: Rng) -> Strokes:
    t = np.linspace(0, 2 * np.pi, 40)
    return [list(zip(0.5 + 0.5 * np.cos(t), 0.5 + 0.35 * np.sin(2 * t), strict=True))]


def asterisk(rng: Rng) -> Strokes:
    spokes, turn = int(rng.integers(3, 5)), rng.uniform(0, np.pi)
    angles = turn + np.pi * np.arange(spokes) / spokes
    return [
        [(0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)), (0.5 - 0.5 * np.cos(a), 0.5 - 0.5 * np.sin(a))] for a in angles
    ]


def question_mark(rng: Rng) -> Strokes:
    hook = _arc(0.5, 0.28, 0.35, 0.25, np.pi, 2.5 * np.pi, 14)
    return [hook + [(0.5, 0.75)], [(0.5, 0.97)]]


def arrow(rng: Rng) -> Strokes:
    """An arrow pointing up, down or left, or along a diagonal (nondigits' own arrow points right)."""
    angle = rng.choice([-np.pi / 2, np.pi / 2, np.pi, -np.pi / 4, -3 * np.pi / 4, np.pi / 4, 3 * np.pi / 4])
    d = np.array([np.cos(angle), np.sin(angle)])
    tip, tail = 0.5 + 0.5 * d, 0.5 - 0.5 * d
    head, spread = rng.uniform(0.25, 0.4), rng.uniform(0.4, 0.7)
    sides = [tuple(tip - head * np.array([np.cos(angle + s), np.sin(angle + s)])) for s in (spread, -spread)]
    return [[tuple(tail), tuple(tip)], [sides[0], tuple(tip), sides[1]]]


def diamond(rng: Rng) -> Strokes:
    w = rng.uniform(0.3, 0.5)
    return [[(0.5, 0.0), (0.5 + w, 0.5), (0.5, 1.0), (0.5 - w, 0.5), (0.5, 0.0)]]


def target(rng: Rng) -> Strokes:
    return [_ring(0.5, 0.5, 0.5, 24), _ring(0.5, 0.5, rng.uniform(0.2, 0.3), 16), [(0.5, 0.5)]]


def pine_tree(rng: Rng) -> Strokes:
    tiers = int(rng.integers(2, 4))
    strokes = []
    for k in range(tiers):
        top, base = k * 0.25, 0.35 + k * 0.25
        half = 0.2 + 0.12 * k
        strokes.append([(0.5 - half, base), (0.5, top), (0.5 + half, base), (0.5 - half, base)])
    return [
        *strokes,
        [(0.45, 0.35 + (tiers - 1) * 0.25), (0.45, 1.0)],
        [(0.55, 0.35 + (tiers - 1) * 0.25), (0.55, 1.0)],
    ]


def umbrella(rng: Rng) -> Strokes:
    canopy = _arc(0.5, 0.45, 0.5, 0.4, np.pi, 2 * np.pi, 16) + [(0.0, 0.45)]
    return [canopy, [(0.5, 0.05), (0.5, 0.9)] + _arc(0.4, 0.9, 0.1, 0.08, 0.0, np.pi, 6)]


def crown(rng: Rng) -> Strokes:
    points = int(rng.integers(3, 6))
    xs = np.linspace(0, 1, 2 * points + 1)
    top = [(float(x), 0.1 if k % 2 == 0 else 0.5) for k, x in enumerate(xs)]
    return [[(0.0, 1.0), *top, (1.0, 1.0), (0.0, 1.0)]]


def cup(rng: Rng) -> Strokes:
    body = [(0.1, 0.1), (0.15, 0.95), (0.7, 0.95), (0.75, 0.1), (0.1, 0.1)]
    return [body, _arc(0.75, 0.5, 0.2, 0.2, -0.45 * np.pi, 0.45 * np.pi, 10)]


def key(rng: Rng) -> Strokes:
    return [_ring(0.2, 0.5, 0.2, 16), [(0.4, 0.5), (1.0, 0.5)], [(0.75, 0.5), (0.75, 0.7)], [(0.9, 0.5), (0.9, 0.7)]]


def eye(rng: Rng) -> Strokes:
    upper = _arc(0.5, 0.75, 0.55, 0.5, 1.15 * np.pi, 1.85 * np.pi, 12)
    lower = _arc(0.5, 0.25, 0.55, 0.5, 0.15 * np.pi, 0.85 * np.pi, 12)
    return [upper, lower, _ring(0.5, 0.5, 0.13, 10)]


def car(rng: Rng) -> Strokes:
    body = [
        (0.0, 0.75),
        (0.0, 0.45),
        (0.25, 0.45),
        (0.35, 0.2),
        (0.7, 0.2),
        (0.8, 0.45),
        (1.0, 0.5),
        (1.0, 0.75),
        (0.0, 0.75),
    ]
    return [body, _ring(0.25, 0.8, 0.1, 10), _ring(0.75, 0.8, 0.1, 10)]


def cube(rng: Rng) -> Strokes:
    d = rng.uniform(0.2, 0.35)
    front = [(0.0, d), (1 - d, d), (1 - d, 1.0), (0.0, 1.0), (0.0, d)]
    back = [(d, 0.0), (1.0, 0.0), (1.0, 1 - d), (1 - d, 1 - d)]
    return [front, back, [(0.0, d), (d, 0.0)], [(1 - d, d), (1.0, 0.0)]]


def checkbox(rng: Rng) -> Strokes:
    return [[(0.0, 0.2), (0.8, 0.2), (0.8, 1.0), (0.0, 1.0), (0.0, 0.2)], [(0.15, 0.6), (0.35, 0.85), (1.0, 0.0)]]


def cat_face(rng: Rng) -> Strokes:
    head = [(0.1, 0.35), (0.15, 0.0), (0.35, 0.25), (0.65, 0.25), (0.85, 0.0), (0.9, 0.35)]
    head += _arc(0.5, 0.55, 0.4, 0.42, 0.0, np.pi, 14) + [(0.1, 0.35)]  # right cheek, chin, left cheek
    whiskers = [
        [(0.5, 0.65), (0.0, 0.55)],
        [(0.5, 0.65), (1.0, 0.55)],
        [(0.5, 0.68), (0.05, 0.75)],
        [(0.5, 0.68), (0.95, 0.75)],
    ]
    return [head, [(0.35, 0.45)], [(0.65, 0.45)], *whiskers]


def dots(rng: Rng) -> Strokes:
    """Three to ten dots anywhere: dotting the canvas."""
    return [[(float(x), float(y))] for x, y in rng.uniform(0, 1, (int(rng.integers(3, 11)), 2))]


KINDS: dict[str, Callable[[Rng], Strokes]] = {
    **{f"letter {k}": _letter(k) for k in LETTERS},
    "word": word,
    "plus": plus,
    "equals": equals,
    "divide": divide,
    "percent": percent,
    "at sign": at_sign,
    "angle bracket": angle_bracket,
    "infinity": infinity,
    "asterisk": asterisk,
    "question mark": question_mark,
    "arrow (other ways)": arrow,
    "diamond": diamond,
    "target": target,
    "pine tree": pine_tree,
    "umbrella": umbrella,
    "crown": crown,
    "cup": cup,
    "key": key,
    "eye": eye,
    "car": car,
    "cube": cube,
    "checkbox": checkbox,
    "cat face": cat_face,
    "dots": dots,
}
