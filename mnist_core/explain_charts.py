"""Plotly figures for See why, Watch it learn and My digits: arrays in, a `go.Figure` out (no Streamlit).

Grids of small images (filters, activation maps, the 100 watched digits) are tiled into one array
and drawn as a single heatmap: one trace instead of a hundred keeps a figure cheap to build and draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_core.charts import FONT

DIVERGING = [[0.0, "#2563EB"], [0.5, "#FFFFFF"], [1.0, "#DC2626"]]  # blue: against, white: 0, red: for
GREYS = [[0.0, "#000000"], [1.0, "#FFFFFF"]]  # MNIST's look: bright ink on black
RIGHT, WRONG = "#16A34A", "#DC2626"
MAX_TILES = 32  # first-layer units shown at most


def _image_layout(height: int, width: int | None = None, **extra) -> dict:
    axis = {"visible": False, "fixedrange": True, "constrain": "domain"}
    layout = {"height": height, "font": FONT, "margin": {"l": 5, "r": 5, "t": 30, "b": 5},
              "plot_bgcolor": "white", "paper_bgcolor": "white", "xaxis": {**axis},
              "yaxis": {**axis, "autorange": "reversed", "scaleanchor": "x"}, **extra}
    if width:
        layout["width"] = width
    return layout


def saliency_figure(image: np.ndarray, saliency: np.ndarray, title: str, height: int = 300) -> go.Figure:
    """Signed saliency (28, 28) as a red/blue heatmap centred on 0, with the input's ink outlined on top."""
    values = np.asarray(saliency, dtype=np.float32)
    limit = float(np.abs(values).max()) or 1.0
    heat = {"type": "heatmap", "z": values.tolist(), "colorscale": DIVERGING, "zmin": -limit, "zmax": limit,
            "zmid": 0.0, "colorbar": {"thickness": 10, "tickvals": [-limit, 0, limit],
                                      "ticktext": ["against", "0", "for"]},
            "hovertemplate": "row %{y}, col %{x}<br>%{z:.3g}<extra></extra>"}
    ink = {"type": "contour", "z": np.asarray(image, dtype=np.float32).tolist(), "showscale": False,
           "contours": {"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"}, "hoverinfo": "skip",
           "line": {"color": "rgba(17,24,39,0.55)", "width": 1.5}, "colorscale": [[0, "#111827"], [1, "#111827"]]}
    return go.Figure(data=[heat, ink], layout=_image_layout(height, title={"text": title, "x": 0.5,
                                                                          "font": {"size": 14}}))


def tile(images: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """Images (N, h, w) side by side in rows of `cols`, separated by NaN gaps: float32 (rows*(h+gap)-gap, ...)."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    rows = -(-n // cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return grid


def tiles_figure(images: np.ndarray, cols: int = 8, diverging: bool = True, title: str = "",
                 height: int = 320, normalise_each: bool = False) -> go.Figure:
    """A grid of small images (first-layer weights, activation maps) as one heatmap.

    `diverging` colours weights red/blue around 0 on one shared scale; otherwise greys from each
    image's own range when `normalise_each` (activation maps differ a lot in strength).
    """
    images = np.asarray(images, dtype=np.float32)[:MAX_TILES]
    if normalise_each and len(images):
        low = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - low
        images = np.divide(images - low, span, out=np.zeros_like(images), where=span > 0)
    grid = tile(images, min(cols, max(1, len(images))), gap=max(1, images.shape[1] // 10))
    limit = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
    heat = {"type": "heatmap", "z": np.where(np.isnan(grid), None, grid).tolist(), "showscale": diverging,
            "colorscale": DIVERGING if diverging else GREYS, "hoverinfo": "skip",
            **({"zmin": -limit, "zmax": limit, "zmid": 0.0, "colorbar": {"thickness": 10}} if diverging
               else {"zmin": 0.0, "zmax": 1.0})}
    return go.Figure(data=[heat], layout=_image_layout(height, title={"text": title, "x": 0.5,
                                                                     "font": {"size": 14}}))


def watch_grid(images: np.ndarray, labels: np.ndarray, guesses: np.ndarray, confidence: np.ndarray | None = None,
               cols: int = 10, height: int = 560) -> go.Figure:
    """The watched digits in a grid, each with the model's guess in its corner: green right, red wrong.

    images uint8 (N, 28, 28), labels and guesses int (N,), confidence float (N,) for the hover text.
    """
    images = np.asarray(images)
    labels, guesses = np.asarray(labels), np.asarray(guesses)
    n, gap = len(labels), 4
    grid = tile(images.astype(np.float32) / 255.0, cols, gap=gap)
    step = 28 + gap
    r, c = np.divmod(np.arange(n), cols)
    right = guesses == labels
    sure = np.ones(n) if confidence is None else np.asarray(confidence, dtype=float)
    heat = {"type": "heatmap", "z": np.where(np.isnan(grid), None, grid).tolist(), "colorscale": GREYS,
            "zmin": 0, "zmax": 1, "showscale": False, "hoverinfo": "skip"}
    hover = {"type": "scatter", "x": (c * step + 14).tolist(), "y": (r * step + 14).tolist(), "mode": "markers",
             "marker": {"size": 30, "color": "rgba(0,0,0,0)"}, "showlegend": False,
             "customdata": np.stack([labels, guesses, sure], axis=1).tolist(),
             "hovertemplate": "true %{customdata[0]} · guess %{customdata[1]} (%{customdata[2]:.0%})<extra></extra>"}
    marks = [{"x": x * step + 28.5, "y": y * step - 1.5, "xanchor": "right", "yanchor": "top", "showarrow": False,
              "text": f"<b>{g}</b>", "font": {"size": 12, "color": "white"}, "bgcolor": RIGHT if ok else WRONG,
              "borderpad": 1} for x, y, g, ok in zip(c.tolist(), r.tolist(), guesses.tolist(), right.tolist(),
                                                     strict=True)]
    shapes = [{"type": "rect", "x0": x * step - 1.5, "x1": x * step + 28.5, "y0": y * step - 1.5,
               "y1": y * step + 28.5, "line": {"color": RIGHT if ok else WRONG, "width": 2}, "layer": "above"}
              for x, y, ok in zip(c.tolist(), r.tolist(), right.tolist(), strict=True)]
    return go.Figure(data=[heat, hover], layout=_image_layout(height, shapes=shapes, annotations=marks, margin={
        "l": 5, "r": 5, "t": 5, "b": 5}, hovermode="closest"))


def accuracy_steps(epochs: Sequence[int], accuracy: Sequence[float], height: int = 200) -> go.Figure:
    """Share of the watched digits guessed right after each epoch (0 = before training)."""
    line = {"type": "scatter", "x": list(epochs), "y": [float(a) for a in accuracy], "mode": "lines+markers",
            "line": {"color": "#4F46E5", "width": 2.5}, "hovertemplate": "epoch %{x}: %{y:.0%}<extra></extra>"}
    return go.Figure(data=[line], layout={
        "height": height, "font": FONT, "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "plot_bgcolor": "white", "paper_bgcolor": "white",
        "xaxis": {"title": {"text": "epoch"}, "dtick": 1, "gridcolor": "#ECEEF4"},
        "yaxis": {"range": [0, 1.02], "tickformat": ".0%", "gridcolor": "#ECEEF4"}})
