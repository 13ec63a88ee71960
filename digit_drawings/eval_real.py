"""EVALUATION drawings of real writers' trajectories: their points joined as recorded, on the Draw page's canvas.

Nothing is added to the writing and nothing smoothed: the recorded points are joined by straight lines
with a round brush, as a canvas that replays them would. Only what the page lets a person choose varies:
the brush (4-40 px of the 280 px square), how large and where the digit is drawn, and the colour mode.
A code path apart from the training painter (`digit_drawings.real_training`).
"""

from __future__ import annotations

import numpy as np

from digit_drawings.render import BLACK, TRANSPARENT, WHITE, Colour, place_strokes, render_strokes

CANVAS = 280
BRUSH = (4.0, 40.0)  # the Draw page's brush slider, pixels of the 280 px square
HEIGHT = (0.3, 0.85)  # pen path height / canvas side
MODES = ("white on black", "black on white", "colour on transparent")


def mode_colours(mode: str, rng: np.random.Generator) -> tuple[Colour, Colour]:
    """(ink, paper) of a colour mode in MODES; the transparent mode's ink is a random colour."""
    if mode == MODES[0]:
        return WHITE, BLACK
    if mode == MODES[1]:
        return BLACK, WHITE
    return (*(int(v) for v in rng.integers(0, 256, 3)), 255), TRANSPARENT


def real_canvas(strokes, rng: np.random.Generator, mode: str) -> np.ndarray:
    """Unit-box strokes (y down) -> uint8 (280, 280, 4) RGBA: a random brush, size and place, in `mode`."""
    brush, height = rng.uniform(*BRUSH), rng.uniform(*HEIGHT) * CANVAS
    paths = [[(float(x), float(y)) for x, y in np.asarray(s).reshape(-1, 2)] for s in strokes]
    placed = place_strokes(paths, height, (0.0, 0.0))
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in placed])
    low, high = points.min(axis=0) - brush / 2, points.max(axis=0) + brush / 2
    shift = [rng.uniform(-low[d], max(CANVAS - high[d], -low[d])) for d in (0, 1)]
    placed = [[(x + shift[0], y + shift[1]) for x, y in p] for p in placed]
    ink, paper = mode_colours(mode, rng)
    return render_strokes(placed, CANVAS, brush, ink=ink, paper=paper)


def drawn_set(digits, seed: int, modes: tuple[str, ...] = MODES) -> dict[str, np.ndarray]:
    """Every digit drawn once in each colour mode, through `canvas_to_mnist` as the Draw page does.

    Returns {"x": float32 (N, 28, 28), "y": labels, "writer": writer ids, "mode": index into MODES}.
    """
    from mnist_core.drawing.preprocess import canvas_to_mnist

    rng = np.random.default_rng(seed)
    images, labels, writers, mode_ids = [], [], [], []
    for digit in digits:
        for mode in modes:
            images.append(canvas_to_mnist(real_canvas(digit.strokes, rng, mode)))
            labels.append(digit.label)
            writers.append(digit.writer)
            mode_ids.append(MODES.index(mode))
    return {
        "x": np.asarray(images, np.float32).reshape(-1, 28, 28),
        "y": np.asarray(labels, np.int64),
        "writer": np.asarray(writers, np.int64),
        "mode": np.asarray(mode_ids, np.int64),
    }
