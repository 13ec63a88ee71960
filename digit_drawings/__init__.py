"""Digits drawn the way a person draws them on the Draw page's canvas, made in code.

`render_strokes` paints pen strokes into an RGBA canvas like the one streamlit-drawable-canvas
returns; `digit_strokes` turns an MNIST digit into such strokes (its skeleton traced into
polylines), and `TEMPLATES` are hand-written strokes for the ten digits, including regional
variants. Pure and deterministic given a seed.

Only the tests and the benchmarks (bench/drawn_digits.py, the browser and load benches) use these
drawings, so they live beside them at the top of the repository, not in the engine (`mnist_core`),
which the app ships.
"""

from digit_drawings.render import (
    BLACK,
    TRANSPARENT,
    WHITE,
    Colour,
    Point,
    Stroke,
    place_strokes,
    render_strokes,
    stroke_coverage,
)
from digit_drawings.skeleton import digit_strokes, skeleton, trace_skeleton
from digit_drawings.templates import TEMPLATES, Template, template_strokes

__all__ = [
    "BLACK",
    "TEMPLATES",
    "TRANSPARENT",
    "WHITE",
    "Colour",
    "Point",
    "Stroke",
    "Template",
    "digit_strokes",
    "place_strokes",
    "render_strokes",
    "skeleton",
    "stroke_coverage",
    "template_strokes",
    "trace_skeleton",
]
