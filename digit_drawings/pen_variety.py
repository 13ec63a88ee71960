"""TRAINING pen variety for the digit detector: strokes drawn the way a hand and a tablet draw them.

A hand does not draw the clean polylines `render_strokes` paints: corners get rounded or not, the
tablet reports points at uneven distances, the hand trembles slowly, and pressure thins the line
where the pen lands and lifts. `pen_canvas` paints strokes with all four, each at a random amount,
so the detector cannot tell digits from other drawings by how they are inked. It is the training
generator's own pen; the evaluation drawings (`digit_drawings.style_eval`) have theirs.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Rng = np.random.Generator
SUPERSAMPLE = 2  # painted this many times larger, then area-averaged
SPACING = (0.01, 0.06)  # mean distance between reported pen points, fraction of the drawing's height
TREMOR = (0.0, 0.025)  # amplitude of the slow hand tremor, fraction of the height
LIFT = (0.3, 1.0)  # line width where the pen lands and lifts, fraction of the full width


def round_corners(stroke: np.ndarray, cut: float) -> np.ndarray:
    """float (n, 2) -> corners cut `cut` of each segment from both ends, twice (Chaikin), ends kept."""
    for _ in range(2):
        if len(stroke) < 3 or cut <= 0:
            return stroke
        p, q = stroke[:-1], stroke[1:]
        inner = np.stack([p + cut * (q - p), p + (1 - cut) * (q - p)], axis=1).reshape(-1, 2)
        stroke = np.concatenate([stroke[:1], inner[1:-1], stroke[-1:]])
    return stroke


def resample(stroke: np.ndarray, rng: Rng, spacing: float) -> np.ndarray:
    """float (n, 2) path -> points at irregular distances along it (mean `spacing`), ends kept."""
    steps = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    if along[-1] <= spacing:
        return stroke
    gaps = rng.uniform(0.3, 1.7, int(along[-1] / spacing) + 2) * spacing
    where = np.concatenate([[0.0], np.cumsum(gaps)])
    where = np.append(where[where < along[-1]], along[-1])
    return np.stack([np.interp(where, along, stroke[:, k]) for k in (0, 1)], axis=1)


def tremble(stroke: np.ndarray, rng: Rng, amplitude: float) -> np.ndarray:
    """float (n, 2) -> the same path moved by a slow random wobble (a random walk, smoothed) of `amplitude`."""
    if len(stroke) < 3 or amplitude <= 0:
        return stroke
    walk = np.cumsum(rng.normal(0, 1, (len(stroke), 2)), axis=0)
    kernel = np.ones(5) / 5
    slow = np.stack([np.convolve(np.pad(walk[:, k], 2, mode="edge"), kernel, mode="valid") for k in (0, 1)], axis=1)
    slow -= slow.mean(axis=0)
    return stroke + amplitude * slow / max(float(np.abs(slow).max()), 1e-9)


def pressure(n: int, rng: Rng) -> np.ndarray:
    """Width factors (n,) in (0, 1]: thinner where the pen lands and lifts, slowly uneven between."""
    t = np.linspace(0, 1, n)
    ramp = rng.uniform(0.05, 0.3)
    land, lift = rng.uniform(*LIFT, 2)
    ends = np.minimum(1, np.minimum(land + (1 - land) * t / ramp, lift + (1 - lift) * (1 - t) / ramp))
    wobble = 1 + rng.uniform(0, 0.25) * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * t + rng.uniform()))
    return np.clip(ends * wobble, 0.15, 1)


def pen_paths(strokes: list[list[tuple[float, float]]], rng: Rng, height: float) -> list[np.ndarray]:
    """Canvas-pixel strokes -> what a tablet reports: corners maybe rounded, irregular points, tremor."""
    cut = rng.uniform(0.05, 0.3) if rng.random() < 0.6 else 0.0
    spacing, amplitude = height * rng.uniform(*SPACING), height * rng.uniform(*TREMOR)
    paths = []
    for stroke in strokes:
        path = round_corners(np.asarray(stroke, np.float64).reshape(-1, 2), cut)
        paths.append(tremble(resample(path, rng, spacing), rng, amplitude))
    return paths


def pen_canvas(strokes: list[list[tuple[float, float]]], rng: Rng, canvas: int, brush: float) -> np.ndarray:
    """Canvas-pixel strokes -> uint8 (canvas, canvas, 4) RGBA, white ink on black, painted by a pressure pen."""
    s = SUPERSAMPLE
    image = Image.new("L", (canvas * s, canvas * s), 0)
    draw = ImageDraw.Draw(image)
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in strokes])
    height = float(np.ptp(points[:, 1])) or 1.0
    for path in pen_paths(strokes, rng, height):
        widths = brush * s * pressure(len(path), rng)
        xy = path * s + (s - 1) / 2
        for k, ((x, y), w) in enumerate(zip(xy, widths, strict=True)):
            if k:
                draw.line([tuple(xy[k - 1]), (x, y)], fill=255, width=max(1, round(w)))
            draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=255)
    grey = np.asarray(image.resize((canvas, canvas), Image.Resampling.BOX), np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
