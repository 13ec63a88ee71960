"""EVALUATION pen: how a tablet or a mouse turns a writer's path into ink, for `digit_drawings.style_eval`.

Two things a real pen does that a fixed round brush along an exact path does not:
- tablet-like events: the pen's position arrives as points at irregular distances (the hand slows at
  corners), rounded to whole canvas pixels, and the app smooths them with a running average that
  lags behind the pen and rounds its corners;
- pressure: the line is thinner where the pen lands and lifts, and its width drifts along a stroke.

Its own code (not `digit_drawings.render.render_strokes`, which the training drawings use).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from digit_drawings.render import Colour, Point, _composite

SUPERSAMPLE = 3  # drawn this many times larger, then area-averaged (anti-aliasing)
EVENT_SPACING = (1.5, 9.0)  # canvas pixels between two pen events (fast strokes are sparse)
SMOOTHING = (0.0, 0.55)  # weight of the previous smoothed point in the app's running average
PRESSURE = (0.55, 1.35)  # stroke width as a factor of the writer's mean width, lowest .. highest


def tablet_events(path: np.ndarray, rng: np.random.Generator, spacing: float, smoothing: float) -> np.ndarray:
    """float (k, 2) canvas path -> float (m, 2): events at irregular spacing, whole pixels, running average."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    if along[-1] == 0:
        return np.round(path[:1])
    steps = rng.uniform(0.5, 1.5, int(along[-1] / spacing * 2) + 2) * spacing
    t = np.concatenate([[0.0], np.cumsum(steps)])
    t = np.append(t[t < along[-1]], along[-1])
    events = np.round(np.stack([np.interp(t, along, path[:, k]) for k in (0, 1)], axis=1))
    out = events.copy()
    for i in range(1, len(out)):
        out[i] = smoothing * out[i - 1] + (1 - smoothing) * events[i]
    out[-1] = events[-1]  # the app draws to where the pen lifted
    return out


def pressure_widths(n: int, rng: np.random.Generator, brush: float) -> np.ndarray:
    """Brush diameters along a stroke of n events: thinner where the pen lands and lifts, drifting between."""
    t = np.linspace(0, 1, n)
    low, high = PRESSURE
    drift = np.interp(t, np.linspace(0, 1, 4), rng.uniform(0.8, high, 4))
    land, lift = rng.uniform(low, 1.0, 2)
    ramp = np.minimum(1.0, np.minimum(t / 0.12 + land, (1 - t) / 0.12 + lift))
    return brush * drift * ramp


def render_pen(
    strokes: Sequence[Sequence[Point]], size: int, brush: float, ink: Colour, paper: Colour, rng: np.random.Generator
) -> np.ndarray:
    """Canvas strokes -> uint8 (size, size, 4) RGBA, drawn as tablet events with pen pressure."""
    s = SUPERSAMPLE
    image = Image.new("L", (size * s, size * s), 0)
    draw = ImageDraw.Draw(image)
    spacing, smoothing = rng.uniform(*EVENT_SPACING), rng.uniform(*SMOOTHING)
    for stroke in strokes:
        events = tablet_events(np.asarray(stroke, np.float64).reshape(-1, 2), rng, spacing, smoothing)
        widths = pressure_widths(len(events), rng, brush)
        dense, radii = _dense(events, widths)
        for (x, y), r in zip(dense * s + (s - 1) / 2, radii * s / 2, strict=True):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    coverage = np.asarray(image.resize((size, size), Image.Resampling.BOX), np.float32) / 255
    return _composite(coverage, ink, paper)


def _dense(events: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight lines between events as discs half a pixel apart (a variable-width line), with their diameters."""
    seg = np.linalg.norm(np.diff(events, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0, along[-1], max(2, int(along[-1] * 2) + 1))
    points = np.stack([np.interp(t, along, events[:, k]) for k in (0, 1)], axis=1)
    return points, np.maximum(np.interp(t, along, widths), 1.0)
