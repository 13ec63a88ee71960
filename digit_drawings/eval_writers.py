"""EVALUATION writers: the styles issue 14 names, with each writer's own proportions.

Real writers of one style differ: where a 7's bar sits and how long it is, whether its stem bows,
how small or open a 9's loop is and how its long tail ends, how short a one-stroke 4's stem is, at
what angle and length a 1's flag goes. Each function draws one writer's proportions from ranges
taken from the issue's description of real writing (not from what a model gets wrong) and returns
strokes as `digit_drawings.templates._template` takes them: strokes of pieces of key points in a
unit box (x right, y down, about 1 tall), corners between pieces. Its own code and ranges, apart
from the training generator (`digit_drawings.pen_styles`).
"""

from __future__ import annotations

import numpy as np

Rng = np.random.Generator
Pieces = list[list[tuple[float, float]]]


def _u(rng: Rng, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def european_seven(rng: Rng, bar: str, stem: str) -> list[Pieces]:
    """A 7 with a bar across its stem. bar: "middle" or "low"; stem: "straight", "curved", "hooked top", "either"."""
    left, right = (_u(rng, 0.0, 0.2), _u(rng, 0.0, 0.1)), (_u(rng, 0.75, 1.0), _u(rng, -0.03, 0.05))
    foot = (_u(rng, 0.2, 0.6), 1.0)
    if stem == "either":
        stem = "curved" if rng.random() < 0.5 else "straight"
    bow = _u(rng, -0.14, 0.1) if stem == "curved" else 0.0  # negative: the stem bows to the left, like a ")"
    mid = ((right[0] + foot[0]) / 2 + bow, (right[1] + foot[1]) / 2)
    top = [[left, right], [right, mid, foot] if bow else [right, foot]]
    if stem == "hooked top":
        top.insert(0, [(left[0] + _u(rng, -0.03, 0.03), left[1] + _u(rng, 0.1, 0.22)), left])
    y = _u(rng, 0.38, 0.6) if bar == "middle" else _u(rng, 0.6, 0.75)
    x = _stem_x(y, right, mid, foot) + rng.normal(0, 0.04)
    tilt = _u(rng, -0.04, 0.04)
    return [top, [[(x - _u(rng, 0.06, 0.3), y + tilt), (x + _u(rng, 0.06, 0.3), y - tilt)]]]


def _stem_x(y: float, right, mid, foot) -> float:
    """Where the 7's stem (through its key points) is at height y."""
    ys, xs = [right[1], mid[1], foot[1]], [right[0], mid[0], foot[0]]
    return float(np.interp(y, ys, xs))


def nine(rng: Rng, loop: str, tail: str) -> list[Pieces]:
    """A 9. loop: "round", "small", "open" (stops short of the stem) or "any"; tail: "straight", "hooked", "either"."""
    if loop == "any":
        loop = str(rng.choice(["round", "small", "open"]))
    small = loop == "small" or (loop == "open" and rng.random() < 0.5)
    rx, ry = (_u(rng, 0.12, 0.2), _u(rng, 0.1, 0.18)) if small else (_u(rng, 0.2, 0.32), _u(rng, 0.17, 0.28))
    cx, cy = _u(rng, 0.4, 0.55), ry + _u(rng, 0.0, 0.04)
    start = _u(rng, -0.2, 0.3)  # where the pen starts on the loop (radians above its right side)
    gap = _u(rng, 0.5, 1.2) if loop == "open" else _u(rng, -0.3, 0.0)  # negative: the loop overlaps itself
    angles = np.linspace(start, start + 2 * np.pi - gap, 12)
    ring = [(cx + rx * np.cos(a), cy - ry * np.sin(a)) for a in angles]  # anticlockwise on the screen
    x0, y0 = cx + rx * np.cos(start), cy - ry * np.sin(start)
    x1 = x0 + _u(rng, -0.25, 0.08)  # the tail's end: most lean left, a few right
    if tail == "either":
        tail = "hooked" if rng.random() < 0.5 else "straight"
    if tail == "straight":
        return [[ring], [[(x0, y0), (x1, 1.0)]]]
    hook, turn = _u(rng, 0.1, 0.3), _u(rng, 0.8, 0.92)
    end = (x1 - hook, 1.0 - _u(rng, 0.03, 0.12))
    return [[ring], [[(x0, y0), (x0 + (x1 - x0) * turn, turn), (x1 - hook * 0.5, 1.0), end]]]


def one_stroke_four(rng: Rng) -> list[Pieces]:
    """A 4 in one stroke: down, across, then a short stem up and down through the bar."""
    bar = _u(rng, 0.5, 0.75)
    start, corner = (_u(rng, 0.2, 0.5), 0.0), (_u(rng, 0.0, 0.2), bar)
    stem_x, above = _u(rng, 0.5, 0.78), _u(rng, 0.08, 0.35)
    if rng.random() < 0.5:  # the bar runs on past the stem, the pen comes back up to the stem's top
        end = (_u(rng, max(0.75, stem_x + 0.1), 1.0), bar + rng.normal(0, 0.03))
        stem_top = (stem_x, bar - above)
    else:  # the bar stops at the stem, the pen goes straight up and comes back down over itself
        end = (stem_x + _u(rng, 0.0, 0.08), bar + rng.normal(0, 0.03))
        stem_top = (end[0] + _u(rng, -0.04, 0.04), bar - above)
    foot = (stem_x + _u(rng, -0.06, 0.06), 1.0)
    return [[[start, corner], [corner, end], [end, stem_top], [stem_top, foot]]]


def flagged_one(rng: Rng, long: bool, base: bool) -> list[Pieces]:
    """A 1 with a flag (short or long, at an angle of 15-60 degrees below the horizontal) and maybe a base."""
    top = (0.5 + rng.normal(0, 0.02), 0.0)
    length = _u(rng, 0.3, 0.55) if long else _u(rng, 0.12, 0.3)
    angle = np.radians(_u(rng, 15, 60))
    flag = (top[0] - length * np.cos(angle), length * np.sin(angle))
    foot = (top[0] + _u(rng, -0.06, 0.06), 1.0)
    if rng.random() < 0.3:  # a flag that bows a little
        bend = ((flag[0] + top[0]) / 2 + _u(rng, -0.04, 0.04), (flag[1] + top[1]) / 2 - _u(rng, 0.0, 0.05))
        strokes = [[[flag, bend, top], [top, foot]]]
    else:
        strokes = [[[flag, top], [top, foot]]]
    if base:
        half = _u(rng, 0.15, 0.35)
        strokes.append([[(foot[0] - half, 1.0 + rng.normal(0, 0.02)), (foot[0] + half, 1.0 + rng.normal(0, 0.02))]])
    return strokes
